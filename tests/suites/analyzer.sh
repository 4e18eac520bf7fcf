#!/bin/bash
# tests/suites/analyzer.sh BUILD_DIR — sandrun-analyze as a program: agreement
# with sox, every format from a descriptor, the same numbers from a path,
# a pipe and fd 0, malformed input (never a hang), exit codes, constant
# memory, the syscall list, the seccomp guard at work, and a short libFuzzer
# run. Prints TAP. The EBU conformance cases are unit tests
# (tests/unit/test_analyzer_ebu.c); case 1 is repeated here end to end.
set -u
B=$(realpath "${1:-build/test}")
A=$B/sandrun-analyze
cd "$(dirname "$0")/../.."
ROOT=$PWD
work=$(mktemp -d /tmp/analyzer-suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

. "$ROOT/tests/lib/tap.sh"
# jqv FILE EXPR : one value from a report
jqv() { jq -r "$2" "$1"; }
quiet() { "$@" >/dev/null 2>&1; }

if [ ! -x "$A" ]; then
	echo "1..1"
	echo "not ok 1 - $A is not built"
	exit 1
fi

# ---- agreement with sox stats --------------------------------------------
# sox prints dB with two decimals and DC with six: 0.05 dB and 1e-4 hold.
# column: 1 = Overall (or the only one for mono), 2.. = channel 1..
sox_stat() { # FILE ROW COLUMN
	sox "$1" -n stats 2>&1 | awk -v row="$2" -v col="$3" '
		index($0, row) == 1 { sub(row, ""); split($0, v, " "); print v[col]; exit }'
}
compare_with_sox() { # FILE CHANNELS
	local f=$1 ch=$2 out="$1.json" bad=""
	"$A" < "$f" > "$out" 2>/dev/null || { not_ok "sox agreement: $f: analyzer failed"; return; }
	local c col jpath
	for c in $(seq 0 "$ch"); do
		if [ "$c" -eq 0 ]; then col=1 jpath=".levels"; else col=$((c + 1)) jpath=".channels[$((c - 1))]"; fi
		[ "$ch" -eq 1 ] && [ "$c" -eq 1 ] && break
		near "$(jqv "$out" "$jpath.sample_peak_dbfs")" "$(sox_stat "$f" "Pk lev dB" $col)" 0.05 ||
			bad="$bad peak[$c]"
		near "$(jqv "$out" "$jpath.rms_dbfs")" "$(sox_stat "$f" "RMS lev dB" $col)" 0.05 ||
			bad="$bad rms[$c]"
		near "$(jqv "$out" "$jpath.dc_offset")" "$(sox_stat "$f" "DC offset" $col)" 0.0001 ||
			bad="$bad dc[$c]"
	done
	if [ -z "$bad" ]; then ok "sox agreement: $f (peak, RMS, DC per channel and overall)"
	else not_ok "sox agreement: $f:$bad"; sox "$f" -n stats 2>&1 | sed 's/^/# /'; jq -c '[.levels, .channels]' "$out" | sed 's/^/# /'; fi
}
sox -q -n -r 48000 -c 2 -b 16 tone16.wav synth 3 sine 1000 sine 440 vol 0.5 dcshift 0.01
sox -q -n -r 44100 -c 1 -b 24 pink24.wav synth 3 pinknoise vol 0.3 dcshift -0.02
sox -q -n -r 48000 -c 2 -e floating-point -b 32 white32f.wav synth 3 whitenoise vol 0.2
sox -q -n -r 44100 -c 2 -b 16 brown.flac synth 3 brownnoise vol 0.5 dcshift 0.03
sox -q -n -r 22050 -c 1 -b 16 square.wav synth 3 square 100 vol 0.9
sox -q -n -r 48000 -c 1 -b 16 dca.wav synth 3 sine 300 vol 0.3 dcshift 0.05
sox -q -n -r 48000 -c 1 -b 16 dcb.wav synth 3 sine 700 vol 0.5 dcshift -0.01
sox -q -M dca.wav dcb.wav dcmix.wav
compare_with_sox tone16.wav 2
compare_with_sox pink24.wav 1
compare_with_sox white32f.wav 2
compare_with_sox brown.flac 2
compare_with_sox square.wav 1
compare_with_sox dcmix.wav 2

# ---- frames and duration -------------------------------------------------
for f in tone16.wav pink24.wav brown.flac; do
	want=$(soxi -s "$f")
	got=$(jqv "$f.json" .format.frames)
	rate=$(jqv "$f.json" .format.sample_rate)
	dur=$(jqv "$f.json" .format.duration_s)
	if [ "$got" = "$want" ] && near "$dur" "$(awk -v f="$got" -v r="$rate" 'BEGIN { printf "%.12f", f / r }')" 1e-9; then
		ok "frames and duration exact: $f ($got frames)"
	else
		not_ok "frames and duration exact: $f: $got frames, sox says $want"
	fi
done
sox -q tone16.wav -C 128 tone16.mp3
quiet ffmpeg -nostdin -y -i tone16.wav -c:a libopus tone16.opus
for f in tone16.mp3 tone16.opus; do
	dur=$("$A" < "$f" 2>/dev/null | jq -r .format.duration_s)
	# 3 s of input; encoders add their delay and padding, tens of ms
	check "duration plausible: $f ($dur s)" near "$dur" 3.0 0.1
done

# ---- EBU Tech 3341 case 1, end to end through a file ---------------------
sox -q -n -r 48000 -c 2 -b 24 ebu1.wav synth 20 sine 1000 vol -23dB
lufs=$("$A" ebu1.wav 2>/dev/null | jq -r .loudness.integrated_lufs)
check "EBU 3341 case 1 from a 24-bit WAV: $lufs LUFS (-23 +-0.1)" near "$lufs" -23 0.1

# ---- loudness range at the 2016 rate (Tech 3342 v4) ------------------------
# Speech-like material with pauses (tests/analyzer/speechlike.py), measured
# against tests/analyzer/r128ref.py: numpy straight from BS.1770-4 and
# Tech 3342, every short-term value kept, no histogram. Tolerances: the
# analyzer reads each LRA percentile as the mean of a 0.1 LU bin (at most
# 0.05 off, in practice 0.01) and takes the nearest rank where numpy
# interpolates between ranks (hundredths at 500+ values): 0.1 LU. For the
# integrated loudness only the blocks in the one 0.1 LU bin holding the
# relative gate are gated together: 0.05 LU. Seeds 3, 4 and 6 are ones
# where the 2011 rate (one short-term value per second, libebur128's LRA
# mode) read 0.85, 0.44 and 0.88 LU below the reference. ffmpeg's meter
# (one decimal) is printed for comparison.
for seed in 3 4 6; do
	/usr/bin/python3 "$ROOT/tests/analyzer/speechlike.py" "speech$seed.wav" 60 "$seed"
	read -r ref_i ref_lra < <(/usr/bin/python3 "$ROOT/tests/analyzer/r128ref.py" "speech$seed.wav")
	"$A" "speech$seed.wav" > "speech$seed.json" 2>/dev/null
	got_i=$(jqv "speech$seed.json" .loudness.integrated_lufs)
	got_lra=$(jqv "speech$seed.json" .loudness.range_lu)
	ff=$(ffmpeg -nostdin -nostats -hide_banner -i "speech$seed.wav" -af ebur128 -f null - 2>&1 |
		awk '$1 == "I:" || $1 == "LRA:" { printf "%s %s ", $1, $2 }')
	if near "$got_lra" "$ref_lra" 0.1 && near "$got_i" "$ref_i" 0.05; then
		ok "speech-like seed $seed: LRA $got_lra LU (numpy $ref_lra +-0.1), I $got_i LUFS (numpy $ref_i +-0.05); ffmpeg $ff"
	else
		not_ok "speech-like seed $seed: LRA $got_lra LU (numpy $ref_lra +-0.1), I $got_i LUFS (numpy $ref_i +-0.05); ffmpeg $ff"
	fi
done

# ---- beyond full scale: a float WAV at int16 scale -------------------------
# ebu1.wav's samples times 32767 as 32-bit float (a pipeline that forgot to
# divide): the loudness is 20*log10(32767) = 90.31 dB higher, with no
# ceiling (it read +29.95 before), and every sample beyond +-1.0 is counted;
# numpy counts them independently.
/usr/bin/python3 - ebu1.wav int16scale.wav <<'PY'
import sys
import soundfile as sf
x, rate = sf.read(sys.argv[1], dtype="float64")
y = (x * 32767.0).astype("float32")
sf.write(sys.argv[2], y, rate, subtype="FLOAT")
print(int((abs(y) > 1.0).sum()), file=open(sys.argv[2] + ".over", "w"))
PY
"$A" int16scale.wav > int16scale.json 2>/dev/null
got=$(jq -r .loudness.integrated_lufs int16scale.json)
want=$(awk -v l="$lufs" 'BEGIN { printf "%.4f", l + 20 * log(32767) / log(10) }')
over=$(jq -r '[.levels.over_full_scale, .levels.over_full_scale_samples] | join(" ")' int16scale.json)
if near "$got" "$want" 0.01 && [ "$over" = "true $(cat int16scale.wav.over)" ]; then
	ok "float WAV at int16 scale: $got LUFS (the WAV's + 90.31 = $want), over_full_scale $over"
else
	not_ok "float WAV at int16 scale: $got LUFS (want $want), over_full_scale $over (numpy $(cat int16scale.wav.over))"
fi

# ---- every format from fd 0, consistent loudness --------------------------
sox -q -n -r 44100 -c 2 -b 16 ref.wav synth 5 pinknoise vol 0.3
sox -q ref.wav -b 24 ref-wavex.wav # 24-bit stereo: sox writes WAVE_FORMAT_EXTENSIBLE
sox -q ref.wav ref.aiff
sox -q ref.wav ref.caf
sox -q ref.wav ref.w64
sox -q ref.wav ref.flac
sox -q ref.wav ref.ogg
sox -q ref.wav -C 192 ref.mp3
quiet ffmpeg -nostdin -y -i ref.wav -rf64 always ref-rf64.wav
quiet ffmpeg -nostdin -y -i ref.wav -c:a libopus -b:a 128k ref.opus
quiet ffmpeg -nostdin -y -i ref.wav -c:a mp2 -b:a 256k ref.mp2
"$A" < ref.wav > ref.wav.json 2>/dev/null
wav_lufs=$(jqv ref.wav.json .loudness.integrated_lufs)
# ffmpeg's own decoder and meter; it prints one decimal
ffmpeg_lufs() {
	ffmpeg -nostdin -nostats -hide_banner -i "$1" -af ebur128 -f null - 2>&1 |
		awk '/Integrated loudness/ { getline; print $2 }'
}
while read -r f container codec tol; do
	ref_lufs=$wav_lufs
	if [ "$tol" = ffmpeg ]; then
		# ffmpeg's MP2 encoder low-passes: measure the file itself
		ref_lufs=$(ffmpeg_lufs "$f")
		tol=0.15
	fi
	out=$("$A" < "$f" 2>/dev/null)
	rc=$?
	got_c=$(jq -r .format.container <<<"$out" 2>/dev/null)
	got_k=$(jq -r .format.codec <<<"$out" 2>/dev/null)
	lufs=$(jq -r .loudness.integrated_lufs <<<"$out" 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$got_c" = "$container" ] && [ "$got_k" = "$codec" ] && near "$lufs" "$ref_lufs" "$tol"; then
		ok "decodes from fd 0: $f as $container/$codec, $lufs LUFS (reference $ref_lufs, +-$tol)"
	else
		not_ok "decodes from fd 0: $f: rc=$rc $got_c/$got_k $lufs LUFS (reference $ref_lufs, +-$tol)"
	fi
done <<'EOF'
ref-wavex.wav wavex pcm_24 0.01
ref-rf64.wav rf64 pcm_16 0.001
ref.w64 w64 pcm_16 0.001
ref.aiff aiff pcm_16 0.001
ref.caf caf pcm_16 0.001
ref.flac flac pcm_16 0.001
ref.ogg ogg vorbis 0.5
ref.opus ogg opus 0.5
ref.mp2 mpeg mp2 ffmpeg
ref.mp3 mpeg mp3 0.5
EOF

# ---- 5.1 in each format's channel order ------------------------------------
# One 5.1 WAV (WAVE_FORMAT_EXTENSIBLE, mask FL FR FC LFE BL BR) of a sine per
# channel at its own level, the LFE loudest: weighted in the wrong order
# (WAV order on Vorbis order: the LFE as a surround at 1.41, BL dropped) the
# Ogg Vorbis read 1.42 LU and the Opus 0.62 LU above the WAV. Sines keep
# the lossy codecs' own error small (measured: Vorbis 0.05, Opus and AAC
# under 0.01 LU); 0.3 LU is the bound the issue set. FLAC: identical.
i=0
lavfi_in=()
map=
for spec in "440 2.4 FL" "550 2.4 FR" "660 0.8 FC" "50 4 LFE" "770 2 BL" "880 0.4 BR"; do
	set -- $spec
	lavfi_in+=(-f lavfi -i "sine=f=$1:d=10,volume=$2")
	map="${map:+$map|}$i.0-$3"
	i=$((i + 1))
done
quiet ffmpeg -nostdin -y "${lavfi_in[@]}" -filter_complex \
	"[0][1][2][3][4][5]join=inputs=6:channel_layout=5.1:map=$map[o]" -map "[o]" -c:a pcm_s16le s51.wav
for e in ogg opus flac m4a; do quiet ffmpeg -nostdin -y -i s51.wav "s51.$e"; done
s51_lufs=$("$A" s51.wav 2>/dev/null | jq -r .loudness.integrated_lufs)
while read -r f source tol; do
	out=$("$A" "$f" 2>/dev/null)
	lufs=$(jq -r .loudness.integrated_lufs <<<"$out")
	got_source=$(jq -r .format.channel_layout_source <<<"$out")
	layout=$(jq -r '.format.channel_layout | join(" ")' <<<"$out")
	if [ "$got_source" = "$source" ] && near "$lufs" "$s51_lufs" "$tol"; then
		ok "5.1 $f: $lufs LUFS (WAV $s51_lufs, +-$tol), layout $layout from $source"
	else
		not_ok "5.1 $f: $lufs LUFS (WAV $s51_lufs, +-$tol), layout $layout from $got_source (want $source)"
	fi
done <<'EOF'
s51.wav header 0
s51.ogg vorbis_order 0.3
s51.opus vorbis_order 0.3
s51.flac flac_order 0.000001
s51.m4a ffmpeg 0.3
EOF

# ---- the same numbers from a path, fd 0 and a pipe -------------------------
for f in tone16.wav brown.flac ref.mp3 ref.opus; do
	if cmp -s <("$A" "$f" 2>/dev/null) <("$A" < "$f" 2>/dev/null); then
		ok "standalone PATH and fd 0 give the same report: $f"
	else
		not_ok "standalone PATH and fd 0 give the same report: $f"
	fi
done
# longer than the 8 MiB a pipe is buffered with: read forward-only
sox -q -n -r 48000 -c 2 -b 16 long.wav synth 60 pinknoise vol 0.3
sox -q long.wav long.flac
sox -q long.wav -C 128 long.mp3
for f in long.wav long.flac long.mp3 ref.ogg; do
	strip='del(.format.frames_declared)'
	if cmp -s <("$A" < "$f" 2>/dev/null | jq -S "$strip") <(cat "$f" | "$A" 2>/dev/null | jq -S "$strip"); then
		ok "a pipe gives the file's report: $f ($(stat -c %s "$f") bytes)"
	else
		not_ok "a pipe gives the file's report: $f"
	fi
done

# ---- malformed input: bad_input (65) or a report, a contained crash at
# worst, never a hang -------------------------------------------------------
# run_malformed NAME FILE [damage]: with "damage", a report must say so
run_malformed() {
	local name=$1 f=$2 want=${3:-}
	timeout -s KILL 20 "$A" < "$f" > out.json 2> err.txt
	local rc=$?
	if [ "$rc" = 137 ]; then
		not_ok "malformed: $name: killed after 20 s (a hang)"
	elif [ "$rc" = 65 ] && jq -e '.error | type == "string" and length > 0' out.json >/dev/null 2>&1; then
		ok "malformed: $name: bad_input ($(jq -r .error out.json))"
	elif [ "$rc" = 0 ] && jq -e '.schema == 1' out.json >/dev/null 2>&1; then
		if [ "$want" = damage ] && ! jq -e '.damage.damaged' out.json >/dev/null; then
			not_ok "malformed: $name: report without damage"
		else
			ok "malformed: $name: report, damage $(jq -c '[.damage.truncated, .damage.decoder_log[0]]' out.json)"
		fi
	elif [ "$rc" -gt 128 ]; then
		ok "malformed: $name: contained crash, signal $((rc - 128))"
		diag "crash on $name: $(tail -c 300 err.txt)"
	else
		not_ok "malformed: $name: exit $rc, stdout $(head -c 200 out.json)"
	fi
}
for f in tone16.wav brown.flac ref.ogg ref.opus ref.mp3 ref.aiff ref.w64 ref-rf64.wav ref.caf; do
	size=$(stat -c %s "$f")
	for pct in 1 37 90; do
		head -c $((size * pct / 100)) "$f" > "cut-$pct-$f"
		case $f in
		*.mp3) run_malformed "$f cut at $pct %" "cut-$pct-$f" ;; # sox's CBR MP3 has no Xing/Info tag: no length to miss
		*) run_malformed "$f cut at $pct %" "cut-$pct-$f" damage ;;
		esac
	done
