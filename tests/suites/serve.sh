#!/bin/bash
# tests/suites/serve.sh BUILD_DIR — `sandrun serve` and `sandrun submit`
# (docs/serve.md), against real sandboxes. Speaks TAP.
#
#   - 20 concurrent clients submit 200 files (good, malformed, hanging,
#     leaking, nested-pool: tests/serve/mix.py) with --wait: every one gets
#     its precise outcome, nothing hangs, the store has every item;
#   - fairness: one client's 20 queued files do not starve another's one;
#   - the queue bound answers "busy" at once (exit 75, a retry hint);
#   - a client that disconnects mid-wait changes nothing;
#   - a file truncated by its client after the ack changes nothing;
#   - the server SIGKILLed mid-run and started again: every acknowledged
#     file done exactly once (its lost attempt counted as runner_lost);
#   - a path in a request is never opened (inotify, a FIFO without reader);
#   - a uid not allowed is refused (exit 77), an allowed one served;
#   - malformed requests get precise errors;
#   - examples/post_mortem.sh: the web upload handler over sandrun serve
#     answers 6 concurrent nested-pool requests, the plain one hangs;
#   - a file whose reads stall (an overlay over a stopped FUSE daemon,
#     bindfs) does not stall the server: another client's submit and stats
#     are answered meanwhile, the stalled submits get spool_timeout at
#     --spool-timeout, and nothing of them is queued or left in the spool;
#     the processes stuck on one uid's files are bounded (then: busy);
#   - descriptors held ahead of their submits are in no job's table (jobs
#     run to their end meanwhile); the processes on one uid's stalled files
#     are bounded (then its connection is closed); copies under way reserve
#     their limit of the byte quota;
#   - the per-uid spool quota (--quota-files, --quota-bytes): "quota",
#     exit 75, nothing of the refused files queued; the server's uid exempt.
#
# Must run as root inside the outer test namespace (tests/lib/outer-ns.sh):
# the mix's leak and nested-pool jobs are hostile. Needs python3, sqlite3,
# setpriv.
set -u
export LC_ALL=C

