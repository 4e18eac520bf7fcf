/* runner/query_edit.c — sandrun retry and sandrun quarantine: the two query
 * commands that change the store (each change is one transaction). */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/query_util.h"
#include "runner/quarantine_fs.h"
#include "lib/text.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_R_DB = 0x200, OPT_R_JSON, OPT_R_OUTCOME, OPT_R_COPY, OPT_R_DRY_RUN };

/* ---- retry ----------------------------------------------------------- */

static const char retry_usage[] =
	"Usage: sandrun retry [--outcome O] [--dry-run] [--db PATH] [--json] [PATH...]\n"
	"Put failed items back to pending with a fresh attempt budget; the next\n"
	"`sandrun run` analyzes them again. Without PATH, every failed item (whose\n"
	"last outcome is O, with --outcome).\n\n"
	"      --outcome O  only items whose last attempt ended in O\n"
	"      --dry-run    print each item that would go back to pending; change\n"
	"                   nothing (the store is opened read-only)\n"
	"      --db PATH    the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json       print {\"reset\": N, \"dry_run\": B, \"not_reset\":\n"
	"                   [{path, status}]}, and with --dry-run \"would_reset\": [PATH]\n"
	"  -h, --help       show this help\n"
	"Exit status: 0 ok, 1 a named path is not in the store, 2 usage error,\n"
	"4 store error.\n";

struct retry_ctx {
	bool json;
	json_t *not_reset;
	int missing;
	/* --dry-run */
	const char *outcome;
	json_t *would;
	int64_t n;
	const char *status, *last; /* of the item just read */
	char status_buf[16], last_buf[32];
};

static void retry_not_reset(const char *path, const char *status, void *ctx)
{
	struct retry_ctx *rc = ctx;
	if (!status)
		rc->missing++;
	if (rc->json) {
		json_array_append_new(rc->not_reset,
				      json_pack("{s:o, s:o}", "path", q_json_str(path), "status",
						q_json_str(status)));
		return;
	}
	fputs("sandrun: retry: ", stderr);
	sr_text_put_str(stderr, path, SR_TEXT_TERMINAL);
	if (!status)
		fputs(": not in the store\n", stderr);
	else if (strcmp(status, "done") == 0)
		fputs(": done, not failed (`sandrun run --force PATH` analyzes it again)\n", stderr);
	else if (strcmp(status, "failed") == 0)
		fputs(": failed with another outcome than --outcome\n", stderr);
	else
		fprintf(stderr, ": %s, not failed\n", status);
}

/* ---- retry --dry-run: the same choice as store_retry_failed() makes,
 * read from a store opened read-only. */

static int would_retry(const struct store_item_row *row, void *ctx)
{
	struct retry_ctx *rc = ctx;
	rc->n++;
	if (rc->json)
		return json_array_append_new(rc->would, q_json_str(row->path)) ? -ENOMEM : 0;
	fputs("would retry ", stdout);
	sr_text_put_str(stdout, row->path, SR_TEXT_TERMINAL);
	printf(" (%s)\n", row->outcome ? row->outcome : "-");
	return 0;
}

static int read_state(const struct store_item_row *row, void *ctx)
{
	struct retry_ctx *rc = ctx;
	snprintf(rc->status_buf, sizeof rc->status_buf, "%s", row->status);
	snprintf(rc->last_buf, sizeof rc->last_buf, "%s", row->outcome ? row->outcome : "");
	rc->status = rc->status_buf;
	rc->last = row->outcome ? rc->last_buf : NULL;
	return 0;
}

static int ignore_attempt(const struct store_attempt_row *a, void *ctx)
{
	return 0;
}

static int retry_dry_run(struct store *st, char **paths, size_t npaths, struct retry_ctx *ctx)
{
	if (npaths == 0) {
		struct store_filter f = { .status = "failed", .outcome = ctx->outcome };
		return store_list_items(st, &f, would_retry, ctx);
	}
	for (size_t i = 0; i < npaths; i++) {
		ctx->status = ctx->last = NULL;
		int r = store_show_item(st, paths[i], read_state, ignore_attempt, ctx);
		if (r < 0 && r != -ENOENT)
			return r;
		bool resets = ctx->status && strcmp(ctx->status, "failed") == 0 &&
			      (!ctx->outcome || (ctx->last && strcmp(ctx->last, ctx->outcome) == 0));
		if (resets) {
			struct store_item_row row = { .path = paths[i], .outcome = ctx->last };
			if ((r = would_retry(&row, ctx)) < 0)
				return r;
		} else {
			retry_not_reset(paths[i], ctx->status, ctx);
		}
	}
	return 0;
}

