#!/bin/bash
# examples/post_mortem.sh BUILD_DIR — the post-mortem of issue 14, both ways
# (docs/serve.md). A web server (examples/upload_server.py) takes N
# concurrent uploads (default 6); each request's analyzer
# (examples/pool_analyzer.py) uses a ProcessPoolExecutor with nested pools.
#
#   1. --backend sandrun: the web server hands every upload to `sandrun
#      serve` (-j 2, a pids limit per job): every request finishes with
#      its outcome.
#   2. --backend pool: the plain shape, a ProcessPoolExecutor per request
#      inside the web server, under one process limit for the whole server
#      (--pids, as a service unit's TasksMax= would give it): the nested
#      pools deadlock, the requests are not answered (one that started
#      before the others may be), and the server is killed by its timeout. It runs inside `sandrun exec`, so the hang is
#      contained and ends.
#
# Prints one line per request and a verdict per shape; exit 0 when the
# sandrun shape answered every request with outcome ok and the plain one
# left requests unanswered until its timeout killed it (the comparison
# holds), 1 otherwise. Run it inside the outer test namespace:
#   tests/lib/outer-ns.sh bash examples/post_mortem.sh build/dev
set -u
[ "${SANDRUN_IN_OUTER_NS:-0}" = 1 ] || { echo "run me under tests/lib/outer-ns.sh" >&2; exit 2; }
B=$(cd "${1:?BUILD_DIR}" && pwd)
N=${POST_MORTEM_REQUESTS:-6}
HANG=${POST_MORTEM_TIMEOUT:-20}
EX=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d /tmp/post-mortem.XXXXXX)
chmod 755 "$T"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq "$N"); do head -c $((200000 + i * 1000)) /dev/urandom >"$T/upload$i"; done

# requests SOCKET TAG: N concurrent POSTs; one line each: code, time, answer
requests() {
	local sock=$1 tag=$2 i cpids=()
	for i in $(seq "$N"); do
		curl -s --unix-socket "$sock" --max-time $((HANG + 15)) --data-binary "@$T/upload$i" \
			-o "$T/$tag.out$i" -w '%{http_code} %{time_total}\n' http://localhost/analyze >"$T/$tag.code$i" 2>/dev/null &
		cpids+=($!)
	done
	wait "${cpids[@]}"
	for i in $(seq "$N"); do
		printf '%s request %d: HTTP %s s: %s\n' "$tag" "$i" "$(cat "$T/$tag.code$i")" \
			"$(head -c 160 "$T/$tag.out$i" 2>/dev/null)"
	done
}

# 1. through sandrun serve
"$B/sandrun" serve --socket "$T/sandrun.sock" --db "$T/serve.db" -j 2 \
	--cmd "$PY $EX/pool_analyzer.py" --bind-ro "$EX" --pids 64 --mem 1G --timeout 60 -q 2>"$T/serve.log" &
PIDS+=($!)
"$PY" "$EX/upload_server.py" --listen "unix:$T/web.sock" --backend sandrun --socket "$T/sandrun.sock" \
	2>"$T/web.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/web.sock" ] && [ -S "$T/sandrun.sock" ] && break; sleep 0.2; done
s0=$(date +%s)
requests "$T/web.sock" sandrun
ok=$(cat "$T"/sandrun.code* | grep -c '^200 ')
good=$(cat "$T"/sandrun.out* | grep -c '"outcome": "ok"')
echo "sandrun serve: $ok of $N requests answered (200), $good with outcome ok, in $(($(date +%s) - s0)) s"

# 2. a ProcessPoolExecutor per request, one process limit for the server
mkdir -m 777 "$T/plain"
s0=$(date +%s)
"$B/sandrun" exec --pids 48 --mem 2G --timeout "$HANG" --bind "$T/plain" --bind-ro "$EX" -- \
	"$PY" "$EX/upload_server.py" --listen "unix:$T/plain/web.sock" --backend pool 2>"$T/plain.log" &
EPID=$!
PIDS+=($EPID)
for _ in $(seq 50); do [ -S "$T/plain/web.sock" ] && break; sleep 0.2; done
requests "$T/plain/web.sock" pool
wait "$EPID"
erc=$?
answered=$(cat "$T"/pool.code* | grep -c '^200 ')
echo "ProcessPoolExecutor per request: $answered of $N requests answered; the server ran $(($(date +%s) - s0)) s" \
	"and was killed by its timeout (sandrun exec exit $erc; 124 = timeout)"
grep -m 3 'cannot start a pool' "$T/plain.log" | sed 's/^/  server log: /'
[ "$ok" = "$N" ] || { echo "sandrun serve log:"; tail -n 40 "$T/serve.log"; }
# A request that came in before the others had started their pools may
# still finish; the rest never do, and the server has to be killed.
[ "$ok" = "$N" ] && [ "$good" = "$N" ] && [ "$answered" -lt "$N" ] && [ "$erc" = 124 ]
