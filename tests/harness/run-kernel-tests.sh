#!/usr/bin/env bash
# tests/harness/run-kernel-tests.sh BIN-LIST — the in-VM runner (started by `tests/harness.sh test`
# through guest-init.sh, so IPVS is loaded and checked already).
#
# For every Rust test executable listed in BIN-LIST (one path a line), runs every IGNORED test
# (the kernel tests, see the convention in tests/harness.sh), each in its own process inside a fresh
# network + mount namespace (empty IPVS table, lo up, a private /run/netns so the test can use
# `ip netns add`).  Prints PASS/FAIL per test, the full output of failing tests, and finally
#     kernel tests: N passed, N failed
# Exit status: 0 only if every test passed and at least one test ran.
set -uo pipefail

BIN_LIST="${1:?usage: run-kernel-tests.sh BIN-LIST [RESULTS-FILE [SUBSET-FILE]]}"
RESULTS="${2:-}"   # if given, "PASSED FAILED" is written there at the end (for tests/harness.sh)
# If given, only the tests whose label (as printed on the PASS/FAIL lines) starts with one of the
# SUBSET-FILE's lines run (tests/harness.sh: the kernels other than 6.1, see tests/README.md);
# how many are left out is printed, so a subset never passes for the whole suite.
SUBSET="${3:-}"
LEFT_OUT=0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$(mktemp -d /tmp/lvs-kernel-tests.XXXXXX)"
PASSED=0
FAILED=0
FAILED_NAMES=()
TEST_TIMEOUT=1500  # seconds per kernel test (timeout(1) exit status 124 = timed out); the 10k x 4
                   # batch test took 1,295 s on a loaded machine

# run_isolated CMD...: run CMD in a fresh network + mount namespace (see header).
run_isolated() {
    unshare --net --mount --propagation private -- bash -c '
        set -e
        mkdir -p /run/netns
        mount -t tmpfs -o mode=0755 lvs-netns /run/netns
        ip link set lo up
        exec "$@"' lvs-isolated "$@"
}

# record NAME STATUS LOGFILE: count and print one result.
# in_subset LABEL: whether LABEL runs (always, without a SUBSET-FILE); counts the others.
in_subset() {
    [ -n "$SUBSET" ] || return 0
    local prefix
    while IFS= read -r prefix; do
        case "$prefix" in ''|'#'*) continue ;; esac
        [[ "$1" == "$prefix"* ]] && return 0
    done <"$SUBSET"
    LEFT_OUT=$((LEFT_OUT + 1))
    return 1
}

# Each line also gives the seconds since the previous record (the test's own time, near enough).
LAST_RECORD=$SECONDS
record() {
    local name="$1" status="$2" log="$3" took=$((SECONDS - LAST_RECORD))
    LAST_RECORD=$SECONDS
    if [ "$status" = 0 ]; then
        PASSED=$((PASSED + 1))
        printf 'PASS  %s (%s s)\n' "$name" "$took"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$name")
        printf 'FAIL  %s (exit status %s, %s s)\n' "$name" "$status" "$took"
        printf -- '----- output of %s -----\n' "$name"
        cat "$log"
        printf -- '----- end of %s -----\n' "$name"
    fi
}

cd "$REPO"
echo "[kernel-tests] kernel $(uname -r), $(ipvsadm -v)"

# ---- 1. Rust: every ignored test of every test executable -----------------------------------
while IFS= read -r bin; do
    [ -n "$bin" ] || continue
    if ! tests="$("$bin" --list --format terse --ignored 2>"$OUT/list.err")"; then
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("$bin --list")
        echo "FAIL  $bin --list --ignored:"; cat "$OUT/list.err"
        continue
    fi
    while IFS= read -r line; do
        case "$line" in *": test") ;; *) continue ;; esac
        name="${line%: test}"
        label="$(basename "$bin" | sed 's/-[0-9a-f]\{16\}$//')::$name"
        in_subset "$label" || continue
        log="$OUT/test.log"
        # A hung test must not hang the run: $TEST_TIMEOUT seconds each, then it is killed.
        run_isolated timeout --kill-after=10 "$TEST_TIMEOUT" \
            "$bin" --exact "$name" --ignored --nocapture --test-threads=1 >"$log" 2>&1
        record "$label" "$?" "$log"
    done <<<"$tests"
done <"$BIN_LIST"

# ---- 2. EXTENSION POINT: further suites run here, in the same VM boot -----------------------
# Add Python (pytest) or C test suites below.  Run each test (or suite) through `run_isolated`
# so it gets its own empty IPVS table, and report it with `record NAME STATUS LOGFILE`, e.g.:
#     run_isolated python3 -m pytest -q tests/python/test_x.py >"$OUT/x.log" 2>&1
#     record "pytest::test_x" "$?" "$OUT/x.log"
# ---------------------------------------------------------------------------------------------

