#!/usr/bin/env bash
# tests/harness.sh — the real-kernel test harness for lvs.
#
# The development and CI machines run a kernel WITHOUT IPVS and without module support, so every
# test that talks to IPVS runs inside a Debian kernel booted under qemu (TCG) with virtme-ng, which
# shares this machine's root filesystem read-only (same binaries, cargo outputs, ipvsadm) and the
# repository read-write.  See tests/README.md (and shared/reference/vm.md) for the background.
#
# Kernels: lvs is proven on Debian's 6.1 (bookworm), 6.12 (trixie) and 7.2 (sid). `--kernel SERIES`
# (or LVS_KERNEL=SERIES) picks one for any subcommand; `setup` and `test` default to all three,
# the others to 6.1. Each is fetched through a private apt configuration (never the machine's own
# sources), newest version of its suites, unpacked with dpkg -x: see fetch_kernel below.
#
# Subcommands:
#   setup              install what is missing (apt packages, the Debian kernel, virtme-ng, the Python
#                      test venv with pytest/mypy/pyroute2/maturin) and (re)build + install the lvs-py
#                      wheel into that venv; idempotent
#   exec -- CMD...     run CMD as root in a kernel with IPVS (one VM boot, or natively where the host
#                      has IPVS and we are root; LVS_FORCE_VM=1 forces the VM); returns CMD's status
#   test               the single test command (CI runs exactly this): setup, host checks
#                      (fmt, clippy, unit tests, the lvsadm and libipvs installs, 30 s per fuzz
#                      target), build the kernel tests once, then one VM boot PER KERNEL that
#                      runs the kernel tests, each in its own fresh network namespace
#   capture            regenerate tests/golden/*.{save,restore-status,list} from tests/golden/*.rules
#                      with the real ipvsadm in the VM (6.1; --kernel 6.12|7.2 captures into the
#                      cache and prints how that kernel differs from the committed goldens)
#   fuzz [SECONDS] [TARGET...]
#                      build the cargo-fuzz targets (fuzz/) and run each for SECONDS (default 30;
#                      `test` runs this); a failure names the reproducer
#   demo [SCENE|--list]
#                      the main job: the LVS tutorial's practices through lvs with real traffic
#                      (examples/demo, tests/support/scenes.rs): every scene in one VM boot, or
#                      only SCENE; --list names them (no VM)
#   bench [--quick]    the benchmark (not part of `test`): setup, release builds of the Rust driver
#                      (lvs-netlink/examples/bench), lvsadm, lvs-capi + tests/bench/capi_bench.c and
#                      the lvs-py wheel, then ONE VM boot running tests/bench/run.py: W1-W4 for lvs
#                      (Rust, lvsadm, Python, C) and ipvsadm/pyroute2, medians, ratios vs ipvsadm,
#                      user/sys split; Markdown in target/bench/results.md. --quick: small sizes, 1 run;
#                      --focus: only W2 and W3 at 10,000 services, 5 runs each (results-focus.md);
#                      --vips=collide: the address plan of the runs recorded up to adac0a6;
#                      --reconcile: the Reconciler's workloads instead (tests/bench/reconcile.py:
#                      W3 and W6 through a Reconciler, /proc/net/ip_vs against the dumps,
#                      lvsadm apply --watch; results-reconcile.md); --exporter: lvsadm exporter
#                      against Debian's prometheus-node-exporter (ipvs collector) scraping the same
#                      1,000 and 10,000 x 4 tables (tests/bench/exporter.py; results-exporter.md);
#                      --kernels: W1, W2, W4 (to 100,000 x 4), W3 and W6 on 6.1 and 7.2 (or
#                      LVS_KERNELS), one boot each, side by side (tests/bench/kernels.py;
#                      results-kernels.md)
#
# CONVENTION: every kernel-facing test is a normal Rust #[test] marked
#     #[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
# so `cargo test` on the host reports it as "ignored", and this harness runs exactly the ignored
# tests inside the VM.  Nothing else in the workspace may be #[ignore]d (`test` checks this).
#
# Environment:
#   LVS_CACHE            cache folder (kernel, virtme-ng venv); default $REPO/target/lvs-vm.
#                        Must NOT be under /var/cache: the guest mounts a fresh tmpfs there.
#   LVS_KERNEL           one kernel series (6.1, 6.12, 7.2), as --kernel; LVS_KERNELS="6.1 6.12 7.2"
#                        chooses the kernels of `setup` and `test` (default all three:
#                        DEFAULT_KERNELS).
#   LVS_FULL_SUITE=1     `test` runs every kernel test on every kernel (default: 6.1 all of them,
#                        6.12 and 7.2 the subset in tests/harness/kernel-subset.txt).
#   LVS_KERNEL_REFRESH=1 refresh the private apt lists now (otherwise once a day).
#   LVS_DEBIAN_MIRROR, LVS_DEBIAN_SECURITY_MIRROR  archive URIs (default: those of this machine's apt).
#   LVS_FORCE_VM=1       use the VM even if the host kernel has IPVS.
#   LVS_SKIP_HOST_CHECKS=1  (development only) skip fmt/clippy/unit tests in `test`.
#   LVS_VM_MEMORY, LVS_VM_CPUS  VM size (default 2G, 2).
#   LVS_VM_LANES         `test` boots the first kernel beside the others (default 2), each VM with
#                        one vCPU unless LVS_VM_CPUS says otherwise; 1: one by one.
#   LVS_VM_TIMEOUT       seconds before a hung VM is killed (default 3600; each kernel test has 1500).
#
# Python (lvs-py): `setup` builds the abi3 wheel with maturin and installs it (the wheel, not the
# source tree) into the test venv; `test` also runs `mypy.stubtest lvs`, `mypy --strict` over the
# example and the tests, and the pure pytest tests on the host, and in the VM every pytest test
# marked `kernel` (lvs-py/tests), each in its own fresh namespace, with that venv.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_DIR="$REPO/tests/harness"
CACHE="${LVS_CACHE:-$REPO/target/lvs-vm}"
VIRTME_NG_VERSION="1.42"   # pinned: known to work here (with --disable-kvm --force-9p)
APT_PACKAGES=(qemu-system-x86 udev busybox-static kmod ipvsadm curl iproute2 python3-venv
              procps util-linux valgrind pkg-config gcc libc6-dev make strace nftables keepalived
              python3-prometheus-client)
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

