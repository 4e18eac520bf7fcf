#!/bin/bash
# tests/suites/formats.sh BUILD_DIR — the formats only the FFmpeg fallback
# (sandrun-decode) reads, through the real sandrun in its sandbox; the error
# classes (not audio vs corrupt vs unsupported); sandrun-decode's own seccomp
# filter; malformed fallback input; a libFuzzer smoke run of the fallback.
# Every file is made here from one WAV with Debian's ffmpeg. Prints TAP.
# Runs as root inside tests/lib/outer-ns.sh (sandrun makes sandboxes).
set -u
B=$(realpath "${1:-build/test}")
A=$B/sandrun-analyze
D=$B/sandrun-decode
S=$B/sandrun
cd "$(dirname "$0")/../.."
ROOT=$PWD
work=$(mktemp -d /tmp/formats-suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

. "$ROOT/tests/lib/tap.sh"
q() { ffmpeg -nostdin -loglevel error -y "$@"; }

if [ ! -x "$A" ] || [ ! -x "$D" ] || [ ! -x "$S" ]; then
	echo "1..1"
	echo "not ok 1 - $A, $D or $S is not built"
	exit 1
fi

# ---- the corpus: one WAV, every format the fallback is for --------------
sox -q -n -r 48000 -c 2 -b 16 ref.wav synth 8 pinknoise vol 0.3
q -i ref.wav -c:a aac -b:a 192k phone.m4a
q -i ref.wav -c:a libopus -b:a 128k browser.webm
q -f lavfi -i testsrc=size=160x120:rate=10 -i ref.wav -shortest -c:v libx264 -c:a aac -b:a 192k video.mp4
q -f lavfi -i testsrc=size=160x120:rate=10 -i ref.wav -shortest -c:v libx264 -c:a aac -b:a 192k video.mov
q -i ref.wav -c:a alac lossless.m4a
q -i ref.wav -c:a alac lossless.caf
q -i ref.wav -c:a ac3 -b:a 384k dolby.ac3
q -i ref.wav -c:a wmav2 -b:a 192k windows.wma
q -i ref.wav -c:a libvorbis -q:a 6 matroska.mkv

# ---- every one through the real sandrun, in its sandbox ----------------
files="ref.wav phone.m4a browser.webm video.mp4 video.mov lossless.m4a lossless.caf dolby.ac3 windows.wma matroska.mkv"
# shellcheck disable=SC2086
"$S" --db f.db $files > run.txt 2>&1
"$S" export --db f.db --format json > results.json 2> export.txt
res() { jq -r --arg p "$work/$1" ".[] | select(.path == \$p) | $2" results.json; }
ref_lufs=$(res ref.wav .result.loudness.integrated_lufs)
ref_dur=$(res ref.wav .result.format.duration_s)
while read -r f container codec; do
	lufs=$(res "$f" .result.loudness.integrated_lufs)
	dur=$(res "$f" .result.format.duration_s)
	got="$(res "$f" .result.format.container)/$(res "$f" .result.format.codec)"
	if [ "$got" = "$container/$codec" ] && near "$lufs" "$ref_lufs" 0.5 &&
		near "$dur" "$ref_dur" "$(awk -v d="$ref_dur" 'BEGIN { print d / 100 }')"; then
		ok "sandrun: $f as $got, $lufs LUFS (WAV $ref_lufs +-0.5), $dur s (WAV $ref_dur +-1 %)"
	else
		not_ok "sandrun: $f: $got, $lufs LUFS (WAV $ref_lufs), $dur s (WAV $ref_dur)"
		"$S" show --db f.db "$work/$f" 2>&1 | sed 's/^/# /' | tail -n 8
	fi
done <<'EOF_LIST'
phone.m4a mp4 aac
browser.webm matroska opus
video.mp4 mp4 aac
video.mov mp4 aac
lossless.m4a mp4 alac
lossless.caf caf alac
dolby.ac3 ac3 ac3
windows.wma asf wmav2
matroska.mkv matroska vorbis
EOF_LIST
check "lossless ALAC (M4A, CAF) measures exactly as the WAV" \
	test "$(res lossless.m4a .result.loudness.integrated_lufs)" = "$ref_lufs" -a \
	"$(res lossless.caf .result.loudness.integrated_lufs)" = "$ref_lufs"

# ---- a pipe: the fallback gets what the analyzer already read -----------
for f in browser.webm dolby.ac3 matroska.mkv; do
	a=$("$A" < "$f" 2>/dev/null | jq -r .loudness.integrated_lufs)
	b=$(cat "$f" | "$A" 2>/dev/null | jq -r .loudness.integrated_lufs)
	check "a pipe gives the file's loudness: $f ($a, $b)" test -n "$a" -a "$a" = "$b"
done

# ---- not audio, corrupt, unsupported: distinct classes ------------------
q -f lavfi -i color=red:size=16x16 -frames:v 1 image.png
printf 'just some notes\nnot a recording\n' > notes.txt
sox -q ref.wav ref.flac
# Garbage after the header, the same bytes every run: random ones now and
# then hold a frame sync code and decode as 0 frames instead of "corrupt".
garbage() { /usr/bin/python3 -c "import random, sys; random.seed($2); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range($1)))"; }
{ head -c 42 ref.flac; garbage 20000 1; } > damaged.flac
q -f lavfi -i testsrc=size=160x120:rate=10 -t 2 -c:v libx264 silent.mp4
head -c 30000 phone.m4a > cut.m4a
printf 'wvpk\x20\x00\x00\x00' > pack.wv; garbage 3000 2 >> pack.wv
while read -r f code words; do
	out=$("$A" < "$f" 2>/dev/null)
	rc=$?
	got=$(jq -r .code <<<"$out")
	err=$(jq -r .error <<<"$out")
	if [ "$rc" = 65 ] && [ "$got" = "$code" ] && [[ "$err" == "$words"* ]]; then
		ok "bad input class: $f is $code ($err)"
	else
		not_ok "bad input class: $f: exit $rc, $out (want $code, \"$words...\")"
	fi
done <<'EOF_LIST'
image.png not_media not an audio or video file (PNG image)
notes.txt not_media not an audio or video file (text)
damaged.flac corrupt corrupt FLAC:
cut.m4a corrupt corrupt MP4/QuickTime:
silent.mp4 no_audio no audio stream
pack.wv unsupported unsupported format: WavPack
EOF_LIST
"$S" --db bad.db image.png damaged.flac > bad.txt 2>&1
png_err=$("$S" show --db bad.db "$work/image.png" 2>&1 | sed -n 's/^  error: //p' | head -n 1)
flac_err=$("$S" show --db bad.db "$work/damaged.flac" 2>&1 | sed -n 's/^  error: //p' | head -n 1)
check "sandrun stores the class in words: \"$png_err\" / \"$flac_err\"" \
	test "$png_err" = "not an audio or video file (PNG image)" -a "${flac_err#corrupt FLAC: }" != "$flac_err"

# ---- an MP3 with 20 KB of garbage in the middle (issue 16) --------------
# mpg123 inside libsndfile gives up after 1 KiB of it (1.33 s of 4 s); the
# fallback decodes on. Reference: ffmpeg's own decode of the same file.
q -f lavfi -i "sine=f=440:d=4" -ac 2 -ar 44100 -b:a 128k clean.mp3
python3 -c '
import random, sys
d = open("clean.mp3", "rb").read(); m = len(d) // 3; random.seed(1)
open("garbage.mp3", "wb").write(d[:m] + bytes(random.getrandbits(8) for _ in range(20000)) + d[m:])'
ff_frames=$(( $(ffmpeg -nostdin -loglevel quiet -i garbage.mp3 -f s16le -ac 2 - | wc -c) / 4 ))
"$S" --db mp3.db clean.mp3 garbage.mp3 > mp3.txt 2>&1
mp3_rc=$?
"$S" export --db mp3.db --format json > mp3.json 2>/dev/null
mres() { jq -r --arg p "$work/$1" ".[] | select(.path == \$p) | $2" mp3.json; }
g_frames=$(mres garbage.mp3 .result.format.frames)
check "MP3 with 20 KB of garbage: $g_frames frames through sandrun, ffmpeg decodes $ff_frames (+-1 %)" \
	near "$g_frames" "$ff_frames" "$((ff_frames / 100))"
damaged_list=$("$S" list --db mp3.db --outcome damaged 2>&1)
check "... damaged, stopped_early, recovered_by ffmpeg; outcome damaged, the clean one ok; exit $mp3_rc (5)" \
	test "$(mres garbage.mp3 '[.result.damage.damaged, .result.damage.stopped_early, .result.damage.recovered_by] | @tsv')" = "$(printf 'true\ttrue\tffmpeg')" \
	-a "$(mres clean.mp3 .result.damage.damaged)" = false -a "$mp3_rc" = 5 \
	-a "${damaged_list/garbage.mp3/}" != "$damaged_list" -a "${damaged_list/clean.mp3/}" = "$damaged_list"

# ---- the lean path: WAV and FLAC never fork or load FFmpeg --------------
if command -v strace >/dev/null 2>&1; then
	strace -f -qq -e trace=clone,clone3,fork,vfork,execve -o wav.trace "$A" < ref.wav >/dev/null 2>&1
	strace -f -qq -e trace=clone,clone3,fork,vfork,execve -o m4a.trace "$A" < phone.m4a >/dev/null 2>&1
	check "a WAV is analyzed without a fork or a second program ($(grep -c . wav.trace) calls)" \
		test "$(grep -cE '^[0-9]+ +(clone|fork|vfork|execve)' wav.trace)" = 1
	check "an M4A: one fork, one exec of sandrun-decode" \
		test "$(grep -c 'clone(' m4a.trace)" = 1 -a "$(grep -c 'execve(".*sandrun-decode"' m4a.trace)" = 1
	strace -f -qq -e trace=clone,clone3,fork,vfork,execve -o mp3.trace "$A" < clean.mp3 >/dev/null 2>&1
	check "a whole MP3: the spare is forked, but sandrun-decode is never run" \
		test "$(grep -c 'clone(' mp3.trace)" = 1 -a "$(grep -c 'execve(".*sandrun-decode"' mp3.trace)" = 0
else
	ok "lean path: strace not installed # SKIP"
	ok "one fork for M4A: strace not installed # SKIP"
	ok "no decoder for a whole MP3: strace not installed # SKIP"
fi

# ---- sandrun-decode's own filter ----------------------------------------
for call in openat socket execve fork; do # each must die of SIGSYS
	( "$D" --test-forbidden "$call" > forbid.txt 2>&1 )
	rc=$?
	check "sandrun-decode's filter kills $call (exit $rc, SIGSYS is 159)" test "$rc" = 159
done
"$D" < phone.m4a > pcm.bin 2>/dev/null
check "sandrun-decode decodes under its own filter ($(stat -c %s pcm.bin) bytes of records)" \
	test "$?" = 0 -a "$(stat -c %s pcm.bin)" -gt 1000000

# ---- malformed fallback input: a report or bad_input, never a hang -------
bad=""
for f in phone.m4a browser.webm video.mp4 lossless.caf dolby.ac3 windows.wma matroska.mkv; do
	size=$(stat -c %s "$f")
	for pct in 5 50 90; do
		head -c $((size * pct / 100)) "$f" > "cut-$pct-$f"
		timeout -s KILL 20 "$A" < "cut-$pct-$f" > out.json 2>/dev/null
		rc=$?
		if { [ "$rc" = 0 ] && jq -e '.schema == 1' out.json >/dev/null 2>&1; } ||
			{ [ "$rc" = 65 ] && jq -e '.error and .code' out.json >/dev/null 2>&1; }; then
			:
		else
			bad="$bad $pct%$f:$rc"
		fi
	done
	# bytes flipped in the middle
	cp "$f" "flip-$f"
	printf '\x00\xff\x00\xff\x00\xff\x00\xff' | dd of="flip-$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	timeout -s KILL 20 "$A" < "flip-$f" > out.json 2>/dev/null
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 65 ] || bad="$bad flip-$f:$rc"
done
check "21 cut and 7 damaged fallback files: a report or bad_input with a class${bad:+; failures:$bad}" test -z "$bad"

