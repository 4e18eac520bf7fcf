/* store/store_open.c — opening a database file, and refusing one that
 * cannot be used (garbage, truncated, damaged, another program's, from a
 * newer sandrun, read-only, locked too long) before anything is written. */
#include "store/store_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- who we are (for leases) ----------------------------------------- */

static void read_line_file(const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int store_read_self(struct store_self *self)
{
	bool zombie;
	/* Use /proc's view of our pid rather than getpid(): the reclaimer looks
	 * the pid up in /proc, so both must come from the same namespace. */
	char link[64];
	ssize_t n = readlink("/proc/self", link, sizeof link - 1);
	if (n <= 0)
		return -errno;
	link[n] = '\0';
	self->pid = atoi(link);
	int r = store_read_pid_start(self->pid, &self->pid_start, &zombie);
	if (r < 0)
		return r;
	read_line_file("/proc/sys/kernel/random/boot_id", self->boot_id, sizeof self->boot_id);
	n = readlink("/proc/self/ns/pid", self->pid_ns, sizeof self->pid_ns - 1);
	self->pid_ns[n > 0 ? n : 0] = '\0';
	if (gethostname(self->hostname, sizeof self->hostname) < 0)
		self->hostname[0] = '\0';
	self->hostname[sizeof self->hostname - 1] = '\0';
	return 0;
}

/* ---- refusing files that are not ours, before SQLite touches them ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Cheap checks on the file itself: SQLite opens lazily and would happily
 * treat a truncated file as one whose missing pages are zero. Sets *size to
 * the file's size, or -1 when it does not exist. */
static int check_file(const char *path, int64_t *size, char *err, size_t errlen)
{
	*size = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		int e = errno;
		snprintf(err, errlen, "database %s: cannot open: %s", path, strerror(e));
		return -e;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "database %s: cannot stat: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(err, errlen, "database %s: not a regular file; give --db a file path",
			 path);
		return S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
	}
	*size = sb.st_size;
	if (sb.st_size == 0) {
		close(fd);
		return 0; /* a new, empty database */
	}
	unsigned char hdr[100];
	ssize_t n = pread(fd, hdr, sizeof hdr, 0);
	close(fd);
	static const char magic[16] = "SQLite format 3";
	if (n < (ssize_t)sizeof hdr || memcmp(hdr, magic, sizeof magic) != 0) {
		snprintf(err, errlen,
			 "database %s: not an SQLite database (garbage or a truncated header, "
			 "%lld bytes); restore it from a backup, or move it aside to start a new "
			 "store",
			 path, (long long)sb.st_size);
		return STORE_ECORRUPT;
	}
	uint32_t page_size = (uint32_t)hdr[16] << 8 | hdr[17];
	if (page_size == 1)
		page_size = 65536;
	if (page_size < 512 || (page_size & (page_size - 1))) {
		snprintf(err, errlen,
			 "database %s: damaged header (page size %u); restore it from a backup, "
			 "or move it aside to start a new store",
			 path, page_size);
		return STORE_ECORRUPT;
	}
	/* With a non-empty WAL beside it, a checkpoint may be half done and the
	 * file legitimately shorter than its header says: SQLite recovers it. */
	char wal[PATH_MAX];
	struct stat wsb;
	snprintf(wal, sizeof wal, "%s-wal", path);
	if (stat(wal, &wsb) == 0 && wsb.st_size > 0)
		return 0;
	uint32_t change_counter = be32(hdr + 24), pages = be32(hdr + 28), valid_for = be32(hdr + 92);
	int64_t expect = (int64_t)pages * page_size;
	if (sb.st_size % page_size != 0 ||
	    (pages != 0 && change_counter == valid_for && sb.st_size < expect)) {
		snprintf(err, errlen,
			 "database %s: truncated (%lld bytes, its header says %lld); restore it "
			 "from a backup, or move it aside to start a new store",
			 path, (long long)sb.st_size, (long long)expect);
		return STORE_ECORRUPT;
	}
	return 0;
}

