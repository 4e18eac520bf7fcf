/* runner/query_export.c — sandrun export: the items' results as one JSON
 * array, JSON Lines or CSV, to stdout or atomically to a file.
 * docs/runner.md "export" explains the CSV columns. */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/query_util.h"
#include "lib/text.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_E_DB = 0x200, OPT_E_JSON, OPT_E_FORMAT, OPT_E_STATUS, OPT_E_OUTCOME, OPT_E_FAILED,
       OPT_E_ALL };

static const char export_usage[] =
	"Usage: sandrun export [--format json|jsonl|csv] [-o FILE] [--status S]\n"
	"                      [--outcome O] [--failed | --all] [--db PATH]\n"
	"Write the results of the items that are done, ordered by path; with a\n"
	"filter, the chosen items with their status, outcome and error.\n"
	"json: one array of objects {path, size, mtime_ns, attempts, wall_ms, cpu_ms,\n"
	"peak_memory_bytes, result} (and status, outcome, error with a filter).\n"
	"jsonl: the same objects, one per line. csv: those columns, then one column\n"
	"per key of the results, nested objects flattened into dotted names\n"
	"(loudness.integrated_lufs), in order of first appearance; an array stays\n"
	"one cell of compact JSON; a result that is not an object goes in a column\n"
	"'result'; a key named like a fixed column gets the prefix 'result.'.\n"
	"Real numbers are written in the shortest form that reads back exactly\n"
	"(0.05). In CSV, text cells that start with = + - @ get a leading ' so\n"
	"that a spreadsheet does not run them as formulas.\n\n"
	"      --format F   json (default), jsonl or csv; without it, the extension\n"
	"                   of -o FILE decides (.json, .jsonl or .ndjson, .csv)\n"
	"  -o, --output FILE  write to FILE (replaced atomically) instead of stdout\n"
	"      --status S   items in status S (pending, running, done, failed)\n"
	"      --outcome O  items whose last attempt ended in O (any status unless\n"
	"                   --status or --failed says which)\n"
	"      --failed     the failed items, with their outcome and error\n"
	"      --all        every item, with its status, outcome and error\n"
	"      --db PATH    the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json       the same as --format json\n"
	"  -h, --help       show this help\n"
	"A format and an -o extension that disagree, or --failed, --all and\n"
	"--status that disagree, are a usage error.\n"
	"Exit status: 0 ok, 1 the output could not be written, 2 usage error,\n"
	"4 store error.\n";

enum export_format { FMT_NONE, FMT_JSON, FMT_JSONL, FMT_CSV };
static const char *const format_names[] = { "", "json", "jsonl", "csv" };

struct export_ctx {
	FILE *out;
	enum export_format fmt;
	bool with_state;     /* status, outcome, error columns */
	size_t rows;
	/* csv: the flattened result keys, in order of first appearance, and
	 * the same keys as a set (a jansson object: hashed), so collecting them
	 * is linear in the number of keys. A result is untrusted: one with
	 * 80,000 keys took 6.9 s with a linear search per key. */
	char **keys;
	size_t nkeys, cap;
	json_t *seen;
	bool other_column;   /* some result is not an object */
	int write_error;
};

/* ---- json and jsonl -------------------------------------------------- */

static json_t *row_json(const struct export_ctx *ec, const struct store_item_row *row)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o}", "path",
			      q_json_str(row->path), "size", q_json_int_or_null(row->size),
			      "mtime_ns", q_json_int_or_null(row->mtime_ns), "attempts",
			      row->attempts, "wall_ms", q_json_int_or_null(row->wall_ms), "cpu_ms",
			      q_json_int_or_null(row->cpu_ms), "peak_memory_bytes",
			      q_json_int_or_null(row->peak_memory_bytes), "result",
			      q_json_result(row->result_kind, row->result, row->result_len));
	if (o && ec->with_state) {
		json_object_set_new(o, "status", q_json_str(row->status));
		json_object_set_new(o, "outcome", q_json_str(row->outcome));
		json_object_set_new(o, "error", q_json_str(row->error));
	}
	return o;
}

static int export_json_row(const struct store_item_row *row, void *ctx)
{
	struct export_ctx *ec = ctx;
	json_t *o = row_json(ec, row);
	if (!o)
		return ec->write_error = -ENOMEM;
	const char *sep = ec->fmt == FMT_JSONL ? "" : ec->rows ? ",\n" : "\n";
	ec->rows++;
	if (fputs(sep, ec->out) == EOF || q_json_write(ec->out, o, 0) < 0 ||
	    (ec->fmt == FMT_JSONL && fputc('\n', ec->out) == EOF))
		ec->write_error = -EIO;
	json_decref(o);
	return ec->write_error;
}

/* ---- csv: flattening ------------------------------------------------- */

