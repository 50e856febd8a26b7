#!/usr/bin/env bash
# tests/harness/guest-init.sh CMD... — first thing run inside the VM (or natively, as root, on a
# host whose kernel has IPVS): load IPVS and its schedulers, check that IPVS answers, then exec CMD.
# A missing IPVS is a hard failure here: the harness exists to test against it.
set -euo pipefail

SCHEDULERS="rr wrr lc wlc fo ovf lblc lblcr dh sh mh sed nq twos"

if ! modprobe ip_vs; then
    echo "[guest] FATAL: modprobe ip_vs failed: this kernel has no IPVS" >&2
    exit 90
fi
for s in $SCHEDULERS; do
    # Only load what exists: a kernel may lack one (twos: not in Debian 6.1; in 6.12 and 7.2).
    modprobe -q "ip_vs_$s" 2>/dev/null || echo "[guest] note: scheduler $s not loadable" >&2
done
if ! ipvsadm -Ln >/dev/null; then
    echo "[guest] FATAL: 'ipvsadm -Ln' failed: IPVS is not usable" >&2
    exit 90
fi
exec "$@"
