// `cargo run -p hot-host --example embed -- demo-plugin`, then edit demo-plugin/src/lib.rs.
use std::time::Duration;

use hot_host::Coo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or("demo-plugin".into());
    // Builds and loads the plugin, then watches its sources and rebuilds them in the background.
    let mut coo = Coo::start(dir)?;
    coo.host_mut().call_by_name("init", &[])?;
    let tick = coo.host().resolve("tick")?;
    loop {
        // Your safe point: a finished build is loaded here, the state migrated; never waits.
        match coo.update() {
            Some(Ok(report)) => println!("{}", report.summary(None)),
            Some(Err(e)) => eprintln!("reload failed, the old version runs on:\n{e}"),
            None => {}
        }
        for event in coo.events() {
            eprintln!("{event}"); // cargo's progress, the build's warnings
        }
        if let Err(e) = coo.host_mut().call(&tick, &[]) {
            eprintln!("tick: {e}");
        }
        std::thread::sleep(Duration::from_millis(16)); // your frame
    }
}
