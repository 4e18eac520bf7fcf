# tests/lib/pg.sh — a throwaway PostgreSQL cluster for the tests (sourced).
#
#   pg_start        start a cluster in a private directory under $TMPDIR
#                   (/tmp: the outer test namespace's tmpfs): initdb and
#                   pg_ctl as the postgres user, unix socket only, no TCP,
#                   fsync off. Sets PG_DIR and PG_URI
#                   (postgresql:///postgres?host=$PG_DIR&user=sandrun).
#                   Returns 1 with PG_SKIP set to the reason when this host
#                   has no PostgreSQL server binaries or no postgres user,
#                   or when we are not root (the caller prints a TAP skip).
#   pg_suite_start  pg_start for a TAP suite, or end the suite: a visible
#                   skip (no server here) or one failure.
#                   PG_OPTS: more server options ("-c name=value ..."),
#                   after the defaults (bench/pg.sh: fsync on, statistics).
#   pg_suite_workdir  W: a scratch directory of the suite's; on exit the
#                   processes in $PIDS are killed, the cluster stopped and
#                   W removed.
#   pg_stop         stop it (immediate) and remove the directory.
#   pg_server_down  stop the server (fast: sessions are terminated, as in a
#                   restart or a failover), keeping the cluster.
#   pg_server_up    start it again, with the same options.
#   pg_psql SQL...  run SQL through psql on the cluster, unaligned.
#   pg_wait_for SECONDS SQL   until SQL returns t (1 when it never did).
#   pg_uri_schema NAME   $PG_URI for the sandrun schema NAME.
# Debian's postgresql package provides /usr/lib/postgresql/*/bin.
PG_DIR= PG_URI= PG_SKIP= PGBIN=

pg_start() {
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
		PG_SKIP="no PostgreSQL server binaries (Debian package postgresql)"; return 1
	fi
	if ! id postgres >/dev/null 2>&1; then PG_SKIP="no postgres user"; return 1; fi
	if [ "$(id -u)" != 0 ]; then PG_SKIP="not root (initdb runs as postgres)"; return 1; fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pg.XXXXXX") || return 1
	chown postgres: "$PG_DIR" && chmod 700 "$PG_DIR"
	runuser -u postgres -- "$PGBIN/initdb" -D "$PG_DIR/data" -A trust -U sandrun --no-sync \
		-E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || {
		echo "# initdb failed:"; sed 's/^/#   /' "$PG_DIR/initdb.log"; return 2; }
	pg_server_up || return 2
	PG_URI="postgresql:///postgres?host=$PG_DIR&user=sandrun"
	export PG_DIR PG_URI PGBIN
}

pg_server_up() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DIR/data" -s -w \
		-o "-k $PG_DIR -c listen_addresses= -c fsync=off -c max_connections=60 ${PG_OPTS:-}" \
		-l "$PG_DIR/log" start || {
		echo "# pg_ctl start failed:"; sed 's/^/#   /' "$PG_DIR/log"; return 1; }
}

pg_server_down() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DIR/data" -s -w -m fast stop
}

pg_suite_start() {
	pg_start && return 0
	if [ -n "$PG_SKIP" ]; then echo "1..0 # SKIP $PG_SKIP"; exit 0; fi
	echo "1..1"; echo "not ok 1 - start a throwaway PostgreSQL cluster"; exit 1
}

pg_suite_workdir() {
	W=$(mktemp -d)
	PIDS=
	trap 'for p in ${PIDS:-}; do kill -KILL "$p" 2>/dev/null; done; pg_stop; rm -rf "$W"' EXIT
}

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DIR/data" -s -m immediate stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=
}

pg_psql() {
	"$PGBIN/psql" "host=$PG_DIR user=sandrun dbname=postgres" -v ON_ERROR_STOP=1 -Atqc "$*"
}

pg_uri_schema() {
	printf '%s&options=-c%%20sandrun.schema%%3D%s' "$PG_URI" "$1"
}

pg_wait_for() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do [ "$(pg_psql "$2" 2>/dev/null)" = t ] && return 0; sleep 0.2; done
	return 1
}
