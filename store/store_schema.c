/* store/store_schema.c — the schema (version STORE_SCHEMA_VERSION) and the
 * checks that a file holds a store this build can use. docs/store.md
 * describes every table and column. */
#include "store/store_internal.h"

#include <stdio.h>
#include <string.h>

/* PRAGMA application_id: marks the file as a sandrun store ("SDRN"), so a
 * database of another program is refused instead of written into. */
#define STORE_APPLICATION_ID 0x5344524e

/* Times are integer milliseconds since the epoch (UTC); sizes in bytes;
 * -1/NULL where a value does not apply. */
static const char schema_v1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;\n"
	/* One row per sandrun process that worked on this store. */
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  version TEXT NOT NULL,\n"
	"  argv TEXT CHECK (argv IS NULL OR json_valid(argv)),\n"
	"  spec TEXT CHECK (spec IS NULL OR json_valid(spec)),\n"
	"  hostname TEXT NOT NULL,\n"
	"  boot_id TEXT NOT NULL,\n"
	"  pid_ns TEXT NOT NULL,\n"
	"  pid INTEGER NOT NULL,\n"
	"  pid_start INTEGER NOT NULL,\n"
	"  started_at INTEGER NOT NULL,\n"
	"  heartbeat_at INTEGER NOT NULL,\n"
	"  ended_at INTEGER,\n"
	"  how TEXT CHECK (how IN ('completed','interrupted','lost')),\n"
	"  summary TEXT CHECK (summary IS NULL OR json_valid(summary))\n"
	");\n"
	/* One row per input (real path). */
	"CREATE TABLE items (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  path TEXT NOT NULL UNIQUE,\n"
	"  spec_key TEXT NOT NULL,\n"
	"  size INTEGER,\n"
	"  mtime_ns INTEGER,\n"
	"  status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')),\n"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  budget INTEGER NOT NULL DEFAULT 1,\n"
	"  last_outcome TEXT,\n"
	"  last_error TEXT,\n"
	"  last_attempt INTEGER,\n"
	"  lease_run INTEGER REFERENCES runs(id),\n"
	"  lease_attempt INTEGER,\n"
	"  lease_pid INTEGER,\n"
	"  lease_pid_start INTEGER,\n"
	"  lease_heartbeat_at INTEGER,\n"
	"  enqueued_at INTEGER NOT NULL,\n"
	"  updated_at INTEGER NOT NULL,\n"
	"  quarantined_to TEXT,\n"
	"  quarantined_at INTEGER,\n"
	"  CHECK ((status = 'running') = (lease_run IS NOT NULL))\n"
	");\n"
	/* Claims: the oldest pending item of a spec, without a scan. */
	"CREATE INDEX items_claim ON items(spec_key, id) WHERE status = 'pending';\n"
	/* status / list --status / --outcome: a covering index for the counts. */
	"CREATE INDEX items_status ON items(status, last_outcome);\n"
	/* Reclaim and heartbeat: only the running few. */
	"CREATE INDEX items_running ON items(lease_run) WHERE status = 'running';\n"
	/* One row per attempt; counted = 0 for attempts released on interrupt. */
	"CREATE TABLE attempts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  item_id INTEGER NOT NULL REFERENCES items(id),\n"
	"  run_id INTEGER REFERENCES runs(id),\n"
	"  budget INTEGER NOT NULL,\n"
	"  attempt_no INTEGER NOT NULL,\n"
	"  counted INTEGER NOT NULL DEFAULT 1 CHECK (counted IN (0,1)),\n"
	"  started_at INTEGER NOT NULL,\n"
	"  ended_at INTEGER,\n"
	"  outcome TEXT,\n"
	"  exit_code INTEGER,\n"
	"  signal INTEGER,\n"
	"  syscall TEXT,\n"
	"  wall_ms INTEGER,\n"
	"  cpu_ms INTEGER,\n"
	"  peak_memory_bytes INTEGER,\n"
	"  oom_kills INTEGER,\n"
	"  error TEXT,\n"
	"  stderr_tail BLOB CHECK (length(stderr_tail) <= 65536)\n"
	");\n"
	"CREATE INDEX attempts_item ON attempts(item_id);\n"
	/* status's throughput of the last run: covering. */
	"CREATE INDEX attempts_run ON attempts(run_id, counted, ended_at);\n"
	/* status's mean/max: a covering index, so the aggregate reads a few
	 * small pages instead of every attempt row and its stderr tail. */
	"CREATE INDEX attempts_resources ON attempts(wall_ms, peak_memory_bytes)"
	" WHERE wall_ms IS NOT NULL;\n"
	/* The result of an item's last ok attempt: an upsert keyed by the item.
	 * JSON results are valid JSON, enforced here as well as in C. */
	"CREATE TABLE results (\n"
	"  item_id INTEGER PRIMARY KEY REFERENCES items(id),\n"
	"  attempt_id INTEGER NOT NULL REFERENCES attempts(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('json','text','blob')),\n"
	"  value NOT NULL,\n"
	"  stored_at INTEGER NOT NULL,\n"
	"  CHECK (kind <> 'json' OR json_valid(value))\n"
	");\n";