done
# ---- a cut MP3: its Xing/Info tag declares the length (analyzer/mpeg.c) ----
# ffmpeg (libmp3lame) CBR writes Info, VBR Xing, both with a LAME tag
# behind an ID3v2 tag; sox VBR writes Xing and LAME's own tag; ffmpeg with
# -write_xing 0 writes none: no claim. MPEG-2 (22.05 kHz) and mono too.
sox -q -n -r 44100 -c 2 -b 16 mp3src.wav synth 6 pinknoise vol 0.3
sox -q mp3src.wav -r 22050 mp3src22.wav
sox -q mp3src.wav -c 1 mp3src1.wav
quiet ffmpeg -nostdin -y -i mp3src.wav -c:a libmp3lame -b:a 128k mp3-cbr.mp3
quiet ffmpeg -nostdin -y -i mp3src.wav -c:a libmp3lame -q:a 2 mp3-vbr.mp3
quiet ffmpeg -nostdin -y -i mp3src22.wav -c:a libmp3lame -b:a 64k mp3-mpeg2.mp3
quiet ffmpeg -nostdin -y -i mp3src1.wav -c:a libmp3lame -q:a 4 mp3-mono.mp3
sox -q mp3src.wav -C -4.2 mp3-soxvbr.mp3
quiet ffmpeg -nostdin -y -i mp3src.wav -c:a libmp3lame -b:a 128k -write_xing 0 mp3-notag.mp3
for f in mp3-cbr.mp3 mp3-vbr.mp3 mp3-mpeg2.mp3 mp3-mono.mp3 mp3-soxvbr.mp3; do
	"$A" < "$f" > whole.json 2>/dev/null
	frames=$(jqv whole.json .format.frames)
	jq -e '.format.frames_declared == .format.frames and .damage.damaged == false' whole.json >/dev/null &&
		ok "mp3: whole $f: frames_declared $(jqv whole.json .format.frames_declared) = frames, not damaged" ||
		not_ok "mp3: whole $f: $(jq -c '[.format.frames, .format.frames_declared, .damage]' whole.json)"
	size=$(stat -c %s "$f")
	for cut in $((size * 60 / 100)) $((size - 300)); do
		head -c "$cut" "$f" > cut.mp3
		"$A" < cut.mp3 > cut.json 2>/dev/null
		jq -e --argjson fr "$frames" '.damage.damaged and .damage.truncated and
			.format.frames_declared == $fr and .damage.frames_missing == $fr - .format.frames and
			.damage.frames_missing > 0 and (.damage.decoder_log | map(test("tag: [0-9]+ bytes")) | any)' \
			cut.json >/dev/null &&
			ok "mp3: $f cut to $cut of $size bytes: truncated, $(jqv cut.json .damage.frames_missing) of $frames frames missing" ||
			not_ok "mp3: $f cut to $cut of $size bytes: $(jq -c '[.format.frames, .format.frames_declared, .damage]' cut.json)"
	done
