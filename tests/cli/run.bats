#!/usr/bin/env bats
# tests/cli/run.bats — `sandrun [run]` from the command line: options and
# their errors, inputs that cannot be analyzed, exit statuses, output modes
# (summary, --json events, the live line on a terminal), resuming, spec
# changes, limits and retries, --memfree, signals. Runs as root inside the
# outer test namespace (tests/lib/outer-ns.sh).
#
# Good files are WAVs made with sox for the real sandrun-analyze. Where a
# test needs a job that misbehaves on purpose, SANDRUN_ANALYZER points at
# the TEST STAND-IN compiled by tests/suites/chaos.sh --build-standin: it
# obeys the first line of its input ("ok SECS", "hang", "bigout", ...).

bats_require_minimum_version 1.5.0

setup_file() {
	export STANDIN_DIR=$BATS_FILE_TMPDIR/standin
	"$BATS_TEST_DIRNAME/../suites/chaos.sh" --build-standin "$STANDIN_DIR"
}

setup() {
	load env
	cli_env
	STANDIN=$STANDIN_DIR/standin
	cli_media
}

json() { # PYTHON-EXPRESSION over `d` (stdin parsed as JSON)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# Wait until PID blocks SIGUSR1/SIGUSR2 (read from its signalfd): a signal
# sent before that would hit the default action and kill it.
wait_signals_blocked() { # PID
	local blk
	for _ in $(seq 200); do
		blk=$(awk '/^SigBlk/ {print $2}' "/proc/$1/status" 2>/dev/null)
		[ -n "$blk" ] && (( (0x$blk & 0xa00) == 0xa00 )) && return 0
		sleep 0.05
	done
	echo "$1 never blocked SIGUSR1/SIGUSR2"
	return 1
}

# Wait until FILE holds N "started" events (a loaded machine may take a
# while to get there; a fixed sleep would signal a runner still queueing).
wait_started() { # FILE N
	for _ in $(seq 200); do
		[ "$(grep -c '"event":"started"' "$1" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "no $2 started events in $1"
	return 1
}

db() { sqlite3 -batch sandrun.db "$1"; }

# ---- options -----------------------------------------------------------------

@test "--help lists the options and exits 0" {
	run "$SANDRUN" run --help
	[ "$status" -eq 0 ]
	for opt in --recursive --files-from --null --db --jobs --policy --retries --retry-on \
		--retry-delay --force --memfree --grace --json --max-output --mem --timeout --cpu-time --quiet --verbose; do
		[[ "$output" == *"$opt"* ]] || { echo "missing $opt"; false; }
	done
}

@test "bad values are usage errors (exit 2) that name the option, and touch nothing" {
	for args in "-j 0" "-j -3" "-j abc" "--jobs=1.5" "--mem 12Q" "--mem -1G" "--timeout -5" \
		"--timeout 1x" "--cpus 0" "--pids 0" "--retries -1" "--retries many" "--retry-on bogus" \
		"--retry-on ok" "--retry-delay soon" "--retry-delay 2h" "--grace soon" "--max-output 0" "--memfree lots" "--bogus"; do
		run "$SANDRUN" $args media/a.wav
		[ "$status" -eq 2 ] || { echo "$args: exit $status: $output"; false; }
		[[ "$output" == *"sandrun: "* ]] || { echo "$args: $output"; false; }
		[[ "$output" == *"--help"* ]] || { echo "$args: no hint: $output"; false; }
	done
	run "$SANDRUN" -j 0 media/a.wav
	[[ "$output" == *"-j/--jobs"* ]]
	run "$SANDRUN" --mem 12Q media/a.wav
	[[ "$output" == *"--mem"*"512M"* ]]
	run "$SANDRUN" --timeout
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs a value"* ]]
	[ ! -e sandrun.db ]
}

@test "durations: --timeout 500ms, --timeout 1m, --grace 1h30m, --cpu-time 1.5h are what they say" {
	export SANDRUN_ANALYZER=$STANDIN
	echo hang >media/hang
	# 500ms is half a second, not 500 seconds: the hang is cut short.
	SECONDS=0
	run "$SANDRUN" --timeout 500ms --retries 0 --json media/hang
	[ "$status" -eq 1 ]
	[ "$SECONDS" -lt 20 ]
	[ "$(db "SELECT last_outcome FROM items")" = timeout ]
	unset SANDRUN_ANALYZER
	run "$SANDRUN" --timeout 1m --grace 1h30m --cpu-time 1.5h --db long.db media/a.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" --timeout 90s --grace 0 --db long.db --force media/a.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" exec --timeout "1 min" -- /bin/true
	[ "$status" -eq 0 ]
}

@test "a mistyped duration is a usage error that names the option and the value, and creates nothing" {
	run "$SANDRUN" --timeout 10x media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"'10x' for --timeout: unknown unit"*"1h30m"* ]]
	[[ "$output" == *"--help"* ]]
	run "$SANDRUN" --grace 5parsecs media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"--grace"*"unknown unit"* ]]
	run "$SANDRUN" --cpu-time 0 media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"--cpu-time: must be more than 0"* ]]
	run "$SANDRUN" --timeout 1h-30m media/a.wav
	[ "$status" -eq 2 ]
	run "$SANDRUN" exec --timeout 2x -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"'2x' for --timeout"* ]]
	[ ! -e sandrun.db ]
}

@test "no files, -0 without a list, an unreadable list: usage errors" {
	run "$SANDRUN"
	[ "$status" -eq 2 ]
	run "$SANDRUN" run
	[ "$status" -eq 2 ]
	[[ "$output" == *"no files given"* ]]
	run "$SANDRUN" -0 media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"--files-from"* ]]
	run "$SANDRUN" --files-from nolist.txt
	[ "$status" -eq 2 ]
	[[ "$output" == *"nolist.txt"* ]]
}

@test "a mistyped command (sandrun stauts) is a usage error that suggests the nearest one and creates nothing" {
	run "$SANDRUN" stauts
	[ "$status" -eq 2 ]
	[[ "$output" == *"'stauts' is neither a command nor an existing file; did you mean 'status'?"* ]]
	run "$SANDRUN" lsit --db x.db
	[ "$status" -eq 2 ]
	[[ "$output" == *"did you mean 'list'?"* ]]
	run "$SANDRUN" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" != *"did you mean"* ]]
	[ ! -e sandrun.db ] && [ ! -e x.db ]
	# An existing file of that name is a file to analyze, as before.
	cp media/a.wav stauts
	run "$SANDRUN" stauts
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 1 ]
}

