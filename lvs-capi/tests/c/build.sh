#!/usr/bin/env bash
# lvs-capi/tests/c/build.sh OUT — builds lvs-capi, installs it into OUT/prefix exactly as
# lvs-capi/README.md says a user would (lib/libipvs.{so,a}, include/{libipvs,ip_vs}.h,
# lib/pkgconfig/libipvs.pc), then compiles every C test against that install with
# gcc -Wall -Wextra -Werror through pkg-config: OUT/bin/NAME, plus OUT/bin/client-static linked
# against libipvs.a. tests/harness.sh test runs this on the host; the VM runs OUT/bin/* under
# valgrind (tests/harness/run-kernel-tests.sh).
set -euo pipefail

OUT="$(realpath -m "${1:?usage: build.sh OUT}")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CRATE="$(cd "$HERE/../.." && pwd)"
REPO="$(cd "$CRATE/.." && pwd)"
PREFIX="$OUT/prefix"

cd "$REPO"
cargo build -p lvs-capi --quiet
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
VERSION="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "lvs-capi"))')"

rm -rf "$OUT"
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include" "$OUT/bin"
install -m 0755 "$TARGET_DIR/debug/libipvs.so" "$PREFIX/lib/"
install -m 0644 "$TARGET_DIR/debug/libipvs.a" "$PREFIX/lib/"
install -m 0644 "$CRATE/include/libipvs.h" "$CRATE/include/ip_vs.h" "$PREFIX/include/"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$VERSION|" "$CRATE/libipvs.pc.in" \
    >"$PREFIX/lib/pkgconfig/libipvs.pc"

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
CFLAGS=(-std=gnu11 -g -O1 -Wall -Wextra -Werror)
read -r -a PC_CFLAGS <<<"$(pkg-config --cflags libipvs)"
read -r -a PC_LIBS <<<"$(pkg-config --libs libipvs)"
for src in "$HERE"/*.c; do
    name="$(basename "$src" .c)"
    gcc "${CFLAGS[@]}" "${PC_CFLAGS[@]}" -I"$HERE" "$src" -o "$OUT/bin/$name" \
        "${PC_LIBS[@]}" -Wl,-rpath,"$PREFIX/lib"
done
# The same unchanged client, linked statically against libipvs.a.
read -r -a PC_PRIVATE <<<"$(pkg-config --static --libs-only-l libipvs | sed 's/-lipvs//')"
gcc "${CFLAGS[@]}" "${PC_CFLAGS[@]}" "$HERE/client.c" -o "$OUT/bin/client-static" \
    -L"$PREFIX/lib" -l:libipvs.a "${PC_PRIVATE[@]}"
if ldd "$OUT/bin/client-static" | grep -q libipvs; then
    echo "client-static is linked against libipvs.so, not libipvs.a" >&2
    exit 1
fi
echo "lvs-capi C tests built in $OUT/bin: $(cd "$OUT/bin" && echo *)"