/* ---- open / close ---------------------------------------------------- */

static int busy_timeout_ms(void)
{
	const char *s = getenv("SANDRUN_DB_BUSY_TIMEOUT_MS");
	if (s && *s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end == '\0' && v >= 0 && v <= INT_MAX)
			return (int)v;
	}
	return STORE_BUSY_TIMEOUT_MS;
}

/* Percent-encode a path for a file: URI (only needed for immutable=1). */
static char *path_uri(const char *path, const char *query)
{
	size_t len = strlen(path);
	char *uri = malloc(len * 3 + strlen(query) + 16);
	if (!uri)
		return NULL;
	char *o = uri + sprintf(uri, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p < 0x20 || *p >= 0x7f)
			o += sprintf(o, "%%%02X", *p);
		else
			*o++ = (char)*p;
	}
	sprintf(o, "?%s", query);
	return uri;
}

static int open_db(struct store *st, bool immutable)
{
	int flags = SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX;
	flags |= st->mode == STORE_RW ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
				      : SQLITE_OPEN_READONLY;
	char *uri = NULL;
	if (immutable) {
		uri = path_uri(st->path, "immutable=1");
		if (!uri)
			return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
		flags |= SQLITE_OPEN_URI;
	}
	int r = sqlite3_open_v2(uri ? uri : st->path, &st->db, flags, NULL);
	free(uri);
	if (r != SQLITE_OK) {
		int code = store_fail_sqlite(st, r, "cannot open");
		sqlite3_close_v2(st->db);
		st->db = NULL;
		return code;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, st->busy_timeout_ms);
	return 0;
}

/* Refuses a file on which PRAGMA quick_check finds damage. O(size), done
 * only before writing: writing into a damaged b-tree spreads the damage. */
static int verify_whole_file(struct store *st)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(5)", -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "checking the file");
	char problems[512] = "";
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		if (line && strcmp(line, "ok") != 0 && strlen(problems) < 300) {
			strncat(problems, line, sizeof problems - strlen(problems) - 3);
			strcat(problems, "; ");
		}
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return store_fail_sqlite(st, r, "checking the file");
	if (problems[0])
		return store_fail(st, STORE_ECORRUPT,
				  "database %s: damaged (%s); restore it from a backup, or move "
				  "it aside to start a new store",
				  st->path, problems);
	return 0;
}

/* Whether a new database file can be created at st->path: SQLite's own
 * error for this ("unable to open database file") does not say why. */
static int check_creatable(struct store *st)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", st->path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	int e = errno;
	if (e == ENOENT)
		return store_fail(st, -ENOENT,
				  "database %s: its directory %s does not exist; create it or give "
				  "another --db",
				  st->path, dir);
	return store_fail(st, -e,
			  "database %s: cannot create it in %s: %s; give --db a writable path",
			  st->path, dir, strerror(e));
}

/* Switching a file to WAL needs every other connection out of it for a
 * moment; SQLite then answers SQLITE_BUSY at once (or leaves the mode as
 * it was) instead of waiting, so retry within the busy timeout. */
static int switch_to_wal(struct store *st)
{
	int64_t deadline = store_now_ms() + st->busy_timeout_ms;
	for (int delay_ms = 2;; delay_ms = delay_ms < 64 ? delay_ms * 2 : 64) {
		sqlite3_stmt *s;
		int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
		if (rc != SQLITE_OK)
			return store_fail_sqlite(st, rc, "switching to WAL");
		rc = sqlite3_step(s);
		bool wal = rc == SQLITE_ROW && sqlite3_column_text(s, 0) &&
			   strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
		sqlite3_finalize(s);
		if (wal)
			return 0;
		bool busy = rc == SQLITE_ROW || (rc & 0xff) == SQLITE_BUSY ||
			    (rc & 0xff) == SQLITE_LOCKED;
		if (!busy)
			return store_fail_sqlite(st, rc, "switching to WAL");
		if (store_now_ms() >= deadline)
			return store_fail_sqlite(st, SQLITE_BUSY, "switching to WAL");
		usleep((useconds_t)delay_ms * 1000);
	}
}

