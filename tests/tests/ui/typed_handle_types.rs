// A typed handle passes primitives and host objects (`&T`, `&mut T`) only: resources are bound by
// the call, strings and `CooType` values go through `Host::call`.
use hot_host::Host;

fn main() {
    let host = Host::new("plugin");
    let _ = host.resolve_typed::<fn(String) -> u64>("describe");
    let _ = host.resolve_typed::<fn(u64) -> Vec<u8>>("bytes");
}
