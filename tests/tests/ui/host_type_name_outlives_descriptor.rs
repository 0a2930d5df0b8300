// The name of a host object type, as a hot function's descriptor gives it, is text of the image
// the descriptor lives in: it cannot outlive the descriptor (issue 7).
use coo_runtime::plugin::ValueKind;

fn name_of(kind: &ValueKind) -> &'static str {
    match kind {
        ValueKind::Host { ty, .. } => ty.get().name(),
        _ => "",
    }
}

fn main() {
    println!("{}", name_of(&ValueKind::Unit));
}
