//! The `hot-host` command. Thin: it parses arguments and calls the `hot_host` library.

use clap::Parser;

/// Builds a Coo plugin crate, loads it and reloads it when its source changes.
#[derive(Debug, Parser)]
#[command(name = "hot-host", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    println!(
        "hot-host: commands are coming; the library (`hot_host::builder`, `hot_host::loader`) is ready"
    );
}