@test "sandrun help [COMMAND] prints the help, creates nothing" {
	run "$SANDRUN" help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Commands:"*"quarantine"* ]]
	run "$SANDRUN" help status
	[ "$status" -eq 0 ]
	[[ "$output" == "Usage: sandrun status"* ]]
	run "$SANDRUN" help run
	[ "$status" -eq 0 ]
	[[ "$output" == *"--files-from"* ]]
	run "$SANDRUN" help stauts
	[ "$status" -eq 2 ]
	[[ "$output" == *"did you mean 'status'?"* ]]
	[ ! -e sandrun.db ]
}

@test "sandrun - reads the list of files from stdin, as --files-from - does" {
	run bash -c "printf '%s\n' media/a.wav media/b.wav | '$SANDRUN' -"
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 2 ]
	run bash -c "echo media/sub/c.wav | '$SANDRUN' -j 1 - media/a.wav"
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 3 ]
	[ "$(db "SELECT count(*) FROM items WHERE path LIKE '%/-'")" = 0 ]
	echo media/a.wav >list.txt
	run "$SANDRUN" --files-from list.txt -
	[ "$status" -eq 2 ]
	[[ "$output" == *"--files-from list.txt"* ]]
}

@test "a missing analyzer or policy is a clear usage error" {
	SANDRUN_ANALYZER=$W/nothing-here run "$SANDRUN" media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"cannot run the analyzer"*"nothing-here"* ]]
	run "$SANDRUN" --policy no-such-policy media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"no-such-policy"* ]]
}

@test "--cmd on the first try: a relative script, or one not made visible with --bind-ro, stops before any job (exit 2) saying what to add" {
	mkdir -m 755 tools
	printf 'import sys\nsys.stdin.buffer.read()\nprint("{\\"n\\": 1}")\n' >tools/features.py
	chmod 644 tools/features.py
	for i in $(seq 10); do cp media/a.wav media/f$i.wav; done
	# As the operator typed it first: a path relative to where they stood.
	run "$SANDRUN" --cmd 'python3 tools/features.py {}' media/f*.wav
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"the argument 'tools/features.py' is a relative path"*"add --bind-ro $W"* ]]
	[ ! -e sandrun.db ]
	# Then absolute, but the directory is not in the sandbox.
	run "$SANDRUN" --cmd "python3 $W/tools/features.py {}" media/f*.wav
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"the argument $W/tools/features.py exists here but is not visible in the sandbox"*"add --bind-ro $W/tools" ]]
	[ ! -e sandrun.db ]
	# The same as --opt=VALUE.
	run "$SANDRUN" --cmd "python3 -X pycache_prefix=/x --script=$W/tools/features.py {}" media/f1.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"add --bind-ro $W/tools"* ]]
	# What the message says to add, added: every file ok, once.
	run "$SANDRUN" --cmd "python3 $W/tools/features.py" --bind-ro "$W/tools" media/f*.wav
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) || ' ' || sum(attempts) FROM items WHERE status = 'done'")" = "10 10" ]
	# Words that only look like names are left alone: a bare word naming a
	# directory here, the sandbox's own /tmp and /dev/null.
	mkdir json
	run "$SANDRUN" --cmd 'sh -c "echo {}" json /tmp /dev/null' --output text --db words.db media/f1.wav
	[ "$status" -eq 0 ]
}

# ---- inputs ---------------------------------------------------------------------

@test "inputs that cannot be analyzed are reported, recorded as input_error, and the batch goes on" {
	ln -s a.wav media/link.wav
	ln -s nowhere media/dangling.wav
	mkfifo media/fifo.wav
	# As root nothing is unreadable by permissions; what the runner cannot
	# open honestly is a link (O_NOFOLLOW: ELOOP), a path that is not there,
	# a directory without -r, and what is not a regular file (no blocking
	# open of a FIFO).
	run "$SANDRUN" media/a.wav media/missing.wav media/link.wav media/dangling.wav media/sub media/fifo.wav media/b.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"$W/media/missing.wav: no such file or directory"* ]]
	[[ "$output" == *"$W/media/link.wav: is a symbolic link"* ]]
	[[ "$output" == *"$W/media/dangling.wav: is a symbolic link"* ]]
	[[ "$output" == *"$W/media/sub: is a directory (use -r"* ]]
	[[ "$output" == *"$W/media/fifo.wav: is a FIFO"* ]]
	[[ "$output" == *"7 files: 2 ok, 5 failed (input_error 5)"* ]]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'failed' AND last_outcome = 'input_error' AND attempts = 0")" = 5 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 2 ]
	[ "$(db "SELECT count(*) FROM attempts")" = 2 ] # no attempt for an input error
}

@test "-r walks directories; named twice is queued once; links inside a tree are skipped" {
	ln -s ../a.wav media/sub/link.wav
	run "$SANDRUN" -r media media/a.wav "$W/media/../media/a.wav"
	[ "$status" -eq 1 ] # garbage.bin is bad_input
	[ "$(db "SELECT count(*) FROM items")" = 4 ]
	[ "$(db "SELECT last_outcome FROM items WHERE path = '$W/media/garbage.bin'")" = bad_input ]
	[[ "$output" == *"4 files: 3 ok, 1 failed (bad_input 1)"* ]]
	[[ "$output" == *"skipped $W/media/sub/link.wav: symbolic link (not followed without --follow-symlinks)"* ]]
	[[ "$output" == *"skipped: 1 (symbolic link: 1)"* ]]
}

# The operator's music tree: every run used to end 1 with a bad_input for
# each cover, cue sheet and playlist, and cron alerted every night.
make_library() {
	mkdir -p lib/Album/Scans lib/Other
	sox -n -r 8000 -c 1 lib/Album/01.wav synth 0.2 sine 440
	sox -n -r 8000 -c 1 lib/Album/02.flac synth 0.2 sine 220
	sox -n -r 8000 -c 1 lib/Other/03.wav synth 0.2 sine 330
	sox -n -r 8000 -c 1 lib/Album/Scans/booklet.wav synth 0.2 sine 330
	printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00' >lib/Album/cover.jpg
	printf 'FILE "01.wav" WAVE\n  TRACK 01 AUDIO\n' >lib/Album/album.cue
	printf '#EXTM3U\n01.wav\n02.flac\n' >lib/Album/playlist.m3u
	printf '\x00\x00\x00\x01Bud1\x00' >lib/Album/.DS_Store
	echo "ripped 2009, EAC secure mode" >lib/Album/rip-notes.txt
	echo "no extension, still text" >lib/Other/README
	printf '\x00\x05\x16\x07\x00\x02\x00\x00' >lib/Other/._03.wav # AppleDouble
}

