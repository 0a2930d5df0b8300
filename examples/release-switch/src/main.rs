//! The release switch in a program of its own: the same source calls the plugin's functions
//! through typed handles (`cargo run -p release-switch`: built, loaded, reloaded on every save)
//! or directly, linked into the binary (`cargo run -p release-switch --features static`).
//! Arguments: the plugin's directory (`examples/counter-plugin` by default), and where cargo
//! builds it (by default `<dir>/target/coo`; not used with `static`).

use hot_host::{Builder, Coo, CooOptions, Host};

// README: begin
hot_host::hot_fns! {
    /// The functions of `counter-plugin` this program calls.
    struct Fns = counter_plugin {
        fn add(a: u64, b: u64) -> u64;
        /// `&mut Counter` is the live resource: the call binds it.
        fn bump(counter: &mut Counter);
        fn scaled(counter: &Counter, by: u64) -> u64;
    }
}
// README: end

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../counter-plugin").into());
    // With `--features static`, `Coo::start` runs the linked plugin: no cargo, no watcher.
    let mut coo = match args.next() {
        None => Coo::start(dir)?,
        Some(target) => {
            let builder = Builder::new(dir).with_target_dir(target);
            Coo::start_with(Host::with_builder(builder), CooOptions::default())?
        }
    };
    coo.host_mut().call_by_name("init", &[])?; // `fn init() -> Counter`: the resource
    let fns = Fns::new(&coo)?;
    for _ in 0..3 {
        fns.bump(&mut coo)?;
    }
    println!("add(2, 3) = {}", fns.add(&mut coo, 2, 3)?);
    println!("scaled(10) = {}", fns.scaled(&mut coo, 10)?);
    // A scope of calls: the host stays borrowed until `calls` is dropped, and each call is
    // the direct call in the linked mode (the resources are bound once, here).
    let mut calls = fns.calls(&mut coo)?;
    for _ in 0..2 {
        calls.bump()?;
    }
    println!("in a scope: scaled(10) = {}", calls.scaled(10)?);
    println!(
        "state: {}",
        hot_host::state_io::show::state_json(coo.host().state())
    );
    let mode = if coo.host().is_linked() {
        "linked"
    } else {
        "loaded"
    };
    eprintln!("the plugin was {mode}");
    Ok(())
}
