#!/bin/sh
# tests/demo.sh BUILD_DIR — the whole story on generated audio plus hostile
# samples: analyze a folder, kill the runner after a known number of
# finished files, resume, say what became of each hostile file and why,
# list the failures, show one, and write the HTML report. Everything lands in
# BUILD_DIR/demo/. Needs root (namespaces and cgroups).
set -eu
B=$(realpath "${1:-build}")
S=$B/sandrun
D=$B/demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "make demo needs root: sandrun creates namespaces and cgroups" >&2; exit 1; }
rm -rf "$D"
mkdir -p "$D/music/album" "$D/music/hostile"
cd "$D"

say "sandrun check: what this host can enforce"
"$S" check

say "generating sample audio (sox) and hostile samples"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	sox -q -n -r 48000 -c 2 "music/album/tone-$i.wav" synth 60 sine $((100 * i)) vol 0.$((i % 9 + 1))
	sox -q -n -r 44100 -c 2 "music/album/noise-$i.flac" synth 60 pinknoise vol 0.2
done
sox -q -n -r 44100 -c 1 music/album/sweep.ogg synth 10 sine 100-8000 vol 0.5
sox -q -n -r 44100 -c 2 music/album/hot.wav synth 5 sine 440 vol 1.6       # clips
sox -q -n -r 44100 -c 2 music/album/quiet.wav synth 8 sine 440 vol 0.0001  # mostly silent
: >music/hostile/empty.wav                                             # zero length
head -c 200000 /dev/urandom >music/hostile/random.flac                  # random bytes
{ printf 'RIFF\377\377\377\177WAVEfmt \020\000\000\000\001\000\000\000'; head -c 5000 /dev/urandom; } \
	>music/hostile/zero-channels.wav                                    # a header that lies
head -c 3000 music/album/tone-1.wav >music/hostile/truncated.wav        # cut short
{ printf 'fLaC'; head -c 100000 /dev/urandom; } >music/hostile/fake-magic.flac
ls -R music | sed 's/^/  /'

# The runner is killed after a known number of finished files, read from
# its own --json events (not after a fixed sleep, which on a fast machine
# killed it after the batch or on a slow one before the first file).
KILL_AFTER=6
say "analyze the folder; the runner is killed with SIGKILL once $KILL_AFTER files have finished"
"$S" --db demo.db -j 2 --mem 256M --timeout 60 --json -r music >run1.jsonl 2>run1.log &
pid=$!
finished=0
for _ in $(seq 1200); do # at most 60 s
	finished=$(grep -c '"event":"finished"' run1.jsonl || true)
	[ "$finished" -ge "$KILL_AFTER" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "killed with SIGKILL after $finished finished files (of $(find music -type f | wc -l))"
"$S" status --db demo.db

say "the same command again resumes where it stopped"
set +e
"$S" --db demo.db -j 2 --mem 256M --timeout 60 -r music
rc=$?
set -e
echo "exit status: $rc (1 = some files failed, as the hostile ones should)"
"$S" status --db demo.db

say "the hostile files: what each one is, and what became of it"
# How each was made (above), then what the store says of it now.
made() {
	case "$1" in
	empty.wav) echo "a zero-length file: nothing to decode" ;;
	random.flac) echo "200 kB of random bytes: no audio signature at all" ;;
	zero-channels.wav) echo "a RIFF/WAVE header that lies (0 channels, a 2 GiB size) over random bytes" ;;
	truncated.wav) echo "the first 3000 bytes of a 60 s WAV: the header promises 23 MB of samples" ;;
	fake-magic.flac) echo "FLAC's magic number over random bytes: the decoder starts, then fails" ;;
	esac
}
for f in music/hostile/*; do
	name=${f##*/}
	"$S" show --json --db demo.db "$D/$f" >show.json
	printf '  %-18s %s\n' "$name" "$(made "$name")"
	printf '  %-18s -> %s\n' "" "$(jq -r '.status + " " + .outcome + (if .error then ": " + .error else "" end)' show.json)"
	# Decodable but damaged: analyzed, and the analyzer says what is missing.
	if [ "$(jq -r '.result.damage.damaged // false' show.json)" = true ]; then
		printf '  %-18s    decodable but damaged: %s; decoder log: %s\n' "" \
			"$(jq -r '.result.damage | [to_entries[] | select(.value == true and .key != "damaged") | .key] | join(", ")' show.json)" \
			"$(jq -r '.result.damage.decoder_log | join("; ")' show.json)"
		printf '  %-18s    %s\n' "" "(its $(jq -r '.result.format.duration_s * 1000 | round' show.json) ms of audio are measured; the report flags it as damaged)"
	fi
done
rm -f show.json

say "the failures"
"$S" list --db demo.db --status failed

say "the damaged one: decoded as far as it goes, kept, and counted apart"
"$S" list --db demo.db --outcome damaged

say "one of them in detail"
"$S" show --db demo.db "$D/music/hostile/zero-channels.wav"

say "the HTML report"
"$S" report --db demo.db -o "$D/report.html"
echo "report written: $D/report.html"