@test "-r on a music library: covers, cue sheets, playlists, .DS_Store, text and --exclude are skipped, named, counted; exit 0" {
	make_library
	run --separate-stderr "$SANDRUN" -r lib --exclude 'Scans/'
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"3 files: 3 ok, 0 failed"* ]]
	[[ "$stderr" == *"skipped: 8 (excluded: 1, not audio: 7)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/Scans: excluded (--exclude Scans/)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/cover.jpg: not audio (by name: .jpg)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/album.cue: not audio (by name: .cue)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/playlist.m3u: not audio (by name: .m3u)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/.DS_Store: not audio (by name)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/rip-notes.txt: not audio (by name: .txt)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Other/README: not audio (text)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Other/._03.wav: not audio (AppleDouble metadata)"* ]]
	# The store holds the audio files only: nothing to fail, nothing to retry.
	[ "$(db "SELECT count(*) FROM items")" = 3 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 3 ]
	[ "$(db "SELECT count(*) FROM items WHERE path LIKE '%.jpg' OR path LIKE '%.cue' OR path LIKE '%.m3u'
		OR path LIKE '%DS_Store' OR path LIKE '%.txt' OR path LIKE '%README' OR path LIKE '%Scans%'
		OR path LIKE '%/._%'")" = 0 ]
	# The nightly rerun: still 0, nothing analyzed again.
	run "$SANDRUN" --json -r lib --exclude 'Scans/'
	[ "$status" -eq 0 ]
	[[ "$output" != *'"event":"started"'* ]]
	[[ "$output" == *'"event":"skipped",'*'"path":"'"$W"'/lib/Album/cover.jpg","reason":"not audio","detail":"by name: .jpg"}'* ]]
	[[ "$output" == *'"skipped_entries":8,"skipped_by":{"excluded":1,"not audio":7}'* ]]
}

@test "--include overrides the not-audio default; --include X --exclude '*' keeps only X; patterns need -r" {
	make_library
	# A file the default would skip is analyzed when an --include matches
	# it first (and fails honestly: it is not audio).
	run "$SANDRUN" -r lib --include 'cover.jpg' --exclude 'Scans/'
	[ "$status" -eq 1 ]
	[ "$(db "SELECT last_outcome FROM items WHERE path = '$W/lib/Album/cover.jpg'")" = bad_input ]
	rm sandrun.db*
	# rsync-like: the first match decides, so this is "FLAC files only".
	run "$SANDRUN" -r lib --include '*.flac' --include '*/' --exclude '*'
	[ "$status" -eq 0 ]
	[ "$(db "SELECT path FROM items")" = "$W/lib/Album/02.flac" ]
	# A pattern with a '/' matches the path below the root.
	rm sandrun.db*
	run "$SANDRUN" -r lib --exclude 'Album/*.wav'
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE path LIKE '%/01.wav'")" = 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE path LIKE '%/booklet.wav'")" = 1 ]
	run "$SANDRUN" --exclude '*.jpg' lib/Album/01.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"--include and --exclude filter the files of a -r walk; give -r too"* ]]
	run "$SANDRUN" -r lib --exclude ''
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid pattern '' for --exclude"* ]]
}

@test "--cmd has no not-audio default: every regular file goes to the command" {
	make_library
	run "$SANDRUN" --cmd 'wc -c' --output text -r lib
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 11 ]
	[[ "$output" != *"not audio"* ]]
}

@test "symbolic links: -r names each one it skips; --follow-symlinks follows those inside the tree and refuses the rest; a named link is never followed" {
	make_library
	mkdir elsewhere
	sox -n -r 8000 -c 1 elsewhere/x.wav synth 0.2 sine 440
	echo "root's secret" >secret.wav
	ln -s 01.wav lib/Album/again.wav                # inside: the same item as 01.wav
	ln -s ../Other/03.wav lib/Album/other.wav      # inside, through ..
	ln -s ../../elsewhere/x.wav lib/Album/out.wav  # leaves the tree
	ln -s "$W/secret.wav" lib/Album/secret.wav     # leaves it, to a file that is not the link's owner's
	chown -h nobody lib/Album/secret.wav
	ln -s again.wav lib/Album/chain.wav             # a link to a link
	run --separate-stderr "$SANDRUN" -r lib
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"skipped $W/lib/Album/again.wav: symbolic link (not followed without --follow-symlinks)"* ]]
	[[ "$stderr" == *"skipped: 12 (not audio: 7, symbolic link: 5)"* ]]
	[ "$(db "SELECT count(*) FROM items")" = 4 ]
	rm sandrun.db*
	run --separate-stderr "$SANDRUN" -r lib --follow-symlinks
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"skipped $W/lib/Album/out.wav: symbolic link not followed (its target is outside the tree)"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/secret.wav: symbolic link not followed (its target is outside the tree"* ]]
	[[ "$stderr" == *"skipped $W/lib/Album/chain.wav: symbolic link not followed (its target is a link, or is reached through one)"* ]]
	[[ "$stderr" == *"(not audio: 7, symbolic link not followed: 3)"* ]]
	# Followed links are their targets: no new items, nothing twice.
	[ "$(db "SELECT count(*) FROM items")" = 4 ]
	# =any (targets outside the tree) was withdrawn: a tree owner's link
	# could name files of others (docs/security.md).
	run "$SANDRUN" -r lib --follow-symlinks=any
	[ "$status" -eq 2 ]
	[ "$(db "SELECT count(*) FROM items WHERE path LIKE '%secret%' OR path LIKE '%elsewhere%'")" = 0 ]
	# A named link is one file the admin chose: never followed, not even
	# inside its own directory (whose other files the admin did not name).
	rm sandrun.db*
	run "$SANDRUN" --follow-symlinks lib/Album/again.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"$W/lib/Album/again.wav: "*"symbolic link"* ]]
	[ "$(db "SELECT count(*) FROM items WHERE path = '$W/lib/Album/01.wav'")" = 0 ]
	run "$SANDRUN" --follow-symlinks=sometimes lib/Album/again.wav
	[ "$status" -eq 2 ]
}