# ---- 3. Python: every lvs-py pytest test marked `kernel`, each in its own namespace ------------
# The interpreter is the venv `tests/harness.sh setup` built (with lvs-py installed), and the test
# IDs are the ones `tests/harness.sh test` collected on the host; both are recorded beside
# BIN-LIST. No interpreter or no test ID is a failure, never a skip.
# One pytest process runs them all (starting Python and pytest takes about 20 s under the VM's
# emulation): with LVS_PYTEST_FORK set, lvs-py/tests/conftest.py forks each test into fresh
# network and mount namespaces of its own, as run_isolated gives the Rust tests, and gives it
# TEST_TIMEOUT seconds. pytest-results.py prints its PASS/FAIL lines from pytest's JUnit report,
# where a test ID missing from the report is a failure.
PY="$(cat "$(dirname "$BIN_LIST")/python" 2>/dev/null || true)"
PY_TESTS="$(dirname "$BIN_LIST")/python-tests"
if [ -z "$PY" ] || [ ! -x "$PY" ]; then
    echo "no Python venv for lvs-py" >"$OUT/py.log"
    record "lvs-py (venv)" 1 "$OUT/py.log"
elif ! grep -q '::' "$PY_TESTS" 2>/dev/null; then
    echo "no lvs-py kernel test IDs in $PY_TESTS (collected by tests/harness.sh test)" >"$OUT/py.log"
    record "lvs-py (kernel test IDs)" 1 "$OUT/py.log"
else
    py_ids=()
    while IFS= read -r id; do
        case "$id" in tests/*::*) ;; *) continue ;; esac
        in_subset "lvs-py::$id" || continue
        py_ids+=("$id")
    done <"$PY_TESTS"
    if [ "${#py_ids[@]}" -gt 0 ]; then
        (cd "$REPO/lvs-py" && run_isolated timeout --kill-after=10 $((TEST_TIMEOUT + 300 * ${#py_ids[@]})) \
            env LVS_PYTEST_FORK="$TEST_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider \
            -o junit_logging=all --junitxml="$OUT/py.xml" "${py_ids[@]}") >"$OUT/py.log" 2>&1
        if "$PY" "$HERE/pytest-results.py" "$OUT/py.xml" "$OUT/py.log" "$OUT/py.results" "${py_ids[@]}"; then
            { read -r p f; mapfile -t names; } <"$OUT/py.results"
            PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
            FAILED_NAMES+=("${names[@]}")
            LAST_RECORD=$SECONDS
        else
            record "lvs-py (pytest-results.py)" 1 "$OUT/py.log"
        fi
    fi
fi

# ---- lvs-capi: the C tests, each in its own namespace, under valgrind ---------------------------
# Built on the host by lvs-capi/tests/c/build.sh (called by `tests/harness.sh test`) into capi/bin
# beside BIN-LIST, against a temporary install of libipvs. None built is a failure, never a skip.
CAPI_BIN="$(dirname "$BIN_LIST")/capi/bin"
if [ -z "$(ls -A "$CAPI_BIN" 2>/dev/null)" ]; then
    echo "no C test programs in $CAPI_BIN (lvs-capi/tests/c/build.sh did not run?)" >"$OUT/capi.log"
    record "lvs-capi (C tests)" 1 "$OUT/capi.log"
else
    for prog in "$CAPI_BIN"/*; do
        in_subset "lvs-capi::$(basename "$prog")" || continue
        log="$OUT/test.log"
        run_isolated timeout --kill-after=10 "$TEST_TIMEOUT" \
            valgrind -q --error-exitcode=1 --leak-check=full \
            --suppressions="$REPO/lvs-capi/tests/c/valgrind.supp" "$prog" >"$log" 2>&1
        record "lvs-capi::$(basename "$prog")" "$?" "$log"
    done
fi

TOTAL=$((PASSED + FAILED))
if [ "${#FAILED_NAMES[@]}" -gt 0 ]; then
    echo "failed:"
    printf '  %s\n' "${FAILED_NAMES[@]}"
fi
if [ "$TOTAL" = 0 ]; then
    echo "[kernel-tests] ERROR: no kernel tests found (is every kernel test #[ignore]d as the convention says?)"
fi
if [ -n "$SUBSET" ]; then
    echo "[kernel-tests] subset $(basename "$SUBSET") on kernel $(uname -r): $LEFT_OUT tests not run here (they run on 6.1)"
fi
echo "kernel tests: $PASSED passed, $FAILED failed"
[ -z "$RESULTS" ] || echo "$PASSED $FAILED" >"$RESULTS"
rm -rf "$OUT"
[ "$FAILED" = 0 ] && [ "$TOTAL" -gt 0 ]
