#!/bin/bash
# tests/suites/watch.sh BUILD_DIR — `sandrun watch DIR`: a drop folder.
#
# Files arrive by copy, by rename from a sibling directory, slowly (a
# writer that holds the file open and writes in pieces: never taken before
# its close, even by a full walk after a queue overflow), in a burst that
# certainly overflows the inotify queue (the watcher is stopped while more
# events arrive than the queue holds: the overflow is logged and the walk
# finds what the lost events named), in new subdirectories (made, and
# renamed in whole); --settle waits for a file written twice; SIGTERM
# stops it with status 0, and a restart takes what was dropped while it
# was down, analyzing nothing twice. Every file is checked in the store:
# done, exactly one attempt, and the size and result of its final bytes.
# --max-dirs: beyond it a warning, and the directories within it still
# watched; a runner that cannot take read leases (no CAP_LEASE, a file it
# does not own) says so once and still takes files (fail open, at the
# close event). Usage errors come first. Speaks TAP.
#
# Must run as root inside the outer test namespace (tests/lib/outer-ns.sh).
# Needs bash, sqlite3.
set -u
export LC_ALL=C

B=${1:-}
if [ -z "$B" ] || [ ! -d "$B" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
B=$(cd "$B" && pwd)
SANDRUN=$B/sandrun
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$ROOT/tests/lib/tap.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/sandrun-watch.XXXXXX") || exit 2
chmod 755 "$T"
WPID=
WATCH_WRAP=()
cleanup() {
	[ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

q() { sqlite3 -batch -noheader "$1" "$2" 2>/dev/null; }
# wait_for SECONDS CMD...: until CMD succeeds; 1 on timeout.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
done_count() { q "$1" "SELECT count(*) FROM items WHERE status = 'done'"; }
done_at_least() { [ "$(done_count "$1")" -ge "$2" ] 2>/dev/null; }
# The items of DB that are not: done, one attempt, the size of the file now
# at their path, a result that is that size (wc -c). One line each.
bad_items() {
	local db=$1 path status attempts size result n
	while IFS='|' read -r path status attempts size result; do
		n=$(stat -c %s "$path" 2>/dev/null)
		if [ "$status" != "done" ] || [ "$attempts" != 1 ] || [ "$size" != "$n" ] || [ "${result//[[:space:]]/}" != "$n" ]; then
			echo "$path: status $status, $attempts attempt(s), stored size $size, result '$result', file size $n"
		fi
	done < <(q "$db" "SELECT i.path, i.status, (SELECT count(*) FROM attempts a WHERE a.item_id = i.id),
	                         i.size, trim(CAST(r.value AS TEXT), char(9, 10, 13, 32))
	                    FROM items i LEFT JOIN results r ON r.item_id = i.id ORDER BY i.path")
}
# WATCH DB ERRFILE ARGS...: start sandrun watch in the background (WPID),
# wait until its first walk is done (the "watching" notice is printed
# before it; the run row shows it started).
start_watch() {
	local db=$1 err=$2
	shift 2
	"${WATCH_WRAP[@]}" "$SANDRUN" watch --db "$db" -j2 --grace 5s --cmd 'wc -c' --output text "$@" 2>"$err" &
	WPID=$!
	if ! wait_for 30 grep -q "watching " "$err"; then
		echo "Bail out! sandrun watch did not start: $(head -c 500 "$err")"
		exit 1
	fi
}
stop_watch() { # SIGNAL: the status of watch
	kill -"$1" "$WPID"
	local rc=0
	wait "$WPID" || rc=$?
	WPID=
	return "$rc"
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (the sandbox)"
	exit 0
fi
if ! command -v sqlite3 >/dev/null; then
	echo "1..0 # SKIP needs sqlite3"
	exit 0
fi

echo "1..16"

# ---- usage -------------------------------------------------------------
usage_ok=1
why=
for args in "" "--force $T" "--files-from /dev/null $T" "$T/missing" "-" "--settle soon $T"; do
	# shellcheck disable=SC2086
	"$SANDRUN" watch --db "$T/usage.db" $args >/dev/null 2>"$T/usage.err"
	rc=$?
	if [ "$rc" != 2 ]; then usage_ok=0; why="$why [watch $args: $rc $(head -c 200 "$T/usage.err")]"; fi
done
"$SANDRUN" run --db "$T/usage.db" --settle 1s "$T" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || { usage_ok=0; why="$why [run --settle: $rc]"; }
"$SANDRUN" watch --help | grep -q -- "--settle TIME" || { usage_ok=0; why="$why [help]"; }
if [ "$usage_ok" = 1 ]; then ok "usage errors exit 2 (no DIR, --force, --files-from, a missing DIR, '-', a bad --settle; --settle to run); --help names --settle"; else not_ok "usage errors$why"; fi

# ---- the drop folder -----------------------------------------------------
# The burst overflows the queue for certain: more events than it holds
# (two each: IN_CREATE, IN_CLOSE_WRITE), of files --exclude skips.
MAXQ=$(cat /proc/sys/fs/inotify/max_queued_events)
lowered=
if [ "$MAXQ" -gt 65536 ]; then
	# A host with a huge queue: a smaller one for the watcher started
	# next (read at inotify_init), restored as soon as it runs.
	lowered=$MAXQ
	trap 'echo "$lowered" >/proc/sys/fs/inotify/max_queued_events; cleanup' EXIT
	echo 16384 >/proc/sys/fs/inotify/max_queued_events
	MAXQ=16384
fi
NOISE=$((MAXQ / 2 + 500))
D=$T/drop
S=$T/stage # a sibling on the same file system: mv is a rename
DB=$T/watch.db
mkdir -p "$D" "$S"
printf 'before the start\n' >"$D/before.txt"
start_watch "$DB" "$T/w1.err" -v --exclude '*.skip' "$D"
[ -n "$lowered" ] && echo "$lowered" >/proc/sys/fs/inotify/max_queued_events
check "a file dropped before the start is analyzed (the first walk)" wait_for 30 done_at_least "$DB" 1

head -c 100000 /dev/urandom >"$S/src.bin"
cp "$S/src.bin" "$D/copied.bin"
check "a file copied in is analyzed" wait_for 30 done_at_least "$DB" 2

printf 'renamed in\n' >"$S/moved.txt"
mv "$S/moved.txt" "$D/moved.txt"
check "a file renamed in from a sibling directory is analyzed" wait_for 30 done_at_least "$DB" 3

# New subdirectories: made and filled at once (the walk of a new directory
# closes the race with its watch), and a whole tree renamed in.
mkdir -p "$D/new/a/b"
printf 'deep\n' >"$D/new/a/b/deep.txt"
printf 'shallow\n' >"$D/new/shallow.txt"
mkdir -p "$S/tree/x"
printf 'one\n' >"$S/tree/one.txt"
printf 'two\n' >"$S/tree/x/two.txt"
mv "$S/tree" "$D/tree"
printf 'after the rename\n' >"$D/tree/x/three.txt"
check "files in new subdirectories (made, and renamed in whole) are analyzed" wait_for 30 done_at_least "$DB" 8

# ---- slowly, with an overflow in the middle ------------------------------
# The writer holds the file open and writes in pieces. While it writes,
# the watcher is stopped and more events arrive than the queue holds: the
# overflow's full walk meets the half-written file and must leave it.
(
	exec 3>"$D/slow.txt"
	for i in 1 2 3 4 5 6; do
		printf 'piece %d of the slow file\n' "$i" >&3
		sleep 0.7
	done
) &
SLOW=$!
sleep 0.5
kill -STOP "$WPID"
# In a watched directory (a new one's files make no events until it is
# watched); the real files last, so their events are the ones lost.
for ((i = 0; i < NOISE; i++)); do : >"$D/noise$i.skip"; done
for ((i = 0; i < 30; i++)); do printf 'burst file %d\n' "$i" >"$D/real$i.txt"; done
kill -CONT "$WPID"
wait "$SLOW"
if wait_for 60 done_at_least "$DB" $((8 + 30 + 1)) && grep -q "inotify queue overflowed: rescanning" "$T/w1.err"; then
	ok "the queue overflowed ($NOISE files of two events each, queue $MAXQ; logged) and the walk found the burst"
else
	not_ok "overflow: $(done_count "$DB") done; $(grep -c overflowed "$T/w1.err") overflow lines"
fi
bad=$(bad_items "$DB" | grep 'slow.txt')
if [ -z "$bad" ] && [ "$(q "$DB" "SELECT size FROM items WHERE path = '$D/slow.txt'")" = "$(stat -c %s "$D/slow.txt")" ]; then
	ok "the slowly written file was analyzed once, whole (size and result of its final bytes), though a walk met it half-written"
else
	not_ok "the slow file: $bad"
fi

# ---- stop, drop while down, restart ------------------------------------
stop_watch TERM
rc=$?
if [ "$rc" = 0 ] && grep -q "stopped by SIGTERM" "$T/w1.err"; then
	ok "SIGTERM stops watch with status 0"
else
	not_ok "SIGTERM: status $rc, $(tail -3 "$T/w1.err")"
fi
printf 'dropped while down\n' >"$D/while-down.txt"
printf 'renamed while down\n' >"$S/down-moved.txt"
mv "$S/down-moved.txt" "$D/new/down-moved.txt"
before=$(done_count "$DB")
start_watch "$DB" "$T/w2.err" --exclude '*.skip' "$D"
wait_for 30 done_at_least "$DB" $((before + 2))
sleep 1 # anything analyzed twice would show now
stop_watch INT
rc=$?
bad=$(bad_items "$DB")
total=$(q "$DB" "SELECT count(*) FROM items")
if [ "$rc" = 0 ] && [ -z "$bad" ] && [ "$total" = $((before + 2)) ]; then
	ok "a restart analyzes the files dropped while it was down, and nothing twice"
else
	not_ok "restart: status $rc, $total items (expected $((before + 2)))"
	diag "$bad"
fi
noise_items=$(q "$DB" "SELECT count(*) FROM items WHERE path LIKE '%.skip'")
if [ -z "$bad" ] && [ "$total" -ge 40 ] && [ "$noise_items" = 0 ]; then
	ok "every one of the $total files was analyzed exactly once, with the size and result of its final bytes"
else
	not_ok "exactly once: $noise_items excluded files queued"
	diag "$bad"
fi

# ---- --settle ------------------------------------------------------------
# Written, closed, appended to after a pause shorter than --settle: taken
# once, whole. (Without --settle each close would be a new version.)
D2=$T/settle
DB2=$T/settle.db
mkdir -p "$D2"
start_watch "$DB2" "$T/w3.err" --settle 2s "$D2"
printf 'first half\n' >"$D2/twice.txt"
sleep 1
printf 'second half\n' >>"$D2/twice.txt"
wait_for 30 done_at_least "$DB2" 1
sleep 3
stop_watch TERM
bad=$(bad_items "$DB2")
if [ -z "$bad" ] && [ "$(q "$DB2" "SELECT count(*) FROM attempts")" = 1 ]; then
	ok "--settle 2s: a file closed and appended to within 2 s is analyzed once, whole"
else
	not_ok "--settle: $bad"
fi

# ---- a path too long to name ---------------------------------------------
# The folder's owner chooses names and depth: a file whose path is longer
# than PATH_MAX is an input error of its directory, as in a walk, and the
# watcher goes on (it used to exit 4 at that event).
D3=$T/deep
DB3=$T/deep.db
mkdir -p "$D3"
start_watch "$DB3" "$T/w4.err" "$D3"
seg=$(printf 'd%.0s' $(seq 200))
(
	cd "$D3" || exit 1
	for _ in $(seq 19); do mkdir "$seg" && cd "$seg" || exit 1; done
	: >"$(printf 'f%.0s' $(seq 250))"
)
wait_for 30 test "$(q "$DB3" "SELECT count(*) FROM items WHERE last_error LIKE '%too long%'")" -ge 1
printf 'after\n' >"$D3/after.txt"
wait_for 30 done_at_least "$DB3" 1
if kill -0 "$WPID" 2>/dev/null && [ "$(done_count "$DB3")" = 1 ] &&
	[ "$(q "$DB3" "SELECT count(*) FROM items WHERE last_error LIKE '%too long%'")" -ge 1 ]; then
	ok "a path longer than PATH_MAX is an input error and the watcher goes on (a file after it is analyzed)"
else
	not_ok "a path too long: alive $(kill -0 "$WPID" 2>/dev/null && echo yes || echo no), done $(done_count "$DB3"), $(tail -3 "$T/w4.err")"
fi
stop_watch TERM

# ---- --max-dirs ------------------------------------------------------------
D5=$T/many
DB5=$T/many.db
mkdir -p "$D5"/s1 "$D5"/s2 "$D5"/s3 "$D5"/s4 "$D5"/s5
for i in 1 2 3 4 5; do printf 'in s%s\n' "$i" >"$D5/s$i/f.txt"; done
"$SANDRUN" watch --db "$T/usage.db" --max-dirs 0 "$D5" >/dev/null 2>"$T/usage.err"
rc=$?
"$SANDRUN" run --db "$T/usage.db" --max-dirs 3 "$D5" >/dev/null 2>&1
rc2=$?
check "--max-dirs: 0 is a usage error (2), and it is watch's, not run's (2)" \
	bash -c "[ $rc = 2 ] && [ $rc2 = 2 ] && grep -q -- '--max-dirs' '$T/usage.err'"
start_watch "$DB5" "$T/w5.err" --max-dirs 3 "$D5"
wait_for 30 done_at_least "$DB5" 5
printf 'late\n' >"$D5/late.txt"
wait_for 30 done_at_least "$DB5" 6
stop_watch TERM
diag "$(grep -m1 'directories to watch' "$T/w5.err")"
if grep -q "warning: more than 3 directories to watch (--max-dirs)" "$T/w5.err" &&
	[ "$(grep -c 'directories to watch' "$T/w5.err")" = 1 ] && [ -z "$(bad_items "$DB5")" ] &&
	[ "$(done_count "$DB5")" = 6 ]; then
	ok "--max-dirs 3 with 6 directories: one warning naming the option; the first walk takes every file, a watched directory's new file too"
else
	not_ok "--max-dirs: $(tail -3 "$T/w5.err"); done $(done_count "$DB5"); $(bad_items "$DB5")"
fi

# ---- no read lease: warned once, fail open ---------------------------------
D6=$T/nolease
DB6=$T/nolease.db
mkdir -p "$D6"
WATCH_WRAP=(setpriv --bounding-set=-lease --inh-caps=-lease)
start_watch "$DB6" "$T/w6.err" "$D6"
WATCH_WRAP=()
mkdir -p "$T/stage"
for i in 1 2; do printf 'not mine %s\n' "$i" >"$T/stage/f$i.txt" && chown 4242:4242 "$T/stage/f$i.txt" && mv "$T/stage/f$i.txt" "$D6/"; done
wait_for 30 done_at_least "$DB6" 2
stop_watch TERM
diag "$(grep -m1 'open for writing' "$T/w6.err")"
if [ "$(grep -c 'warning: cannot tell whether files are still open for writing' "$T/w6.err")" = 1 ] &&
	grep -q "use --settle" "$T/w6.err" && [ "$(done_count "$DB6")" = 2 ]; then
	ok "without CAP_LEASE, on files of another uid: warned once (use --settle), the files still taken at their rename"
else
	not_ok "no lease: $(tail -3 "$T/w6.err"); done $(done_count "$DB6")"
fi

# The build is ASan/UBSan's in make test: any report is a failure.
if grep -l -E "runtime error|AddressSanitizer|LeakSanitizer" "$T"/w*.err >/dev/null 2>&1; then
	not_ok "a sanitizer reported: $(grep -h -E -A3 "runtime error|Sanitizer" "$T"/w*.err | head -8)"
else
	ok "no sanitizer report from any watcher"
fi
[ "$failed" -eq 0 ]