done
size=$(stat -c %s mp3-notag.mp3)
head -c $((size * 60 / 100)) mp3-notag.mp3 > cut.mp3
"$A" < mp3-notag.mp3 > whole.json 2>/dev/null
"$A" < cut.mp3 > cut.json 2>/dev/null
jq -e '.format.frames_declared == null and .damage.damaged == false' whole.json >/dev/null &&
	jq -e '.format.frames_declared == null and .damage.frames_missing == 0' cut.json >/dev/null &&
	ok "mp3: without a Xing/Info tag no length is claimed, whole or cut" ||
	not_ok "mp3: without a tag: $(jq -c '[.format, .damage]' whole.json cut.json)"

# headers that lie: a canonical 44-byte WAV header with one field changed
wav() { # CHANNELS RATE BITS DATA_BYTES ACTUAL_DATA_BYTES
	perl -e 'my ($c, $r, $b, $d, $a) = @ARGV;
		print "RIFF", pack("V", 36 + $d), "WAVEfmt ", pack("VvvVVvv", 16, 1, $c, $r,
			($r * $c * $b / 8) % 2**32, ($c * $b / 8) % 65536, $b),
			"data", pack("V", $d);
		srand(7); print map { chr(int(rand(256))) } 1 .. $a' "$@"
}
wav 0 48000 16 4000 4000 > zero-channels.wav
wav 2 0 16 4000 4000 > zero-rate.wav
wav 2 4294967295 16 4000 4000 > huge-rate.wav
wav 65535 48000 16 4000 4000 > huge-channels.wav
wav 1024 2822400 16 65536 65536 > many-channels-high-rate.wav
wav 2 48000 16 4294967295 4000 > data-longer-than-file.wav
wav 2 48000 0 4000 4000 > zero-bits.wav
wav 2 48000 16 0 4000 > zero-data.wav
for f in zero-channels zero-rate huge-rate huge-channels many-channels-high-rate \
	data-longer-than-file zero-bits zero-data; do
	run_malformed "header lies: $f" "$f.wav"