# The kernels lvs is proven on, by series, and the Debian suite whose linux-image-amd64 serves each.
# The exact version is resolved from the archive at setup time (security updates bump it); only the
# series is fixed here. A suite that moves to another series (sid to 7.3, say) fails setup loudly:
# add the new series here, then prove it.
KERNELS=(6.1 6.12 7.2)
kernel_suites() {
    case "$1" in
        6.1) echo "bookworm bookworm-updates bookworm-security" ;;
        6.12) echo "trixie trixie-updates trixie-security" ;;
        7.2) echo "sid" ;;
        *) die "unknown kernel '$1' (kernels: ${KERNELS[*]})" ;;
    esac
}

# What `test` and `setup` run on by default: all three (6.1 every kernel test, the others the
# subset). 7.2's VM died once in a whole run (qemu exit 255 during kernel_datapath's NAT test,
# not seen again in three later runs; tests/README.md, "Kernels"); a guest that dies now leaves
# its kernel console, printed with the failure.
DEFAULT_KERNELS=(6.1 6.12 7.2)

# The kernels a command runs on: --kernel SERIES (or LVS_KERNEL=SERIES) for one; `test` and
# `setup` default to DEFAULT_KERNELS (LVS_KERNELS="6.1 7.2" chooses others), the other
# commands to 6.1.
SELECTED_KERNELS=()
select_kernels() {
    local default="$1" k
    if [ -n "${OPT_KERNEL:-}" ]; then
        SELECTED_KERNELS=("$OPT_KERNEL")
    elif [ -n "${LVS_KERNEL:-}" ]; then
        SELECTED_KERNELS=("$LVS_KERNEL")
    elif [ "$default" = all ]; then
        read -r -a SELECTED_KERNELS <<<"${LVS_KERNELS:-${DEFAULT_KERNELS[*]}}"
    else
        SELECTED_KERNELS=(6.1)
    fi
    for k in "${SELECTED_KERNELS[@]}"; do kernel_suites "$k" >/dev/null; done
}

# A private apt configuration per kernel series: its own sources file (the suites of
# kernel_suites, from the same Debian mirrors this machine's apt uses), lists, cache and state, so
# the machine's own apt sources and package lists are never touched. apt still checks every
# index against the archive's signed Release file and every .deb against its hash.
apt_private_opts() {
    local dir="$CACHE/apt/$1"
    printf '%s\n' -o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=/dev/null \
        -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status" \
        -o "Dir::Cache=$dir/cache" -o Dir::Etc::preferencesparts=/dev/null \
        -o Acquire::Languages=none -o APT::Sandbox::User=root \
        -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false
}

