#!/usr/bin/env bash
# lvs-capi/tests/install.sh — the C install as lvs-capi/README.md documents it, checked on the
# host (no kernel needed): `make -C lvs-capi install PREFIX=/usr/local DESTDIR=TMP` installs
# exactly the expected files, libipvs.so's soname is libipvs.so.ABI (build.rs) with the links to
# it, pkg-config reads the staged libipvs.pc (through PKG_CONFIG_SYSROOT_DIR, as a packager's
# build would), the C example of lvs-capi/README.md and of README.md compiles as written with
# gcc -Wall -Wextra -Werror against it, dynamically and statically (Libs.private), and runs:
# it prints the IPVS version, or, where the kernel has no IPVS, ipvs_init's error. Then
# `make uninstall` leaves no file behind. tests/harness.sh test runs this; PROFILE=release
# checks a release build (default: dev, the build the other tests already made).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CRATE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$CRATE/.." && pwd)"
PROFILE="${PROFILE:-dev}"
PREFIX=/usr/local

fail() { printf 'lvs-capi install: %s\n' "$*" >&2; exit 1; }

TMP="$(mktemp -d /tmp/lvs-capi-install.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
DEST="$TMP/dest"
LIB="$DEST$PREFIX/lib"

make -s -C "$CRATE" install PREFIX="$PREFIX" DESTDIR="$DEST" PROFILE="$PROFILE"

VERSION="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "lvs-capi"))')"
ABI="$(sed -n 's/^const ABI: u32 = \([0-9][0-9]*\);$/\1/p' "$CRATE/build.rs")"
[ -n "$ABI" ] || fail "no 'const ABI: u32 = N;' in lvs-capi/build.rs"
SONAME="libipvs.so.$ABI"

# The files, and where each link points.
expected="$(LC_ALL=C sort <<EOF
$PREFIX/include/ip_vs.h
$PREFIX/include/libipvs.h
$PREFIX/lib/libipvs.a
$PREFIX/lib/libipvs.so -> $SONAME
$PREFIX/lib/$SONAME -> libipvs.so.$VERSION
$PREFIX/lib/libipvs.so.$VERSION
$PREFIX/lib/pkgconfig/libipvs.pc
EOF
)"
got="$(cd "$DEST" && find . ! -type d | sed 's|^\.||' | while read -r f; do
    if [ -L "$DEST$f" ]; then echo "$f -> $(readlink "$DEST$f")"; else echo "$f"; fi
done | LC_ALL=C sort)"
[ "$got" = "$expected" ] || fail "installed files differ from what was expected:
$(diff <(echo "$expected") <(echo "$got") || true)"
[ -x "$LIB/libipvs.so.$VERSION" ] || fail "libipvs.so.$VERSION is not executable"

soname="$(readelf -d "$LIB/libipvs.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')"
[ "$soname" = "$SONAME" ] || fail "soname of libipvs.so.$VERSION: '$soname', expected $SONAME"

# pkg-config as against an installed system, with the staging directory as its sysroot.
pc() { PKG_CONFIG_SYSROOT_DIR="$DEST" PKG_CONFIG_LIBDIR="$LIB/pkgconfig" pkg-config "$@" libipvs; }
check_pc() {
    local got
    got="$(pc "${@:2}" | sed 's/ *$//')"
    [ "$got" = "$1" ] || fail "pkg-config $*: '$got', expected '$1'"
}
check_pc "$VERSION" --modversion
grep -qx "prefix=$PREFIX" "$LIB/pkgconfig/libipvs.pc" || fail "libipvs.pc: prefix is not $PREFIX"
check_pc "-I$DEST$PREFIX/include" --cflags
check_pc "-L$LIB -lipvs" --libs
private="$(sed -n 's/^Libs.private: //p' "$LIB/pkgconfig/libipvs.pc")"
[ -n "$private" ] || fail "libipvs.pc has no Libs.private"
check_pc "-L$LIB -lipvs $private" --static --libs
if grep -n '@[A-Z_]*@\|example\.invalid' "$LIB/pkgconfig/libipvs.pc"; then
    fail "libipvs.pc keeps a placeholder"
fi

# The C example of each README (its one ```c block), compiled as the README says and run.
read -r -a CFLAGS <<<"$(pc --cflags)"
read -r -a LIBS <<<"$(pc --libs)"
read -r -a STATIC_LIBS <<<"$(pc --static --libs | sed 's/ -lipvs / -l:libipvs.a /')"
for readme in "$CRATE/README.md" "$REPO/README.md"; do
    name="$(realpath --relative-to="$REPO" "$readme" | tr / -)"; name="${name%.md}"
    awk '/^```c$/ { n++; on = 1; next } /^```$/ { on = 0 } on { print } END { exit n != 1 }' \
        "$readme" >"$TMP/$name.c" || fail "$readme: expected exactly one \`\`\`c block"
    gcc -Wall -Wextra -Werror "${CFLAGS[@]}" "$TMP/$name.c" -o "$TMP/$name" "${LIBS[@]}" \
        -Wl,-rpath,"$LIB" || fail "$readme: the C example does not compile"
    readelf -d "$TMP/$name" | grep -qF "Shared library: [$SONAME]" \
        || fail "$name: not linked against $SONAME"
    gcc -Wall -Wextra -Werror "${CFLAGS[@]}" "$TMP/$name.c" -o "$TMP/$name-static" "${STATIC_LIBS[@]}" \
        || fail "$readme: the C example does not link statically with Libs.private"
    ! readelf -d "$TMP/$name-static" | grep -q 'Shared library: \[libipvs' \
        || fail "$name-static: linked against libipvs.so, not libipvs.a"
    for bin in "$TMP/$name" "$TMP/$name-static"; do
        rc=0
        "$bin" >"$TMP/out" 2>"$TMP/err" || rc=$?
        if [ "$rc" = 0 ]; then
            grep -q '^IP Virtual Server version [0-9]' "$TMP/out" || fail "$bin: unexpected output: $(cat "$TMP/out")"
        elif [ "$rc" = 1 ]; then
            grep -qx 'ipvs_init: .*[a-z].*' "$TMP/err" || fail "$bin exited 1 without ipvs_init's error: $(cat "$TMP/err")"
        else
            fail "$bin exited $rc: $(cat "$TMP/err")"
        fi
    done
    echo "lvs-capi install: $name: $(cat "$TMP/out" "$TMP/err" | head -n 1)"
done

make -s -C "$CRATE" uninstall PREFIX="$PREFIX" DESTDIR="$DEST"
left="$(cd "$DEST" && find . ! -type d)"
[ -z "$left" ] || fail "make uninstall left: $left"

echo "lvs-capi install: make install PREFIX=$PREFIX DESTDIR=...: $SONAME -> libipvs.so.$VERSION, libipvs.a, headers, libipvs.pc; README examples built and run; uninstall clean"
