/* runner/query_export.c — sandrun export: the results of done items as one
 * JSON array or as CSV, to stdout or atomically to a file. */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/query_util.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_E_DB = 0x200, OPT_E_JSON, OPT_E_FORMAT };

static const char export_usage[] =
	"Usage: sandrun export [--format json|csv] [-o FILE] [--db PATH] [--json]\n"
	"Write the results of the items that are done, ordered by path.\n"
	"json: one array of objects {path, size, mtime_ns, attempts, wall_ms, cpu_ms,\n"
	"peak_memory_bytes, result}. csv: those columns, then one column per top-level\n"
	"key of the results (and a 'result' column for results that are not objects).\n"
	"In CSV, text cells that start with = + - @ get a leading ' so that a\n"
	"spreadsheet does not run them as formulas.\n\n"
	"      --format F   json (default) or csv\n"
	"  -o, --output FILE  write to FILE (replaced atomically) instead of stdout\n"
	"      --db PATH    the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json       the same as --format json\n"
	"  -h, --help       show this help\n"
	"Exit status: 0 ok, 1 the output could not be written, 2 usage error,\n"
	"4 store error.\n";

struct export_ctx {
	FILE *out;
	bool csv;
	size_t rows;
	/* csv: the result keys, in order of first appearance, and the same
	 * keys as a set (a jansson object: hashed), so collecting them is
	 * linear in the number of keys. A result is untrusted: one with 80,000
	 * keys took 6.9 s with a linear search per key. */
	char **keys;
	size_t nkeys, cap;
	json_t *seen;
	bool other_column;   /* some result is not an object */
	int write_error;
};

/* ---- json ------------------------------------------------------------ */

static int export_json_row(const struct store_item_row *row, void *ctx)
{
	struct export_ctx *ec = ctx;
	json_t *o = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o}", "path",
			      q_json_str(row->path), "size", q_json_int_or_null(row->size),
			      "mtime_ns", q_json_int_or_null(row->mtime_ns), "attempts",
			      row->attempts, "wall_ms", q_json_int_or_null(row->wall_ms), "cpu_ms",
			      q_json_int_or_null(row->cpu_ms), "peak_memory_bytes",
			      q_json_int_or_null(row->peak_memory_bytes), "result",
			      q_json_result(row->result_kind, row->result, row->result_len));
	if (!o)
		return ec->write_error = -ENOMEM;
	if (fputs(ec->rows++ ? ",\n" : "\n", ec->out) == EOF ||
	    json_dumpf(o, ec->out, JSON_COMPACT) < 0)
		ec->write_error = -EIO;
	json_decref(o);
	return ec->write_error;
}

/* ---- csv ------------------------------------------------------------- */

static int collect_keys(const struct store_item_row *row, void *ctx)
{
	struct export_ctx *ec = ctx;
	json_t *v = q_json_result(row->result_kind, row->result, row->result_len);
	if (!json_is_object(v)) {
		ec->other_column = true;
		json_decref(v);
		return 0;
	}
	const char *key;
	json_t *val;
	if (!ec->seen && !(ec->seen = json_object()))
		return ec->write_error = -ENOMEM;
	json_object_foreach(v, key, val) {
		if (json_object_get(ec->seen, key))
			continue;
		if (ec->nkeys == ec->cap) {
			size_t cap = ec->cap ? 2 * ec->cap : 64;
			char **nk = realloc(ec->keys, cap * sizeof *nk);
			if (!nk) {
				json_decref(v);
				return ec->write_error = -ENOMEM;
			}
			ec->keys = nk;
			ec->cap = cap;
		}
		if (!(ec->keys[ec->nkeys] = strdup(key)) ||
		    json_object_set_new(ec->seen, key, json_true()) < 0) {
			free(ec->keys[ec->nkeys]);
			json_decref(v);
			return ec->write_error = -ENOMEM;
		}
		ec->nkeys++;
	}
	json_decref(v);
	return 0;
}

/* One RFC 4180 cell. Text that a spreadsheet would evaluate as a formula
 * gets a leading apostrophe: results and paths are untrusted. */
