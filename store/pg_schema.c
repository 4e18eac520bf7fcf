/* store/pg_schema.c — the PostgreSQL schema (version PG_SCHEMA_VERSION) in a
 * schema of its own (sandrun.schema, default "sandrun"), created by the
 * first read-write open and checked by every open. docs/scale-out.md has
 * the tables; they mirror SQLite's (docs/store.md) with database time. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times are bigint milliseconds since the epoch, taken from the server's
 * clock (now_ms(): the transaction's start), so host clocks do not matter.
 * The hot table, items, stays narrow: stderr tails live in attempts,
 * results in results. */
static const char schema_v1[] =
	"CREATE FUNCTION now_ms() RETURNS bigint LANGUAGE sql STABLE"
	" AS 'SELECT (extract(epoch FROM now()) * 1000)::bigint';\n"
	"CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);\n"
	"CREATE TABLE runs (\n"
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  version text NOT NULL,\n"
	"  argv json,\n"
	"  spec json,\n"
	"  hostname text NOT NULL,\n"
	"  boot_id text NOT NULL,\n"
	"  pid_ns text NOT NULL,\n"
	"  pid integer NOT NULL,\n"
	"  pid_start bigint NOT NULL,\n"
	"  started_at bigint NOT NULL,\n"
	"  heartbeat_at bigint NOT NULL,\n"
	"  ended_at bigint,\n"
	"  how text CHECK (how IN ('completed','interrupted','lost')),\n"
	"  summary json\n"
	");\n"
	"CREATE INDEX runs_open ON runs(heartbeat_at) WHERE ended_at IS NULL;\n"
	"CREATE TABLE items (\n"
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  path bytea NOT NULL UNIQUE,\n"
	"  spec_key text NOT NULL,\n"
	"  size bigint,\n"
	"  mtime_ns bigint,\n"
	"  status text NOT NULL CHECK (status IN ('pending','running','done','failed')),\n"
	"  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  budget integer NOT NULL DEFAULT 1,\n"
	"  last_outcome text,\n"
	"  last_error text,\n"
	"  last_attempt bigint,\n"
	"  lease_run bigint REFERENCES runs(id),\n"
	"  lease_attempt bigint,\n"
	"  lease_pid integer,\n"
	"  lease_pid_start bigint,\n"
	"  lease_heartbeat_at bigint,\n"
	"  enqueued_at bigint NOT NULL,\n"
	"  updated_at bigint NOT NULL,\n"
	"  quarantined_to text,\n"
	"  quarantined_at bigint,\n"
	"  CHECK ((status = 'running') = (lease_run IS NOT NULL))\n"
	");\n"
	"CREATE INDEX items_claim ON items(spec_key, id) WHERE status = 'pending';\n"
	"CREATE INDEX items_status ON items(status, last_outcome);\n"
	"CREATE INDEX items_running ON items(lease_run) WHERE status = 'running';\n"
	"CREATE TABLE attempts (\n"
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"  item_id bigint NOT NULL REFERENCES items(id),\n"
	"  run_id bigint REFERENCES runs(id),\n"
	"  budget integer NOT NULL,\n"
	"  attempt_no integer NOT NULL,\n"
	"  counted smallint NOT NULL DEFAULT 1 CHECK (counted IN (0,1)),\n"
	"  started_at bigint NOT NULL,\n"
	"  ended_at bigint,\n"
	"  outcome text,\n"
	"  exit_code integer,\n"
	"  signal integer,\n"
	"  syscall text,\n"
	"  wall_ms bigint,\n"
	"  cpu_ms bigint,\n"
	"  peak_memory_bytes bigint,\n"
	"  oom_kills bigint,\n"
	"  error text,\n"
	"  stderr_tail bytea CHECK (length(stderr_tail) <= 65536)\n"
	");\n"
	"CREATE INDEX attempts_item ON attempts(item_id);\n"
	"CREATE INDEX attempts_run ON attempts(run_id, counted, ended_at);\n"
	"CREATE INDEX attempts_resources ON attempts(wall_ms, peak_memory_bytes)"
	" WHERE wall_ms IS NOT NULL;\n"
	/* A result is jsonb when its kind is json, text or bytea otherwise:
	 * exactly one value column, the one of its kind. */
	"CREATE TABLE results (\n"
	"  item_id bigint PRIMARY KEY REFERENCES items(id),\n"
	"  attempt_id bigint NOT NULL REFERENCES attempts(id),\n"
	"  kind text NOT NULL CHECK (kind IN ('json','text','blob')),\n"
	"  value_json jsonb,\n"
	"  value_text text,\n"
	"  value_blob bytea,\n"
	"  stored_at bigint NOT NULL,\n"
	"  CHECK ((value_json IS NOT NULL) = (kind = 'json')"
	"     AND (value_text IS NOT NULL) = (kind = 'text')"
	"     AND (value_blob IS NOT NULL) = (kind = 'blob'))\n"
	");\n";