# ---- fuzzing the fallback (libFuzzer, ~20 s) -----------------------------
if command -v "${CLANG:-clang-14}" >/dev/null 2>&1 && "$ROOT/tests/analyzer/build-fuzz.sh" "$B/fuzz" > fuzz-build.txt 2>&1; then
	"$ROOT/tests/analyzer/make-corpus.sh" seeds fallback >/dev/null 2>&1
	mkdir -p corpus crashes
	"$B/fuzz/fuzz-decode" -max_total_time=20 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$work/crashes/" -close_fd_mask=2 -print_final_stats=1 \
		corpus seeds > fuzz.txt 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units/ { print $2 }' fuzz.txt)
	if [ "$rc" = 0 ]; then
		ok "libFuzzer smoke run of the fallback: ${runs:-?} inputs in 20 s, no crash"
	else
		not_ok "libFuzzer smoke run of the fallback: exit $rc"
		grep -aE 'ERROR|SUMMARY|#0 |#1 |#2 |#3 |fuzz_decode' fuzz.txt | head -n 30 | sed 's/^/# /'
	fi
else
	not_ok "libFuzzer targets build (tests/analyzer/build-fuzz.sh)"
	sed 's/^/# /' fuzz-build.txt | head -n 20
fi

echo "1..$n"
[ "$failed" -eq 0 ]