static const char *const fixed_columns[] = {
	"path", "size", "mtime_ns", "attempts", "wall_ms", "cpu_ms", "peak_memory_bytes",
	"status", "outcome", "error", "result",
};

/* fn(name, leaf) on every leaf of an object result: a value that is not a
 * non-empty object, named by the keys on its way joined with dots. */
typedef int (*leaf_fn)(struct export_ctx *ec, const char *name, json_t *leaf, void *arg);

static int flatten(struct export_ctx *ec, json_t *obj, char *name, size_t len, size_t cap,
		   leaf_fn fn, void *arg)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val) {
		size_t klen = strlen(key), n = len + (len ? 1 : 0) + klen;
		if (n >= cap)
			continue; /* a name longer than the buffer: no column */
		if (len)
			name[len] = '.';
		memcpy(name + len + (len ? 1 : 0), key, klen + 1);
		int r = json_is_object(val) && json_object_size(val)
				? flatten(ec, val, name, n, cap, fn, arg)
				: fn(ec, name, val, arg);
		name[len] = '\0';
		if (r < 0)
			return r;
	}
	return 0;
}

static int walk_result(struct export_ctx *ec, json_t *v, leaf_fn fn, void *arg)
{
	char *name = malloc(PATH_MAX);
	if (!name)
		return -ENOMEM;
	name[0] = '\0';
	int r = flatten(ec, v, name, 0, PATH_MAX, fn, arg);
	free(name);
	return r;
}

static int add_key(struct export_ctx *ec, const char *name, json_t *leaf, void *arg)
{
	if (json_object_get(ec->seen, name))
		return 0;
	if (ec->nkeys == ec->cap) {
		size_t cap = ec->cap ? 2 * ec->cap : 64;
		char **nk = realloc(ec->keys, cap * sizeof *nk);
		if (!nk)
			return -ENOMEM;
		ec->keys = nk;
		ec->cap = cap;
	}
	/* The set maps a name to its column index. */
	if (!(ec->keys[ec->nkeys] = strdup(name)) ||
	    json_object_set_new(ec->seen, name, json_integer((json_int_t)ec->nkeys)) < 0) {
		free(ec->keys[ec->nkeys]);
		return -ENOMEM;
	}
	ec->nkeys++;
	return 0;
}

static int collect_keys(const struct store_item_row *row, void *ctx)
{
	struct export_ctx *ec = ctx;
	json_t *v = q_json_result(row->result_kind, row->result, row->result_len);
	int r = 0;
	if (json_is_object(v))
		r = walk_result(ec, v, add_key, NULL);
	else if (v && !json_is_null(v))
		ec->other_column = true;
	json_decref(v);
	return r < 0 ? (ec->write_error = r) : 0;
}

/* ---- csv: writing ---------------------------------------------------- */

static void csv_sep_int(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, ",%lld", (long long)v);
	else
		fputc(',', f);
}

static void csv_sep_text(FILE *f, const char *s)
{
	fputc(',', f);
	json_t *t = s ? q_json_str(s) : NULL; /* UTF-8, repaired if need be */
	if (t)
		sr_text_put_csv(f, json_string_value(t), json_string_length(t), true);
	json_decref(t);
}

/* A leaf as a cell: a string as itself, a number in its shortest form,
 * null as empty, an array or {} as compact JSON. */
static void csv_value(FILE *f, json_t *v)
{
	char num[64];
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v)) {
		sr_text_put_csv(f, json_string_value(v), json_string_length(v), true);
	} else if (json_is_real(v)) {
		q_format_real(json_real_value(v), num, sizeof num, false);
		sr_text_put_csv(f, num, strlen(num), false);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		sr_text_put_csv(f, num, strlen(num), false);
	} else {
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		if (mem && (q_json_write(mem, v, 0) < 0) + fclose(mem) == 0)
			sr_text_put_csv(f, text, len, !json_is_boolean(v));
		free(text);
	}
}

/* The row's cells by column index; the first leaf of a name wins (a key
 * "a.b" and a nested a → b name one column). */
static int place_leaf(struct export_ctx *ec, const char *name, json_t *leaf, void *arg)
{
	json_t **cells = arg;
	json_t *idx = json_object_get(ec->seen, name);
	if (idx) {
		json_int_t i = json_integer_value(idx);
		if (!cells[i])
			cells[i] = leaf;
	}
	return 0;
}