done
# random bytes behind a valid magic number
i=0
for magic in 'RIFF\x24\x10\x00\x00WAVEfmt ' 'fLaC' 'OggS' 'ID3\x03\x00\x00\x00\x00\x10\x00' \
	'FORM\x00\x00\x10\x00AIFF' 'caff\x00\x01\x00\x00' '\xff\xfb\x90\x64' 'RF64\xff\xff\xff\xffWAVE'; do
	i=$((i + 1))
	{ printf "$magic"; head -c 20000 /dev/urandom; } > "magic-$i.bin"
	run_malformed "random bytes behind magic $(printf '%s' "$magic" | head -c 12)" "magic-$i.bin"
done
: > empty.bin
run_malformed "a zero-length file" empty.bin
mkdir -p adir
timeout -s KILL 20 "$A" < adir > out.json 2>/dev/null
rc=$?
check "a directory as fd 0: bad_input ($(jq -c . out.json))" \
	test "$rc" = 65 -a "$(jq -r .io_error out.json)" = "Is a directory"
timeout -s KILL 20 "$A" adir > out.json 2>/dev/null
check "a directory as PATH: bad_input" test "$?" = 65

# ---- exit codes ----------------------------------------------------------
"$A" --bogus >/dev/null 2>&1
check "unknown option: exit 2" test $? = 2
"$A" tone16.wav brown.flac >/dev/null 2>&1
check "two paths: exit 2" test $? = 2
"$A" /nonexistent/file.wav >/dev/null 2>&1
check "a path that cannot be opened: exit 2" test $? = 2
"$A" --help >/dev/null 2>&1
check "--help: exit 0" test $? = 0
out=$("$A" < tone16.wav 2>/dev/null)
check "a report is exactly one line of JSON" test "$(printf '%s\n' "$out" | wc -l)" = 1 -a "$(jq -c . <<<"$out" | wc -l)" = 1