/* Version 2: a JSON result also as the text the job printed (jsonb keeps
 * neither key order nor duplicate keys), so list, show and export print
 * it exactly as on SQLite; value_json stays for queries in SQL. Rows of
 * version 1 have it NULL: readers fall back to value_json::text. */
static const char schema_v2[] = "ALTER TABLE results ADD COLUMN value_json_text text;\n";

/* Version 3 (issue 15, item 9): what a job printed on stdout when the
 * attempt did not end ok, its first STORE_OUTPUT_HEAD_MAX bytes, for
 * `show` (as SQLite's schema 2). Self-contained: one ALTER. */
static const char schema_v3[] =
	"ALTER TABLE attempts ADD COLUMN output_head bytea CHECK (length(output_head) <= 4096);\n";

/* Version 4 (sandrun serve; MIGRATION "serve", self-contained): the client
 * that submitted an item over the service socket and the item's place in
 * the fair queue; claims go by (queue_seq NULLS FIRST, id), so items of
 * `sandrun run` (no queue_seq) keep their id order. docs/serve.md. */
static const char schema_v4[] =
	"ALTER TABLE items ADD COLUMN IF NOT EXISTS client_uid bigint,"
	" ADD COLUMN IF NOT EXISTS client_gid bigint, ADD COLUMN IF NOT EXISTS client_pid bigint,"
	" ADD COLUMN IF NOT EXISTS client_name text, ADD COLUMN IF NOT EXISTS queue_seq bigint;\n"
	"DROP INDEX IF EXISTS items_claim;\n"
	"CREATE INDEX items_claim ON items(spec_key, queue_seq NULLS FIRST, id) WHERE status = 'pending';\n"
	"CREATE INDEX IF NOT EXISTS items_client ON items(client_uid, queue_seq)"
	" WHERE status IN ('pending', 'running') AND client_uid IS NOT NULL;\n";

/* Version 5 (--retry-delay; self-contained, as SQLite's schema 4): the time
 * (ms since the epoch, by the database's clock: now_ms()) before which a
 * pending item is not claimed; NULL = claimable now. docs/runner.md
 * "Retry delay". */
static const char schema_v5[] = "ALTER TABLE items ADD COLUMN IF NOT EXISTS not_before bigint;\n";

/* Version 6 (issue 13: status in under 100 ms at a million items): the
 * items' counts by (spec_key, status, last_outcome), kept exact by
 * statement triggers on items in the transaction that changes them, so
 * status, report, serve's pending count and the spec guard read a few
 * hundred rows instead of counting every item. docs/scale-out.md "Counts".
 *
 * No hot row: the counts are split into 64 shards, summed at read. A
 * transaction writes one shard, the first of (its backend pid + i) mod 64
 * whose advisory lock (1935961711, shard) — transaction scoped, tried:
 * never waits — it gets, remembered in the transaction-local setting
 * sandrun.count_shard; so two runners' claims never wait for each other
 * on a counter row, and a counter row is only ever locked by one open
 * transaction. With all 64 taken (more
 * writers at once than shards) it writes pid mod 64 and may wait there:
 * the rows are upserted in key order, so single statements cannot
 * deadlock. The lock only spreads the writers: correctness is the
 * upsert's, in the transaction of the change. The trigger functions
 * keep the store's search path (the schema alone, set by pg_open.c), so a
 * change by any client (psql with another search path) is counted too.
 * An outcome of '' stands for "none" (NULL) so ON CONFLICT matches it
 * (NULLs never conflict).
 *
 * The migration takes items' SHARE ROW EXCLUSIVE lock (writers wait; the
 * triggers' CREATE takes it too), then counts every row once, so the
 * counts start exact and every later change goes through the triggers.
 * Self-contained and repeatable (IF NOT EXISTS, OR REPLACE, the counts
 * taken again from scratch).
 * Also: pending items held back by a retry delay are found by an index,
 * not by reading every pending item (status's "waiting"). */
