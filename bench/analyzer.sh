#!/bin/bash
# bench/analyzer.sh [BUILD_DIR] [MINUTES] — how fast sandrun-analyze is, in
# one run on the same files, against:
#   - the bare decode floor: for WAV, FLAC and MP3 a libsndfile loop
#     (sf_open + sf_readf_float in the analyzer's block size and nothing
#     else); for M4A and WebM, which the analyzer hands to sandrun-decode
#     (FFmpeg), `ffmpeg -i F -map 0:a:0 -f null -` (FFmpeg's decode alone);
#   - the libsndfile loop feeding libebur128 (I + LRA, histogram mode):
#     what loudness cost when it came from that library (issue 16 §4);
#   - sox FILE -n stats (peak, RMS, DC: fewer features; sox reads no M4A
#     or WebM);
#   - ffmpeg -af ebur128 -f null - (loudness only, its own decoders);
# for WAV, FLAC, MP3, M4A (AAC) and WebM (Opus) of MINUTES (default 10)
# of stereo 44.1 kHz pink noise; then the peak RSS of each on a two-hour
# WAV. Every time is the best of three runs by CPU time (user + sys,
# children included: sandrun-decode's CPU counts for the analyzer), which
# a busy machine disturbs far less than wall-clock time; wall time is
# shown too. Ratios above 1 mean the analyzer is faster. Prints markdown
# tables. Needs sox, ffmpeg (with libopus), GNU time and a C compiler;
# `make programs` first (sandrun-decode beside sandrun-analyze).
set -eu
cd "$(dirname "$0")/.."
B=$(realpath "${1:-build}")
MIN=${2:-10}
A=$B/sandrun-analyze
[ -x "$A" ] || { echo "bench/analyzer.sh: build $A first (make)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/sandrun-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The floor: libsndfile decoding into the analyzer's block size, the
# samples touched once so the loop cannot be optimised away.
cat > "$work/floor.c" <<'EOF'
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(argv[1], SFM_READ, &info);
	if (!sf) { fprintf(stderr, "%s\n", sf_strerror(NULL)); return 65; }
	size_t block = 16384 / (size_t)info.channels;
	float *buf = malloc(sizeof(float) * 16384);
	double sink = 0;
	sf_count_t n, total = 0;
	while ((n = sf_readf_float(sf, buf, (sf_count_t)block)) > 0) {
		total += n;
		sink += buf[0];
	}
	printf("%lld %g\n", (long long)total, sink);
	sf_close(sf);
	return 0;
}
EOF
# The same loop feeding libebur128 as the analyzer does (I + LRA,
# histogram mode) and nothing else: the cost of the loudness the analyzer
# must take from that library, on top of decoding.
sed -e 's|#include <stdlib.h>|#include <stdlib.h>\n#include <ebur128.h>|' \
    -e 's|double sink = 0;|double sink = 0; ebur128_state *st = ebur128_init((unsigned)info.channels, (unsigned long)info.samplerate, EBUR128_MODE_I \| EBUR128_MODE_LRA \| EBUR128_MODE_HISTOGRAM);|' \
    -e 's|sink += buf\[0\];|ebur128_add_frames_float(st, buf, (size_t)n);|' \
    -e 's|printf("%lld %g\\n", (long long)total, sink);|ebur128_loudness_global(st, \&sink); printf("%lld %g\\n", (long long)total, sink);|' \
    "$work/floor.c" > "$work/ebur.c"
# shellcheck disable=SC2046
${CC:-cc} -O2 -o "$work/floor" "$work/floor.c" $(pkg-config --cflags --libs sndfile)
# shellcheck disable=SC2046
${CC:-cc} -O2 -o "$work/ebur" "$work/ebur.c" $(pkg-config --cflags --libs sndfile libebur128)

echo "generating $MIN minutes of pink noise as WAV, FLAC, MP3, M4A and WebM ..." >&2
secs=$((MIN * 60))
sox -q -n -r 44100 -c 2 -b 16 "$work/in.wav" synth "$secs" pinknoise vol 0.3
sox -q "$work/in.wav" "$work/in.flac"
sox -q "$work/in.wav" -C 192 "$work/in.mp3"
ffmpeg -nostdin -loglevel error -i "$work/in.wav" -c:a aac -b:a 192k "$work/in.m4a"
ffmpeg -nostdin -loglevel error -i "$work/in.wav" -c:a libopus -b:a 128k "$work/in.webm"