# ---- memory does not grow with the file's length -----------------------
# a plain sine without dither: FLAC keeps 5 minutes of it small
sox -q -D -n -r 44100 -c 2 -b 16 mem-short.flac synth 10 sine 440 vol 0.5
sox -q -D -n -r 44100 -c 2 -b 16 mem-long.flac synth 300 sine 440 vol 0.5
rss_kb() { /usr/bin/time -f %M "$A" < "$1" 2>&1 >/dev/null | tail -n 1; }
short_kb=$(rss_kb mem-short.flac)
long_kb=$(rss_kb mem-long.flac)
check "peak RSS is flat: 10 s ${short_kb} KiB, 5 min ${long_kb} KiB" \
	test "$long_kb" -le $((short_kb + 1024))

# ---- the syscall list (docs/analyzer.md, tests/analyzer/syscalls.txt) -----
if command -v strace >/dev/null 2>&1; then
	allowed=$(grep -v '^#' "$ROOT/tests/analyzer/syscalls.txt" | sort -u)
	: > seen.txt
	for f in tone16.wav ref-wavex.wav ref.flac ref.ogg ref.opus ref.mp3 ref.mp2 magic-3.bin empty.bin; do
		strace -f -qq -o trace.txt "$A" < "$f" >/dev/null 2>&1
		sed -E 's/^[0-9]+ +//' trace.txt | grep -oE '^[a-z0-9_]+\(' | tr -d '(' >> seen.txt
		strace -f -qq -o trace.txt "$A" "$f" >/dev/null 2>&1
		sed -E 's/^[0-9]+ +//' trace.txt | grep -oE '^[a-z0-9_]+\(' | tr -d '(' >> seen.txt
	done
	extra=$(sort -u seen.txt | comm -23 - <(echo "$allowed"))
	check "no syscall outside tests/analyzer/syscalls.txt${extra:+: $extra}" test -z "$extra"
	# the guard: once the filter is loaded, every open is refused
	strace -qq -o trace.txt -e trace=seccomp,openat "$A" < ref.mp3 >/dev/null 2>&1
	after=$(sed -n '/SECCOMP_SET_MODE_FILTER, 0,/,$p' trace.txt | grep openat)
	if [ -n "$after" ] && ! grep -qv 'EACCES' <<<"$after"; then
		ok "after the guard is loaded every open fails with EACCES ($(wc -l <<<"$after") tried)"
	else
		not_ok "after the guard is loaded every open fails with EACCES"
		sed 's/^/# /' trace.txt
	fi