static const char schema_v6[] =
	"SET LOCAL client_min_messages = warning;\n" /* no NOTICE of IF NOT EXISTS on stderr */
	"LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE;\n"
	"CREATE TABLE IF NOT EXISTS item_counts (\n"
	"  shard smallint NOT NULL,\n"
	"  spec_key text NOT NULL,\n"
	"  status text NOT NULL,\n"
	"  outcome text NOT NULL,\n"
	"  n bigint NOT NULL,\n"
	"  PRIMARY KEY (spec_key, status, outcome, shard)\n"
	") WITH (fillfactor = 50);\n"
	"CREATE OR REPLACE FUNCTION item_count_shard() RETURNS smallint LANGUAGE plpgsql VOLATILE AS $f$\n"
	"DECLARE s text := current_setting('sandrun.count_shard', true);\n"
	"BEGIN\n"
	"  IF s IS NOT NULL AND s <> '' THEN RETURN s::smallint; END IF;\n"
	"  FOR i IN 0..63 LOOP\n"
	"    IF pg_try_advisory_xact_lock(1935961711, (pg_backend_pid() + i) % 64) THEN\n"
	"      PERFORM set_config('sandrun.count_shard', ((pg_backend_pid() + i) % 64)::text, true);\n"
	"      RETURN (pg_backend_pid() + i) % 64;\n"
	"    END IF;\n"
	"  END LOOP;\n"
	"  RETURN pg_backend_pid() % 64;\n"
	"END $f$;\n"
	"CREATE OR REPLACE FUNCTION item_counts_apply() RETURNS trigger LANGUAGE plpgsql\n"
	"  SET search_path FROM CURRENT AS $f$\n"
	"BEGIN\n"
	"  IF TG_OP = 'INSERT' THEN\n"
	"    INSERT INTO item_counts AS c (shard, spec_key, status, outcome, n)\n"
	"    SELECT item_count_shard(), spec_key, status, o, d FROM (\n"
	"      SELECT spec_key, status, coalesce(last_outcome, '') o, count(*) d FROM new_rows\n"
	"      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) x\n"
	"    ON CONFLICT (spec_key, status, outcome, shard) DO UPDATE SET n = c.n + excluded.n;\n"
	"  ELSIF TG_OP = 'DELETE' THEN\n"
	"    INSERT INTO item_counts AS c (shard, spec_key, status, outcome, n)\n"
	"    SELECT item_count_shard(), spec_key, status, o, -d FROM (\n"
	"      SELECT spec_key, status, coalesce(last_outcome, '') o, count(*) d FROM old_rows\n"
	"      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) x\n"
	"    ON CONFLICT (spec_key, status, outcome, shard) DO UPDATE SET n = c.n + excluded.n;\n"
	"  ELSE\n"
	"    INSERT INTO item_counts AS c (shard, spec_key, status, outcome, n)\n"
	"    SELECT item_count_shard(), k, st, o, d FROM (\n"
	"      SELECT k, st, o, sum(d) d FROM (\n"
	"        SELECT spec_key k, status st, coalesce(last_outcome, '') o, -1 d FROM old_rows\n"
	"        UNION ALL\n"
	"        SELECT spec_key, status, coalesce(last_outcome, ''), 1 FROM new_rows) u\n"
	"      GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3) x\n"
	"    ON CONFLICT (spec_key, status, outcome, shard) DO UPDATE SET n = c.n + excluded.n;\n"
	"  END IF;\n"
	"  RETURN NULL;\n"
	"END $f$;\n"
	"CREATE OR REPLACE FUNCTION item_counts_truncate() RETURNS trigger LANGUAGE plpgsql\n"
	"  SET search_path FROM CURRENT AS $f$\n"
	"BEGIN DELETE FROM item_counts; RETURN NULL; END $f$;\n"
	/* pg_temp last: with the schema alone on the path, a session's own
	 * temporary table named item_counts would be searched first and take
	 * that session's counts. */
	"DO $d$ BEGIN\n"
	"  EXECUTE format('ALTER FUNCTION item_counts_apply() SET search_path = %I, pg_temp', current_schema());\n"
	"  EXECUTE format('ALTER FUNCTION item_counts_truncate() SET search_path = %I, pg_temp', current_schema());\n"
	"END $d$;\n"
	"DROP TRIGGER IF EXISTS item_counts_ins ON items;\n"
	"CREATE TRIGGER item_counts_ins AFTER INSERT ON items REFERENCING NEW TABLE AS new_rows\n"
	"  FOR EACH STATEMENT EXECUTE FUNCTION item_counts_apply();\n"
	"DROP TRIGGER IF EXISTS item_counts_upd ON items;\n"
	"CREATE TRIGGER item_counts_upd AFTER UPDATE ON items\n"
	"  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows\n"
	"  FOR EACH STATEMENT EXECUTE FUNCTION item_counts_apply();\n"
	"DROP TRIGGER IF EXISTS item_counts_del ON items;\n"
	"CREATE TRIGGER item_counts_del AFTER DELETE ON items REFERENCING OLD TABLE AS old_rows\n"
	"  FOR EACH STATEMENT EXECUTE FUNCTION item_counts_apply();\n"
	"DROP TRIGGER IF EXISTS item_counts_trunc ON items;\n"
	"CREATE TRIGGER item_counts_trunc AFTER TRUNCATE ON items\n"
	"  FOR EACH STATEMENT EXECUTE FUNCTION item_counts_truncate();\n"
	"DELETE FROM item_counts;\n"
	"INSERT INTO item_counts (shard, spec_key, status, outcome, n)\n"
	"  SELECT 0, spec_key, status, coalesce(last_outcome, ''), count(*) FROM items\n"
	"  GROUP BY 2, 3, 4;\n"
	"CREATE INDEX IF NOT EXISTS items_delayed ON items(not_before)"
	" WHERE status = 'pending' AND not_before IS NOT NULL;\n";

