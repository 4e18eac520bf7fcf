#!/usr/bin/env bats
# tests/cli/damage.bats — a damaged or truncated file is not a plain "ok"
# (issue 15, item 3): the operator's directory holds a good WAV and one cut
# short. The run's summary counts the cut one as damaged, its exit status
# is 5 (none failed, some damaged), `status` counts it, `list --outcome
# damaged` finds it, and a real failure still wins (exit 1). Runs the real
# sandrun-analyze, as root inside the outer test namespace.

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/lib"
	cd "$W"
	sox -n -r 8000 -c 1 -b 16 lib/good.wav synth 1 sine 440
	sox -n -r 8000 -c 1 -b 16 lib/whole.wav synth 4 sine 330
	# 4 s declared, 44 header bytes + 0.5 s kept: 28000 frames missing
	head -c $((44 + 8000)) lib/whole.wav >lib/cut.wav
	rm lib/whole.wav
	unset SANDRUN_ANALYZER
}

json() { # PYTHON-EXPRESSION over `d` (stdin parsed as JSON)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

@test "a truncated WAV: the summary counts it as damaged, the exit status is 5, the file is named" {
	run --separate-stderr "$SANDRUN" -r lib
	echo "$stderr"
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"2 files: 1 ok, 1 damaged"*", 0 failed"* ]]
	[[ "$stderr" == *"$W/lib/cut.wav: damaged: damaged input: truncated (28000 frames missing)"* ]]
	[[ "$stderr" != *"good.wav: damaged"* ]]
	# the result is kept, the item is done, never retried
	[ "$(sqlite3 sandrun.db "SELECT status, last_outcome, attempts FROM items WHERE path LIKE '%cut.wav'")" = "done|damaged|1" ]
	[ "$(sqlite3 sandrun.db "SELECT json_extract(r.value, '\$.damage.frames_missing') FROM results r JOIN items i ON i.id = r.item_id WHERE i.path LIKE '%cut.wav'")" = 28000 ]
	# the nightly rerun: nothing to do, and still 5
	run --separate-stderr "$SANDRUN" -r lib
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"nothing to do: 2 files already done"* ]]
}

@test "--json: the finished event says damaged, the summary counts it, exit_status 5" {
	run --separate-stderr "$SANDRUN" --json -r lib
	[ "$status" -eq 5 ]
	echo "$output" | grep '"event":"finished"' | grep -q '"outcome":"damaged","status":"done"'
	summary=$(echo "$output" | grep '"event":"summary"')
	[ "$(echo "$summary" | json 'd["ok"], d["damaged"], d["failed"], d["exit_status"]')" = "1 1 0 5" ]
}

@test "status counts it; list --outcome damaged filters it, on its own and as JSON" {
	run "$SANDRUN" -r lib
	[ "$status" -eq 5 ]
	run --separate-stderr "$SANDRUN" status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 done (1 of them damaged"* ]]
	[[ "$output" == *"damaged 1"* ]]
	[ "$("$SANDRUN" status --json | json 'd["items"]["damaged"], d["items"]["done"], d["outcomes"]["damaged"]')" = "1 2 1" ]
	run --separate-stderr "$SANDRUN" list --outcome damaged
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cut.wav"* ]]
	[[ "$output" != *"good.wav"* ]]
	[ "$("$SANDRUN" list --outcome damaged --json | json 'd["outcome"], d["status"]')" = "damaged done" ]
	run "$SANDRUN" list --outcome ok
	[[ "$output" == *"good.wav"* ]]
	[[ "$output" != *"cut.wav"* ]]
	# the retry command does not take a damaged file: it is not a failure
	run --separate-stderr "$SANDRUN" -r lib --retry-on damaged
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'damaged' cannot be retried (damaged is a result"* ]]
}

@test "a failure and a damaged file: exit 1 (some failed) wins, both counted" {
	head -c 3000 /dev/urandom >lib/noise.bin
	run --separate-stderr "$SANDRUN" -r lib --include '*.bin'
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"3 files: 1 ok, 1 damaged"*", 1 failed (bad_input 1)"* ]]
}

