#!/usr/bin/env bash
# tests/harness.sh — the real-kernel test harness for lvs.
#
# The development and CI machines run a kernel WITHOUT IPVS and without module support, so every
# test that talks to IPVS runs inside a Debian kernel booted under qemu (TCG) with virtme-ng, which
# shares this machine's root filesystem read-only (same binaries, cargo outputs, ipvsadm) and the
# repository read-write.  See tests/README.md (and shared/reference/vm.md) for the background.
#
# Subcommands:
#   setup              install what is missing (apt packages, the Debian kernel, virtme-ng); idempotent
#   exec -- CMD...     run CMD as root in a kernel with IPVS (one VM boot, or natively where the host
#                      has IPVS and we are root; LVS_FORCE_VM=1 forces the VM); returns CMD's status
#   test               the single test command (CI runs exactly this): setup, host checks
#                      (fmt, clippy, unit tests), build the kernel tests once, then ONE VM boot that
#                      runs every kernel test, each in its own fresh network namespace
#   capture            regenerate tests/golden/*.{save,restore-status,list} from tests/golden/*.rules
#                      with the real ipvsadm in the VM
#
# CONVENTION: every kernel-facing test is a normal Rust #[test] marked
#     #[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
# so `cargo test` on the host reports it as "ignored", and this harness runs exactly the ignored
# tests inside the VM.  Nothing else in the workspace may be #[ignore]d (`test` checks this).
#
# Environment:
#   LVS_CACHE            cache folder (kernel, virtme-ng venv); default $REPO/target/lvs-vm.
#                        Must NOT be under /var/cache: the guest mounts a fresh tmpfs there.
#   LVS_FORCE_VM=1       use the VM even if the host kernel has IPVS.
#   LVS_SKIP_HOST_CHECKS=1  (development only) skip fmt/clippy/unit tests in `test`.
#   LVS_VM_MEMORY, LVS_VM_CPUS  VM size (default 2G, 2).
#   LVS_VM_TIMEOUT       seconds before a hung VM is killed (default 3600; each kernel test has 600).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_DIR="$REPO/tests/harness"
CACHE="${LVS_CACHE:-$REPO/target/lvs-vm}"
VIRTME_NG_VERSION="1.42"   # pinned: known to work here (with --disable-kvm --force-9p)
APT_PACKAGES=(qemu-system-x86 udev busybox-static kmod ipvsadm curl iproute2 python3-venv
              procps util-linux valgrind pkg-config gcc)
KERNEL_TEST_IGNORE='#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]'

say() { printf '[harness +%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[harness] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# setup
# ---------------------------------------------------------------------------------------------

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
}

setup_apt() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "apt packages: all present"
        return
    fi
    say "apt packages: installing ${missing[*]}"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Name of the current Debian kernel package, e.g. linux-image-6.1.0-56-amd64 (never hard-coded).
kernel_package() {
    local pkg
    pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    if [ -z "$pkg" ]; then
        apt_update_once
        pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package behind linux-image-amd64"
    printf '%s\n' "$pkg"
}

setup_kernel() {
    local pkg ver dir
    pkg="$(kernel_package)"
    ver="${pkg#linux-image-}"
    dir="$CACHE/kernel/$ver"
    if [ -f "$dir/.stamp" ]; then
        say "kernel $ver: cached"
    else
        say "kernel $ver: downloading $pkg"
        rm -rf "$dir" "$CACHE/debs"
        mkdir -p "$dir" "$CACHE/debs"
        (cd "$CACHE/debs" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null)
        say "kernel $ver: unpacking"
        dpkg -x "$CACHE"/debs/"$pkg"_*.deb "$dir"
        # dpkg -x runs no maintainer scripts, so build modules.dep ourselves.
        depmod -b "$dir" "$ver"
        [ -f "$dir/boot/vmlinuz-$ver" ] || die "no $dir/boot/vmlinuz-$ver in $pkg"
        rm -rf "$CACHE/debs"
        touch "$dir/.stamp"
    fi
    # Drop kernels that a security update replaced.
    find "$CACHE/kernel" -mindepth 1 -maxdepth 1 ! -name "$ver" -exec rm -rf {} +
    printf '%s\n' "$ver" >"$CACHE/kernel-version"
}

setup_virtme() {
    local venv="$CACHE/venv" stamp="$CACHE/venv/.stamp-virtme-ng-$VIRTME_NG_VERSION"
    if [ -f "$stamp" ]; then
        say "virtme-ng $VIRTME_NG_VERSION: cached"
        return
    fi
    say "virtme-ng $VIRTME_NG_VERSION: installing into $venv"
    rm -rf "$venv"
    # Debian's own python3 (not a pyenv shim): the venv must work inside the guest too.
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION"
    touch "$stamp"
}

