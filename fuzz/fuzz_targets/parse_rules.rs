//! Rule files are untrusted text: reading them must never panic, and whatever lvs accepts
//! must pass `validate` and read back equal from its own rule file, JSON and TOML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvs_core::Ruleset;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ruleset) = Ruleset::from_rules(text) {
        lvs_fuzz::check_accepted(&ruleset, text);
    }
});