# The mirror URIs this machine's apt uses for Debian (main archive, security archive), so the
# private configuration goes where the machine's own does; LVS_DEBIAN_MIRROR and
# LVS_DEBIAN_SECURITY_MIRROR override them.
debian_mirrors() {
    local targets main security
    targets="$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Created-By: Packages' 2>/dev/null || true)"
    main="${LVS_DEBIAN_MIRROR:-$(awk '$1 !~ /-/ {print $2; exit}' <<<"$targets")}"
    security="${LVS_DEBIAN_SECURITY_MIRROR:-$(awk '$1 ~ /-security$/ {print $2; exit}' <<<"$targets")}"
    [ -n "$main" ] || die "cannot find this machine's Debian mirror in apt (set LVS_DEBIAN_MIRROR)"
    printf '%s %s\n' "$main" "${security:-}"
}

# apt_private_update SERIES: write the sources file and refresh the private lists (once a day;
# LVS_KERNEL_REFRESH=1 forces it).
apt_private_update() {
    local series="$1" dir="$CACHE/apt/$1" main security suite opts
    read -r main security <<<"$(debian_mirrors)"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    touch "$dir/status"
    {
        for suite in $(kernel_suites "$series"); do
            case "$suite" in
                *-security) [ -n "$security" ] && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security $suite main" ;;
                *) echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main $suite main" ;;
            esac
        done
    } >"$dir/sources.list.new"
    if [ "${LVS_KERNEL_REFRESH:-0}" != 1 ] && cmp -s "$dir/sources.list.new" "$dir/sources.list" \
        && [ -n "$(find "$dir/.updated" -mmin -1440 2>/dev/null)" ]; then
        rm -f "$dir/sources.list.new"
        return
    fi
    mv "$dir/sources.list.new" "$dir/sources.list"
    mapfile -t opts < <(apt_private_opts "$series")
    say "kernel $series: apt-get update ($(kernel_suites "$series"); private lists in $dir)"
    apt-get "${opts[@]}" update -qq >"$dir/update.log" 2>&1 \
        || { cat "$dir/update.log" >&2; die "kernel $series: apt-get update of $(kernel_suites "$series") failed"; }
    touch "$dir/.updated"
}