static void csv_cell(FILE *f, const char *s, size_t len, bool is_text, bool first)
{
	if (!first)
		fputc(',', f);
	bool formula = is_text && len > 0 && strchr("=+-@\t\r", s[0]);
	bool quote = formula || memchr(s, ',', len) || memchr(s, '"', len) ||
		     memchr(s, '\n', len) || memchr(s, '\r', len);
	if (!quote) {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static void csv_int(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, ",%lld", (long long)v);
	else
		fputc(',', f);
}

/* A JSON value as a cell: strings as themselves, null as empty, anything
 * else as compact JSON. */
static void csv_json_cell(FILE *f, json_t *v)
{
	if (!v || json_is_null(v)) {
		fputc(',', f);
	} else if (json_is_string(v)) {
		csv_cell(f, json_string_value(v), json_string_length(v), true, false);
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		csv_cell(f, text ? text : "", text ? strlen(text) : 0, !json_is_number(v), false);
		free(text);
	}
}

static int export_csv_row(const struct store_item_row *row, void *ctx)
{
	struct export_ctx *ec = ctx;
	FILE *f = ec->out;
	json_t *path = q_json_str(row->path);
	csv_cell(f, json_string_value(path), json_string_length(path), true, true);
	json_decref(path);
	csv_int(f, row->size);
	csv_int(f, row->mtime_ns);
	csv_int(f, row->attempts);
	csv_int(f, row->wall_ms);
	csv_int(f, row->cpu_ms);
	csv_int(f, row->peak_memory_bytes);
	json_t *v = q_json_result(row->result_kind, row->result, row->result_len);
	bool obj = json_is_object(v);
	for (size_t i = 0; i < ec->nkeys; i++)
		csv_json_cell(f, obj ? json_object_get(v, ec->keys[i]) : NULL);
	if (ec->other_column)
		csv_json_cell(f, obj ? NULL : v);
	json_decref(v);
	ec->rows++;
	if (fputs("\r\n", f) == EOF)
		ec->write_error = -EIO;
	return ec->write_error;
}

static const char *const fixed_columns[] = {
	"path", "size", "mtime_ns", "attempts", "wall_ms", "cpu_ms", "peak_memory_bytes", "result",
};

static void csv_header(struct export_ctx *ec)
{
	fputs("path,size,mtime_ns,attempts,wall_ms,cpu_ms,peak_memory_bytes", ec->out);
	for (size_t i = 0; i < ec->nkeys; i++) {
		/* A result key named like a fixed column gets a "result." prefix. */
		bool clash = false;
		for (size_t j = 0; j < sizeof fixed_columns / sizeof fixed_columns[0]; j++)
			clash |= strcmp(ec->keys[i], fixed_columns[j]) == 0;
		char *name = NULL;
		if (asprintf(&name, "%s%s", clash ? "result." : "", ec->keys[i]) < 0)
			name = NULL;
		json_t *k = q_json_str(name ? name : ec->keys[i]);
		csv_cell(ec->out, json_string_value(k), json_string_length(k), true, false);
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

static int run_export(struct store *st, struct export_ctx *ec)
{
	int r = 0;
	if (ec->csv) {
		r = store_export(st, collect_keys, ec);
		if (r == 0) {
			csv_header(ec);
			r = store_export(st, export_csv_row, ec);
		}
	} else {
		fputc('[', ec->out);
		r = store_export(st, export_json_row, ec);
		if (r == 0)
			fputs(ec->rows ? "\n]\n" : "]\n", ec->out);
	}
	return r;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_E_DB },
		{ "json", no_argument, NULL, OPT_E_JSON },
		{ "format", required_argument, NULL, OPT_E_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB, *output = NULL;
	struct export_ctx ec = { 0 };
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_E_DB: db = optarg; break;
		case OPT_E_JSON: ec.csv = false; break;
		case OPT_E_FORMAT:
			if (strcmp(optarg, "json") == 0)
				ec.csv = false;
			else if (strcmp(optarg, "csv") == 0)
				ec.csv = true;
			else
				return sr_usage_error("export ", "--format '%s': give json or csv",
						      optarg);
			break;
		case 'o': output = optarg; break;
		case 'h': fputs(export_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("export ", "bad option");
		}
	}
	if (optind < argc)
		return sr_usage_error("export ", "unexpected argument '%s'", argv[optind]);
	struct store *st;
	if ((rc = q_open(db, STORE_RO, &st)))
		return rc;
	char *tmp = NULL;
	ec.out = output ? open_output(output, &tmp) : stdout;
	if (!ec.out) {
		sr_err("export: cannot create %s: %s; choose a writable -o path", output,
		       strerror(errno));
		store_close(st);
		return SR_EXIT_SOME_FAILED;
	}
	int r = run_export(st, &ec);
	rc = SR_EXIT_OK;
	if (r < 0 && !ec.write_error)
		rc = q_store_error(st);
	int w = ec.write_error;
	if (output) {
		int cr = close_output(ec.out, tmp, output, r == 0);
		w = w ? w : cr;
	} else if (fflush(stdout) == EOF && !w) {
		w = -EIO;
	}
	if (w && rc == SR_EXIT_OK) {
		sr_err("export: cannot write %s: %s; nothing was replaced", output ? output : "stdout",
		       strerror(-w));
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