@test "--files-from: a list file, stdin, and NUL-separated names with -0" {
	printf '%s\n' media/a.wav "" media/b.wav >list.txt
	run "$SANDRUN" --files-from list.txt
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 2 ]
	rm sandrun.db*
	cp media/a.wav $'media/new\nline.wav'
	printf 'media/sub/c.wav\0media/new\nline.wav\0' | "$SANDRUN" -0 --files-from - media/b.wav 2>err.txt
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 3 ]
	printf 'media/a.wav\0media/b.wav\0' >nul.list
	run "$SANDRUN" --files-from nul.list
	[ "$status" -eq 2 ]
	[[ "$output" == *"NUL byte"*"-0"* ]]
}

@test "a file removed after it was queued is an input error at its claim, with no attempt spent" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 0.5" >media/first
	echo "ok 0" >media/second
	"$SANDRUN" -j 1 --json media/first media/second >ev.txt 2>err.txt &
	pid=$!
	wait_started ev.txt 1
	rm media/second
	wait $pid || rc=$?
	[ "${rc:-0}" -eq 1 ]
	grep -q "$W/media/second: no such file or directory" err.txt
	[ "$(db "SELECT status || ' ' || attempts || ' ' || last_outcome FROM items WHERE path LIKE '%/second'")" = "failed 0 input_error" ]
	[ "$(db "SELECT a.outcome || ' ' || a.counted FROM attempts a JOIN items i ON i.id = a.item_id WHERE i.path LIKE '%/second'")" = "input_error 0" ]
	grep -q '"path":"'"$W"'/media/second","attempt":0,"outcome":"input_error"' ev.txt
}

@test "--cmd with {}: a file others cannot read is an input error when queued, with no attempt" {
	echo private >media/private.txt
	chmod 600 media/private.txt
	chmod 644 media/a.wav
	run "$SANDRUN" --cmd 'cat {}' --output text media/private.txt media/a.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"$W/media/private.txt: not readable by others"* ]]
	[ "$(db "SELECT status || ' ' || attempts || ' ' || last_outcome FROM items WHERE path LIKE '%/private.txt'")" = "failed 0 input_error" ]
	[ "$(db "SELECT count(*) FROM attempts")" = 1 ] # a.wav only
}

@test "a list longer than one chunk: jobs start while the rest is queued, and the summary counts it all" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 0" >media/first
	echo "ok 0" >media/last
	# 2,100 missing files cost no job: the list takes three queueing steps.
	{ echo media/first; for i in $(seq 1 2100); do echo "media/missing-$i"; done; echo media/last; } >big.list
	run --separate-stderr "$SANDRUN" -j 1 --json --files-from big.list
	[ "$status" -eq 1 ]
	echo "$output" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
started = [i for i, e in enumerate(ev) if e["event"] == "started"]
errors = [i for i, e in enumerate(ev) if e["event"] == "finished" and e["outcome"] == "input_error"]
assert len(started) == 2 and len(errors) == 2100, (len(started), len(errors))
# The first job started after the first chunk, long before the last input error.
assert started[0] < errors[-1] and started[0] > errors[0], (started, errors[0], errors[-1])
s = ev[-1]
assert (s["total"], s["ok"], s["failed"], s["exit_status"]) == (2102, 2, 2100, 1), s
assert s["failed_by_outcome"] == {"input_error": 2100}, s
'
	[ "$(db "SELECT count(*) FROM items")" = 2102 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done' AND attempts = 1")" = 2 ]
}

@test "--files-from a slow pipe: the loop waits for it without blocking, and ends only at its end" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 0" >media/p1
	echo "ok 0" >media/p2
	mkfifo list.fifo
	exec 7<>list.fifo # the writer: the list stays open until we close it (not in the runner: 7>&-)
	echo media/p1 >&7
	"$SANDRUN" -j 2 --json --files-from list.fifo >ev.txt 2>err.txt 7>&- &
	pid=$!
	for _ in $(seq 200); do grep -q '"event":"finished"' ev.txt && break; sleep 0.05; done
	grep -q '"path":"'"$W"'/media/p1","attempt":1,"outcome":"ok"' ev.txt
	sleep 0.3
	kill -0 $pid # nothing pending, nothing running: still waiting for the list
	kill -USR2 $pid # the loop is not blocked in a read
	for _ in $(seq 100); do grep -q "queueing" err.txt && break; sleep 0.05; done
	grep -q "1/1+ done.*queueing" err.txt
	echo media/p2 >&7
	exec 7>&-
	wait $pid
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 2 ]
	[ "$(grep -c '"event":"started"' ev.txt)" = 2 ]
	grep -q '"event":"summary",.*"total":2,"ok":2' ev.txt
}

# ---- outputs --------------------------------------------------------------------

@test "all ok: exit 0; piped stderr holds only the summary" {
	run --separate-stderr "$SANDRUN" media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == "sandrun: 2 files: 2 ok, 0 failed"* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 2 ]
	[[ "$stderr" != *$'\r'* ]]
}

@test "piped stderr (cron, a pipe): one line per failed file, its name escaped, then the summary" {
	cp media/garbage.bin "media/bad"$'\n'"name.bin"
	"$SANDRUN" media/a.wav media/garbage.bin media/bad*name.bin media/missing.wav 2>err.txt | cat
	[ "${PIPESTATUS[0]}" -eq 1 ]
	cat err.txt
	grep -qx "sandrun: $W/media/garbage.bin: bad_input: .*" err.txt
	# A newline in a name shows as \n: the line stays one record, and the
	# name is not mistaken for "bad name.bin".
	grep -qF "sandrun: $W/media/bad\\nname.bin: bad_input: " err.txt
	grep -qx "sandrun: $W/media/missing.wav: no such file or directory" err.txt
	grep -q "^sandrun: 4 files: 1 ok, 3 failed (bad_input 2, input_error 1)$" err.txt
	[ "$(wc -l <err.txt)" -eq 5 ]
	! grep -q "a.wav" err.txt || false
}