static int open_rw(struct store *st, int64_t size_before)
{
	int r = size_before < 0 ? check_creatable(st) : 0;
	if (r < 0)
		return r;
	if (size_before < 0) {
		/* Create the file ourselves, to know it was this call that did. */
		int fd = open(st->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0) {
			st->created_file = true;
			close(fd);
		} else if (errno != EEXIST) {
			return store_fail(st, -errno, "database %s: cannot create it: %s", st->path,
					  strerror(errno));
		}
	}
	r = open_db(st, false);
	if (r < 0)
		return r;
	if (sqlite3_db_readonly(st->db, "main") == 1)
		return store_fail(st, -EROFS,
				  "database %s: read-only (read-only file system or file); a run "
				  "needs to write: give --db a writable path (status, list, show "
				  "and export only read it)",
				  st->path);
	bool empty;
	r = store_schema_check(st, &empty);
	if (r < 0)
		return r;
	if (empty) {
		/* A new store: create the schema under an exclusive lock (a new
		 * file starts in rollback-journal mode, where this waits for the
		 * lock), so that runners starting together create it once. */
		r = store_exec(st, "BEGIN EXCLUSIVE", "creating the schema");
		if (r == 0)
			r = store_schema_check(st, &empty);
		if (r == 0 && empty)
			r = store_schema_create(st);
		if (r == 0)
			r = store_commit(st, "creating the schema");
		if (r < 0) {
			store_rollback(st);
			return r;
		}
	} else if (size_before > 0) {
		r = verify_whole_file(st);
		if (r == 0)
			r = store_schema_upgrade(st);
		if (r < 0)
			return r;
	}
	/* WAL: readers never block the writer and a crash leaves committed
	 * transactions intact. Persistent in the file; a no-op when set. */
	r = switch_to_wal(st);
	if (r < 0)
		return r;
	/* Take the write lock once: a store locked too long is refused now,
	 * not half-way through a batch. */
	r = store_begin(st, "taking the write lock");
	if (r == 0)
		r = store_commit(st, "taking the write lock");
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	/* See docs/store.md: NORMAL by default, FULL for claims. */
	return store_exec(st,
			  "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			  "PRAGMA journal_size_limit=67108864",
			  "setting pragmas");
}

static int open_ro(struct store *st, int64_t size_before)
{
	if (size_before < 0)
		return store_fail(st, -ENOENT,
				  "database %s: does not exist; run `sandrun run --db %s FILES...` "
				  "first, or give the right --db",
				  st->path, st->path);
	if (size_before == 0)
		return store_fail(st, -ENOENT,
				  "database %s: empty file, no store has been written there yet",
				  st->path);
	int r = open_db(st, false);
	bool empty = false;
	if (r == 0)
		r = store_schema_check(st, &empty);
	/* SQLite reads a WAL database through its -shm file, which it must be
	 * able to create. Where it cannot (a read-only or full file system) and
	 * the WAL holds nothing, the database file alone is the whole state:
	 * read it as immutable. */
	char wal[PATH_MAX];
	struct stat wsb;
	snprintf(wal, sizeof wal, "%s-wal", st->path);
	bool wal_empty = stat(wal, &wsb) != 0 || wsb.st_size == 0;
	if (r < 0 && r != STORE_ECORRUPT && r != STORE_ENOTOURS && r != STORE_EFUTURE &&
	    wal_empty) {
		char first[sizeof st->err];
		memcpy(first, st->err, sizeof first);
		sqlite3_close_v2(st->db);
		st->db = NULL;
		int r2 = open_db(st, true);
		if (r2 == 0)
			r2 = store_schema_check(st, &empty);
		if (r2 == 0)
			r = 0;
		else if (r2 != STORE_ECORRUPT && r2 != STORE_ENOTOURS && r2 != STORE_EFUTURE)
			memcpy(st->err, first, sizeof first); /* report the real cause */
		else
			r = r2;
	}
	if (r == 0 && empty)
		r = store_fail(st, STORE_ENOTOURS,
			       "database %s: an SQLite file without a sandrun store in it", st->path);
	return r;
}

