#!/bin/sh
# tests/analyzer/build-fuzz.sh OUT_DIR — build the analyzer's libFuzzer
# target, OUT_DIR/fuzz-analyzer, from analyzer/*.c (not main.c) and
# analyzer/fuzz/fuzz_analyzer.c, with clang, ASan and UBSan.
# It is not part of the Makefile's wildcard build: libFuzzer needs clang,
# and the analyzer's own objects are built without ASan (seccomp).
# Rebuilds only when a source is newer than the binary.
set -eu
cd "$(dirname "$0")/../.."
out=${1:?usage: build-fuzz.sh OUT_DIR}
mkdir -p "$out"
bin="$out/fuzz-analyzer"
CLANG=${CLANG:-clang-14}
srcs=$(ls analyzer/*.c | grep -v '^analyzer/main\.c$')
if [ -x "$bin" ]; then
	newer=$(find analyzer tests/analyzer -name '*.[ch]' -newer "$bin" | head -n 1)
	[ -z "$newer" ] && exit 0
fi
pkgs="sndfile libebur128 kissfft-float libseccomp jansson"
# shellcheck disable=SC2046,SC2086
exec "$CLANG" -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wno-unused-parameter -I. \
	-DSANDRUN_VERSION='"fuzz"' $(pkg-config --cflags $pkgs) \
	-o "$bin" analyzer/fuzz/fuzz_analyzer.c $srcs $(pkg-config --libs $pkgs) -lm