static int export_csv_row(const struct store_item_row *row, void *ctx)
{
	struct export_ctx *ec = ctx;
	FILE *f = ec->out;
	json_t *path = q_json_str(row->path);
	sr_text_put_csv(f, json_string_value(path), json_string_length(path), true);
	json_decref(path);
	csv_sep_int(f, row->size);
	csv_sep_int(f, row->mtime_ns);
	csv_sep_int(f, row->attempts);
	csv_sep_int(f, row->wall_ms);
	csv_sep_int(f, row->cpu_ms);
	csv_sep_int(f, row->peak_memory_bytes);
	if (ec->with_state) {
		csv_sep_text(f, row->status);
		csv_sep_text(f, row->outcome);
		csv_sep_text(f, row->error);
	}
	json_t *v = q_json_result(row->result_kind, row->result, row->result_len);
	json_t **cells = ec->nkeys ? calloc(ec->nkeys, sizeof *cells) : NULL;
	if (ec->nkeys && !cells) {
		json_decref(v);
		return ec->write_error = -ENOMEM;
	}
	bool obj = json_is_object(v);
	int r = obj && ec->nkeys ? walk_result(ec, v, place_leaf, cells) : 0;
	for (size_t i = 0; r == 0 && i < ec->nkeys; i++) {
		fputc(',', f);
		csv_value(f, cells[i]);
	}
	if (ec->other_column) {
		fputc(',', f);
		csv_value(f, obj ? NULL : v);
	}
	free(cells);
	json_decref(v);
	ec->rows++;
	if (r < 0)
		ec->write_error = r;
	else if (fputs("\r\n", f) == EOF)
		ec->write_error = -EIO;
	return ec->write_error;
}

static void csv_header(struct export_ctx *ec)
{
	fputs("path,size,mtime_ns,attempts,wall_ms,cpu_ms,peak_memory_bytes", ec->out);
	if (ec->with_state)
		fputs(",status,outcome,error", ec->out);
	for (size_t i = 0; i < ec->nkeys; i++) {
		/* A result key named like a fixed column gets a "result." prefix. */
		bool clash = false;
		for (size_t j = 0; j < sizeof fixed_columns / sizeof fixed_columns[0]; j++)
			clash |= strcmp(ec->keys[i], fixed_columns[j]) == 0;
		char *name = NULL;
		if (asprintf(&name, "%s%s", clash ? "result." : "", ec->keys[i]) < 0)
			name = NULL;
		json_t *k = q_json_str(name ? name : ec->keys[i]);
		fputc(',', ec->out);
		sr_text_put_csv(ec->out, json_string_value(k), json_string_length(k), true);
		json_decref(k);
		free(name);
	}
	if (ec->other_column)
		fputs(",result", ec->out);
	fputs("\r\n", ec->out);
}

/* ---- the command ----------------------------------------------------- */

/* A temporary file beside `dest`, renamed over it once complete, so a
 * reader never sees half an export and a failure leaves the old file. */
static FILE *open_output(const char *dest, char **tmp)
{
	if (asprintf(tmp, "%s.tmp.XXXXXX", dest) < 0)
		return NULL;
	int fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	fchmod(fd, 0644 & ~umask(umask(0)));
	return fdopen(fd, "w");
}

static int close_output(FILE *f, const char *tmp, const char *dest, bool ok)
{
	int err = 0;
	if (ok && (fflush(f) == EOF || fsync(fileno(f)) < 0))
		err = errno ? errno : EIO;
	if (fclose(f) == EOF && !err)
		err = errno ? errno : EIO;
	if (ok && !err && rename(tmp, dest) < 0)
		err = errno;
	if (!ok || err)
		unlink(tmp);
	return -err;
}

static int run_export(struct store *st, const struct store_filter *f, struct export_ctx *ec)
{
	int r = 0;
	if (ec->fmt == FMT_CSV) {
		if (!(ec->seen = json_object()))
			return ec->write_error = -ENOMEM;
		r = store_list_items(st, f, collect_keys, ec);
		if (r == 0) {
			csv_header(ec);
			r = store_list_items(st, f, export_csv_row, ec);
		}
	} else if (ec->fmt == FMT_JSONL) {
		r = store_list_items(st, f, export_json_row, ec);
	} else {
		fputc('[', ec->out);
		r = store_list_items(st, f, export_json_row, ec);
		if (r == 0)
			fputs(ec->rows ? "\n]\n" : "]\n", ec->out);
	}
	return r;
}

/* The format an -o FILE's extension names, FMT_NONE for any other. */
static enum export_format format_of_name(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot || strchr(dot, '/'))
		return FMT_NONE;
	if (strcasecmp(dot, ".csv") == 0)
		return FMT_CSV;
	if (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0)
		return FMT_JSONL;
	if (strcasecmp(dot, ".json") == 0)
		return FMT_JSON;
	return FMT_NONE;
}

/* A choice given twice must agree: 0, or the usage error. */
static int agree(const char *what, const char *was, const char *now)
{
	if (!was || strcmp(was, now) == 0)
		return 0;
	return sr_usage_error("export ", "%s: '%s' and '%s' conflict; give one", what, was, now);
}

