//! The LVS tutorial's practices with real traffic: every scene of the demo
//! (tests/support/scenes.rs) run as a kernel test, asserting what it should teach: exact splits
//! where the scheduler is exact (rr, wrr), stickiness (sh, persistence), direct return (dr,
//! tun), both ports (fwmark, multi-port). Run by `tests/harness.sh test`, each in its own
//! namespace; the scenes make and remove their own named namespaces.

#[path = "support/scenes.rs"]
mod scenes;
#[path = "support/stage.rs"]
mod stage;
mod support;

use scenes::{DirectFindings, split3};
use stage::Counts;

/// Runs a scene; its error fails the test with the scene's message.
fn run<T>(scene: fn() -> Result<T, String>) -> T {
    scene().unwrap_or_else(|e| panic!("the scene failed: {e}"))
}

/// The only real server that answered, and how often.
#[track_caller]
fn only_one(counts: &Counts, who: &str) -> String {
    assert_eq!(
        counts.len(),
        1,
        "{who} reached more than one real server: {counts:?}"
    );
    counts.keys().next().cloned().unwrap_or_default()
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn nat_rr_then_wrr_in_place() {
    let found = run(scenes::nat);
    assert_eq!(split3(&found.rr), [3, 3, 3], "rr: {:?}", found.rr);
    assert_eq!(split3(&found.wrr), [6, 2, 2], "wrr 3:1:1: {:?}", found.wrr);
    assert_eq!(found.second_apply, 0, "a second apply of the same ruleset");
}

/// Direct return: every request answered, round robin exact, the director counted requests
/// and no reply, and its interface received about what the client sent, not the replies.
#[track_caller]
fn assert_direct(found: &DirectFindings) {
    assert_eq!(split3(&found.answers), [3, 3, 3], "rr: {:?}", found.answers);
    assert!(
        found.inpkts >= 9 * 3,
        "IPVS counted too few requests: {found:?}"
    );
    assert_eq!(found.outpkts, 0, "IPVS saw replies: {found:?}");
    assert!(
        found.client_rx >= 9 * 3,
        "the client received too little: {found:?}"
    );
    assert!(
        found.director_rx < found.client_tx + found.client_rx / 2,
        "the director's interface received the replies too: {found:?}"
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn dr_replies_bypass_the_director() {
    assert_direct(&run(scenes::dr));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn tun_replies_bypass_the_director() {
    assert_direct(&run(scenes::tun));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn fwmark_serves_both_ports_through_one_service() {
    let found = run(scenes::fwmark);
    assert_eq!(split3(&found.http), [2, 2, 2], "port 80: {:?}", found.http);
    assert_eq!(
        split3(&found.https),
        [2, 2, 2],
        "port 443: {:?}",
        found.https
    );
    assert_eq!(found.conns, 12, "connections of the -f 10 service");
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn sh_keeps_each_client_on_its_server() {
    let found = run(scenes::sh);
    only_one(&found.client_a, "client A");
    only_one(&found.client_b, "client B");
    assert_eq!(found.client_a.values().sum::<usize>(), 6);
    assert_eq!(found.client_b.values().sum::<usize>(), 6);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn persistence_keeps_each_client_on_its_server() {
    let found = run(scenes::persistence);
    let a = only_one(&found.client_a, "client A");
    let b = only_one(&found.client_b, "client B");
    // Round robin placed the first connection of each, so they sit on different servers: what
    // keeps each on its own is the persistence template, not the scheduler.
    assert_ne!(a, b, "round robin placed both clients on the same server");
    assert_eq!(found.client_a.values().sum::<usize>(), 6);
    assert_eq!(found.client_b.values().sum::<usize>(), 6);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn wrr_1_2_3_splits_exactly() {
    let found = run(scenes::wrr);
    assert_eq!(split3(&found.answers), [2, 4, 6], "{:?}", found.answers);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn multi_port_serves_80_and_443() {
    let found = run(scenes::multi_port);
    assert_eq!(split3(&found.http), [2, 2, 2], "port 80: {:?}", found.http);
    assert_eq!(
        split3(&found.https),
        [3, 3, 0],
        "port 443: {:?}",
        found.https
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn nat_two_hop_reaches_servers_behind_a_router() {
    let found = run(scenes::nat_two_hop);
    assert_eq!(split3(&found.answers), [4, 4, 0], "{:?}", found.answers);
}