/* ---- migrations: schema N-1 -> N, applied in order by STORE_RW opens.
 * Each is self-contained (one ALTER or CREATE), so the versions of two
 * branches can be renumbered without touching the others. */

/* 2 (issue 15, item 9): what a job printed on stdout when the attempt did
 * not end ok (a bad_output's text, a crash's last words), its first
 * STORE_OUTPUT_HEAD_MAX bytes, so `show` can tell the user. */
static const char migration_2_output_head[] =
	"ALTER TABLE attempts ADD COLUMN output_head BLOB CHECK (length(output_head) <= 4096);\n";

/* 3 (sandrun serve; MIGRATION "serve", self-contained) ---
 * The client that submitted an item over the service socket (SO_PEERCRED
 * and its label for the file) and the item's place in the fair queue:
 * claims go by (queue_seq, id), NULLs (items of `sandrun run`) first, so a
 * store without submissions claims in id order as before. docs/serve.md. */
static const char migration_3_serve[] =
	"ALTER TABLE items ADD COLUMN client_uid INTEGER;\n"
	"ALTER TABLE items ADD COLUMN client_gid INTEGER;\n"
	"ALTER TABLE items ADD COLUMN client_pid INTEGER;\n"
	"ALTER TABLE items ADD COLUMN client_name TEXT;\n"
	"ALTER TABLE items ADD COLUMN queue_seq INTEGER;\n"
	"DROP INDEX items_claim;\n"
	"CREATE INDEX items_claim ON items(spec_key, queue_seq, id) WHERE status = 'pending';\n"
	/* a client's last sequence number: only its waiting and running few */
	"CREATE INDEX items_client ON items(client_uid, queue_seq)"
	" WHERE status IN ('pending', 'running') AND client_uid IS NOT NULL;\n";

/* 4 (--retry-delay; self-contained): the time (ms since the epoch) before
 * which a pending item is not claimed, set by the finish that decides a
 * retry when a delay is configured; NULL = claimable now. Kept in the store
 * so that a runner killed during the wait counts nothing: docs/runner.md
 * "Retry delay". */
static const char migration_4_not_before[] =
	"ALTER TABLE items ADD COLUMN not_before INTEGER;\n";

static const char *const migrations[STORE_SCHEMA_VERSION + 1] = {
	[2] = migration_2_output_head,
	[3] = migration_3_serve,
	[4] = migration_4_not_before,
};

static int read_version(struct store *st, int64_t *version)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db, "SELECT user_version FROM pragma_user_version", -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading the schema version");
	r = sqlite3_step(s);
	*version = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : store_fail_sqlite(st, r, "reading the schema version");
}

