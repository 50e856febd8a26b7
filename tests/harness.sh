#!/usr/bin/env bash
# tests/harness.sh — the real-kernel test harness for lvs.
#
# The development and CI machines run a kernel WITHOUT IPVS and without module support, so every
# test that talks to IPVS runs inside a Debian kernel booted under qemu (TCG) with virtme-ng, which
# shares this machine's root filesystem read-only (same binaries, cargo outputs, ipvsadm) and the
# repository read-write.  See tests/README.md (and shared/reference/vm.md) for the background.
#
# Subcommands:
#   setup              install what is missing (apt packages, the Debian kernel, virtme-ng, the Python
#                      test venv with pytest/mypy/pyroute2/maturin) and (re)build + install the lvs-py
#                      wheel into that venv; idempotent
#   exec -- CMD...     run CMD as root in a kernel with IPVS (one VM boot, or natively where the host
#                      has IPVS and we are root; LVS_FORCE_VM=1 forces the VM); returns CMD's status
#   test               the single test command (CI runs exactly this): setup, host checks
#                      (fmt, clippy, unit tests, 30 s per fuzz target), build the kernel tests
#                      once, then ONE VM boot that runs every kernel test, each in its own fresh
#                      network namespace
#   capture            regenerate tests/golden/*.{save,restore-status,list} from tests/golden/*.rules
#                      with the real ipvsadm in the VM
#   fuzz [SECONDS] [TARGET...]
#                      build the cargo-fuzz targets (fuzz/) and run each for SECONDS (default 30;
#                      `test` runs this); a failure names the reproducer
#   demo               the main job: the LVS tutorial's NAT practice through lvs (examples/demo)
#   bench [--quick]    the benchmark (not part of `test`): setup, release builds of the Rust driver
#                      (lvs-netlink/examples/bench), lvsadm, lvs-capi + tests/bench/capi_bench.c and
#                      the lvs-py wheel, then ONE VM boot running tests/bench/run.py: W1-W4 for lvs
#                      (Rust, lvsadm, Python, C) and ipvsadm/pyroute2, medians, ratios vs ipvsadm,
#                      user/sys split; Markdown in target/bench/results.md. --quick: small sizes, 1 run;
#                      --focus: only W2 and W3 at 10,000 services, 5 runs each (results-focus.md);
#                      --vips=collide: the address plan of the runs recorded up to adac0a6;
#                      --reconcile: the Reconciler's workloads instead (tests/bench/reconcile.py:
#                      W3 and W6 through a Reconciler, /proc/net/ip_vs against the dumps,
#                      lvsadm apply --watch; results-reconcile.md)
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
#
# Python (lvs-py): `test` also runs `mypy.stubtest lvs` and the pure pytest tests on the host, and in
# the VM every pytest test marked `kernel` (lvs-py/tests), each in its own fresh namespace.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_DIR="$REPO/tests/harness"
CACHE="${LVS_CACHE:-$REPO/target/lvs-vm}"
VIRTME_NG_VERSION="1.42"   # pinned: known to work here (with --disable-kvm --force-9p)
APT_PACKAGES=(qemu-system-x86 udev busybox-static kmod ipvsadm curl iproute2 python3-venv
              procps util-linux valgrind pkg-config gcc strace)
# The Python test venv (lvs-py): pinned so a cached venv is reused only while these stay the same.
PY_TEST_PACKAGES=(pytest==9.2.0 mypy==2.4.1 pyroute2==0.9.7 maturin==1.16.0)
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

# The venv the Python tests run in, inside the VM too (Debian's python3: the guest sees this
# filesystem), and lvs-py built from the current source and installed into it.
setup_python() {
    local venv="$CACHE/pyvenv" want="${PY_TEST_PACKAGES[*]}"
    if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$want" ]; then
        say "python test venv: cached"
    else
        say "python test venv: installing $want into $venv"
        rm -rf "$venv"
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "${PY_TEST_PACKAGES[@]}"
        printf '%s\n' "$want" >"$venv/.stamp"
    fi
    # Rebuilt every time (cargo makes that incremental) so the tests see the current source; a
    # target dir of its own, because maturin's extension-module feature would otherwise flip
    # pyo3's build against plain `cargo test`.
    say "lvs-py: building the wheel (maturin) and installing it into $venv"
    rm -rf "$CACHE/wheels"
    CARGO_TARGET_DIR="$REPO/target/lvs-py" "$venv/bin/maturin" build --quiet \
        --interpreter "$venv/bin/python" --manifest-path "$REPO/lvs-py/Cargo.toml" \
        --out "$CACHE/wheels" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
        "$CACHE"/wheels/lvs_py-*.whl
}