else
	skip "syscall list: strace not installed"
	skip "guard refuses opens: strace not installed"
fi

# ---- issue 16's ingestion fields, from sandrun in its sandbox -------------
# One file whose answers are known: 1 s of silence, 3 s of a 1 kHz tone at
# -20 dBFS, 1 s of silence, 3 s of the tone, 1 s of silence; and the same
# samples as FLAC. Through the real sandrun, not only the bare analyzer.
S=$B/sandrun
sox -q -n -r 48000 -c 2 -b 16 quiet1.wav trim 0 1
sox -q -n -r 48000 -c 2 -b 16 tone3.wav synth 3 sine 1000 vol 0.1
sox -q quiet1.wav tone3.wav quiet1.wav tone3.wav quiet1.wav ingest.wav
sox -q ingest.wav ingest.flac
# stereo: L pink noise, R = 0.5 L + white noise; and R = -L with L dead
sox -q -n -r 48000 -c 1 -b 16 n1.wav synth 2 pinknoise vol 0.4
sox -q -n -r 48000 -c 1 -b 16 n2.wav synth 2 whitenoise vol 0.3
sox -q -m -v 0.5 n1.wav -v 1 n2.wav right.wav
sox -q -M n1.wav right.wav corr.wav
sox -q corr.wav inv.wav remix 1 1v-1
sox -q corr.wav dead.wav remix 0 2
if "$S" --db ingest.db ingest.wav ingest.flac corr.wav inv.wav dead.wav > ingest-run.txt 2>&1 &&
	"$S" export --db ingest.db --format json > ingest.json 2>/dev/null; then
	ing() { jq -r --arg p "$work/$1" ".[] | select(.path == \$p) | .result | $2" ingest.json; }
	want=$(sha256sum ingest.wav | cut -d' ' -f1)
	pcm=$(sox ingest.wav -t s16 -L - | sha256sum | cut -d' ' -f1)
	check "sandrun: identity.input_sha256 is sha256sum of the file ($want)" \
		test "$(ing ingest.wav .identity.input_sha256)" = "$want"
	check "sandrun: identity.audio_sha256 is the same for WAV and FLAC, sha256sum of sox's s16le" \
		test "$(ing ingest.wav .identity.audio_sha256)" = "$pcm" -a "$(ing ingest.flac .identity.audio_sha256)" = "$pcm"
	sil=$(ing ingest.wav '[.silence.leading_s, .silence.trailing_s, (.silence.segments[] | .start_s, .end_s)] | map(tostring) | join(" ")')
	ffm=$(ffmpeg -nostdin -i ingest.wav -af ebur128 -f null - 2>&1 | awk '/ M:/ {
		for (i = 1; i <= NF; i++) { if ($i == "M:") m = $(i + 1); if ($i == "S:") s = $(i + 1) }
		if (mm == "" || m > mm) mm = m; if (ss == "" || s > ss) ss = s } END { print mm, ss }')
	m=$(ing ingest.wav .loudness.momentary_max_lufs) s=$(ing ingest.wav .loudness.short_term_max_lufs)
	plr=$(ing ingest.wav '.levels.true_peak_dbtp - .loudness.integrated_lufs - .loudness.plr_lu')
	if near "$m" "${ffm% *}" 0.06 && near "$s" "${ffm#* }" 0.06 && near "$plr" 0 1e-6; then
		ok "sandrun: loudness momentary/short-term max $m/$s LUFS (ffmpeg ebur128: $ffm), plr_lu = true peak - integrated"
	else
		not_ok "sandrun: loudness momentary/short-term max $m/$s LUFS (ffmpeg ebur128: $ffm), plr check $plr"
	fi
	ref=$(sox corr.wav -t dat - | awk '!/^;/ { lr += $2 * $3; ll += $2 * $2; rr += $3 * $3 }
		END { printf "%.6f", lr / sqrt(ll * rr) }')
	got=$(ing corr.wav .stereo.correlation)
	st=$(ing inv.wav '[.stereo.inverted_polarity, .stereo.dual_mono] | map(tostring) | join(" ")')/$(ing dead.wav .stereo.dead_channel)
	if near "$got" "$ref" 1e-4 && [ "$st" = "true false/0" ]; then
		ok "sandrun: stereo correlation $got (awk over sox's samples: $ref), inverted and dead channel found"
	else
		not_ok "sandrun: stereo correlation $got (awk: $ref), inverted/dual/dead: $st"
	fi
	check "sandrun: silence leading/trailing 1 s, segments 0-1, 4-5, 8-9 s (got: $sil)" test "$sil" = "1 1 0 1 4 5 8 9"
else
	not_ok "sandrun analyzes ingest.wav and ingest.flac"
	sed 's/^/# /' ingest-run.txt | tail -n 8
fi
# Transcode signs: 16-bit stereo noise padded to 24 bits, the same as a
# 128 kb/s MP3 (lame's lowpass is near 17 kHz), and resampled to 96 kHz.
sox -q -n -r 44100 -c 2 -b 16 wn.wav synth 5 whitenoise vol 0.5
sox -q wn.wav -b 24 padded.wav
sox -q wn.wav -C 128 lossy.mp3
sox -q wn.wav -r 96000 -b 24 up96.wav
# steep lowpasses (sox sinc: -6 dB at F, 100 Hz transition, 120 dB stop)
for F in 16000 17000 19000; do sox -q wn.wav "lp$F.wav" sinc -a 120 -t 100 -$F; done
# AAC 96 kb/s (ffmpeg's encoder): its lowpass is near 16 kHz (a 32768-point
# Blackman-Harris reading of the decoded file: 16.1 kHz)
quiet ffmpeg -nostdin -y -i wn.wav -c:a aac -b:a 96k aac96.m4a
if "$S" --db tc.db padded.wav lossy.mp3 up96.wav lp16000.wav lp17000.wav lp19000.wav aac96.m4a > tc-run.txt 2>&1 &&
	"$S" export --db tc.db --format json > tc.json 2>/dev/null; then
	tcv() { jq -r --arg p "$work/$1" ".[] | select(.path == \$p) | .result.transcode | $2" tc.json; }
	got="$(tcv padded.wav '"\(.container_bits)/\(.effective_bits)/\(.padded_bits)"') $(tcv lossy.mp3 '"\(.band_limited)/\(.cutoff_hz | floor)"') $(tcv up96.wav '"\(.upsampled)/\(.upsampled_from_hz)"')"
	cut=$(tcv lossy.mp3 .cutoff_hz)
	if [ "${got%% *}" = "24/16/true" ] && [ "${got##* }" = "true/44100" ] &&
		tcv lossy.mp3 .band_limited | grep -qx true && near "$cut" 17000 1500; then
		ok "sandrun: transcode: padded 24-bit, MP3 lowpass, 96 kHz upsampled ($got)"
	else
		not_ok "sandrun: transcode: $got"
	fi
	# within 2 bins (2 x 44100/2048 Hz) of the lowpass (plain Hann read 13-14 high)
	for F in 16000 17000 19000; do
		cut=$(tcv "lp$F.wav" .cutoff_hz)
		near "$cut" "$F" 43.1 &&
			ok "sandrun: transcode: sox sinc lowpass at $F Hz reads $cut Hz (within 2 bins)" ||
			not_ok "sandrun: transcode: sox sinc lowpass at $F Hz reads $cut Hz"
	done
	# the file's ends (the encoder's start, the noise stopping inside the
	# last frame) once read 19.7 kHz here
	cut=$(tcv aac96.m4a .cutoff_hz)
	near "$cut" 16000 600 &&
		ok "sandrun: transcode: AAC 96 kb/s reads $cut Hz (its lowpass near 16 kHz)" ||
		not_ok "sandrun: transcode: AAC 96 kb/s reads $cut Hz, not near 16 kHz"
else
	not_ok "sandrun analyzes padded.wav lossy.mp3 up96.wav lp*.wav"
	sed 's/^/# /' tc-run.txt | tail -n 8
fi
# The spectral summary, asked for: against tests/analyzer/librosa_ref.py,
# a numpy transcription of librosa 0.10's feature code (librosa itself is
# not in Debian), on a 16-bit file: 6 s of a plucked chord, 6 s of noise.
# Key and tempo: i-iv-V-i in A minor (sine chords over the root), 0.5 s
# a chord, 8 s.
sox -q -n -r 44100 -c 2 -b 16 chords.wav synth 6 pluck C4 pluck E4 pluck G4 remix 1,2,3 1,2,3 : \
	synth 6 whitenoise vol 0.05 2>/dev/null
/usr/bin/python3 - <<'EOF_PROG'
import math, struct, wave
sr, out = 44100, []
for rep in range(4):
    for c in ([9, 12, 16], [14, 17, 21], [16, 20, 23], [9, 12, 16]):
        f = [261.63 * 2 ** (s / 12.0) for s in c]
        for i in range(sr // 2):
            t = i / sr
            v = sum(math.sin(2 * math.pi * x * t) for x in f) / 3 + 0.5 * math.sin(math.pi * f[0] * t)
            out.append(int(11000 * v * math.exp(-2 * t)))
w = wave.open("prog.wav", "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
w.writeframes(struct.pack("<%dh" % len(out), *out))
w.close()
EOF_PROG
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	skip "sandrun --spectral against the numpy transcription: python3-numpy not installed"
elif "$S" --db sp.db --spectral chords.wav prog.wav > sp-run.txt 2>&1 &&
	"$S" export --db sp.db --format json > sp.json 2>/dev/null &&
	/usr/bin/python3 "$ROOT/tests/analyzer/librosa_ref.py" chords.wav > sp-ref.json; then
	bad=$(jq -r --slurpfile ref sp-ref.json --arg p "$work/chords.wav" '.[] | select(.path == $p) |
		.result.spectral as $o | $ref[0] as $r |
		([ "centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness", "onset_strength" ][] | . as $k |
		 select((($o[$k] - $r[$k]) | fabs) > 1e-4 * ($r[$k] | fabs) + 1e-9)),
		(range(20) | . as $i | select((($o.mfcc_mean[$i] - $r.mfcc_mean[$i]) | fabs) > 1e-3) | "mfcc[\($i)]"),
		(if $o.frames != $r.frames then "frames" else empty end)' sp.json 2>&1 | tr '\n' ' ')
	check "sandrun --spectral: librosa's definitions within 1e-4 (MFCC 1e-3 dB) of numpy${bad:+: off: $bad}" test -z "$bad"
	tk=$(jq -r --arg p "$work/prog.wav" '.[] | select(.path == $p) | .result | "\(.key.tonic) \(.key.mode) \(.tempo.bpm)"' sp.json)
	if [ "${tk% *}" = "A minor" ] && near "${tk##* }" 120 1; then
		ok "sandrun --spectral: key and tempo of an A minor progression, a chord every 0.5 s: $tk"
	else
		not_ok "sandrun --spectral: key and tempo of an A minor progression at 120 BPM: $tk"
	fi
else
	not_ok "sandrun --spectral analyzes chords.wav"
	sed 's/^/# /' sp-run.txt | tail -n 8
fi
# The fingerprint, asked for: sandrun-decode --fingerprint runs beside the
# analyzer in the sandbox, under its own filter. fpcalc (Chromaprint's own
# tool, FFmpeg decoding) is the reference: the same text for a 16-bit WAV.
sox -q ingest.wav -C 128 ingest.mp3
if [ ! -x "$B/sandrun-decode" ]; then
	skip "sandrun --fingerprint: $B/sandrun-decode is not built"
elif "$S" --db fp.db --fingerprint ingest.wav ingest.mp3 > fp-run.txt 2>&1 &&
	"$S" export --db fp.db --format json > fp.json 2>/dev/null; then
	fpv() { jq -r --arg p "$work/$1" ".[] | select(.path == \$p) | .result.fingerprint | $2" fp.json; }
	got=$(fpv ingest.wav .chromaprint) mp3=$(fpv ingest.mp3 .chromaprint)
	if command -v fpcalc >/dev/null; then
		want=$(fpcalc -plain ingest.wav 2>/dev/null)
		check "sandrun --fingerprint: the WAV's is fpcalc's (${#got} chars), the MP3 has one (${#mp3})" \
			test -n "$got" -a "$got" = "$want" -a "${#mp3}" -gt 8 -a "$mp3" != null
	else
		skip "sandrun --fingerprint against fpcalc: fpcalc not installed (libchromaprint-tools)"
	fi
else
	not_ok "sandrun --fingerprint analyzes ingest.wav and ingest.mp3"
	sed 's/^/# /' fp-run.txt | tail -n 8
fi

# ---- fuzzing smoke run (libFuzzer, ~25 s) --------------------------------
if command -v "${CLANG:-clang-14}" >/dev/null 2>&1 && "$ROOT/tests/analyzer/build-fuzz.sh" "$B/fuzz" > fuzz-build.txt 2>&1; then
	"$ROOT/tests/analyzer/make-corpus.sh" seeds >/dev/null 2>&1
	mkdir -p corpus crashes
	LSAN_OPTIONS=suppressions=$ROOT/tests/analyzer/lsan.supp \
		"$B/fuzz/fuzz-analyzer" -max_total_time=25 -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -dict="$ROOT/tests/analyzer/fuzz.dict" \
		-artifact_prefix="$work/crashes/" -print_final_stats=1 \
		corpus seeds > fuzz.txt 2>&1
	rc=$?
	runs=$(awk '/stat::number_of_executed_units/ { print $2 }' fuzz.txt)
	if [ "$rc" = 0 ]; then
		ok "libFuzzer smoke run: ${runs:-?} inputs in 25 s, no crash"
		# what the fuzzer kept, through the real program under its guard
		reports=0 refused=0 bad=""
		for c in corpus/* seeds/*; do
			timeout -s KILL 20 "$A" < "$c" > out.json 2>/dev/null
			rc=$?
			if [ "$rc" = 0 ] || [ "$rc" = 65 ]; then
				jq -e . out.json >/dev/null 2>&1 || bad="$bad $(basename "$c"):json"
				[ "$rc" = 0 ] && reports=$((reports + 1)) || refused=$((refused + 1))
			else
				bad="$bad $(basename "$c"):exit$rc"
			fi
		done
		check "fuzz corpus through sandrun-analyze: $reports reports, $refused bad_input${bad:+, failures:$bad}" \
			test -z "$bad"
	else
		not_ok "libFuzzer smoke run: exit $rc"
		grep -aE 'ERROR|SUMMARY|#0 |#1 |#2 |#3 ' fuzz.txt | head -n 30 | sed 's/^/# /'
		for c in crashes/*; do [ -f "$c" ] && diag "artifact: $(od -An -tx1 -N64 "$c" | tr -d '\n')"; done
	fi
else
	not_ok "libFuzzer target builds (tests/analyzer/build-fuzz.sh)"
	sed 's/^/# /' fuzz-build.txt 2>/dev/null | head -n 20
fi

echo "1..$n"
[ "$failed" -eq 0 ]
