//! Rule files are untrusted text: reading them must never panic, and whatever lvs accepts it
//! must print and read back to the same ruleset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvs_core::Ruleset;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ruleset) = Ruleset::from_rules(text) {
        let saved = ruleset.to_rules();
        let back = Ruleset::from_rules(&saved).expect("lvs reads its own save");
        let services_only = Ruleset { services: ruleset.services.clone(), ..Ruleset::new() };
        assert_eq!(back, services_only, "{saved}");
    }
});