# best_of3 CMD... -> "cpu_s wall_s maxrss_kb" of the run with least CPU
best_of3() {
	local runs="" line
	for _ in 1 2 3; do
		line=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n 1)
		runs=$(printf '%s\n%s' "$runs" "$line")
	done
	printf '%s\n' "$runs" | awk 'NF == 4 { c = $2 + $3
		if (!seen || c < bc) { bc = c; bw = $1; bm = $4; seen = 1 } }
		END { printf "%.2f %.2f %d\n", bc, bw, bm }'
}
xrt() { awk -v s="$secs" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / t; else print "inf" }'; }
# ratio A B -> A / B to two places
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

host=$(uname -m)
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "### sandrun-analyze speed ($MIN min stereo 44.1 kHz pink noise; $cpu, $host, $(nproc) cores)"
echo
echo "CPU seconds (user + sys), best of 3, wall seconds in brackets; \"x RT\" is audio"
echo "seconds per CPU second; RSS is the analyzer's peak (MiB; with sandrun-decode for M4A"
echo "and WebM, the larger of the two). \"floor\" is the bare decode (libsndfile; FFmpeg for"
echo "M4A and WebM); \"/ floor\" is the analyzer's CPU time over it. The last three"
echo "columns are the other tool's CPU time over the analyzer's: above 1, the analyzer is faster."
echo "\"libebur128\" is the libsndfile loop feeding libebur128 alone (I + LRA)."
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| format | analyzer | x RT | RSS | floor | / floor | libebur128 | sox stats | ffmpeg ebur128 | libebur128 / analyzer | sox / analyzer | ffmpeg / analyzer |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for fmt in wav flac mp3 m4a webm; do
	f=$work/in.$fmt
	read -r ac aw am < <(best_of3 "$A" "$f")
	case $fmt in
	m4a | webm)
		read -r fc fw _ < <(best_of3 ffmpeg -nostdin -nostats -hide_banner -i "$f" -map 0:a:0 -f null -)
		lcell=-; lc=0; scell=-; sc=0 ;;
	*)
		read -r fc fw _ < <(best_of3 "$work/floor" "$f")
		read -r lc lw _ < <(best_of3 "$work/ebur" "$f")
		read -r sc sw _ < <(best_of3 sox "$f" -n stats)
		lcell="$lc ($lw)"; scell="$sc ($sw)" ;;
	esac
	read -r ec ew _ < <(best_of3 ffmpeg -nostdin -nostats -hide_banner -i "$f" -af ebur128 -f null -)
	lr=$(ratio "$lc" "$ac"); sr=$(ratio "$sc" "$ac")
	[ "$lc" = 0 ] && lr=-
	[ "$sc" = 0 ] && sr=-
	echo "| $fmt ($(du -h "$f" | cut -f1)) | $ac ($aw) | $(xrt "$ac") | $(mib "$am") | $fc ($fw) | $(ratio "$ac" "$fc")x | $lcell | $scell | $ec ($ew) | $lr | $sr | $(ratio "$ec" "$ac") |"
done
rm -f "$work"/in.*

echo >&2
echo "generating a two-hour WAV ..." >&2
sox -q -n -r 44100 -c 2 -b 16 "$work/2h.wav" synth 7200 pinknoise vol 0.3
secs=7200
echo
echo "### Peak RSS on a two-hour file (stereo 44.1 kHz 16-bit WAV, $(du -h "$work/2h.wav" | cut -f1))"
echo
echo "| program | peak RSS | CPU s (wall) | x RT (CPU) |"
echo "|---|---|---|---|"
row() { # LABEL CMD...
	local label=$1 line
	shift
	line=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n 1)
	read -r w u s m <<<"$line"
	local c
	c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	echo "| $label | $(awk -v k="$m" 'BEGIN { printf "%.1f MiB", k / 1024 }') | $c ($w) | $(xrt "$c") |"
}
row "sandrun-analyze (fd 0)" sh -c "exec \"$A\" < \"$work/2h.wav\""
row "bare libsndfile decode" "$work/floor" "$work/2h.wav"
row "sox stats" sox "$work/2h.wav" -n stats
row "ffmpeg ebur128" ffmpeg -nostdin -nostats -hide_banner -i "$work/2h.wav" -af ebur128 -f null -