# What booting the VM needs: apt packages, the kernel, virtme-ng.
setup_vm() {
    [ "$(id -u)" = 0 ] || die "setup must run as root"
    mkdir -p "$CACHE"
    case "$CACHE" in /var/cache|/var/cache/*) die "LVS_CACHE must not be under /var/cache (the guest hides it)";; esac
    setup_apt
    setup_kernel
    setup_virtme
}

cmd_setup() {
    setup_vm
    setup_python
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
        --rwdir "$REPO" --exec "$guest_cmd" </dev/null 2>&1 | stdbuf -o0 tr -d '\000'
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

# What crates.io would get: each published crate packaged (inter-crate path dependencies are
# resolved by cargo's own overlay of the unpublished workspace crates), with no manifest warning,
# and each .crate holding both license texts and its README (the crate directories link the
# licenses from the root; this proves cargo follows the links). Building the packages is left to
# the other checks (--no-verify): seconds instead of a fresh build of every crate.
check_packages() {
    local published crate name version log files f
    published="$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["publish"] != []:
        print(p["name"], p["version"])')"
    log="$(cargo package --no-verify --allow-dirty $(printf -- '-p %s ' $(cut -d' ' -f1 <<<"$published")) 2>&1)" \
        || { printf '%s\n' "$log" >&2; die "cargo package failed"; }
    if grep -q '^warning' <<<"$log"; then
        printf '%s\n' "$log" >&2
        die "cargo package warned"
    fi
    while read -r name version; do
        crate="$REPO/target/package/$name-$version.crate"
        files="$(tar -tzf "$crate")"
        for f in LICENSE-MIT LICENSE-APACHE README.md; do
            grep -qxF "$name-$version/$f" <<<"$files" || die "$crate has no $f"
        done
    done <<<"$published"
    say "packaged, with LICENSE-MIT, LICENSE-APACHE and README.md: $(cut -d' ' -f1 <<<"$published" | paste -sd' ')"
}

# The MSRV that Cargo.toml declares (workspace.package.rust-version) really builds: its toolchain
# (minimal profile, installed once by rustup) checks every crate and target against Cargo.lock,
# in a target directory of its own. About 2.5 min from cold here, seconds when cached.
check_msrv() {
    local msrv
    msrv="$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' "$REPO/Cargo.toml")"
    [ -n "$msrv" ] || die "Cargo.toml declares no rust-version"
    command -v rustup >/dev/null || die "checking the declared MSRV ($msrv) needs rustup"
    grep -q "^$msrv-" <<<"$(rustup toolchain list)" || rustup toolchain install "$msrv" --profile minimal
    say "the declared MSRV: cargo +$msrv check --workspace --all-targets --locked"
    CARGO_TARGET_DIR="$REPO/target/msrv" cargo "+$msrv" check --workspace --all-targets --locked
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
        say "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps"
        RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps
        say "cargo package --no-verify (the published crates): license files and README inside"
        check_packages
        check_msrv
        say "cargo test --workspace (host; kernel tests are ignored here)"
        cargo test --workspace
        cmd_fuzz 30
    fi
    local run="$CACHE/run" py="$CACHE/pyvenv/bin/python"
    mkdir -p "$run"
    export MYPY_CACHE_DIR="$CACHE/mypy-cache"
    say "lvs-py: python -m mypy.stubtest lvs"
    "$py" -m mypy.stubtest lvs
    say "lvs-py: mypy --strict on the example; pytest -m 'not kernel' (host)"
    "$py" -m mypy --strict --no-incremental "$REPO/examples/python/seed_nat.py"
    (cd "$REPO/lvs-py" && "$py" -m pytest -q -p no:cacheprovider -m "not kernel" tests)
    # The in-VM runner runs the kernel-marked pytest tests with this interpreter.
    printf '%s\n' "$py" >"$run/python"
    say "building the kernel tests (cargo test --workspace --no-run)"
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
# fuzz
# ---------------------------------------------------------------------------------------------

CARGO_FUZZ_VERSION="0.13.2"   # pinned; installed once into $CACHE/cargo-fuzz
FUZZ_TARGETS=(parse_rules ruleset_json ruleset_toml netlink_reply plan)

# The committed seeds of a fuzz target, one directory a line. They are only read: what the
# fuzzer finds goes to target/fuzz/corpus/TARGET, which later runs start from too.
fuzz_seeds() {
    case "$1" in
        parse_rules) printf '%s\n' "$REPO/tests/golden" ;;
        netlink_reply) printf '%s\n' "$REPO/fuzz/seeds/netlink_reply" "$REPO/lvs-netlink/tests/golden" ;;
        *) printf '%s\n' "$REPO/fuzz/seeds/$1" ;;
    esac
}

# fuzz [SECONDS] [TARGET...]: builds the cargo-fuzz targets of fuzz/ and runs each (all by
# default) for SECONDS (default 30), one after the other. A panic, an input taking over 10 s or
# over 2 GB fails the run; the output names the reproducer and the command that replays it.
cmd_fuzz() {
    local seconds="${1:-30}"
    [ "$#" -gt 0 ] && shift
    [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "fuzz: SECONDS is a whole number of seconds, not '$seconds'"
    local targets=("$@")
    [ "${#targets[@]}" -gt 0 ] || targets=("${FUZZ_TARGETS[@]}")
    local root="$CACHE/cargo-fuzz" out="$REPO/target/fuzz" triple
    local cargo_fuzz="$root/bin/cargo-fuzz"
    if ! "$cargo_fuzz" fuzz --version 2>/dev/null | grep -qxF "cargo-fuzz $CARGO_FUZZ_VERSION"; then
        say "installing cargo-fuzz $CARGO_FUZZ_VERSION into $root"
        cargo install --locked --quiet --version "$CARGO_FUZZ_VERSION" --root "$root" cargo-fuzz
    fi
    triple="$(rustc -vV | sed -n 's/^host: //p')"
    # No sanitizer: the fuzzed code has no `unsafe`, and AddressSanitizer cost 6x fewer runs.
    # Debug assertions and overflow checks stay on (cargo-fuzz's default).
    say "building the fuzz targets (cargo fuzz build in fuzz/; RUSTC_BOOTSTRAP=1)"
    (cd "$REPO/fuzz" && RUSTC_BOOTSTRAP=1 "$cargo_fuzz" fuzz build --sanitizer none \
        --target "$triple" --fuzz-dir . --target-dir "$out")
    local t bin log seeds failed=()
    for t in "${targets[@]}"; do
        bin="$out/$triple/release/$t"
        [ -x "$bin" ] || die "fuzz: no target '$t' (targets: ${FUZZ_TARGETS[*]})"
        log="$out/logs/$t.log"
        mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs"
        mapfile -t seeds < <(fuzz_seeds "$t")
        say "fuzz $t: ${seconds} s (log $log)"
        if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "${seeds[@]}" >"$log" 2>&1; then
            say "  $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") inputs," \
                "$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")/s," \
                "$(find "$out/corpus/$t" -type f | wc -l) in the corpus; no failure"
        else
            failed+=("$t")
            tail -n 40 "$log" >&2
            local artifact
            artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
            say "FAIL fuzz $t: reproducer ${artifact:-(none written; see $log)}"
            [ -z "$artifact" ] || say "  replay: $bin $artifact"
        fi
    done
    [ "${#failed[@]}" -eq 0 ] || die "fuzz targets failed: ${failed[*]}"
}

# ---------------------------------------------------------------------------------------------
# capture
# ---------------------------------------------------------------------------------------------

cmd_capture() {
    cmd_setup
    cmd_exec -- "$HARNESS_DIR/capture-goldens.sh" "$REPO/tests/golden"
}

# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------

# The main job: the tutorial's NAT practice through lvs (examples/demo), in a kernel with IPVS,
# in a fresh network namespace.
cmd_demo() {
    setup_vm
    cd "$REPO"
    say "building the demo (cargo build --example demo)"
    local bin
    bin="$(cargo build --example demo --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "demo":
        print(m["executable"])')"
    [ -x "$bin" ] || die "the demo did not build"
    # One line: the guest's shell reads the command printf %q quoted, without $'...' support.
    cmd_exec -- unshare --net --mount --propagation private -- bash -c \
        'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 lvs-netns /run/netns && ip link set lo up && exec "$0"' "$bin"
}

# ---------------------------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------------------------

# The benchmark: everything built in release mode on the host into target/bench (a copy, so that
# other builds cannot change a binary mid-run), then one boot running tests/bench/run.py in a
# fresh network namespace.
cmd_bench() {
    local quick=() a driver=run.py
    for a in "$@"; do
        case "$a" in
            --quick|--focus|--vips=spread|--vips=collide) quick+=("$a") ;;
            --reconcile) driver=reconcile.py ;;
            *) die "usage: tests/harness.sh bench [--quick | --focus | --reconcile] [--vips=spread|collide]" ;;
        esac
    done
    [ "$driver" = run.py ] || [ "${#quick[@]}" -eq 0 ] || [ "${quick[*]}" = --quick ] \
        || die "bench --reconcile takes only --quick"

    setup_vm
    setup_python
    cd "$REPO"
    local out="$REPO/target/bench" venv="$CACHE/pyvenv"
    local bin="$out/bin" prefix="$out/prefix" pylib="$out/pylib"
    say "bench: cargo build --release (examples bench and lvsadm, lvs-capi)"
    cargo build --release --quiet -p lvs-netlink --example bench
    cargo build --release --quiet --example lvsadm
    cargo build --release --quiet -p lvs-capi
    rm -rf "$bin" "$prefix" "$pylib" "$out/wheels"
    mkdir -p "$bin" "$prefix/lib/pkgconfig" "$prefix/include" "$pylib"
    install -m 0755 target/release/examples/bench target/release/examples/lvsadm "$bin/"
    # lvs-capi installed into a prefix and used through pkg-config, as lvs-capi/tests/c/build.sh does.
    install -m 0755 target/release/libipvs.so "$prefix/lib/"
    install -m 0644 lvs-capi/include/libipvs.h lvs-capi/include/ip_vs.h "$prefix/include/"
    sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|bench|" lvs-capi/libipvs.pc.in \
        >"$prefix/lib/pkgconfig/libipvs.pc"
    local pc_cflags pc_libs
    read -r -a pc_cflags <<<"$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags libipvs)"
    read -r -a pc_libs <<<"$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --libs libipvs)"
    say "bench: gcc -O2 -Wall -Wextra -Werror tests/bench/capi_bench.c"
    gcc -std=gnu11 -O2 -Wall -Wextra -Werror "${pc_cflags[@]}" tests/bench/capi_bench.c \
        -o "$bin/capi_bench" "${pc_libs[@]}" -Wl,-rpath,"$prefix/lib"
    # setup_python installs a debug build of lvs-py (for the tests); the benchmark puts a release
    # build first on PYTHONPATH instead.
    say "bench: lvs-py release wheel (maturin build --release)"
    CARGO_TARGET_DIR="$REPO/target/lvs-py" "$venv/bin/maturin" build --release --quiet \
        --interpreter "$venv/bin/python" --manifest-path "$REPO/lvs-py/Cargo.toml" \
        --out "$out/wheels" >&2
    "$venv/bin/python" -m zipfile -e "$out"/wheels/lvs_py-*.whl "$pylib"
    PYTHONPATH="$pylib" "$venv/bin/python" -c 'import lvs, sys; sys.exit(not lvs.__file__.startswith(sys.argv[1]))' "$pylib" \
        || die "the release build of lvs-py is not the one Python imports"
    say "bench: one VM boot for every workload"
    # One line: the guest's shell reads the command printf %q quoted, without $'...' support.
    # The full run takes over an hour on a loaded machine: a longer VM timeout than the tests'.
    LVS_VM_TIMEOUT="${LVS_VM_TIMEOUT:-10800}" cmd_exec -- unshare --net --mount --propagation private -- bash -c \
        'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 lvs-netns /run/netns && ip link set lo up && exec "$0" "$@"' \
        /usr/bin/python3 "$REPO/tests/bench/$driver" --bin "$bin" --python "$venv/bin/python" \
        --pythonpath "$pylib" --out "$out" "${quick[@]}"
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
        demo) cmd_demo ;;
        bench) cmd_bench "$@" ;;
        fuzz) cmd_fuzz "$@" ;;
        *) usage ;;
    esac
}

main "$@"