cmd_setup() {
    [ "$(id -u)" = 0 ] || die "setup must run as root"
    mkdir -p "$CACHE"
    case "$CACHE" in /var/cache|/var/cache/*) die "LVS_CACHE must not be under /var/cache (the guest hides it)";; esac
    setup_apt
    setup_kernel
    setup_virtme
    say "setup done"
}

# ---------------------------------------------------------------------------------------------
# exec
# ---------------------------------------------------------------------------------------------

# True when this host itself can run IPVS (and we are root), so no VM is needed.
host_has_ipvs() {
    [ "${LVS_FORCE_VM:-0}" = 1 ] && return 1
    [ "$(id -u)" = 0 ] || return 1
    [ -e /proc/net/ip_vs ] && return 0
    modprobe -q ip_vs 2>/dev/null && [ -e /proc/net/ip_vs ]
}

# Run "$@" as root in a kernel with IPVS and return its exit status.
cmd_exec() {
    [ "${1:-}" = "--" ] && shift
    [ "$#" -gt 0 ] || die "usage: tests/harness.sh exec -- CMD..."
    if host_has_ipvs; then
        say "host kernel has IPVS: running natively"
        (cd "$REPO" && "$HARNESS_DIR/guest-init.sh" "$@")
        return
    fi
    [ -f "$CACHE/kernel-version" ] && [ -x "$CACHE/venv/bin/vng" ] || die "run 'tests/harness.sh setup' first"
    local ver kdir guest_cmd
    ver="$(cat "$CACHE/kernel-version")"
    kdir="$CACHE/kernel/$ver"
    # The guest runs this through a shell: quote every word.
    guest_cmd="cd $(printf '%q' "$REPO") && exec $(printf '%q ' "$HARNESS_DIR/guest-init.sh" "$@")"
    say "booting kernel $ver under qemu TCG (virtme-ng)"
    # - vng runs virtme-run from PATH: put the venv first.
    # - </dev/null: vng must not read the caller's stdin (CI has none).
    # - Pipe the output through tr: qemu reopens its stdout, so when stdout is a FILE the guest's
    #   output overwrites what was written before (and pads with NUL bytes); a pipe is safe.
    #   tr also drops the NUL bytes the console emits.  The guest's exit status is vng's
    #   (PIPESTATUS[0]); it needs udev on the host (setup installs it).
    local rc
    set +e
    # - timeout: a guest that hangs (boot or test) is killed after LVS_VM_TIMEOUT seconds.
    PATH="$CACHE/venv/bin:$PATH" timeout --kill-after=30 "${LVS_VM_TIMEOUT:-3600}" "$CACHE/venv/bin/vng" -r "$kdir/boot/vmlinuz-$ver" --disable-kvm --force-9p \
        --memory "${LVS_VM_MEMORY:-2G}" --cpus "${LVS_VM_CPUS:-2}" \
        --rwdir "$REPO" --exec "$guest_cmd" </dev/null 2>&1 | tr -d '\000'
    rc="${PIPESTATUS[0]}"
    set -e
    say "VM finished: exit status $rc"
    return "$rc"
}

# ---------------------------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------------------------

# The #[ignore] convention: only the kernel-test marker is allowed.
check_ignore_convention() {
    local bad
    bad="$(cd "$REPO" && grep -rnF --include='*.rs' '#[ignore' --exclude-dir=target --exclude-dir=.git . \
        | grep -vF "$KERNEL_TEST_IGNORE" || true)"
    if [ -n "$bad" ]; then
        printf '%s\n' "$bad" >&2
        die "only kernel tests may be #[ignore]d, with exactly: $KERNEL_TEST_IGNORE"
    fi
}

cmd_test() {
    local t0=$SECONDS
    cmd_setup
    cd "$REPO"
    check_ignore_convention
    if [ "${LVS_SKIP_HOST_CHECKS:-0}" = 1 ]; then
        say "LVS_SKIP_HOST_CHECKS=1: skipping fmt, clippy and unit tests (development only)"
    else
        say "cargo fmt --all -- --check"
        cargo fmt --all -- --check
        say "cargo clippy --workspace --all-targets -- -D warnings"
        cargo clippy --workspace --all-targets -- -D warnings
        say "cargo test --workspace (host; kernel tests are ignored here)"
        cargo test --workspace
    fi
    say "building the kernel tests (cargo test --workspace --no-run)"
    local run="$CACHE/run"
    mkdir -p "$run"
    cargo test --workspace --no-run --message-format=json >"$run/build.json"
    python3 "$HARNESS_DIR/test-executables.py" <"$run/build.json" >"$run/test-bins.txt"
    [ -s "$run/test-bins.txt" ] || die "cargo built no test executables"
    say "building the lvs-capi C tests (lvs-capi/tests/c/build.sh)"
    "$REPO/lvs-capi/tests/c/build.sh" "$run/capi" >&2
    say "$(wc -l <"$run/test-bins.txt") test executables; starting the kernel tests"
    local rc=0
    cmd_exec -- "$HARNESS_DIR/run-kernel-tests.sh" "$run/test-bins.txt" || rc=$?
    say "total time $((SECONDS - t0)) s; exit status $rc"
    return "$rc"
}

# ---------------------------------------------------------------------------------------------
# capture
# ---------------------------------------------------------------------------------------------

cmd_capture() {
    cmd_setup
    cmd_exec -- "$HARNESS_DIR/capture-goldens.sh" "$REPO/tests/golden"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 2
}

main() {
    local sub="${1:-}"
    [ "$#" -gt 0 ] && shift
    case "$sub" in
        setup) cmd_setup ;;
        exec) cmd_exec "$@" ;;
        test) cmd_test ;;
        capture) cmd_capture ;;
        *) usage ;;
    esac
}

main "$@"
