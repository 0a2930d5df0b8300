//! Typed calls into a plugin, as the README shows them. Run with
//! `cargo run -p hot-host --example typed_calls -- tests/fixtures/typed-plugin`.

// README: begin
use hot_host::{Host, HotFn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut host = Host::new(std::env::args().nth(1).expect("a plugin crate's directory"));
    host.reload()?; // builds and loads the plugin
    host.call_by_name("init", &[])?; // `fn init() -> Counter`: the `Counter` resource
    // Resolved once, checked against the plugin's `fn add(a: u64, b: u64) -> u64`.
    let add: HotFn<fn(u64, u64) -> u64> = host.resolve_typed("add")?;
    // `fn bump(counter: &mut Counter)`: the call binds the live `Counter` itself.
    let bump: HotFn<fn()> = host.resolve_typed("bump")?;
    let scaled: HotFn<fn(u64) -> u64> = host.resolve_typed("scaled")?;
    bump.call(&mut host, ())?;
    assert_eq!(add.call(&mut host, (2, 3))?, 5);
    // While threads share `&Host`, no reload can run: no lock per call.
    let shared = &host;
    std::thread::scope(|s| {
        s.spawn(|| scaled.call_shared(shared, (2,)));
        s.spawn(|| scaled.call_shared(shared, (3,)));
    });
    host.reload()?; // after an edit: the same handles call the new code
    println!("{}", scaled.call(&mut host, (10,))?);
    Ok(())
}
// README: end