int sq_open(const char *path, enum store_open_mode mode, struct store **out, char *err,
	       size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	int64_t size_before;
	int r = check_file(path, &size_before, err, errlen);
	if (r < 0)
		return r;
	struct store *st = calloc(1, sizeof *st);
	if (!st || !(st->path = strdup(path))) {
		free(st);
		snprintf(err, errlen, "database %s: out of memory", path);
		return -ENOMEM;
	}
	st->ops = &store_sqlite_ops;
	st->mode = mode;
	st->busy_timeout_ms = busy_timeout_ms();
	r = store_read_self(&st->self);
	if (r < 0) {
		store_fail(st, r, "database %s: cannot read /proc/self: %s (is /proc mounted?)",
			   path, strerror(-r));
	} else {
		r = mode == STORE_RW ? open_rw(st, size_before) : open_ro(st, size_before);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", st->err);
		bool created = st->created_file;
		sq_close(st);
		/* Leave no empty file behind where there was none: only a file this
		 * call created, still empty, with no WAL (another runner that
		 * opened it meanwhile writes its schema into the WAL first). */
		char wal[PATH_MAX];
		struct stat sb, wsb;
		snprintf(wal, sizeof wal, "%s-wal", path);
		if (created && stat(path, &sb) == 0 && sb.st_size == 0 &&
		    (stat(wal, &wsb) != 0 || wsb.st_size == 0)) {
			char shm[PATH_MAX];
			snprintf(shm, sizeof shm, "%s-shm", path);
			unlink(shm);
			unlink(wal);
			unlink(path);
		}
		return r;
	}
	*out = st;
	return 0;
}

void sq_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < SQL_STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db)
		sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.run_begin = sq_run_begin,
	.run_heartbeat = sq_run_heartbeat,
	.run_end = sq_run_end,
	.enqueue = sq_enqueue,
	.record_input_error = sq_record_input_error,
	.claim_next = sq_claim_next,
	.result_check_json = sq_result_check_json,
	.attempt_finish = sq_attempt_finish,
	.attempt_release = sq_attempt_release,
	.count_pending = sq_count_pending,
	.retry_wait = sq_retry_wait,
	.reclaim_dead = sq_reclaim_dead,
	.get_status = sq_get_status,
	.list_items = sq_list_items,
	.export = sq_export,
	.show_item = sq_show_item,
	.show_item_id = sq_show_item_id,
	.forget = sq_forget,
	.gc = sq_gc,
	.retry_failed = sq_retry_failed,
	.record_quarantine = sq_record_quarantine,
	.batch_open = sq_batch_open,
	.batch_add = sq_batch_add,
	.batch_counts = sq_batch_counts,
	.batch_counts_since = sq_batch_counts_since,
	.batch_elsewhere = sq_batch_elsewhere,
	.attempt_input_error = sq_attempt_input_error,
	.spec_counts = sq_spec_counts,
	.run_specs = sq_run_specs,
	.spec_rekey = sq_spec_rekey,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.item_groups = sq_item_groups,
	.each_run = sq_each_run,
	.each_attempt = sq_each_attempt,
	.failed_items = sq_failed_items,
	.audio_reports = sq_audio_reports,
	.submit = sq_submit,
	.item_client = sq_item_client,
	.client_usage = sq_client_usage,
	.cancel_pending = sq_cancel_pending,
	.close = sq_close,
};
