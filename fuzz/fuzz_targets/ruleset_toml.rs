//! TOML rulesets are untrusted text: `Ruleset::from_toml` must never panic, and whatever it
//! accepts must pass `validate` and read back equal from its own TOML, JSON and rule file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvs_core::Ruleset;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ruleset) = Ruleset::from_toml(text) {
        lvs_fuzz::check_accepted(&ruleset, text);
    }
});