/* Migrations N-1 -> N, applied in order (create applies all of them). */
static const char *const migrations[PG_SCHEMA_VERSION + 1] = {
	[2] = schema_v2,
	[3] = schema_v3,
	[4] = schema_v4,
	[5] = schema_v5,
	[6] = schema_v6,
};

static int apply(struct store *st, const char *sql, const char *what);

/* From `from` to PG_SCHEMA_VERSION, inside the caller's transaction. */
static int migrate(struct store *st, int from)
{
	for (int v = from + 1; v <= PG_SCHEMA_VERSION; v++) {
		char what[64], sql[96];
		snprintf(what, sizeof what, "upgrading the schema to version %d", v);
		snprintf(sql, sizeof sql, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'", v);
		int r = apply(st, migrations[v], what);
		int64_t n = r < 0 ? r : pg_cmd(st, sql, NULL, what);
		if (n < 0)
			return (int)n;
	}
	st->pg->schema_version = PG_SCHEMA_VERSION;
	return 0;
}

static int apply(struct store *st, const char *sql, const char *what)
{
	PGresult *res = PQexec(st->pg->conn, sql);
	int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(st, res, what);
	PQclear(res);
	return r;
}

static int create_schema(struct store *st, bool schema_exists)
{
	char sql[128];
	/* st->pg->schema is a validated identifier (pg_open.c), quoted. */
	snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", st->pg->schema);
	int64_t made = schema_exists ? 0 : pg_cmd(st, sql, NULL, "creating the schema");
	if (made < 0)
		return (int)made;
	int rc = apply(st, schema_v1, "creating the schema");
	for (int v = 2; rc == 0 && v <= PG_SCHEMA_VERSION; v++)
		rc = apply(st, migrations[v], "creating the schema");
	if (rc < 0)
		return rc;
	st->pg->schema_version = PG_SCHEMA_VERSION;
	char version[16];
	snprintf(version, sizeof version, "%d", PG_SCHEMA_VERSION);
	struct pgp p = { 0 };
	pgp_text(&p, version);
#ifdef SANDRUN_VERSION
	pgp_text(&p, "sandrun " SANDRUN_VERSION);
#else
	pgp_text(&p, "sandrun");
#endif
	int64_t r = pg_cmd(st,
			   "INSERT INTO meta(key, value) VALUES ('application', 'sandrun'),"
			   " ('schema_version', $1), ('created_at', now_ms()::text), ('created_by', $2)",
			   &p, "creating the schema");
	return r < 0 ? (int)r : 0;
}

/* *state: 0 no schema, 1 an empty schema, 2 tables but no meta, 3 meta. */
static int probe(struct store *st, int *state)
{
	struct pgp p = { 0 };
	pgp_text(&p, st->pg->schema);
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT (SELECT oid FROM pg_namespace WHERE nspname = $1) IS NOT NULL,"
			       " EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON"
			       "  n.oid = c.relnamespace WHERE n.nspname = $1),"
			       " to_regclass(quote_ident($1) || '.meta') IS NOT NULL",
			       &p, "reading the schema", &rc);
	if (!res)
		return rc;
	bool ns = PQgetvalue(res, 0, 0)[0] == 't', rels = PQgetvalue(res, 0, 1)[0] == 't',
	     meta = PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);
	*state = !ns ? 0 : meta ? 3 : rels ? 2 : 1;
	return 0;
}

