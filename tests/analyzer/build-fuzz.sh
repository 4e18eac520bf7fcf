#!/bin/sh
# tests/analyzer/build-fuzz.sh OUT_DIR — build the analyzer's libFuzzer
# targets with clang, ASan and UBSan: OUT_DIR/fuzz-analyzer from
# analyzer/*.c (not main.c) and analyzer/fuzz/fuzz_analyzer.c (libsndfile's
# path), OUT_DIR/fuzz-decode from analyzer/decoder/ffdec.c, analyzer/sniff.c
# and analyzer/fuzz/fuzz_decode.c (the FFmpeg fallback's).
# It is not part of the Makefile's wildcard build: libFuzzer needs clang,
# and the analyzer's own objects are built without ASan (seccomp).
# Rebuilds only when a source is newer than the binary.
set -eu
cd "$(dirname "$0")/../.."
out=${1:?usage: build-fuzz.sh OUT_DIR}
mkdir -p "$out"
CLANG=${CLANG:-clang-14}
flags="-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-Wall -Wextra -Werror -Wno-unused-parameter -I. -DSANDRUN_VERSION=\"fuzz\""
# build BIN PKGS SOURCES...: only when a source is newer than the binary
build() {
	bin=$1 pkgs=$2
	shift 2
	if [ -x "$bin" ]; then
		newer=$(find analyzer tests/analyzer -name '*.[ch]' -newer "$bin" | head -n 1)
		[ -z "$newer" ] && return 0
	fi
	# shellcheck disable=SC2046,SC2086
	"$CLANG" $flags $(pkg-config --cflags $pkgs) -o "$bin" "$@" $(pkg-config --libs $pkgs) -lm
}
srcs=$(ls analyzer/*.c | grep -v '^analyzer/main\.c$')
# shellcheck disable=SC2086
build "$out/fuzz-analyzer" "sndfile kissfft-float nettle libseccomp jansson" \
	analyzer/fuzz/fuzz_analyzer.c $srcs
build "$out/fuzz-decode" "libavformat libavcodec libavutil" \
	analyzer/fuzz/fuzz_decode.c analyzer/decoder/ffdec.c analyzer/sniff.c