@test "a --cmd analyzer opts in with the same key: {\"damage\": {\"damaged\": true}}" {
	printf '#!/bin/sh\nread -r first\ncase "$first" in bad*) echo "{\\"damage\\":{\\"damaged\\":true,\\"truncated\\":true}}";; *) echo "{\\"damage\\":{\\"damaged\\":false}}";; esac\n' >judge.sh
	chmod +x judge.sh
	mkdir t
	echo "bad one" >t/x.txt
	echo "good one" >t/y.txt
	run --separate-stderr "$SANDRUN" --bind-ro "$W" --cmd "$W/judge.sh" t/x.txt t/y.txt
	echo "$stderr"
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"2 files: 1 ok, 1 damaged"* ]]
	[[ "$stderr" == *"x.txt: damaged: damaged input: truncated"* ]]
}

@test "an MP3 cut to 60 %: its Info tag's frame count makes it damaged, truncated, with the frames missing" {
	command -v ffmpeg >/dev/null || skip "no ffmpeg"
	mkdir mp3
	sox -n -r 44100 -c 2 -b 16 src.wav synth 4 pinknoise vol 0.3
	ffmpeg -nostdin -loglevel error -y -i src.wav -c:a libmp3lame -b:a 128k mp3/whole.mp3
	head -c $(($(stat -c %s mp3/whole.mp3) * 6 / 10)) mp3/whole.mp3 >mp3/cut.mp3
	run --separate-stderr "$SANDRUN" -r mp3
	echo "$stderr"
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"2 files: 1 ok, 1 damaged"* ]]
	[[ "$stderr" == *"$W/mp3/cut.mp3: damaged: damaged input: truncated ("*" frames missing)"* ]]
	[[ "$stderr" != *"whole.mp3: damaged"* ]]
	q() { sqlite3 sandrun.db "SELECT json_extract(r.value, '\$.$1') FROM results r JOIN items i ON i.id = r.item_id WHERE i.path LIKE '%$2'"; }
	# 4 s at 44.1 kHz: the whole file declares and decodes 176400 frames
	[ "$(q format.frames_declared whole.mp3)" = 176400 ]
	[ "$(q format.frames whole.mp3)" = 176400 ]
	[ "$(q format.frames_declared cut.mp3)" = 176400 ]
	missing=$(q damage.frames_missing cut.mp3)
	[ "$missing" -eq $((176400 - $(q format.frames cut.mp3))) ]
	[ "$missing" -gt 60000 ]
}

@test "--policy strict (fork-free): MP3 and WAV are analyzed, no fallback is bound, an M4A is an unsupported format, never a seccomp kill" {
	command -v ffmpeg >/dev/null || skip "no ffmpeg"
	mkdir st
	sox -n -r 44100 -c 2 -b 16 st/a.wav synth 2 pinknoise vol 0.3
	ffmpeg -nostdin -loglevel error -y -i st/a.wav -c:a libmp3lame -b:a 128k st/b.mp3
	ffmpeg -nostdin -loglevel error -y -i st/a.wav -c:a aac -b:a 96k st/c.m4a
	run --separate-stderr "$SANDRUN" --policy strict -r st
	echo "$stderr"
	[[ "$stderr" != *seccomp* ]]
	o() { sqlite3 sandrun.db "SELECT last_outcome FROM items WHERE path LIKE '%$1'"; }
	[ "$(o a.wav)" = ok ]
	[ "$(o b.mp3)" = ok ]
	[ "$(o c.m4a)" = bad_input ]
	[ "$(sqlite3 sandrun.db "SELECT last_error FROM items WHERE path LIKE '%c.m4a'")" = \
		"unsupported format: MP4/QuickTime needs the FFmpeg fallback (sandrun-decode), which is not available here (not installed, or --policy strict, which forbids its fork)" ]
	# with the analyzer's own policy the fallback reads the M4A
	run --separate-stderr "$SANDRUN" --db other.db -r st
	[ "$(sqlite3 other.db "SELECT last_outcome FROM items WHERE path LIKE '%c.m4a'")" = ok ]
}