/* From `from` to STORE_SCHEMA_VERSION inside the caller's transaction. */
static int migrate(struct store *st, int64_t from)
{
	for (int64_t v = from + 1; v <= STORE_SCHEMA_VERSION; v++) {
		char what[64], sql[64];
		snprintf(what, sizeof what, "upgrading the schema to version %lld", (long long)v);
		int r = migrations[v] ? store_exec(st, migrations[v], what) : 0;
		snprintf(sql, sizeof sql, "PRAGMA user_version=%lld", (long long)v);
		if (r == 0)
			r = store_exec(st, sql, what);
		if (r < 0)
			return r;
	}
	st->schema_version = STORE_SCHEMA_VERSION;
	return 0;
}

int store_schema_upgrade(struct store *st)
{
	if (st->schema_version >= STORE_SCHEMA_VERSION)
		return 0;
	int64_t version = 0;
	int r = store_begin(st, "upgrading the schema");
	if (r == 0)
		r = read_version(st, &version); /* again, under the write lock */
	if (r == 0)
		r = migrate(st, version);
	if (r == 0)
		r = store_commit(st, "upgrading the schema");
	if (r < 0)
		store_rollback(st);
	return r;
}

/* Reads the file's identity. *is_empty: no schema at all (a new file). */
int store_schema_check(struct store *st, bool *is_empty)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT (SELECT application_id FROM pragma_application_id),"
				   " (SELECT user_version FROM pragma_user_version),"
				   " (SELECT count(*) FROM sqlite_schema)",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading the schema");
	r = sqlite3_step(s);
	if (r != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_fail_sqlite(st, r, "reading the schema");
	}
	int64_t app_id = sqlite3_column_int64(s, 0);
	int64_t version = sqlite3_column_int64(s, 1);
	int64_t objects = sqlite3_column_int64(s, 2);
	sqlite3_finalize(s);
	*is_empty = app_id == 0 && version == 0 && objects == 0;
	if (*is_empty)
		return 0;
	if (app_id != STORE_APPLICATION_ID)
		return store_fail(st, STORE_ENOTOURS,
				  "database %s: an SQLite database of another program (application "
				  "id 0x%llx), not a sandrun store; give --db another path",
				  st->path, (unsigned long long)app_id);
	if (version > STORE_SCHEMA_VERSION)
		return store_fail(st, STORE_EFUTURE,
				  "database %s: written by a newer sandrun (schema %lld; this one "
				  "knows up to %d); use that version, or a newer sandrun",
				  st->path, (long long)version, STORE_SCHEMA_VERSION);
	if (version < 1)
		return store_fail(st, STORE_ECORRUPT,
				  "database %s: marked as a sandrun store but without a schema "
				  "version; move it aside to start a new store",
				  st->path);
	/* Older versions are read as they are (a read-only open: readers of
	 * a newer column check st->schema_version) and upgraded by STORE_RW
	 * (store_schema_upgrade). */
	st->schema_version = (int)version;
	return 0;
}

int store_schema_create(struct store *st)
{
	/* Version 1, then every migration: one path to each version. */
	int r = store_exec(st, schema_v1, "creating the schema");
	if (r < 0)
		return r;
	char sql[256];
	snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=1", STORE_APPLICATION_ID);
	r = store_exec(st, sql, "marking the schema");
	if (r == 0)
		r = migrate(st, 1);
	if (r < 0)
		return r;
	sqlite3_stmt *s;
	r = sqlite3_prepare_v2(st->db,
			       "INSERT INTO meta(key, value) VALUES('created_at', ?1),"
			       " ('created_by', ?2)",
			       -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "creating the schema");
	char now[32];
	snprintf(now, sizeof now, "%lld", (long long)store_now_ms());
	sqlite3_bind_text(s, 1, now, -1, SQLITE_TRANSIENT);
#ifdef SANDRUN_VERSION
	sqlite3_bind_text(s, 2, "sandrun " SANDRUN_VERSION, -1, SQLITE_STATIC);
#else
	sqlite3_bind_text(s, 2, "sandrun", -1, SQLITE_STATIC);
#endif
	r = store_step_done(st, s, "creating the schema");
	sqlite3_finalize(s);
	return r;
}