# fetch_kernel SERIES: resolve SERIES's newest kernel in its suites, download and unpack it into
# $CACHE/kernel/RELEASE (unless cached) and record RELEASE in $CACHE/kernel-version-SERIES.
# Any failure is fatal: a kernel that cannot be fetched is never skipped.
fetch_kernel() {
    local series="$1" opts pkg ver dir deps kimg
    apt_private_update "$series"
    mapfile -t opts < <(apt_private_opts "$series")
    # linux-image-amd64 (the newest of the suites) depends on linux-image-RELEASE.
    pkg="$(apt-cache "${opts[@]}" depends linux-image-amd64 2>/dev/null \
        | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    [ -n "$pkg" ] || die "kernel $series: cannot resolve linux-image-amd64 in $(kernel_suites "$series")"
    ver="${pkg#linux-image-}"
    case "$ver" in
        "$series".*|"$series"-*|"$series"+*) ;;
        *) die "kernel $series: $(kernel_suites "$series") now serves $ver, not $series: update KERNELS in tests/harness.sh" ;;
    esac
    dir="$CACHE/kernel/$ver"
    if [ -f "$dir/.stamp" ]; then
        say "kernel $series: $ver cached"
    else
        # Newer Debian kernels split linux-image-RELEASE into linux-{binary,modules,base}-RELEASE
        # (the image package is then a stub): fetch every dependency of the same release.
        mapfile -t deps < <(apt-cache "${opts[@]}" depends "$pkg" 2>/dev/null \
            | awk -v suffix="-$ver" '/Depends: / && length($2) > length(suffix) &&
                substr($2, length($2) - length(suffix) + 1) == suffix {print $2}' | sort -u)
        say "kernel $series: downloading $pkg ${deps[*]}"
        rm -rf "$dir" "$CACHE/debs"
        mkdir -p "$dir" "$CACHE/debs"
        (cd "$CACHE/debs" && apt-get "${opts[@]}" download -qq "$pkg" "${deps[@]}" >/dev/null) \
            || die "kernel $series: apt-get download $pkg ${deps[*]} failed"
        say "kernel $series: unpacking"
        local deb
        for deb in "$CACHE"/debs/*.deb; do dpkg -x "$deb" "$dir"; done
        rm -rf "$CACHE/debs"
        prepare_modules "$dir" "$ver"
        touch "$dir/.stamp"
    fi
    kimg="$(kernel_image "$dir" "$ver")" || die "kernel $series: no vmlinuz in $pkg ${deps[*]}"
    printf '%s\n' "$ver" >"$CACHE/kernel-version-$series"
}

# prepare_modules DIR RELEASE: make the unpacked modules loadable in the guest. dpkg -x runs no
# maintainer scripts, so build modules.dep ourselves; and virtme-ng's initramfs loads the 9p and
# virtio modules with busybox insmod, which reads plain .ko only (with .ko.xz the guest hangs
# silently at boot), so decompress them first.
prepare_modules() {
    local dir="$1" ver="$2" moddir
    for moddir in "$dir/lib/modules/$ver" "$dir/usr/lib/modules/$ver"; do
        [ -d "$moddir" ] || continue
        find "$moddir" -name '*.ko.xz' -print0 | xargs -0 -r -n 200 xz -d
        find "$moddir" -name '*.ko.zst' -print0 | xargs -0 -r -n 200 zstd -q -d --rm
        find "$moddir" -name '*.ko.gz' -print0 | xargs -0 -r -n 200 gzip -d
        depmod -b "${moddir%/lib/modules/$ver}" "$ver"
        return
    done
    die "no lib/modules/$ver in $dir"
}

# kernel_image DIR RELEASE: the vmlinuz of an unpacked kernel (boot/ up to 6.12; usr/lib/modules/
# from the split packages on).
kernel_image() {
    local f
    for f in "$1/boot/vmlinuz-$2" "$1/usr/lib/modules/$2/vmlinuz" "$1/lib/modules/$2/vmlinuz"; do
        [ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
    done
    return 1
}

setup_kernels() {
    local k keep=()
    for k in "${SELECTED_KERNELS[@]}"; do fetch_kernel "$k"; done
    # Drop unpacked kernels that no series records any more (replaced by an update).
    for k in "${KERNELS[@]}"; do
        [ -f "$CACHE/kernel-version-$k" ] && keep+=("$(cat "$CACHE/kernel-version-$k")")
    done
    local d
    for d in "$CACHE"/kernel/*; do
        [ -d "$d" ] || continue
        [[ " ${keep[*]} " == *" $(basename "$d") "* ]] || rm -rf "$d"
    done
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
    setup_kernels
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

# Run "$@" as root in a kernel with IPVS (the first selected series; 6.1 unless --kernel or
# LVS_KERNEL says otherwise) and return its exit status.
cmd_exec() {
    [ "${1:-}" = "--" ] && shift
    [ "$#" -gt 0 ] || die "usage: tests/harness.sh exec [--kernel SERIES] -- CMD..."
    [ "${#SELECTED_KERNELS[@]}" -gt 0 ] || select_kernels 6.1
    local series="${SELECTED_KERNELS[0]}"
    if host_has_ipvs; then
        say "host kernel has IPVS: running natively (kernel $(uname -r), not $series)"
        (cd "$REPO" && "$HARNESS_DIR/guest-init.sh" "$@")
        return
    fi
    [ -f "$CACHE/kernel-version-$series" ] && [ -x "$CACHE/venv/bin/vng" ] \
        || die "kernel $series is not set up: run 'tests/harness.sh setup --kernel $series' first"
    local ver kdir kimg guest_cmd
    ver="$(cat "$CACHE/kernel-version-$series")"
    kdir="$CACHE/kernel/$ver"
    kimg="$(kernel_image "$kdir" "$ver")" || die "kernel $series: no vmlinuz in $kdir (run setup)"
    # The guest runs this through a shell: quote every word. virtme-ng passes it on the kernel
    # command line, which x86 cuts at 2048 bytes (the guest then hangs silently): a longer command
    # goes through a script file (the guest sees this filesystem).
    guest_cmd="cd $(printf '%q' "$REPO") && exec $(printf '%q ' "$HARNESS_DIR/guest-init.sh" "$@")"
    if [ "${#guest_cmd}" -gt 1024 ]; then
        mkdir -p "$CACHE/run"
        printf '%s\n' "$guest_cmd" >"$CACHE/run/guest-cmd-$series.sh"
        guest_cmd="exec bash $(printf '%q' "$CACHE/run/guest-cmd-$series.sh")"
    fi
    say "booting kernel $series ($ver) under qemu TCG (virtme-ng)"
    # - vng runs virtme-run from PATH: put the venv first.
    # - </dev/null: vng must not read the caller's stdin (CI has none).
    # - Pipe the output through tr: qemu reopens its stdout, so when stdout is a FILE the guest's
    #   output overwrites what was written before (and pads with NUL bytes); a pipe is safe.
    #   tr also drops the NUL bytes the console emits.  The guest's exit status is vng's
    #   (PIPESTATUS[0]); it needs udev on the host (setup installs it).
    # - --verbose: the guest kernel's log goes to the console too (loglevel 7), so that a guest that
    #   dies (vng's exit status 255: no status from the guest, e.g. a kernel panic) leaves its
    #   last words. Those lines (they start with the kernel's "[ seconds.micro]" stamp, so a
    #   guest command's own lines that do, dmesg's, are left out too) are kept in
    #   $CACHE/run/console-SERIES.log, not shown; the console's tail is shown when the guest dies.
    local rc console="$CACHE/run/console-$series.log"
    mkdir -p "$CACHE/run"
    set +e
    # - timeout: a guest that hangs (boot or test) is killed after LVS_VM_TIMEOUT seconds.
    PATH="$CACHE/venv/bin:$PATH" timeout --kill-after=30 "${LVS_VM_TIMEOUT:-3600}" "$CACHE/venv/bin/vng" -r "$kimg" --disable-kvm --force-9p \
        --memory "${LVS_VM_MEMORY:-2G}" --cpus "${LVS_VM_CPUS:-2}" --verbose \
        --rwdir "$REPO" --exec "$guest_cmd" </dev/null 2>&1 | stdbuf -o0 tr -d '\000' \
        | tee "$console" \
        | grep --line-buffered -v -E '^(\[ *[0-9]+\.[0-9]+\] |Probing EDD|(Memory|Poking) KASLR)'
    rc="${PIPESTATUS[0]}"
    set -e
    say "VM finished: exit status $rc"
    if [ "$rc" = 255 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        say "the guest ended without a status (255: it died, e.g. a kernel panic; 124/137: timed out);"
        say "the last 60 lines of its console ($console):"
        tail -n 60 "$console" >&2
    fi
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

# lvsadm installs the way its README says (`cargo install --path . --features cli`), into a
# temporary root, and the installed binary runs. A debug build in the shared target directory,
# offline: after clippy and the tests nothing is rebuilt (about 2 s here).
check_lvsadm_install() {
    local root
    root="$(mktemp -d /tmp/lvsadm-install.XXXXXX)"
    CARGO_TARGET_DIR="$REPO/target" cargo install --quiet --offline --locked --debug \
        --features cli --path "$REPO" --root "$root"
    "$root/bin/lvsadm" fmt --to json "$REPO/examples/rules/seed-practice.rules" >/dev/null \
        || die "the installed lvsadm does not run"
    rm -rf "$root"
    say "lvsadm installs with cargo install --features cli, and runs"
}

# run_kernel SERIES HOW-MANY: one boot of SERIES running the kernel tests (cmd_test's lanes call
# it, in a subshell of their own); leaves "EXIT-STATUS SECONDS" in $CACHE/run/status-SERIES.
run_kernel() {
    local k="$1" how_many="$2" run="$CACHE/run" t1=$SECONDS krc=0 subset=()
    say "=== kernel $k: $(cat "$CACHE/kernel-version-$k")"
    SELECTED_KERNELS=("$k")
    # Three full runs do not fit in the hour CI allows: 6.1 runs everything, the others the
    # kernel-facing subset of tests/harness/kernel-subset.txt (see tests/README.md). One
    # kernel chosen alone (--kernel, LVS_KERNEL) runs everything; so does LVS_FULL_SUITE=1.
    if [ "$k" != 6.1 ] && [ "$how_many" -gt 1 ] && [ "${LVS_FULL_SUITE:-0}" != 1 ]; then
        subset=("$HARNESS_DIR/kernel-subset.txt")
        say "kernel $k: the subset of $(basename "${subset[0]}")"
    fi
    cmd_exec -- "$HARNESS_DIR/run-kernel-tests.sh" "$run/test-bins.txt" "$run/results-$k" \
        "${subset[@]}" || krc=$?
    echo "$krc $((SECONDS - t1))" >"$run/status-$k"
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
        # The workspace build has every lvs-netlink feature on (its tests enable fake and
        # tokio): check its library alone with none, and with each.
        local feature
        for feature in "" fake tokio; do
            say "cargo clippy -p lvs-netlink ${feature:+--features $feature }-- -D warnings"
            cargo clippy -p lvs-netlink ${feature:+--features "$feature"} -- -D warnings
        done
        say "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps"
        RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps
        say "RUSTDOCFLAGS='-D warnings' cargo doc -p lvs-netlink --no-deps --features fake,tokio (as docs.rs)"
        RUSTDOCFLAGS='-D warnings' cargo doc -p lvs-netlink --no-deps --features fake,tokio
        say "cargo package --no-verify (the published crates): license files and README inside"
        check_packages
        check_msrv
        say "cargo test --workspace (host; kernel tests are ignored here)"
        cargo test --workspace
        check_lvsadm_install
        say "lvs-capi installs with make install (lvs-capi/tests/install.sh)"
        "$REPO/lvs-capi/tests/install.sh"
        cmd_fuzz 30
    fi
    local run="$CACHE/run" py="$CACHE/pyvenv/bin/python"
    mkdir -p "$run"
    export MYPY_CACHE_DIR="$CACHE/mypy-cache"
    # The allowlist holds only the Literal name aliases (why: in the file).
    say "lvs-py: python -m mypy.stubtest lvs (the installed wheel)"
    "$py" -m mypy.stubtest lvs --allowlist "$REPO/lvs-py/stubtest-allowlist.txt"
    say "lvs-py: mypy --strict on the example and the tests; pytest -m 'not kernel' (host)"
    "$py" -m mypy --strict --no-incremental "$REPO/examples/python/seed_nat.py" "$REPO/lvs-py/tests"
    (cd "$REPO/lvs-py" && "$py" -m pytest -q -p no:cacheprovider -m "not kernel" tests)
    # The in-VM runner runs the kernel-marked pytest tests with this interpreter, by the IDs
    # collected here (collecting in the VM took another start of pytest, ~25 s under emulation).
    printf '%s\n' "$py" >"$run/python"
    (cd "$REPO/lvs-py" && "$py" -m pytest -q -p no:cacheprovider --collect-only -m kernel tests) |
        grep '^tests/.*::' >"$run/python-tests" || die "lvs-py: no test marked kernel was collected"
    say "building the kernel tests (cargo test --workspace --no-run)"
    cargo test --workspace --no-run --message-format=json >"$run/build.json"
    python3 "$HARNESS_DIR/test-executables.py" <"$run/build.json" >"$run/test-bins.txt"
    [ -s "$run/test-bins.txt" ] || die "cargo built no test executables"
    say "building the lvs-capi C tests (lvs-capi/tests/c/build.sh)"
    "$REPO/lvs-capi/tests/c/build.sh" "$run/capi" >&2
    say "$(wc -l <"$run/test-bins.txt") test executables; kernel tests on: ${SELECTED_KERNELS[*]}"
    # One VM boot per kernel, in two lanes side by side (LVS_VM_LANES=1: one after the other):
    # the first kernel (6.1, every test) in one, the others one after the other in the second.
    # Side by side, each VM gets ONE virtual CPU (unless LVS_VM_CPUS says otherwise): two VMs of
    # two vCPUs each on two cores ran 4x slower each, two of one vCPU each 1.15x slower each
    # (tests/README.md, "Kernels"). Each kernel's section goes to $run/kernel-SERIES.log and is
    # printed, in kernel order, when every lane is done; each ends with its own
    # `kernel tests: N passed, N failed`.
    local rc=0 k krc secs passed=0 failed=0 p f summary=() kernels=("${SELECTED_KERNELS[@]}")
    local lanes=("${kernels[0]}" "${kernels[*]:1}") lane pids=()
    if [ "${LVS_VM_LANES:-2}" = 1 ] || [ "${#kernels[@]}" = 1 ]; then
        lanes=("${kernels[*]}")
    fi
    [ "${#lanes[@]}" = 1 ] || export LVS_VM_CPUS="${LVS_VM_CPUS:-1}"
    for k in "${kernels[@]}"; do rm -f "$run/results-$k" "$run/status-$k" "$run/kernel-$k.log"; done
    for lane in "${lanes[@]}"; do
        [ -n "$lane" ] || continue
        say "kernels $lane: booting one after the other (log: $run/kernel-KERNEL.log)"
        (for k in $lane; do
            run_kernel "$k" "${#kernels[@]}" >"$run/kernel-$k.log" 2>&1
            say "kernel $k done (exit status, seconds: $(cat "$run/status-$k" 2>/dev/null || echo none))"
        done) &
        pids+=("$!")
    done
    wait "${pids[@]}" || true
    for k in "${kernels[@]}"; do
        cat "$run/kernel-$k.log"
        krc=1 secs=0
        [ -f "$run/status-$k" ] && read -r krc secs <"$run/status-$k"
        if read -r p f <"$run/results-$k" 2>/dev/null; then
            passed=$((passed + p)); failed=$((failed + f))
            summary+=("kernel $k: $p passed, $f failed, exit status $krc, $secs s")
        else
            # The VM died before the runner finished (boot hang, timeout): a failure, counted.
            failed=$((failed + 1))
            summary+=("kernel $k: no result (VM exit status $krc), $secs s")
        fi
        [ "$krc" = 0 ] || rc=1
    done
    printf '%s\n' "${summary[@]}"
    say "total time $((SECONDS - t0)) s; exit status $rc"
    echo "all kernels: $passed passed, $failed failed"
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

# tests/golden/ is 6.1's capture. On another kernel (--kernel 6.12|7.2) the capture goes to
# $CACHE/golden-SERIES first; tests/golden/kernel-SERIES/ then keeps the files that differ from
# 6.1's (see tests/README.md, "Kernels").
cmd_capture() {
    cmd_setup
    local series="${SELECTED_KERNELS[0]}"
    if [ "$series" = 6.1 ]; then
        cmd_exec -- "$HARNESS_DIR/capture-goldens.sh" "$REPO/tests/golden"
        return
    fi
    # Captured apart, then only what differs from 6.1's capture is kept, in kernel-SERIES/: where
    # the outputs are the same, 6.1's one copy serves (kernel_harness reads them that way).
    local out="$CACHE/golden-$series" own="$REPO/tests/golden/kernel-$series" f n=0
    rm -rf "$out" && mkdir -p "$out"
    cp "$REPO"/tests/golden/*.rules "$out/"
    cmd_exec -- "$HARNESS_DIR/capture-goldens.sh" "$out"
    rm -rf "$own" && mkdir -p "$own"
    for f in "$out"/*.save "$out"/*.list "$out"/*.restore-status; do
        cmp -s "$f" "$REPO/tests/golden/${f##*/}" || { cp "$f" "$own/"; n=$((n + 1)); }
    done
    {
        echo "# Goldens of kernel $series where they differ from 6.1's"
        echo
        echo "Generated by \`tests/harness.sh capture --kernel $series\`: every \`../NAME.rules\` captured"
        echo "as \`../README.md\` says, on $(sed -n 's/.*- kernel: `\(.*\)`.*/\1/p' "$out/README.md"),"
        echo "and kept here only where the file differs from the 6.1 capture beside \`../\` ($n of"
        echo "$(ls "$out"/*.save "$out"/*.list "$out"/*.restore-status | wc -l) files). Never edit by hand."
    } >"$own/README.md"
    say "capture on $series: $n files differ from 6.1's, kept in tests/golden/kernel-$series"
}

# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------

# The main job: the tutorial's practices through lvs (examples/demo), in a kernel with IPVS, in a
# fresh network namespace: every scene, or only the one named; --list prints them (on the host).
cmd_demo() {
    [ "$#" -le 1 ] || die "usage: tests/harness.sh demo [SCENE | --list]"
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
    if [ "${1:-}" = --list ]; then
        "$bin" --list
        return
    fi
    # A misspelt scene is refused here, before a VM boots.
    if [ "$#" = 1 ] && ! "$bin" --list | cut -d' ' -f1 | grep -qxF -- "$1"; then
        die "no scene '$1'; the scenes: $("$bin" --list | cut -d' ' -f1 | tr '\n' ' ')"
    fi
    setup_vm
    # One line: the guest's shell reads the command printf %q quoted, without $'...' support.
    cmd_exec -- unshare --net --mount --propagation private -- bash -c \
        'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 lvs-netns /run/netns && ip link set lo up && exec "$0" "$@"' "$bin" "$@"
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
            --exporter) driver=exporter.py ;;
            --kernels) driver=kernels.py ;;
            *) die "usage: tests/harness.sh bench [--quick | --focus | --reconcile | --exporter | --kernels] [--vips=spread|collide]" ;;
        esac
    done
    [ "$driver" = run.py ] || [ "${#quick[@]}" -eq 0 ] || [ "${quick[*]}" = --quick ] \
        || die "bench --reconcile, --exporter and --kernels take only --quick"
    [ "$driver" != exporter.py ] || { bench_exporter "${quick[@]}"; return; }
    [ "$driver" != kernels.py ] || { bench_kernels "${quick[@]}"; return; }

    setup_vm
    setup_python
    cd "$REPO"
    local out="$REPO/target/bench" venv="$CACHE/pyvenv"
    local bin="$out/bin" prefix="$out/prefix" pylib="$out/pylib"
    say "bench: cargo build --release (example bench, lvsadm; lvs-capi by make install)"
    cargo build --release --quiet -p lvs-netlink --example bench
    cargo build --release --quiet --features cli --bin lvsadm
    rm -rf "$bin" "$prefix" "$pylib" "$out/wheels"
    mkdir -p "$bin" "$pylib"
    install -m 0755 target/release/examples/bench target/release/lvsadm "$bin/"
    # lvs-capi built and installed into a prefix as its README says (a release build), and used
    # through pkg-config, as lvs-capi/tests/c/build.sh does.
    make -s -C lvs-capi install PREFIX="$prefix" >&2
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