@test "-q: only errors and the summary; -v: also one line per finished file" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 1" >media/slow
	echo bad >media/bad
	"$SANDRUN" -q --retries 0 --grace 10 media/slow media/bad 2>quiet.txt &
	pid=$!
	for _ in $(seq 100); do [ "$(db "SELECT count(*) FROM attempts")" = 2 ] 2>/dev/null && break; sleep 0.05; done
	kill -TERM $pid
	wait $pid || rc=$?
	cat quiet.txt
	# No notice of the signal, only the failure and the summary.
	! grep -q "SIGTERM: starting nothing new" quiet.txt || false
	grep -q "^sandrun: $W/media/bad: bad_input" quiet.txt
	grep -q "^sandrun: 2 files:" quiet.txt
	! grep -q "media/slow" quiet.txt || false
	run --separate-stderr "$SANDRUN" -v --force --retries 0 media/slow media/bad
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"sandrun: $W/media/slow: ok (attempt 1, "*" s)"* ]]
	[[ "$stderr" == *"sandrun: $W/media/bad: bad_input"* ]]
	[[ "$stderr" == *"sandrun: 2 files: 1 ok, 1 failed"* ]]
}

@test "under systemd (JOURNAL_STREAM names stderr): each line carries its syslog priority" {
	: >err.txt
	export JOURNAL_STREAM=$(stat -c %d:%i err.txt)
	"$SANDRUN" media/a.wav media/garbage.bin media/missing.wav 2>>err.txt || true
	cat err.txt
	grep -qx "<3>sandrun: $W/media/garbage.bin: bad_input: .*" err.txt
	grep -qx "<3>sandrun: $W/media/missing.wav: no such file or directory" err.txt
	grep -qx "<6>sandrun: 3 files: 1 ok, 2 failed (bad_input 1, input_error 1)" err.txt
	[ "$(grep -vc '^<[346]>sandrun: ' err.txt)" -eq 0 ]
	# Inherited by a process whose stderr goes elsewhere: no prefixes there.
	"$SANDRUN" --db other.db media/garbage.bin 2>plain.txt || true
	grep -qx "sandrun: $W/media/garbage.bin: bad_input: .*" plain.txt
	! grep -q "^<" plain.txt || false
}

@test "--json: started, finished and summary events, one JSON object per line" {
	run --separate-stderr "$SANDRUN" --json media/a.wav media/garbage.bin media/missing.wav
	[ "$status" -eq 1 ]
	echo "$output" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
kinds = [e["event"] for e in ev]
assert kinds.count("started") == 2, kinds
assert kinds.count("finished") == 3, kinds
assert kinds[-1] == "summary", kinds
fields = {"v","event","ts","ts_ms","run","item","path","attempt","outcome","status","exit_code","signal","syscall","wall_ms",
          "cpu_ms","peak_memory_bytes","oom_kills","error"}
fin = {e["path"].rsplit("/",1)[1]: e for e in ev if e["event"] == "finished"}
for e in fin.values(): assert set(e) == fields, set(e) ^ fields
a, g, m = fin["a.wav"], fin["garbage.bin"], fin["missing.wav"]
assert (a["outcome"], a["status"], a["exit_code"], a["attempt"], a["error"]) == ("ok", "done", 0, 1, None), a
assert a["wall_ms"] >= 0 and a["peak_memory_bytes"] > 0, a
assert (g["outcome"], g["exit_code"], g["status"]) == ("bad_input", 65, "failed"), g
assert g["error"], g
assert (m["outcome"], m["attempt"], m["wall_ms"]) == ("input_error", 0, None), m
s = ev[-1]
assert (s["total"], s["ok"], s["failed"], s["exit_status"]) == (3, 1, 2, 1), s
assert s["failed_by_outcome"] == {"bad_input": 1, "input_error": 1}, s
'
}

@test "on a terminal: a live status line, then the summary" {
	export SANDRUN_ANALYZER=$STANDIN
	for i in 1 2 3 4 5 6; do echo "ok 0.4" >"media/slow$i"; done
	script -qfec "$SANDRUN -j 2 media/slow1 media/slow2 media/slow3 media/slow4 media/slow5 media/slow6" /dev/null >tty.out
	run cat -v tty.out
	[[ "$output" == *"^M^[[Ksandrun: 0/6 done"*"| 2 running"* ]]
	[[ "$output" == *"files/s, ETA "* ]]
	[[ "$output" == *"sandrun: 6 files: 6 ok, 0 failed"* ]]
}

@test "SIGUSR2 prints a status line; SIGUSR1 pauses the jobs and their deadlines" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 1" >media/one
	echo "ok 1" >media/two
	"$SANDRUN" -j 2 --timeout 1.5 --json media/one media/two >ev.txt 2>err.txt &
	pid=$!
	wait_started ev.txt 2
	kill -USR1 $pid
	sleep 0.2
	kill -USR2 $pid
	sleep 1.5 # frozen: neither the job nor its 1.5 s deadline moves
	kill -USR1 $pid
	wait $pid
	cat err.txt
	grep -q "paused 2 running jobs" err.txt
	grep -q "0/2 done, .* | 2 running, PAUSED" err.txt
	grep -q "resumed 2 jobs" err.txt
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done' AND attempts = 1")" = 2 ]
}

# ---- resuming and job specs --------------------------------------------------------

@test "a rerun resumes: done stays done, --force redoes, a changed file or spec runs again" {
	run "$SANDRUN" --json media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" --json media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	[[ "$output" != *'"event":"started"'* ]]
	[[ "$output" == *'"ok":2'* ]]
	run "$SANDRUN" --json --force media/a.wav media/b.wav
	[ "$(echo "$output" | grep -c '"event":"started"')" -eq 2 ]
	touch -d '2001-01-01' media/a.wav
	run "$SANDRUN" --json media/a.wav media/b.wav
	[ "$(echo "$output" | grep -c '"event":"started"')" -eq 1 ]
	[[ "$output" == *'"started",'*'"path":"'"$W"'/media/a.wav"'* ]]
	# Another policy is another job spec: analyzed again once confirmed.
	run "$SANDRUN" --json --policy default --new-spec media/a.wav media/b.wav
	echo "$output"
	[ "$(echo "$output" | grep -c '"event":"started"')" -eq 2 ]
	[ "$(db "SELECT count(DISTINCT spec) FROM runs")" -eq 2 ]
	[ "$(db "SELECT count(*) FROM attempts")" -eq 7 ]
}

