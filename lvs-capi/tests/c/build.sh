#!/usr/bin/env bash
# lvs-capi/tests/c/build.sh OUT — builds lvs-capi and installs it into OUT/prefix with the
# command lvs-capi/README.md gives users (`make -C lvs-capi install PREFIX=...`; a debug build),
# then compiles every C test, and the README's example as OUT/bin/readme, against that install with
# gcc -Wall -Wextra -Werror through pkg-config: OUT/bin/NAME, plus OUT/bin/client-static linked
# against libipvs.a. tests/harness.sh test runs this on the host; the VM runs OUT/bin/* under
# valgrind (tests/harness/run-kernel-tests.sh).
set -euo pipefail

OUT="$(realpath -m "${1:?usage: build.sh OUT}")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CRATE="$(cd "$HERE/../.." && pwd)"
PREFIX="$OUT/prefix"

rm -rf "$OUT"
mkdir -p "$OUT/bin"
# The debug build (PROFILE=dev): `tests/harness.sh test` has built its dependencies already.
make -s -C "$CRATE" install PREFIX="$PREFIX" PROFILE=dev

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
# The README's example, as written (the VM runs it: it prints the IPVS version).
awk '/^```c$/ { n++; on = 1; next } /^```$/ { on = 0 } on { print } END { exit n != 1 }' \
    "$CRATE/README.md" >"$OUT/readme.c"
gcc "${CFLAGS[@]}" "${PC_CFLAGS[@]}" "$OUT/readme.c" -o "$OUT/bin/readme" "${PC_LIBS[@]}" \
    -Wl,-rpath,"$PREFIX/lib"
echo "lvs-capi C tests built in $OUT/bin: $(cd "$OUT/bin" && echo *)"
