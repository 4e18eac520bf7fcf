# bench/pg-lib.sh — what bench/pg-status.sh, pg-report.sh and pg-trigger.sh
# share (sourced, after `set -euo pipefail`):
#   bench_pg_enter NAME BUILD_ARG ARGS...  re-run the script in the outer
#       test namespace (tests/lib/outer-ns.sh) unless already there; sets
#       ROOT, B (the build dir), S (its sandrun), DATA (B/bench-data).
#   bench_pg_start NAME    a throwaway cluster (tests/lib/pg.sh) with fsync
#       on and $PG_EXTRA options, its data under DATA; stopped at exit
#       (bench_pg_cleanup, which a script may extend); exit 3 without one.
#   bench_pg_store SCHEMA [BINARY]  a store in SCHEMA as BINARY (default $S)
#       creates it, with one real item and a run; prints its job spec key.
bench_pg_enter() {
	local name=$1 arg=$2
	shift 2
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	cd "$ROOT"
	B=$(realpath -m "${arg:-build}")
	if [ "${SANDRUN_IN_OUTER_NS:-0}" != 1 ]; then
		[ -x "$B/sandrun" ] || { echo "bench/$name: build first: make B=${arg:-build} programs" >&2; exit 2; }
		exec tests/lib/outer-ns.sh bash "$0" "$@"
	fi
	S=$B/sandrun
	DATA=$B/bench-data
	mkdir -p "$DATA/pg-in1"
	: >"$DATA/pg-in1/f000000"
}

bench_pg_cleanup() { pg_stop; }

bench_pg_start() {
	. "$ROOT/tests/lib/pg.sh"
	trap 'bench_pg_cleanup' EXIT
	export TMPDIR=$DATA
	PG_OPTS="-c fsync=on ${PG_EXTRA:-}"
	pg_start || { echo "bench/$1: no PostgreSQL here: ${PG_SKIP:-pg_start failed}" >&2; exit 3; }
}

bench_pg_store() {
	"${2:-$S}" run --db "$(pg_uri_schema "$1")" --cmd /bin/true --output text -q -j 1 \
		"$DATA/pg-in1/f000000" >/dev/null 2>&1 || true
	pg_psql "select spec_key from $1.items limit 1"
}