@test "a rerun with nothing left says so: nothing to do, N files already done (--force to redo)" {
	run "$SANDRUN" media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	run --separate-stderr "$SANDRUN" media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	[ "$stderr" = "sandrun: 2 files: 2 ok, 0 failed
sandrun: nothing to do: 2 files already done (--force to redo)" ]
	run --separate-stderr "$SANDRUN" media/a.wav media/b.wav media/garbage.bin
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"this run: 1 attempt finished"* ]]
	run --separate-stderr "$SANDRUN" media/a.wav media/b.wav media/garbage.bin
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"nothing to do: 2 files already done, 1 already failed ('sandrun retry' to try the failed again, --force to redo all)" ]]
}

# The operator raised --mem from 6G to 8G on resume and 219 finished
# files were analyzed again: limits are not part of what a result is.
@test "a resume with other limits, -j or retries redoes nothing" {
	run "$SANDRUN" --mem 1G --timeout 60 media/a.wav media/b.wav media/sub/c.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" --json --mem 2G --timeout 30 --cpu-time 20 --pids 64 --tmp-size 32M --max-output 1M \
		-j 1 --retries 0 media/a.wav media/b.wav media/sub/c.wav
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *'"event":"started"'* ]]
	[[ "$output" == *'"total":3,"ok":3'* ]]
	[ "$(db "SELECT count(*) FROM attempts")" -eq 3 ]
	[ "$(db "SELECT count(DISTINCT spec_key) FROM items")" -eq 1 ]
	# Each run still records its limits beside the spec (the report draws them).
	[ "$(db "SELECT json_extract(spec, '$.limits.mem_bytes') FROM runs ORDER BY id")" = "$((1 << 30))
$((2 << 30))" ]
}

@test "a changed job spec is refused before anything is written; --new-spec or --force accept it" {
	run "$SANDRUN" media/a.wav media/b.wav media/garbage.bin
	[ "$status" -eq 1 ]
	before=$(db "SELECT count(*) FROM runs; SELECT group_concat(spec_key || status) FROM items;")
	# Forgetting --policy on resume (or giving another) changes results.
	run "$SANDRUN" --policy default media/a.wav media/b.wav media/garbage.bin
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"2 done items (and 1 failed) in sandrun.db were analyzed with another job spec (it differs in: --policy"* ]]
	[[ "$output" == *"give --new-spec to do that (--force analyzes everything again)"*"nothing was changed"* ]]
	[ "$(db "SELECT count(*) FROM runs; SELECT group_concat(spec_key || status) FROM items;")" = "$before" ]
	[ "$(db "SELECT count(*) FROM attempts")" -eq 3 ]
	run "$SANDRUN" --json --policy default --force media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '"event":"started"')" -eq 2 ]
	# --new-spec confirms the change without redoing what is done under it.
	run "$SANDRUN" --json media/a.wav media/b.wav media/garbage.bin
	[ "$status" -eq 2 ]
	run "$SANDRUN" --json --new-spec media/a.wav media/b.wav media/garbage.bin
	# garbage.bin failed under this very spec: it stays failed
	[ "$(echo "$output" | grep -c '"event":"started"')" -eq 2 ]
	run "$SANDRUN" --json --new-spec media/a.wav media/b.wav media/garbage.bin
	[[ "$output" != *'"event":"started"'* ]]
	# A --cmd run whose --env was forgotten on resume.
	run "$SANDRUN" --db cmd.db --cmd 'wc -c' --output text --env LANG=C media/a.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" --db cmd.db --cmd 'wc -c' --output text media/a.wav
	[ "$status" -eq 2 ]
	[[ "$output" == *"1 done item in cmd.db was analyzed with another job spec (it differs in: --env)"* ]]
}

@test "a store written before limits left the spec key: its items are carried over once, nothing is redone" {
	run "$SANDRUN" media/a.wav media/b.wav
	[ "$status" -eq 0 ]
	# Make it what an earlier version wrote: key format 1, with the limits.
	python3 - <<'PY'
import hashlib, json, sqlite3
db = sqlite3.connect("sandrun.db")
(spec,) = db.execute("SELECT spec FROM runs").fetchone()
(new_key,) = db.execute("SELECT DISTINCT spec_key FROM items").fetchone()
d = json.loads(spec)
d["format"] = 1  # format 1: the limits and the output cap were in the key
del d["etc"]
d["limits"]["mem_bytes"] = 6 << 30
old = json.dumps(d, sort_keys=True, separators=(",", ":"))
old_key = "sha256:" + hashlib.sha256(old.encode()).hexdigest()
db.execute("UPDATE runs SET spec = ?", (old,))
db.execute("UPDATE items SET spec_key = ?", (old_key,))
db.commit()
open("keys", "w").write(old_key + " " + new_key + "\n")
PY
	read -r old_key new_key <keys
	[ "$(db "SELECT DISTINCT spec_key FROM items")" = "$old_key" ]
	run "$SANDRUN" --json --mem 8G media/a.wav media/b.wav
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *'"event":"started"'* ]]
	[ "$(db "SELECT DISTINCT spec_key FROM items")" = "$new_key" ]
	[ "$(db "SELECT count(*) FROM attempts")" -eq 2 ]
}

@test "a failed file stays failed on a rerun and keeps the exit status 1" {
	run "$SANDRUN" media/garbage.bin
	[ "$status" -eq 1 ]
	run "$SANDRUN" media/garbage.bin
	[ "$status" -eq 1 ]
	[ "$(db "SELECT attempts FROM items")" = 1 ]
}

@test "--policy takes a name or a file" {
	run "$SANDRUN" --policy default media/a.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" --policy "$BATS_TEST_DIRNAME/../../policies/strict.json" --db other.db media/a.wav
	[ "$status" -eq 0 ]
}

# ---- limits and retries ----------------------------------------------------------------

@test "--max-output: a job that floods stdout ends as output_limit" {
	export SANDRUN_ANALYZER=$STANDIN
	echo bigout >media/flood
	run "$SANDRUN" --max-output 100K media/flood
	[ "$status" -eq 1 ]
	[ "$(db "SELECT last_outcome FROM items")" = output_limit ]
	[ "$(db "SELECT count(*) FROM results")" = 0 ]
}