struct export_opts {
	const char *db, *output;
	enum export_format fmt;
	const char *status_word;   /* what chose the status, for messages */
	struct store_filter f;
	bool status_given;
};

static int set_format(struct export_opts *o, enum export_format fmt)
{
	if (o->fmt && o->fmt != fmt)
		return agree("--format", format_names[o->fmt], format_names[fmt]);
	o->fmt = fmt;
	return 0;
}

static int set_status(struct export_opts *o, const char *word, const char *status)
{
	if (o->status_given && (!o->f.status != !status ||
				(status && strcmp(o->f.status, status) != 0)))
		return agree("the items", o->status_word, word);
	o->status_given = true;
	o->status_word = word;
	o->f.status = status;
	return 0;
}

static int parse_export(int argc, char **argv, struct export_opts *o)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_E_DB },
		{ "json", no_argument, NULL, OPT_E_JSON },
		{ "format", required_argument, NULL, OPT_E_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, OPT_E_STATUS },
		{ "outcome", required_argument, NULL, OPT_E_OUTCOME },
		{ "failed", no_argument, NULL, OPT_E_FAILED },
		{ "all", no_argument, NULL, OPT_E_ALL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, rc = 0;
	optind = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_E_DB: o->db = optarg; break;
		case OPT_E_JSON: rc = set_format(o, FMT_JSON); break;
		case OPT_E_FORMAT:
			if (strcmp(optarg, "json") == 0)
				rc = set_format(o, FMT_JSON);
			else if (strcmp(optarg, "jsonl") == 0)
				rc = set_format(o, FMT_JSONL);
			else if (strcmp(optarg, "csv") == 0)
				rc = set_format(o, FMT_CSV);
			else
				rc = sr_usage_error("export ", "--format '%s': give json, jsonl or csv",
						    optarg);
			break;
		case 'o': o->output = optarg; break;
		case OPT_E_STATUS:
			if ((rc = q_check_status("export ", optarg)) == 0)
				rc = set_status(o, "--status", optarg);
			break;
		case OPT_E_OUTCOME:
			if ((rc = q_check_outcome("export ", optarg)) == 0)
				o->f.outcome = optarg;
			break;
		case OPT_E_FAILED: rc = set_status(o, "--failed", "failed"); break;
		case OPT_E_ALL: rc = set_status(o, "--all", NULL); break;
		case 'h': fputs(export_usage, stdout); return -1;
		default: return sr_usage_error("export ", "bad option");
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return sr_usage_error("export ", "unexpected argument '%s'", argv[optind]);
	enum export_format by_name = o->output ? format_of_name(o->output) : FMT_NONE;
	if (o->fmt && by_name && o->fmt != by_name)
		return sr_usage_error("export ", "--format %s conflicts with -o %s (a .%s file)",
				      format_names[o->fmt], o->output, format_names[by_name]);
	if (!o->fmt)
		o->fmt = by_name ? by_name : FMT_JSON;
	/* The default is the done items; --outcome alone looks at any status. */
	if (!o->status_given && !o->f.outcome)
		o->f.status = "done";
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = { .db = QUERY_DEFAULT_DB };
	int rc = parse_export(argc, argv, &o);
	if (rc)
		return rc < 0 ? SR_EXIT_OK : rc;
	struct export_ctx ec = { .fmt = o.fmt };
	o.f.with_result = true;
	ec.with_state = !(o.f.status && strcmp(o.f.status, "done") == 0 && !o.f.outcome);
	struct store *st;
	if ((rc = q_open(o.db, STORE_RO, &st)))
		return rc;
	char *tmp = NULL;
	ec.out = o.output ? open_output(o.output, &tmp) : stdout;
	if (!ec.out) {
		sr_err("export: cannot create %s: %s; choose a writable -o path", o.output,
		       strerror(errno));
		store_close(st);
		return SR_EXIT_SOME_FAILED;
	}
	int r = run_export(st, &o.f, &ec);
	rc = SR_EXIT_OK;
	if (r < 0 && !ec.write_error)
		rc = q_store_error(st);
	int w = ec.write_error;
	if (o.output) {
		int cr = close_output(ec.out, tmp, o.output, r == 0);
		w = w ? w : cr;
	} else if (fflush(stdout) == EOF && !w) {
		w = -EIO;
	}
	if (w && rc == SR_EXIT_OK) {
		sr_err("export: cannot write %s: %s; nothing was replaced",
		       o.output ? o.output : "stdout", strerror(-w));
		rc = SR_EXIT_SOME_FAILED;
	}
	for (size_t i = 0; i < ec.nkeys; i++)
		free(ec.keys[i]);
	free(ec.keys);
	json_decref(ec.seen);
	free(tmp);
	store_close(st);
	return rc;
}
