//! The main job: the LVS tutorial's practices, rebuilt through lvs only, with real traffic.
//!
//! Each scene (tests/support/scenes.rs) builds its own network namespaces (a client, a
//! director, real servers answering HTTP with their own names, and switches or routers where the
//! practice needs them), configures IPVS through lvs (`Ruleset::from_rules`, `Ipvs::in_netns`,
//! `Ipvs::apply`), sends requests and shows who answered, how often, and the `-Ln` listing.
//!
//! `demo` runs every scene in order, `demo SCENE` one, `demo --list` lists them. The exit status
//! is non-zero when a scene fails, with the scene's error.
//!
//! Run it with `tests/harness.sh demo [SCENE | --list]` (it boots a kernel with IPVS when this one
//! has none), or as root in a fresh network and mount namespace of a kernel with IPVS:
//! `unshare --net --mount -- sh -c 'mount -t tmpfs none /run/netns; cargo run --example demo'`.

// The lab of the kernel tests: namespaces, veth pairs, the HTTP servers.
#[path = "../../tests/support/mod.rs"]
mod support;
// Switches, servers, requests and narration for the scenes.
#[path = "../../tests/support/stage.rs"]
mod stage;
// The scenes and their table.
#[path = "../../tests/support/scenes.rs"]
mod scenes;

use scenes::{SCENES, Scene};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let chosen: Vec<&Scene> = match args.as_slice() {
        [] => SCENES.iter().collect(),
        [flag] if flag == "--list" => {
            let width = SCENES.iter().map(|s| s.name.len()).max().unwrap_or(0);
            for s in SCENES {
                println!("{:<width$}  {}", s.name, s.about);
            }
            return ExitCode::SUCCESS;
        }
        [name] => match SCENES.iter().find(|s| s.name == name) {
            Some(s) => vec![s],
            None => {
                let names: Vec<&str> = SCENES.iter().map(|s| s.name).collect();
                eprintln!("demo: no scene {name:?}; the scenes: {}", names.join(", "));
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: demo [SCENE | --list]");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let mut failed = Vec::new();
    for scene in &chosen {
        println!("\n######## scene {}: {}", scene.name, scene.about);
        let began = Instant::now();
        // A helper that panics (a namespace that cannot be made) fails its scene, not the demo:
        // the scene's namespaces are removed while unwinding, and the next scene runs.
        let result = catch_unwind(AssertUnwindSafe(scene.run)).unwrap_or_else(|panic| {
            Err(panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the scene panicked".into()))
        });
        let took = began.elapsed().as_secs_f64();
        match result {
            Ok(()) => println!("\n   (scene {} done in {took:.0} s)", scene.name),
            Err(e) => {
                eprintln!("demo: scene {} failed after {took:.0} s: {e}", scene.name);
                failed.push(scene.name);
            }
        }
    }
    println!(
        "\n######## {} scene(s) in {:.0} s: {} passed, {} failed",
        chosen.len(),
        start.elapsed().as_secs_f64(),
        chosen.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("demo: failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