@test "--retries and --retry-on decide how many attempts a timeout gets" {
	export SANDRUN_ANALYZER=$STANDIN
	echo hang >media/hang
	run "$SANDRUN" --timeout 0.3 --retries 1 --retry-on default,timeout media/hang
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(db "SELECT attempts || ' ' || last_outcome FROM items")" = "2 timeout" ]
	run "$SANDRUN" --timeout 0.3 --retry-on none --db none.db media/hang
	[ "$(sqlite3 none.db "SELECT attempts FROM items")" = 1 ]
	echo crash >media/crash
	run "$SANDRUN" --retry-on signaled --retries 2 --db sig.db media/crash
	[ "$(sqlite3 sig.db "SELECT attempts || ' ' || last_outcome FROM items")" = "3 signaled" ]
}

@test "a batch of files that hang every time: one attempt each by default, not three (oom and timeout are opt-in retries)" {
	export SANDRUN_ANALYZER=$STANDIN
	for i in 1 2 3 4; do echo hang >media/hang$i; done
	echo oom >media/greedy
	SECONDS=0
	run "$SANDRUN" --timeout 0.3 --mem 32M -j 2 media/hang1 media/hang2 media/hang3 media/hang4 media/greedy
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(db "SELECT group_concat(attempts || ' ' || last_outcome, ',') FROM (SELECT * FROM items ORDER BY path)")" = \
		"1 oom,1 timeout,1 timeout,1 timeout,1 timeout" ]
	[ "$(db "SELECT count(*) FROM attempts")" = 5 ]
	[[ "$output" != *"to be retried"* ]]
	# The old behaviour, when asked for: three attempts of a timeout.
	run "$SANDRUN" --timeout 0.3 --retry-on default,timeout --db old.db media/hang1
	[ "$(sqlite3 old.db "SELECT attempts FROM items")" = 3 ]
	run "$SANDRUN" run --help
	[[ "$output" == *"default: runner_lost,setup_error;"* ]]
}

@test "--mem 1 (a byte, a unit forgotten) and --timeout 10ms warn, naming the value and what is typical" {
	run --separate-stderr "$SANDRUN" --mem 1 --retries 0 media/a.wav
	echo "$stderr"
	[[ "$stderr" == *"warning: --mem is 1 byte: the built-in analyzer needs at least 16 MiB"*"typical limits are 256M to 2G"* ]]
	run --separate-stderr "$SANDRUN" --mem 8M --timeout 10ms --db t.db --retries 0 media/a.wav
	[[ "$stderr" == *"warning: --mem is 8 MiB"* ]]
	[[ "$stderr" == *"warning: --timeout is 10 ms"*"typical deadlines"* ]]
	# A command in its sandbox needs far less: 8M is fine there.
	run --separate-stderr "$SANDRUN" --cmd '/bin/cat' --output text --mem 8M --db c.db media/a.wav
	[ "$status" -eq 0 ]
	[[ "$stderr" != *warning* ]]
	run --separate-stderr "$SANDRUN" exec --mem 1 -- /bin/true
	[[ "$stderr" == *"warning: --mem is 1 byte"* ]]
	# --timeout 0 is refused, not warned about.
	run "$SANDRUN" --timeout 0 media/a.wav
	[ "$status" -eq 2 ]
}

@test "--halt 3: a batch where every file crashes stops after three, the rest stays pending for the fixed command" {
	export SANDRUN_ANALYZER=$STANDIN
	for i in $(seq -w 20); do echo crash >media/c$i; done
	run --separate-stderr "$SANDRUN" -j 1 --halt 3 --json media/c*
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--halt: 3 files failed in this run (of 3 finished); starting nothing new"* ]]
	[[ "$stderr" == *"interrupted by --halt: run the same command again to resume"* ]]
	[ "$(db "SELECT status || ' ' || count(*) FROM items GROUP BY status ORDER BY status" | tr '\n' ,)" = "failed 3,pending 17," ]
	[ "$(echo "$output" | tail -1 | json 'd["interrupted_by"], d["exit_status"]')" = "--halt 1" ]
	[ "$(db "SELECT how FROM runs")" = interrupted ]
	# N%: once 10 have finished.
	run --separate-stderr "$SANDRUN" -j 1 --halt 50% --db pct.db media/c*
	[[ "$stderr" == *"--halt: 10 files failed in this run (of 10 finished)"* ]]
	[ "$(sqlite3 pct.db "SELECT count(*) FROM items WHERE status = 'failed'")" = 10 ]
	for bad in 0 x 101% now, soon,-1; do
		run "$SANDRUN" --halt "$bad" media/c01
		[ "$status" -eq 2 ] || { echo "--halt $bad: $status"; false; }
	done
	[[ "$output" == *"invalid value 'soon,-1' for --halt"* ]]
}

@test "--halt now,1: the first failure stops the running jobs too; they are put back, not counted" {
	export SANDRUN_ANALYZER=$STANDIN
	echo hang >media/a-hang
	echo "crash" >media/b-crash
	run --separate-stderr "$SANDRUN" -j 2 --timeout 60 --halt now,1 media/a-hang media/b-crash
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"stopping the running jobs"* ]]
	[ "$(db "SELECT status || ' ' || attempts FROM items WHERE path LIKE '%a-hang'")" = "pending 0" ]
	[ "$(db "SELECT status || ' ' || last_outcome FROM items WHERE path LIKE '%b-crash'")" = "failed signaled" ]
	[ "$(db "SELECT outcome || ' ' || counted FROM attempts a JOIN items i ON i.id = a.item_id WHERE i.path LIKE '%a-hang'")" = "interrupted 0" ]
}

@test "--memfree above what the machine has: nothing starts; SIGINT leaves the files pending" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 0" >media/quick
	"$SANDRUN" --memfree 100T media/quick 2>err.txt &
	pid=$!
	wait_signals_blocked $pid
	# SIGUSR2 until the status line says why nothing starts.
	for _ in $(seq 100); do
		kill -USR2 $pid
		sleep 0.1
		grep -q "waiting for memory" err.txt && break
	done
	kill -INT $pid
	wait $pid || rc=$?
	[ "${rc:-0}" -eq 130 ]
	grep -q "waiting for memory" err.txt
	[ "$(db "SELECT status || ' ' || attempts FROM items")" = "pending 0" ]
	[ "$(db "SELECT count(*) FROM attempts")" = 0 ]
}