# bench --exporter: lvsadm exporter against Debian's prometheus-node-exporter (its ipvs collector)
# on the same tables (tests/bench/exporter.py). node_exporter is unpacked into the cache with
# dpkg -x, not installed: installing would start its service on this machine.
bench_exporter() {
    setup_vm
    cd "$REPO"
    local out="$REPO/target/bench" dir="$CACHE/node-exporter"
    local bin="$out/bin" node="$dir/root/usr/bin/prometheus-node-exporter"
    if [ ! -x "$node" ]; then
        say "bench: apt-get download prometheus-node-exporter (unpacked into $dir)"
        rm -rf "$dir" && mkdir -p "$dir/root"
        apt_update_once
        (cd "$dir" && apt-get download -qq prometheus-node-exporter >/dev/null) \
            || die "apt-get download prometheus-node-exporter failed"
        dpkg -x "$dir"/prometheus-node-exporter_*.deb "$dir/root"
    fi
    say "bench: cargo build --release (example bench, lvsadm)"
    cargo build --release --quiet -p lvs-netlink --example bench
    cargo build --release --quiet --features cli --bin lvsadm
    mkdir -p "$bin"
    install -m 0755 target/release/examples/bench target/release/lvsadm "$bin/"
    say "bench: one VM boot for the exporters"
    cmd_exec -- unshare --net --mount --propagation private -- bash -c \
        'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 lvs-netns /run/netns && ip link set lo up && exec "$0" "$@"' \
        /usr/bin/python3 "$REPO/tests/bench/exporter.py" --bin "$bin" --node-exporter "$node" \
        --out "$out" "$@"
}

