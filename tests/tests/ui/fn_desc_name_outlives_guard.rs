// A hot function's name lives in the image its `FnRef` guards: it cannot outlive the guard
// (issue 7).
fn name_of(host: &hot_host::Host) -> &'static str {
    let desc = host.resolve("tick").unwrap().slot().desc().unwrap();
    desc.name()
}

fn main() {
    let _ = name_of;
}
