//! The committed `include/libipvs.h` is what cbindgen makes of the current sources.
//!
//! Regenerate it with `LVS_CAPI_BLESS=1 cargo test -p lvs-capi --test header`.

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = crate_dir.join("include/libipvs.h");
    if std::env::var_os("LVS_CAPI_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/libipvs.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/libipvs.h is stale: run `LVS_CAPI_BLESS=1 cargo test -p lvs-capi --test header`"
    );
}