B=${1:-}
if [ -z "$B" ] || [ ! -d "$B" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
B=$(cd "$B" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/tap.sh"
SANDRUN=$B/sandrun
PY=/usr/bin/python3
MIX=$ROOT/tests/serve/mix.py
PROTO=$ROOT/tests/serve/proto.py
T=$(mktemp -d "${TMPDIR:-/tmp}/sandrun-serve.XXXXXX") || exit 2
chmod 755 "$T"
SPIDS=()

cleanup() {
	for p in "${SPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

echo "1..35"

# The mix's job: every kind of file through one job spec.
MIXCMD=(--cmd "$PY $MIX" --env MIX_EXAMPLES="$ROOT/examples" --bind-ro "$ROOT/examples"
	--bind-ro "$ROOT/tests/serve" --timeout 8 --mem 256M --pids 64 -q)
# (8 s: a good job takes well under a second, but this machine may be
# shared; hang and nested end at the timeout, 20 of them on 4 slots.)

# start_server NAME ARGS...: serve on $T/NAME.sock with $T/NAME.db; SPID.
start_server() {
	local name=$1
	shift
	"$SANDRUN" serve --socket "$T/$name.sock" --db "$T/$name.db" "$@" 2>>"$T/$name.log" &
	SPID=$!
	SPIDS+=("$SPID")
	for _ in $(seq 100); do
		[ -S "$T/$name.sock" ] && "$SANDRUN" submit --socket "$T/$name.sock" --stats >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.2
	done
	diag "server $name did not start: $(tail -n 5 "$T/$name.log")"
	return 1
}
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	timeout 30 tail --pid="$SPID" -f /dev/null
	wait "$SPID" 2>/dev/null
}
# pending + running items of a store
unfinished() { sqlite3 "$1" "select count(*) from items where status in ('pending','running')"; }
wait_finished() { # DB SECONDS
	for _ in $(seq $(($2 * 5))); do [ "$(unfinished "$1")" = 0 ] && return 0; sleep 0.2; done
	return 1
}
mkfile() { printf '%s\n' "$2" >"$1"; chmod 644 "$1"; }

# ---- 1. 20 concurrent clients, 200 files, every outcome -----------------
mkdir "$T/mix"
kind_of() { # the i-th file's kind
	case $(($1 % 20)) in
	14 | 15) echo malformed ;; 16) echo hang ;; 17) echo leak ;; 18) echo nested ;; *) echo good ;;
	esac
}
for c in $(seq -w 1 20); do
	for f in $(seq -w 1 10); do
		i=$((10#$c * 10 + 10#$f))
		mkfile "$T/mix/c${c}_f$f.$(kind_of $i)" "$(kind_of $i)"
	done
done
if start_server mix -j 4 "${MIXCMD[@]}"; then
	t0=$(date +%s)
	for c in $(seq -w 1 20); do
		timeout 300 "$SANDRUN" submit --socket "$T/mix.sock" --wait --json "$T/mix/c${c}_"* \
			>"$T/mix/out$c" 2>"$T/mix/err$c" &
		CPIDS[10#$c]=$!
	done
	rcs=""
	for c in $(seq 1 20); do wait "${CPIDS[$c]}"; rcs="$rcs $?"; done
	t1=$(date +%s)
	diag "200 files over 20 clients in $((t1 - t0)) s; client exit statuses:$rcs"
	for i in $(seq 5); do # the machine may be busy: nothing is ever left unfinished
		[ "$(unfinished "$T/mix.db")" = 0 ] && break; sleep 1
	done
	check "20 clients: none hung, each exit 1 (some of its files failed) or 0" \
		bash -c "! printf '%s\n' $rcs | grep -qvE '^(0|1)$'"
	verdict=$(cat "$T"/mix/out* | $PY -c '
import json, sys, os
want = {"good": "ok", "malformed": "bad_output", "hang": "timeout", "leak": "oom", "nested": "timeout"}
seen, bad = set(), []
for line in sys.stdin:
    a = json.loads(line)
    f = a.get("file", "")
    kind = f.rsplit(".", 1)[-1]
    seen.add(f)
    st = "done" if want[kind] == "ok" else "failed"
    if a.get("op") != "result" or a.get("outcome") != want[kind] or a.get("status") != st:
        bad.append(f"{os.path.basename(f)}: {a}")
print(len(seen), len(bad))
for b in bad[:5]: print(b)')
	check "200 answers, one per file, each with its file's precise outcome" [ "${verdict%%$'\n'*}" = "200 0" ]
	[ "${verdict%%$'\n'*}" = "200 0" ] || printf '%s\n' "$verdict" | sed 's/^/# /'
	cnt=$(sqlite3 "$T/mix.db" "select count(*) from items where client_uid = 0 and client_pid > 0 and status in ('done','failed')")
	check "the store has 200 finished items, each with its client's identity" [ "$cnt" = 200 ]
	st=$("$SANDRUN" status --db "$T/mix.db" --json 2>&1)
	check "sandrun status sees them (done 150, failed 50)" \
		bash -c "printf '%s' '$st' | jq -e '.items.done == 150 and .items.failed == 50' >/dev/null"
	check "sandrun list sees them" [ "$("$SANDRUN" list --db "$T/mix.db" | wc -l)" = 200 ]
	stats=$("$SANDRUN" submit --socket "$T/mix.sock" --stats)
	check "stats: 200 submitted, 150 ok, 20 timeout, 10 oom, 20 bad_output, queue empty" \
		bash -c "printf '%s' '$stats' | jq -e '.submitted == 200 and .outcomes.ok == 150 and .outcomes.timeout == 20
			and .outcomes.oom == 10 and .outcomes.bad_output == 20 and .queued == 0 and .running == 0' >/dev/null"
	[ -n "$(ls "$T/mix.db.spool")" ] && left=$(ls "$T/mix.db.spool" | wc -l) || left=0
	check "done items' spooled copies are removed, failed ones' kept (50)" [ "$left" = 50 ]
	stop_server
	check "SIGTERM stops the server cleanly (exit 0) and removes its socket" \
		bash -c "wait $SPID 2>/dev/null; [ ! -e '$T/mix.sock' ]"
else
	for i in $(seq 8); do not_ok "the mix server did not start"; done
fi

# ---- 2. fairness ----------------------------------------------------------
mkdir "$T/fair"
for i in $(seq -w 1 20); do mkfile "$T/fair/root$i" "sleep 0.2"; done
mkfile "$T/fair/other" "sleep 0.2"
if start_server fair -j 1 --socket-mode 0666 "${MIXCMD[@]}"; then
	"$SANDRUN" submit --socket "$T/fair.sock" "$T"/fair/root* >/dev/null
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SANDRUN" submit --socket "$T/fair.sock" --wait "$T/fair/other" >"$T/fair/out" 2>&1
	rc=$?
	after=$(sqlite3 "$T/fair.db" "select count(*) from items r, items o where o.client_uid = 65534
		and r.client_uid = 0 and (r.status = 'pending' or r.last_attempt > o.last_attempt)")
	diag "uid 65534's one file: exit $rc; root's files claimed after it: $after of 20"
	check "fairness: another client's one file runs before most of one client's 20 queued (>= 15 after it)" \
		[ "$rc" = 0 ] && [ "$after" -ge 15 ]
	stop_server
else
	not_ok "the fairness server did not start"
fi

# ---- 3. the queue bound ---------------------------------------------------
mkdir "$T/busy"
for i in 1 2 3 4; do mkfile "$T/busy/f$i" "sleep 30"; done
if start_server busy -j 1 --max-queue 3 --grace 0 "${MIXCMD[@]}" --timeout 60; then
	"$SANDRUN" submit --socket "$T/busy.sock" "$T/busy/f1" "$T/busy/f2" "$T/busy/f3" >/dev/null
	s0=$(date +%s%N)
	out=$("$SANDRUN" submit --socket "$T/busy.sock" --json "$T/busy/f4" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - s0) / 1000000))
	diag "4th submit: exit $rc after $ms ms: $out"
	check "beyond --max-queue: busy at once (exit 75, < 2 s), with a retry hint" \
		bash -c "[ $rc = 75 ] && [ $ms -lt 2000 ] && printf '%s' '$out' | jq -e '.error == \"busy\" and .retry_after_ms > 0' >/dev/null"
	check "a busy file is not queued (3 items)" [ "$(sqlite3 "$T/busy.db" 'select count(*) from items')" = 3 ]
	stop_server
else
	not_ok "the busy server did not start"; not_ok "the busy server did not start"
fi

# ---- 4. disconnect mid-wait, truncate after ack, bad requests, paths -----
mkdir "$T/misc"
mkfile "$T/misc/slow" "sleep 2"
{ echo good; head -c 1000000 /dev/zero | tr '\0' x; } >"$T/misc/big"
mkfile "$T/misc/watched" "good"
mkfile "$T/misc/other" "good"
mkfifo "$T/misc/fifo"
if start_server misc -j 2 --socket-mode 0666 "${MIXCMD[@]}"; then
	$PY "$PROTO" disconnect "$T/misc.sock" "$T/misc/slow"
	sleep 0.3
	check "a client gone mid-wait: the server goes on serving" \
		bash -c "'$SANDRUN' submit --socket '$T/misc.sock' --stats >/dev/null"
	id=$("$SANDRUN" submit --socket "$T/misc.sock" --json "$T/misc/big" | jq -r .id)
	: >"$T/misc/big" # truncated by its owner after the ack
	wait_finished "$T/misc.db" 30
	res=$("$SANDRUN" submit --socket "$T/misc.sock" --status "$id" --json)
	check "a file truncated after the ack is analyzed as it was (1000005 bytes)" \
		bash -c "printf '%s' '$res' | jq -e '.status == \"done\" and .result.bytes == 1000005' >/dev/null"
	check "the disconnected client's file still ran to its outcome (done, ok)" \
		[ "$(sqlite3 "$T/misc.db" "select status || ' ' || last_outcome from items where id = 1")" = "done ok" ]
	out=$($PY "$PROTO" paths "$T/misc.sock" "$T/misc/watched" "$T/misc/fifo" "$T/misc/other")
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	check "a path in a request is refused and never opened (inotify, FIFO without reader)" [ "$rc" = 0 ]
	a=$($PY "$PROTO" raw "$T/misc.sock" 'not json')
	check "a line that is not JSON: bad_request" bash -c "printf '%s' '$a' | jq -e '.error == \"bad_request\"' >/dev/null"
	a=$($PY "$PROTO" raw "$T/misc.sock" '{"op":"submit"}')
	check "a submit without a descriptor: no_fd" bash -c "printf '%s' '$a' | jq -e '.error == \"no_fd\"' >/dev/null"
	a=$($PY "$PROTO" raw "$T/misc.sock" '{"op":"status","id":999999}')
	check "status of an unknown id: not_found" bash -c "printf '%s' '$a' | jq -e '.error == \"not_found\"' >/dev/null"
	"$SANDRUN" submit --socket "$T/misc.sock" "$T/misc/fifo" >/dev/null 2>"$T/misc/err"
	check "a FIFO's descriptor: refused (exit 65), names what it is" \
		bash -c "[ $? = 65 ] && grep -q 'is a FIFO' '$T/misc/err'"
	id=$("$SANDRUN" submit --socket "$T/misc.sock" --json "$T/misc/other" | jq -r .id)
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$SANDRUN" submit --socket "$T/misc.sock" --status "$id" 2>&1)
	check "another uid cannot see an item (not_found)" bash -c "printf '%s' '$out' | grep -q 'no item'"
	stop_server
else
	for i in $(seq 9); do not_ok "the misc server did not start"; done
fi

# ---- 5. SIGKILL mid-run, restart: nothing acknowledged lost, nothing twice -
mkdir "$T/kill"
for i in $(seq -w 1 16); do mkfile "$T/kill/f$i" "sleep 1"; done
if start_server kill -j 2 "${MIXCMD[@]}"; then
	acked=$("$SANDRUN" submit --socket "$T/kill.sock" "$T"/kill/f* | grep -c pending)
	sleep 1.5
	kill -KILL "$SPID"
	wait "$SPID" 2>/dev/null
	running=$(sqlite3 "$T/kill.db" "select count(*) from items where status = 'running'")
	diag "acknowledged $acked; running when killed: $running"
	if start_server kill -j 2 "${MIXCMD[@]}"; then
		wait_finished "$T/kill.db" 60
		q=$(sqlite3 "$T/kill.db" "select count(*), sum(status = 'done'),
			sum((select count(*) from attempts a where a.item_id = i.id and a.outcome = 'ok') = 1),
			(select count(*) from attempts where outcome = 'runner_lost') from items i")
		diag "items, done, with exactly one ok attempt, runner_lost attempts: $q"
		check "after SIGKILL and restart: all 16 acknowledged files done, each ok exactly once" \
			[ "$acked|$q" = "16|16|16|16|$running" ]
		check "the lost attempts are counted as runner_lost" [ "$running" -ge 1 ]
		stop_server
	else
		not_ok "restart"; not_ok "restart"
	fi
else
	not_ok "the kill server did not start"; not_ok "the kill server did not start"
fi

# ---- 6. who may submit ---------------------------------------------------
mkfile "$T/allowed" good
if start_server uid -j 1 --socket-mode 0666 --allow-uid 65533 "${MIXCMD[@]}"; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SANDRUN" submit --socket "$T/uid.sock" "$T/allowed" \
		>"$T/uid.out" 2>&1
	rc=$?
	diag "uid 65534: exit $rc: $(cat "$T/uid.out")"
	check "a uid not allowed is refused (exit 77, forbidden, names the uid)" \
		bash -c "[ $rc = 77 ] && grep -q 'uid 65534 .*forbidden' '$T/uid.out'"
	setpriv --reuid=65533 --regid=65533 --clear-groups "$SANDRUN" submit --socket "$T/uid.sock" --wait "$T/allowed" \
		>"$T/uid.out" 2>&1
	check "an allowed uid is served" bash -c "[ $? = 0 ] && grep -q 'done.ok' '$T/uid.out'"
	check "nothing of the refused uid was queued" \
		[ "$(sqlite3 "$T/uid.db" 'select group_concat(client_uid) from items')" = 65533 ]
	stop_server
else
	not_ok "uid server"; not_ok "uid server"; not_ok "uid server"
fi

# ---- 7. the example web client (examples/post_mortem.sh) -------------------
out=$(POST_MORTEM_TIMEOUT=15 timeout 180 bash "$ROOT/examples/post_mortem.sh" "$B" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
check "examples: 6 concurrent uploads with nested-pool analyzers all answered through sandrun serve; the plain pool-per-request server hangs and is killed by its timeout" \
	[ "$rc" = 0 ]

# ---- 8. the per-uid spool quota ---------------------------------------------
mkdir "$T/quota"
chmod 755 "$T/quota"
for f in a b c d; do mkfile "$T/quota/$f" small; done
head -c 3000 /dev/zero >"$T/quota/big" && chmod 644 "$T/quota/big"
if start_server quota -j 1 --cmd 'sleep 30' --grace 0 -q --socket-mode 0666 --quota-files 2 --quota-bytes 2K; then
	as() { setpriv --reuid="$1" --regid="$1" --clear-groups "${@:2}"; }
	as 65534 "$SANDRUN" submit --socket "$T/quota.sock" "$T/quota/a" "$T/quota/b" >"$T/quota/out1" 2>&1
	rc1=$?
	as 65534 "$SANDRUN" submit --socket "$T/quota.sock" --json "$T/quota/c" >"$T/quota/out2" 2>&1
	rc2=$?
	diag "uid 65534: $rc1, then $rc2: $(cat "$T/quota/out2")"
	check "a uid at --quota-files is answered quota (exit 75), its first files taken" \
		bash -c "[ $rc1 = 0 ] && [ $rc2 = 75 ] && jq -e '.error == \"quota\" and (.message | test(\"uid 65534 holds 2 files\"))' '$T/quota/out2' >/dev/null"
	as 65533 "$SANDRUN" submit --socket "$T/quota.sock" "$T/quota/big" >"$T/quota/out3" 2>&1
	rc3=$?
	diag "uid 65533, 3000 bytes: $rc3: $(cat "$T/quota/out3")"
	check "a file that would take a uid past --quota-bytes is refused (quota, exit 75), nothing of it kept" \
		bash -c "[ $rc3 = 75 ] && grep -q quota '$T/quota/out3' && [ \$(ls -A '$T/quota.db.spool' | wc -l) = 2 ]"
	"$SANDRUN" submit --socket "$T/quota.sock" "$T/quota/c" "$T/quota/d" >/dev/null 2>&1
	rc4=$?
	check "the server's own uid is not held to the quota; the store has exactly the files taken" \
		bash -c "[ $rc4 = 0 ] && [ \"\$(sqlite3 '$T/quota.db' 'select group_concat(client_uid) from items order by id')\" = 65534,65534,0,0 ]"
	stop_server
else
	for i in 1 2 3; do not_ok "the quota server did not start"; done
fi

# ---- 9. a stalled file system: the copy is a child's, with a deadline -----
F=$T/fuse
if ! command -v bindfs >/dev/null || [ ! -c /dev/fuse ]; then
	for i in 1 2 3 4 5 6; do skip "stalled spool: needs bindfs and /dev/fuse"; done
elif ! { mkdir -p "$F/src" "$F/mnt" "$F/up" "$F/wk" "$F/ovl" && mkfile "$F/src/slow" "stalled bytes" &&
	bindfs "$F/src" "$F/mnt" && mount -t overlay overlay \
		-o "lowerdir=$F/mnt,upperdir=$F/up,workdir=$F/wk" "$F/ovl"; }; then
	for i in 1 2 3 4 5 6; do skip "stalled spool: cannot mount bindfs and an overlay over it here"; done
	umount "$F/mnt" 2>/dev/null
else
	fusepid=$(pgrep -n -x bindfs)
	mkfile "$T/fuse/other" good
	mkfile "$T/fuse/other.2" good2
	if start_server stall -j 1 --cmd cat --output text -q --spool-timeout 3s; then
		out=$($PY "$PROTO" stall "$T/stall.sock" "$F/ovl/slow" "$fusepid" "$F/other" 3)
		rc=$?
		printf '%s\n' "$out" | sed 's/^/# /'
		check "a stalled file's copy (overlay over a stopped FUSE daemon) stalls nothing: another client's submit and stats answered at once, 5 stalled ones spool_timeout at --spool-timeout; 10 processes stuck on one uid's files make its next submit busy until the daemon answers" \
			[ "$rc" = 0 ]
		wait_finished "$T/stall.db" 30
		check "nothing of the stalled file was queued: two items, the other client's, done" \
			[ "$(sqlite3 "$T/stall.db" "select group_concat(status) from items")" = done,done ]
		check "... and nothing of it is left in the spool; the server still answers" \
			bash -c "[ -z \"\$(ls -A '$T/stall.db.spool')\" ] && '$SANDRUN' submit --socket '$T/stall.sock' --stats >/dev/null"
		stop_server
	else
		for i in 1 2 3; do not_ok "the stall server did not start"; done
	fi
	# A FUSE connection whose daemon was stopped during a FLUSH may stop
	# sending FLUSH at all once it answers (ENOSYS): each test below that
	# needs a close to hang gets a fresh bindfs and overlay.
	fresh_fuse() { # NAME: mounts $F/NAME/ovl over its own bindfs, sets fusepid
		local d=$F/$1
		mkdir -p "$d/src" "$d/mnt" "$d/up" "$d/wk" "$d/ovl" && mkfile "$d/src/slow" "stalled bytes" &&
			bindfs "$d/src" "$d/mnt" && fusepid=$(pgrep -n -x bindfs) &&
			mount -t overlay overlay -o "lowerdir=$d/mnt,upperdir=$d/up,workdir=$d/wk" "$d/ovl"
	}
	unfuse() { kill -CONT "$fusepid" 2>/dev/null; umount "$F/$1/ovl" "$F/$1/mnt" 2>/dev/null; }
	# One server, one proto.py check: NAME PROTO-ARGS... -- CHECK-TEXT -- SERVER-ARGS...
	proto_case() {
		local name=$1 pargs=() text
		shift
		while [ "$1" != -- ]; do pargs+=("$1"); shift; done # SPID: the server's pid
		text=$2
		shift 3
		if start_server "$name" -j 1 --cmd cat --output text -q "$@"; then
			pargs=("${pargs[@]/#SPID/$SPID}")
			out=$($PY "$PROTO" "${pargs[0]}" "$T/$name.sock" "$F/$name/ovl/slow" "$fusepid" "$F/other" \
				"${pargs[@]:1}")
			rc=$?
			printf '%s\n' "$out" | sed 's/^/# /'
			check "$text" [ "$rc" = 0 ]
			stop_server
		else
			not_ok "the $name server did not start"
		fi
		unfuse "$name"
	}
	# Descriptors held ahead of their submits are in no job's table.
	kill -CONT "$fusepid" 2>/dev/null
	umount "$F/ovl" "$F/mnt"
	fresh_fuse hold || diag "cannot mount a fresh bindfs"
	proto_case hold hold 3 -- "3 descriptors of a stalled FUSE file sent with no submit line, the connection kept: 3 other submits (-j 1) run to their end, no job inherits them" -- --spool-timeout 3s
	# Processes on one uid's files are bounded: then its connection closes.
	fresh_fuse flood || diag "cannot mount a fresh bindfs"
	proto_case flood flood SPID 65534 -- "a uid looping submits of a stalled FUSE file: busy, then disconnected at 32 processes; the server's children bounded, stats answered" -- --spool-timeout 30s --socket-mode 0666
	# The byte quota holds with copies under way: each reserves its limit.
	fresh_fuse reserve || diag "cannot mount a fresh bindfs"
	proto_case reserve reserve 65533 3 -- "--quota-bytes with a copy under way: its limit is reserved (the next file quota), freed when it ends" -- --spool-timeout 3s --socket-mode 0666 --quota-bytes 2K
fi
[ "$failed" -eq 0 ]