# bench --kernels: the same rows on each kernel, one boot after the other (6.1 and 7.2 unless
# --kernel, LVS_KERNEL or LVS_KERNELS say otherwise), then side by side (tests/bench/kernels.py;
# results-kernels.md).
bench_kernels() {
    local out="$REPO/target/bench" k
    if [ -z "${OPT_KERNEL:-}" ] && [ -z "${LVS_KERNEL:-}" ]; then
        read -r -a SELECTED_KERNELS <<<"${LVS_KERNELS:-6.1 7.2}"
        for k in "${SELECTED_KERNELS[@]}"; do kernel_suites "$k" >/dev/null; done
    fi
    local kernels=("${SELECTED_KERNELS[@]}")
    setup_vm
    cd "$REPO"
    say "bench: cargo build --release (example bench, lvsadm)"
    cargo build --release --quiet -p lvs-netlink --example bench
    cargo build --release --quiet --features cli --bin lvsadm
    mkdir -p "$out/bin"
    rm -rf "$out/kernels"
    install -m 0755 target/release/examples/bench target/release/lvsadm "$out/bin/"
    for k in "${kernels[@]}"; do
        SELECTED_KERNELS=("$k")
        say "bench: kernel $k ($(cat "$CACHE/kernel-version-$k"))"
        LVS_VM_TIMEOUT="${LVS_VM_TIMEOUT:-10800}" cmd_exec -- unshare --net --mount --propagation private -- bash -c \
            'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 lvs-netns /run/netns && ip link set lo up && exec "$0" "$@"' \
            /usr/bin/python3 "$REPO/tests/bench/kernels.py" --bin "$out/bin" --out "$out/kernels" "$@"
    done
    python3 "$REPO/tests/bench/kernels.py" --render "$out"/kernels/kernel-*.json >"$out/results-kernels.md"
    say "bench: wrote $out/results-kernels.md"
    cat "$out/results-kernels.md"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 2
}

main() {
    local sub="${1:-}" args=()
    [ "$#" -gt 0 ] && shift
    # --kernel SERIES (or --kernel=SERIES) anywhere before a `--`.
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --kernel) [ "$#" -ge 2 ] || die "--kernel needs a series (${KERNELS[*]})"; OPT_KERNEL="$2"; shift 2 ;;
            --kernel=*) OPT_KERNEL="${1#--kernel=}"; shift ;;
            --) args+=("$@"); break ;;
            *) args+=("$1"); shift ;;
        esac
    done
    set -- "${args[@]}"
    case "$sub" in
        setup|test) select_kernels all ;;
        *) select_kernels 6.1 ;;
    esac
    case "$sub" in
        setup) cmd_setup ;;
        exec) cmd_exec "$@" ;;
        test) cmd_test ;;
        capture) cmd_capture ;;
        demo) cmd_demo "$@" ;;
        bench) cmd_bench "$@" ;;
        fuzz) cmd_fuzz "$@" ;;
        *) usage ;;
    esac
}

main "$@"