int cmd_retry(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_R_DB },
		{ "json", no_argument, NULL, OPT_R_JSON },
		{ "outcome", required_argument, NULL, OPT_R_OUTCOME },
		{ "dry-run", no_argument, NULL, OPT_R_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB, *outcome = NULL;
	struct retry_ctx ctx = { 0 };
	bool dry_run = false;
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_R_DB: db = optarg; break;
		case OPT_R_JSON: ctx.json = true; break;
		case OPT_R_OUTCOME:
			if ((rc = q_check_outcome("retry ", optarg)))
				return rc;
			outcome = optarg;
			break;
		case OPT_R_DRY_RUN: dry_run = true; break;
		case 'h': fputs(retry_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("retry ", "bad option");
		}
	}
	size_t npaths = (size_t)(argc - optind);
	char **paths = calloc(npaths + 1, sizeof *paths);
	for (size_t i = 0; paths && i < npaths; i++)
		if (!(paths[i] = q_store_path_of(argv[optind + (int)i])))
			npaths = i; /* out of memory: caught below */
	if (!paths || (argc - optind) != (int)npaths) {
		sr_err("retry: out of memory");
		rc = SR_EXIT_STORE;
		goto out_paths;
	}
	struct store *st;
	if ((rc = q_open(db, dry_run ? STORE_RO : STORE_RW, &st)))
		goto out_paths;
	ctx.not_reset = json_array();
	ctx.would = json_array();
	ctx.outcome = outcome;
	int64_t reset = 0;
	int r = dry_run ? retry_dry_run(st, paths, npaths, &ctx)
			: store_retry_failed(st, outcome, (const char *const *)paths, npaths,
					     retry_not_reset, &ctx, &reset);
	if (dry_run)
		reset = ctx.n;
	if (r < 0) {
		rc = q_store_error(st);
	} else {
		if (ctx.json) {
			json_t *v = json_pack("{s:I, s:b, s:O}", "reset", (json_int_t)reset, "dry_run",
					      dry_run, "not_reset", ctx.not_reset);
			if (dry_run)
				json_object_set(v, "would_reset", ctx.would);
			q_json_print(stdout, v, JSON_COMPACT);
			json_decref(v);
		} else if (dry_run) {
			printf("%lld item%s would go back to pending (dry run: nothing changed)\n",
			       (long long)reset, reset == 1 ? "" : "s");
		} else {
			printf("%lld item%s back to pending\n", (long long)reset, reset == 1 ? "" : "s");
		}
		rc = ctx.missing ? SR_EXIT_SOME_FAILED : SR_EXIT_OK;
	}
	json_decref(ctx.would);
	json_decref(ctx.not_reset);
	store_close(st);
out_paths:
	for (size_t i = 0; paths && i < npaths; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

/* ---- quarantine ------------------------------------------------------ */

static const char quarantine_usage[] =
	"Usage: sandrun quarantine DIR [--outcome O] [--copy] [--dry-run] [--db PATH]\n"
	"                          [--json]\n"
	"Move (or copy) the inputs of failed items into DIR, keeping their paths:\n"
	"an input under the current directory keeps its path relative to it\n"
	"(media/a/x.wav -> DIR/media/a/x.wav), any other keeps its whole absolute\n"
	"path (/srv/in/x.wav -> DIR/srv/in/x.wav). Where each went is recorded in\n"
	"the store (list and show print it). Existing files in DIR are never\n"
	"overwritten. Running it again after an interruption finishes the job.\n"
	"No symlink is followed below DIR or on an input's path, and an input\n"
	"that is no longer the file the store recorded (size, mtime) is refused.\n"
	"DIR at or below a directory that holds an input of the store is refused\n"
	"(exit 2): the next `sandrun run -r` of that tree would analyze the\n"
	"quarantined files again.\n\n"
	"      --outcome O  only items whose last attempt ended in O\n"
	"      --copy       copy instead of moving\n"
	"      --dry-run    print what would be moved or copied where; create, move\n"
	"                   and record nothing (the store is opened read-only)\n"
	"      --db PATH    the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json       one JSON object per input: {path, to, action, reason}\n"
	"  -h, --help       show this help\n"
	"Exit status: 0 ok, 1 some inputs could not be quarantined, 2 usage error,\n"
	"4 store error.\n";

struct candidate {
	int64_t id;
	char *path, *quarantined_to;
	int64_t size, mtime_ns; /* the identity recorded when it was analyzed */
};

struct candidates {
	struct candidate *v;
	size_t n, cap;
};

static int collect_candidate(const struct store_item_row *row, void *ctx)
{
	struct candidates *cs = ctx;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		struct candidate *v = realloc(cs->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		cs->v = v;
		cs->cap = cap;
	}
	struct candidate *c = &cs->v[cs->n];
	c->id = row->id;
	c->size = row->size;
	c->mtime_ns = row->mtime_ns;
	c->path = strdup(row->path);
	c->quarantined_to = row->quarantined_to ? strdup(row->quarantined_to) : NULL;
	if (!c->path)
		return -ENOMEM;
	cs->n++;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = saved;
			if (!saved)
				break;
		}
	}
	struct stat sb;
	if (stat(path, &sb) < 0)
		return -errno;
	return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

