//! Gives libipvs.so a versioned soname, `libipvs.so.ABI`: programs linked against it record that
//! name, so a later library with an incompatible C ABI (a new number) can be installed beside
//! it. `make -C lvs-capi install` (Makefile) reads the soname from the built library and names
//! the installed file and its links after it.

/// The C ABI's version: raised when a change breaks programs linked against an earlier
/// libipvs.so (a function or a struct removed or changed); independent of the crate's version,
/// which the workspace shares.
const ABI: u32 = 0;

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libipvs.so.{ABI}");
}
