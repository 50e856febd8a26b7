//! Gives libipvs.so the soname ipvsadm's own Makefile gives it (`libipvs.so`, unversioned), so
//! programs linked against it record that name.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libipvs.so");
}