struct q_report {
	bool json, dry_run;
	int failures;
	int64_t moved, copied, skipped;
};

static void report(struct q_report *rep, const char *path, const char *to, const char *action,
		   const char *reason)
{
	if (rep->json) {
		json_t *o = json_pack("{s:o, s:o, s:s, s:o}", "path", q_json_str(path), "to",
				      q_json_str(to), "action", action, "reason", q_json_str(reason));
		q_json_print(stdout, o, JSON_COMPACT);
		json_decref(o);
		return;
	}
	FILE *f = strcmp(action, "failed") == 0 ? stderr : stdout;
	bool would = strncmp(action, "would_", 6) == 0;
	fprintf(f, "%s%s%s ", f == stderr ? "sandrun: quarantine: " : "", would ? "would " : "",
		would ? action + 6 : action);
	sr_text_put_str(f, path, SR_TEXT_TERMINAL);
	if (to) {
		fputs(" -> ", f);
		sr_text_put_str(f, to, SR_TEXT_TERMINAL);
	}
	if (reason) {
		fputs(": ", f);
		sr_text_put_str(f, reason, SR_TEXT_TERMINAL);
	}
	fputc('\n', f);
}

/* Split an absolute path into its directory and last component. */
static int split_path(const char *path, char *parent, size_t len, const char **name)
{
	const char *slash = strrchr(path, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(parent, path, n);
	parent[n] = '\0';
	*name = slash + 1;
	return 0;
}

/* A path relative to DIR: its parent ("." for none), in buf, and its last
 * name (in rel). */
static const char *split_rel(const char *rel, char *buf, size_t len, const char **name)
{
	snprintf(buf, len, "%s", rel);
	char *slash = strrchr(buf, '/');
	*name = slash ? rel + (slash - buf) + 1 : rel;
	if (!slash)
		return ".";
	*slash = '\0';
	return buf;
}

static void report_failure(struct q_report *rep, const char *path, const char *to, int r)
{
	char why[PATH_MAX + 128];
	const char *refusal = qfs_refusal(r);
	snprintf(why, sizeof why, "%s%s", refusal ? refusal : strerror(-r),
		 r == -EEXIST ? " (not overwritten; move it away and run again)" : "");
	rep->failures++;
	report(rep, path, to, "failed", why);
}

/* The source no longer exists: moved by an earlier, interrupted
 * quarantine (then record it now), or simply gone. */
static int quarantine_gone(struct store *st, const struct candidate *c, int dirfd, const char *rel,
			   const char *dest, bool copy, struct q_report *rep)
{
	struct stat sb;
	bool dest_exists = false;
	/* Resolved below DIR without following links, like the move itself. */
	char relbuf[PATH_MAX];
	const char *name;
	_cleanup_close_ int ddir = qfs_open_dir(dirfd, split_rel(rel, relbuf, sizeof relbuf, &name));
	if (ddir >= 0)
		dest_exists = fstatat(ddir, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (dest_exists && !copy && (!c->quarantined_to || strcmp(c->quarantined_to, dest))) {
		int r = store_record_quarantine(st, c->id, dest);
		if (r < 0)
			return r;
		rep->moved++;
		report(rep, c->path, dest, "moved", "found there from an earlier run");
		return 0;
	}
	rep->skipped++;
	report(rep, c->path, c->quarantined_to, "skipped",
	       c->quarantined_to ? "already quarantined" : "the input no longer exists");
	return 0;
}

/* Every step on descriptors: the input's directory resolved without
 * following links, the file checked against the identity the store
 * recorded, the destination built beneath DIR's descriptor. */
static int quarantine_one(struct store *st, const struct candidate *c, int dirfd, const char *dir,
			  const char *cwd, bool copy, struct q_report *rep)
{
	size_t cwdlen = strlen(cwd);
	const char *rel = c->path + 1;
	if (strcmp(cwd, "/") != 0 && strncmp(c->path, cwd, cwdlen) == 0 && c->path[cwdlen] == '/')
		rel = c->path + cwdlen + 1;
	char dest[PATH_MAX * 2];
	snprintf(dest, sizeof dest, "%s/%s", dir, rel);
	size_t dirlen = strlen(dir);
	if (strncmp(c->path, dir, dirlen) == 0 && c->path[dirlen] == '/') {
		rep->skipped++;
		report(rep, c->path, NULL, "skipped", "already inside the quarantine directory");
		return 0;
	}
	char sparent[PATH_MAX];
	const char *sname;
	int r = split_path(c->path, sparent, sizeof sparent, &sname);
	if (r < 0) {
		report_failure(rep, c->path, NULL, r);
		return 0;
	}
	struct stat want;
	_cleanup_close_ int sdir = qfs_open_dir(AT_FDCWD, sparent);
	r = sdir < 0 ? sdir : qfs_check_identity(sdir, sname, c->size, c->mtime_ns, &want);
	if (r == -ENOENT && rep->dry_run) {
		rep->skipped++;
		report(rep, c->path, c->quarantined_to, "skipped",
		       c->quarantined_to ? "already quarantined" : "the input no longer exists");
		return 0;
	}
	if (r == -ENOENT)
		return quarantine_gone(st, c, dirfd, rel, dest, copy, rep);
	if (r < 0) {
		report_failure(rep, c->path, dest, r);
		return 0;
	}
	if (rep->dry_run) {
		*(copy ? &rep->copied : &rep->moved) += 1;
		report(rep, c->path, dest, copy ? "would_copy" : "would_move", NULL);
		return 0;
	}
	char rparent[PATH_MAX];
	const char *dname;
	_cleanup_close_ int ddir = qfs_make_dir(dirfd, split_rel(rel, rparent, sizeof rparent, &dname));
	bool copied_only = false;
	r = ddir;
	if (ddir >= 0)
		r = copy ? qfs_copy(sdir, sname, &want, ddir, dname)
			 : qfs_move(sdir, sname, &want, ddir, dname, &copied_only);
	if (r < 0) {
		report_failure(rep, c->path, dest, r);
		return 0;
	}
	r = store_record_quarantine(st, c->id, dest);
	if (r < 0)
		return r;
	if (copy || copied_only) {
		rep->copied++;
		report(rep, c->path, dest, "copied",
		       copied_only ? "copied, but the original could not be removed" : NULL);
	} else {
		rep->moved++;
		report(rep, c->path, dest, "moved", NULL);
	}
	return 0;
}

/* ---- DIR inside the analyzed tree ---------------------------------- */

struct inside_ctx {
	const char *dir;   /* absolute */
	char *input;       /* the first input whose directory holds DIR */
};

/* Stops the listing at the first input found; not an error. */
#define INSIDE_FOUND (-ECANCELED)

static int check_inside(const struct store_item_row *row, void *ctx)
{
	struct inside_ctx *ic = ctx;
	const char *slash = strrchr(row->path, '/');
	size_t n = slash ? (size_t)(slash - row->path) : 0;
	if (n == 0 || strncmp(ic->dir, row->path, n) != 0 || (ic->dir[n] && ic->dir[n] != '/'))
		return 0;
	ic->input = strdup(row->path);
	return ic->input ? INSIDE_FOUND : -ENOMEM;
}

/* 0 when DIR (absolute) is outside every directory that holds an input,
 * else the exit code of the refusal (2), with the reason printed. */
static int refuse_inside_tree(struct store *st, const char *dir, const char *dir_arg)
{
	struct inside_ctx ic = { .dir = dir };
	int r = store_list_items(st, NULL, check_inside, &ic);
	if (r == INSIDE_FOUND) {
		char shown[4096], in[4096];
		sr_text_escape_name(dir_arg, strlen(dir_arg), shown, sizeof shown);
		sr_text_escape_name(ic.input, strlen(ic.input), in, sizeof in);
		sr_err("quarantine: %s is inside the analyzed tree (the directory of %s): the next"
		       " `sandrun run -r` would analyze the quarantined files again; choose a"
		       " directory outside the inputs' directories",
		       shown, in);
		free(ic.input);
		return SR_EXIT_USAGE;
	}
	if (r == -ENOMEM && !store_errmsg(st)[0]) {
		sr_err("quarantine: out of memory");
		return SR_EXIT_STORE;
	}
	return r < 0 ? q_store_error(st) : 0;
}

int cmd_quarantine(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_R_DB },
		{ "json", no_argument, NULL, OPT_R_JSON },
		{ "outcome", required_argument, NULL, OPT_R_OUTCOME },
		{ "copy", no_argument, NULL, OPT_R_COPY },
		{ "dry-run", no_argument, NULL, OPT_R_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB;
	struct store_filter f = { .status = "failed" };
	struct q_report rep = { 0 };
	bool copy = false;
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_R_DB: db = optarg; break;
		case OPT_R_JSON: rep.json = true; break;
		case OPT_R_COPY: copy = true; break;
		case OPT_R_DRY_RUN: rep.dry_run = true; break;
		case OPT_R_OUTCOME:
			if ((rc = q_check_outcome("quarantine ", optarg)))
				return rc;
			f.outcome = optarg;
			break;
		case 'h': fputs(quarantine_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("quarantine ", "bad option");
		}
	}
	if (argc - optind != 1)
		return sr_usage_error("quarantine ", "give exactly one DIR");
	const char *dir_arg = argv[optind];
	/* The store first: a store that cannot be used leaves no DIR behind. */
	struct store *st;
	if ((rc = q_open(db, rep.dry_run ? STORE_RO : STORE_RW, &st)))
		return rc;
	char dir[PATH_MAX], cwd[PATH_MAX];
	/* Refused before anything is created: DIR as it resolves now, and
	 * again once it exists (a link on its way may lead elsewhere). */
	char *planned = q_store_path_of(dir_arg);
	rc = planned ? refuse_inside_tree(st, planned, dir_arg) : SR_EXIT_STORE;
	if (!planned)
		sr_err("quarantine: out of memory");
	if (rc == 0 && rep.dry_run)
		snprintf(dir, sizeof dir, "%s", planned);
	free(planned);
	if (rc) {
		store_close(st);
		return rc;
	}
	int r = rep.dry_run ? 0 : mkdir_p(dir_arg);
	/* DIR is the admin's word and may be reached through links; below it,
	 * nothing is followed (qfs_make_dir). A dry run opens it only if it
	 * exists already (to look for files quarantined before). */
	_cleanup_close_ int dirfd = -1;
	if (rep.dry_run)
		dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else if (r == 0 && realpath(dir_arg, dir) &&
		 (dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r < 0 || (dirfd < 0 && !rep.dry_run) || !getcwd(cwd, sizeof cwd)) {
		sr_err("quarantine: cannot create the directory %s: %s", dir_arg,
		       strerror(r < 0 ? -r : errno));
		store_close(st);
		return SR_EXIT_SOME_FAILED;
	}
	if (!rep.dry_run && (rc = refuse_inside_tree(st, dir, dir_arg))) {
		store_close(st);
		return rc;
	}
	/* Read the list first, then move: no file operation runs while a
	 * statement is open on the store. */
	struct candidates cs = { 0 };
	r = store_list_items(st, &f, collect_candidate, &cs);
	if (r == -ENOMEM && !store_errmsg(st)[0])
		sr_err("quarantine: out of memory");
	for (size_t i = 0; r == 0 && i < cs.n; i++)
		r = quarantine_one(st, &cs.v[i], dirfd, dir, cwd, copy, &rep);
	if (r < 0) {
		rc = q_store_error(st);
	} else {
		if (!rep.json && rep.dry_run)
			printf("%lld would be moved, %lld would be copied, %lld skipped, %d would fail"
			       " (dry run: nothing changed)\n",
			       (long long)rep.moved, (long long)rep.copied, (long long)rep.skipped,
			       rep.failures);
		else if (!rep.json)
			printf("%lld moved, %lld copied, %lld skipped, %d failed\n", (long long)rep.moved,
			       (long long)rep.copied, (long long)rep.skipped, rep.failures);
		rc = rep.failures ? SR_EXIT_SOME_FAILED : SR_EXIT_OK;
	}
	for (size_t i = 0; i < cs.n; i++) {
		free(cs.v[i].path);
		free(cs.v[i].quarantined_to);
	}
	free(cs.v);
	store_close(st);
	return rc;
}