@test "SIGTERM with --grace 0 stops running jobs at once: exit 143, nothing spent" {
	export SANDRUN_ANALYZER=$STANDIN
	echo hang >media/hang
	"$SANDRUN" --grace 0 --json media/hang >ev.txt 2>err.txt &
	pid=$!
	wait_started ev.txt 1
	kill -TERM $pid
	wait $pid || rc=$?
	[ "${rc:-0}" -eq 143 ]
	[ "$(db "SELECT status || ' ' || attempts FROM items")" = "pending 0" ]
	[ "$(db "SELECT outcome || ' ' || counted FROM attempts")" = "interrupted 0" ]
}

@test "SIGHUP (the terminal closed) stops like SIGTERM: attempts given back; the same command finishes with --retries 0" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 1.5" >media/h1
	echo "ok 1.5" >media/h2
	"$SANDRUN" -j 2 --retries 0 --grace 0 --json media/h1 media/h2 >ev.txt 2>err.txt &
	pid=$!
	wait_started ev.txt 2
	kill -HUP $pid
	wait $pid || rc=$?
	[ "${rc:-0}" -eq 129 ]
	grep -q '"interrupted_by":"SIGHUP","exit_status":129' ev.txt
	grep -q "interrupted by SIGHUP" err.txt
	# Released, not charged: no attempt counted, both still pending.
	[ "$(db "SELECT group_concat(status || ' ' || attempts, ',') FROM items")" = "pending 0,pending 0" ]
	[ "$(db "SELECT count(*) FROM attempts WHERE outcome = 'interrupted' AND counted = 0")" = 2 ]
	[ "$(db "SELECT count(*) FROM attempts WHERE counted = 1")" = 0 ]
	run "$SANDRUN" -j 2 --retries 0 media/h1 media/h2
	[ "$status" -eq 0 ]
	[ "$(db "SELECT group_concat(status || ' ' || attempts, ',') FROM items")" = "done 1,done 1" ]
}

@test "SIGHUP while paused (SIGUSR1): the jobs are resumed and finish within the grace" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 1" >media/p1
	"$SANDRUN" --retries 0 --grace 20 --json media/p1 >ev.txt 2>err.txt &
	pid=$!
	wait_started ev.txt 1
	kill -USR1 $pid
	for _ in $(seq 100); do grep -q "paused 1 running job" err.txt && break; sleep 0.05; done
	grep -q "paused 1 running job" err.txt
	sleep 1.5 # frozen: without the resume the job would never end
	kill -HUP $pid
	wait $pid || rc=$?
	[ "${rc:-0}" -eq 129 ]
	grep -q "resumed 1 job" err.txt
	[ "$(db "SELECT status || ' ' || attempts FROM items")" = "done 1" ]
	[ "$(db "SELECT outcome || ' ' || counted FROM attempts")" = "ok 1" ]
}

@test "SIGINT while the list is still being queued: what is queued stays, the rest is not queued, exit 130" {
	export SANDRUN_ANALYZER=$STANDIN
	echo "ok 5" >media/s1
	echo "ok 5" >media/s2
	echo "ok 0" >media/s3
	mkfifo list.fifo
	exec 7<>list.fifo
	printf '%s\n' media/s1 media/s2 >&7
	"$SANDRUN" -j 2 --grace 0 --json --files-from list.fifo >ev.txt 2>err.txt 7>&- &
	pid=$!
	wait_started ev.txt 2
	kill -INT $pid
	wait $pid || rc=$?
	echo media/s3 >&7
	exec 7>&-
	[ "${rc:-0}" -eq 130 ]
	[ "$(db "SELECT count(*) FROM items")" = 2 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'pending' AND attempts = 0")" = 2 ]
	[ "$(db "SELECT count(*) FROM attempts WHERE counted = 0 AND outcome = 'interrupted'")" = 2 ]
	grep -q '"interrupted_by":"SIGINT","exit_status":130' ev.txt
}

@test "SIGKILL while the list is still being queued, then the same command: every file once" {
	export SANDRUN_ANALYZER=$STANDIN
	for i in $(seq -w 1 12); do echo "ok 0.3" >"media/k$i"; done
	mkfifo list.fifo
	exec 7<>list.fifo
	printf '%s\n' media/k0[1-6] >&7 # half the list; the rest never comes
	"$SANDRUN" -j 2 --json --files-from list.fifo >ev1.txt 2>err1.txt 7>&- &
	pid=$!
	wait_started ev1.txt 3
	kill -KILL $pid
	wait $pid || true
	exec 7>&-
	[ "$(db "SELECT count(*) FROM items")" = 6 ]
	ls media/k* >all.list
	run "$SANDRUN" -j 2 --json --files-from all.list
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(*) FROM items WHERE status = 'done'")" = 12 ]
	# Never counted twice: attempts are the counted attempt rows of the
	# budget, and only the 1-2 jobs the kill cut short ran twice.
	[ "$(db "SELECT count(*) FROM items i WHERE i.attempts <> (SELECT count(*) FROM attempts a
		WHERE a.item_id = i.id AND a.budget = i.budget AND a.counted = 1)")" = 0 ]
	lost=$(db "SELECT count(*) FROM attempts WHERE outcome = 'runner_lost'")
	[ "$lost" -le 2 ]
	[ "$(db "SELECT count(*) FROM items WHERE attempts > 1")" = "$lost" ]
	[ "$(db "SELECT count(*) FROM attempts WHERE ended_at IS NULL")" = 0 ]
}

# ---- environment failures -----------------------------------------------------------------

@test "no cgroups: exit 3 with what is missing" {
	run unshare -m sh -c "mount -t tmpfs none /sys/fs/cgroup && exec '$SANDRUN' media/a.wav"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot enforce the sandbox"* ]]
	[[ "$output" == *"sandrun check"* ]]
}

@test "a database that cannot be used: exit 4" {
	mkdir adir.db
	run "$SANDRUN" --db adir.db media/a.wav
	[ "$status" -eq 4 ]
	head -c 4096 /dev/urandom >garbage.db
	run "$SANDRUN" --db garbage.db media/a.wav
	[ "$status" -eq 4 ]
	[[ "$output" == *"garbage.db"* ]]
}
