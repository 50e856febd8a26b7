//! The planner on two valid rulesets built from the fuzz bytes (`current`, as a kernel reports
//! it, and `desired`): `plan(current, desired)` replayed on `current` in the kernel simulation
//! (`Ruleset::execute_all`) is accepted step by step, in stage order, and gives what the
//! options document; planning again gives nothing.
//!
//! - By default the result is `desired` (timeouts and daemons change only when `desired`
//!   names them; a timeout of 0 keeps the kernel's).
//! - `keep_unlisted`: services `desired` does not name stay as they are.
//! - `drain` (with a fuzzed set of idle real servers): a real server that goes is kept at
//!   weight 0 unless it already is at weight 0 and idle (then it is deleted); a service that
//!   goes is deleted once none of its real servers is kept; daemons start only once no kept
//!   real server is of another family than its service. Each round is checked; with the same
//!   idle set the rounds settle (a server drained in one round and idle goes in the next),
//!   and once every real server is idle they reach the default's result.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use lvs_core::{KernelProfile, PlanOptions, Ruleset, Timeouts, VirtualService, plan};
use lvs_fuzz::{current_ruleset, desired_ruleset};
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(current) = current_ruleset(&mut u) else {
        return;
    };
    let Ok(desired) = desired_ruleset(&mut u, &current) else {
        return;
    };
    let mut options = PlanOptions {
        keep_unlisted: u.arbitrary().unwrap_or(false),
        drain: u.arbitrary().unwrap_or(false),
        idle: HashSet::new(),
    };
    for vs in &current.services {
        for d in &vs.destinations {
            if u.arbitrary().unwrap_or(false) {
                options.idle.insert((vs.service.key, d.addr));
            }
        }
    }
    if let Err(e) = current.validate() {
        panic!("the builder made an invalid current ruleset: {e}\n{current:#?}");
    }
    if let Err(e) = desired.validate() {
        panic!("the builder made an invalid desired ruleset: {e}\n{desired:#?}");
    }
    let end = expected_end(&current, &desired, &options);
    if end.validate().is_err() {
        // No kernel can hold that end state: the daemons `desired` leaves alone (or the
        // services `keep_unlisted` keeps) beside real servers of another family than their
        // service. Whoever applies must refuse `desired` before sending anything; the planner
        // is not asked to reach it.
        return;
    }
    let mut state = current.clone();
    if options.drain {
        drain(&mut state, &desired, &options);
        // Every real server has finished its connections.
        options.idle = state
            .services
            .iter()
            .flat_map(|vs| vs.destinations.iter().map(|d| (vs.service.key, d.addr)))
            .collect();
        drain(&mut state, &desired, &options);
    } else {
        apply(&mut state, &desired, &options);
        let again = plan(&state, &desired, &options);
        assert!(again.is_empty(), "a second plan:\n{again}");
    }
    assert_eq!(
        state, end,
        "\n--- current:\n{current:#?}\n--- desired:\n{desired:#?}"
    );
});

/// Plans and applies with `drain` until nothing is left to do (a real server drained in one
/// round may be deleted in the next: it is idle and now at weight 0), checking each round's
/// result.
fn drain(state: &mut Ruleset, desired: &Ruleset, options: &PlanOptions) {
    for _ in 0..3 {
        let want = expected_drained(state, desired, options);
        if !apply(state, desired, options) {
            return;
        }
        assert_eq!(*state, want, "after a draining round");
    }
    panic!("draining does not settle in 3 rounds");
}

/// Plans from `state` to `desired` and applies the plan to `state`, checking that the steps
/// come in stage order and that each is accepted. Whether there was anything to do.
fn apply(state: &mut Ruleset, desired: &Ruleset, options: &PlanOptions) -> bool {
    let before = state.clone();
    let p = plan(state, desired, options);
    assert!(
        p.steps.windows(2).all(|w| w[0].stage <= w[1].stage),
        "steps out of stage order:\n{p}"
    );
    if let Err((i, e)) = state.execute_all(p.commands(), &KernelProfile::default()) {
        panic!(
            "step {} refused: {e}\n--- plan:\n{p}--- from:\n{before:#?}\n--- desired:\n{desired:#?}\n--- options: {options:?}",
            i + 1
        );
    }
    !p.is_empty()
}

/// What `plan` must reach without draining (or once drained real servers are idle).
fn expected_end(current: &Ruleset, desired: &Ruleset, options: &PlanOptions) -> Ruleset {
    let mut services = desired.services.clone();
    if options.keep_unlisted {
        services.extend(
            current
                .services
                .iter()
                .filter(|vs| desired.service(&vs.service.key).is_none())
                .cloned(),
        );
    }
    Ruleset {
        services,
        timeouts: expected_timeouts(current, desired),
        daemons: if desired.daemons.is_empty() {
            current.daemons.clone()
        } else {
            // A running daemon that is the desired one (the kernel's defaults filled in where
            // `desired` leaves a setting unset) stays as it runs.
            desired
                .daemons
                .iter()
                .map(|d| {
                    let running = current.daemons.iter().find(|r| d.is_satisfied_by(r));
                    running.unwrap_or(d).clone()
                })
                .collect()
        },
    }
}

fn expected_timeouts(current: &Ruleset, desired: &Ruleset) -> Option<Timeouts> {
    let now = current.timeouts.unwrap_or(Timeouts::KERNEL_DEFAULT);
    match desired.timeouts {
        Some(t) if t.over(now) != now => Some(t.over(now)),
        _ => current.timeouts,
    }
}

/// What the first round of a draining plan must reach.
fn expected_drained(current: &Ruleset, desired: &Ruleset, options: &PlanOptions) -> Ruleset {
    let mut r = expected_end(current, desired, options);
    for vs in &current.services {
        let key = vs.service.key;
        let wanted = desired.service(&key);
        if wanted.is_none() && options.keep_unlisted {
            continue;
        }
        let kept: Vec<_> = vs
            .destinations
            .iter()
            .filter(|d| wanted.is_none_or(|w| w.destination(&d.addr).is_none()))
            .filter(|d| !(d.weight == 0 && options.idle.contains(&(key, d.addr))))
            .map(|d| lvs_core::Destination { weight: 0, ..*d })
            .collect();
        if kept.is_empty() {
            continue;
        }
        match r.services.iter_mut().find(|x| x.service.key == key) {
            Some(x) => x.destinations.extend(kept),
            None => r.services.push(VirtualService {
                service: vs.service.clone(),
                destinations: kept,
            }),
        }
    }
    let mixed = r.services.iter().any(|vs| {
        let family = vs.service.key.family();
        vs.destinations.iter().any(|d| d.family() != family)
    });
    if mixed {
        r.daemons = current.daemons.clone();
    }
    r
}