static int check_version(struct store *st)
{
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT (SELECT value FROM meta WHERE key = 'application'),"
			       " (SELECT value FROM meta WHERE key = 'schema_version')",
			       NULL, "reading the schema version", &rc);
	if (!res)
		return rc;
	bool ours = !PQgetisnull(res, 0, 0) && strcmp(PQgetvalue(res, 0, 0), "sandrun") == 0;
	long long version = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (!ours)
		return store_fail(st, STORE_ENOTOURS,
				  "database %s: schema %s belongs to another program, not a sandrun "
				  "store; set another schema (options=-c sandrun.schema=NAME)",
				  st->path, st->pg->schema);
	if (version > PG_SCHEMA_VERSION)
		return store_fail(st, STORE_EFUTURE,
				  "database %s: schema %s was written by a newer sandrun (schema %lld; "
				  "this one knows up to %d); use that version, or a newer sandrun",
				  st->path, st->pg->schema, version, PG_SCHEMA_VERSION);
	if (version < 1)
		return store_fail(st, STORE_ECORRUPT,
				  "database %s: schema %s is marked as a sandrun store but without a "
				  "schema version; drop it or choose another schema",
				  st->path, st->pg->schema);
	/* Upgrades, N to N+1, by the read-write open under its advisory lock;
	 * a read-only open reads the older version as it is. */
	st->pg->schema_version = (int)version;
	if (st->mode == STORE_RO || version == PG_SCHEMA_VERSION)
		return 0;
	return migrate(st, (int)version);
}

int pg_schema_open(struct store *st)
{
	int state = 0, r;
	if (st->mode == STORE_RO) {
		r = probe(st, &state);
		if (r == 0 && state != 3)
			return store_fail(st, state == 2 ? STORE_ENOTOURS : -ENOENT,
					  state == 2 ? "database %s: schema %s holds tables of another "
						       "program, not a sandrun store"
						     : "database %s: no sandrun store in schema %s yet "
						       "(sandrun run creates it)",
					  st->path, st->pg->schema);
		return r < 0 ? r : check_version(st);
	}
	/* Runners that start together create the schema once: the first takes
	 * the lock and creates, the others wait and find it. */
	r = pg_begin(st, "opening the store");
	struct pgp p = { 0 };
	pgp_text(&p, st->pg->schema);
	if (r == 0) {
		int64_t n = pg_cmd(st, "SELECT pg_advisory_xact_lock(hashtext('sandrun.schema'), hashtext($1))",
				   &p, "opening the store");
		r = n < 0 ? (int)n : 0;
	}
	if (r == 0)
		r = probe(st, &state);
	if (r == 0 && state == 2)
		r = store_fail(st, STORE_ENOTOURS,
			       "database %s: schema %s holds tables of another program, not a sandrun "
			       "store; set another schema (options=-c sandrun.schema=NAME)",
			       st->path, st->pg->schema);
	else if (r == 0 && state < 2)
		r = create_schema(st, state == 1);
	else if (r == 0)
		r = check_version(st);
	if (r == 0)
		r = pg_commit(st, "opening the store");
	if (r < 0)
		pg_rollback(st);
	return r;
}
