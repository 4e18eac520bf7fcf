/* report/report_data.c — what the page shows, read through store/store.h
 * (its "report's reads"), in one snapshot of either backend. The store
 * hands plain rows; every distribution is aggregated here, in C, so an
 * SQLite and a PostgreSQL store of the same data give the same page.
 * Kept in memory: one small record per attempt (a failure's tooltip only
 * when it can be a scatter point), one per run, one per analyzer report
 * (paths only of flagged files): a few MB at 100,000 items. */
#include "report/report_internal.h"
#include "store/store.h"
#include "lib/outcome.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int rp_fail(struct rp *r)
{
	snprintf(r->err, sizeof r->err, "%s", store_errmsg(r->st));
	if (!r->err[0])
		snprintf(r->err, sizeof r->err, "database %s: cannot read it for the report: out of"
			 " memory", r->path);
	return -1;
}

void rp_hist_add(struct rp_hist *h, double v, int k)
{
	if (!isfinite(v) || k < 0 || k >= h->nseries)
		return;
	int b = rp_axis_bin(h->x.lo, h->x.hi, h->x.log, h->nbins, v);
	if (b >= 0 && b < h->nbins)
		h->count[k][b]++;
}

int rp_cmp_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	*oom |= !d;
	return d;
}

/* Grow *v (of *n elements of size sz) by one; NULL when out of memory. */
static void *grow(void **v, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		void *p = realloc(*v, c * sz);
		if (!p)
			return NULL;
		*v = p;
		*cap = c;
	}
	return (char *)*v + (*n)++ * sz;
}

/* ---- items: the summary and the failed outcomes' bars -------------------- */

static int group(const char *status, const char *outcome, int64_t n, void *ctx)
{
	struct rp *r = ctx;
	r->items += n;
	if (!status)
		return 0;
	if (strcmp(status, "done") == 0)
		r->done += n;
	else if (strcmp(status, "pending") == 0)
		r->pending += n;
	else if (strcmp(status, "running") == 0)
		r->running += n;
	else if (strcmp(status, "failed") == 0) {
		r->failed += n;
		if (r->nfails >= sizeof r->fails / sizeof r->fails[0])
			return 0;
		char *label = strdup(outcome ? outcome : "(none)");
		char *href = label ? malloc(strlen(label) + 8) : NULL;
		if (!href) {
			free(label);
			return -ENOMEM;
		}
		sprintf(href, "#fail-%s", label);
		for (char *p = href + 6; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
				*p = '-';
		r->fails[r->nfails++] = (struct rp_bar){
			.label = label, .n = n, .href = href,
			.cls = outcome_at_limit(outcome_from_name(outcome)) ? "c-limit" : "c-fail",
		};
	}
	return 0;
}

/* The most frequent failure first; ties by name, so the page is the same
 * whatever order the store gives the groups in. */
static int cmp_bar(const void *a, const void *b)
{
	const struct rp_bar *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* ---- runs ------------------------------------------------------------------ */

static void add_limit(struct rp *r, double v, bool mem)
{
	if (!isfinite(v))
		return;
	double *set = mem ? r->mem : r->tmo;
	int *n = mem ? &r->nmem : &r->ntmo;
	if (v <= 0) {
		r->mem_unlimited |= mem;
		return;
	}
	for (int i = 0; i < *n; i++)
		if (set[i] == v)
			return;
	if (*n < RP_MAX_MARKS)
		set[(*n)++] = v;
}

static int run(const struct store_run_fact *f, void *ctx)
{
	struct rp *r = ctx;
	struct rp_run *u = grow((void **)&r->run, &r->nrun, &r->run_cap, sizeof *u);
	if (!u)
		return -ENOMEM;
	bool oom = false;
	*u = (struct rp_run){
		.id = f->id, .started_ms = f->started_ms, .until_ms = f->until_ms,
		.how = dup_or_null(f->how, &oom), .by = dup_or_null(f->interrupted_by, &oom),
		.hostname = dup_or_null(f->hostname, &oom), .version = dup_or_null(f->version, &oom),
		.kind = dup_or_null(f->kind, &oom), .mem_bytes = f->mem_bytes,
		.timeout_ms = f->timeout_ms,
	};
	if (f->has_spec) { /* the limits each run recorded in its job spec */
		r->spec_seen = true;
		add_limit(r, f->mem_bytes, true);
		add_limit(r, f->timeout_ms, false);
	}
	return oom ? -ENOMEM : 0;
}

/* The run of id (runs are newest first: ids descending), or NULL. */
static struct rp_run *run_of(struct rp *r, int64_t id)
{
	size_t lo = 0, hi = r->nrun;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->run[mid].id == id)
			return &r->run[mid];
		if (r->run[mid].id > id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- attempts ---------------------------------------------------------------- */

/* "path: outcome, 1.2 s, 40 MiB", escaped for the page. */
static char *point_title(const struct store_attempt_fact *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	sr_text_put_str(m, a->path ? a->path : "", SR_TEXT_HTML_LINE);
	fputs(": ", m);
	sr_text_put_str(m, a->outcome, SR_TEXT_HTML_LINE);
	fputs(", ", m);
	rp_put_val(m, (double)a->wall_ms, RP_MS);
	fputs(", ", m);
	rp_put_val(m, (double)a->peak_memory_bytes, RP_BYTES);
	fclose(m);
	return buf;
}

static int attempt(const struct store_attempt_fact *a, void *ctx)
{
	struct rp *r = ctx;
	struct rp_att *t = grow((void **)&r->att, &r->natt, &r->att_cap, sizeof *t);
	if (!t)
		return -ENOMEM;
	enum rp_class cls = !a->outcome                              ? RP_OPEN
			    : strcmp(a->outcome, "interrupted") == 0 ? RP_INTERRUPTED
			    /* ok, and damaged: the input is, the analysis is not */
			    : outcome_succeeded(outcome_from_name(a->outcome)) ? RP_OK
			    : outcome_at_limit(outcome_from_name(a->outcome)) ? RP_LIMIT
									      : RP_FAIL;
	*t = (struct rp_att){ .id = a->id, .run_id = a->run_id, .wall_ms = a->wall_ms,
			      .mem = a->peak_memory_bytes, .cls = cls, .ended = a->ended };
	if ((cls == RP_LIMIT || cls == RP_FAIL) && a->wall_ms >= 0 && a->peak_memory_bytes >= 0 &&
	    !(t->title = point_title(a)))
		return -ENOMEM;
	struct rp_run *u = run_of(r, a->run_id);
	if (u) {
		u->fin += a->ended && a->outcome && cls != RP_INTERRUPTED;
		u->ok += cls == RP_OK;
		u->rel += cls == RP_INTERRUPTED;
	}
	return 0;
}

/* ---- the analyzer's reports ------------------------------------------------------ */

static int audio(const struct store_audio_row *a, void *ctx)
{
	struct rp *r = ctx;
	struct rp_an *n = grow((void **)&r->an, &r->nan, &r->an_cap, sizeof *n);
	if (!n)
		return -ENOMEM;
	*n = (struct rp_an){ .lufs = a->lufs, .tp = a->true_peak_dbtp, .dur = a->duration_s,
			     .clipped = a->clipped_samples, .silence = a->silence_ratio,
			     .damaged = a->damaged, .truncated = a->truncated };
	bool oom = false;
	if (n->clipped > 0 || n->silence >= SILENT_RATIO || n->damaged)
		n->path = dup_or_null(a->path, &oom);
	if (n->damaged)
		n->decoder_error = dup_or_null(a->decoder_error, &oom);
	return oom ? -ENOMEM : 0;
}

/* ---- the failed files' lists ------------------------------------------------------ */

#define STDERR_SHOWN 1024 /* bytes of a stderr tail shown (its end) */

struct failed_ctx {
	struct rp *r;
	size_t k;
};

static int failed_row(const struct store_failure_row *f, void *ctx)
{
	struct failed_ctx *c = ctx;
	struct rp *r = c->r;
	size_t *n = &r->nfailed_rows[c->k];
	if (*n >= LIST_CAP)
		return 0;
	struct rp_failed *v = &r->failed_rows[c->k][(*n)++];
	bool oom = false;
	*v = (struct rp_failed){
		.path = dup_or_null(f->path, &oom), .error = dup_or_null(f->error, &oom),
		.syscall = dup_or_null(f->syscall, &oom), .attempts = f->attempts,
		.exit_code = f->exit_code, .signal = f->signal, .wall_ms = f->wall_ms,
		.mem = f->peak_memory_bytes, .stderr_total = f->stderr_total,
	};
	if (f->stderr_end && f->stderr_len) {
		if ((v->stderr_end = malloc(f->stderr_len)))
			memcpy(v->stderr_end, f->stderr_end, f->stderr_len);
		v->stderr_len = f->stderr_len;
		oom |= !v->stderr_end;
	}
	return oom ? -ENOMEM : 0;
}

static int read_failed(struct rp *r)
{
	for (size_t k = 0; k < r->nfails; k++) {
		const char *label = r->fails[k].label;
		if (!(r->failed_rows[k] = calloc(LIST_CAP, sizeof *r->failed_rows[k])))
			return -ENOMEM;
		struct failed_ctx c = { r, k };
		int rc = store_failed_items(r->st, strcmp(label, "(none)") == 0 ? NULL : label,
					    STDERR_SHOWN, LIST_CAP, failed_row, &c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int rp_read(struct rp *r)
{
	if (store_read_begin(r->st) < 0)
		return rp_fail(r);
	int rc = store_item_groups(r->st, group, r);
	if (rc == 0)
		rc = store_each_run(r->st, run, r);
	if (rc == 0)
		rc = store_each_attempt(r->st, attempt, r);
	if (rc == 0)
		rc = store_audio_reports(r->st, audio, r, &r->results);
	if (rc == 0) {
		qsort(r->fails, r->nfails, sizeof r->fails[0], cmp_bar);
		rc = read_failed(r);
	}
	store_read_end(r->st);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(r->err, sizeof r->err, "database %s: out of memory while reading it"
				 " for the report", r->path);
		else
			rp_fail(r);
		return -1;
	}
	r->attempts = (int64_t)r->natt;
	r->runs = (int64_t)r->nrun;
	return 0;
}

void rp_data_free(struct rp *r)
{
	for (size_t i = 0; i < r->nfails; i++) {
		free((char *)r->fails[i].label);
		free((char *)r->fails[i].href);
		for (size_t j = 0; j < r->nfailed_rows[i]; j++) {
			struct rp_failed *v = &r->failed_rows[i][j];
			free(v->path), free(v->error), free(v->syscall), free(v->stderr_end);
		}
		free(r->failed_rows[i]);
		r->failed_rows[i] = NULL;
		r->nfailed_rows[i] = 0;
	}
	for (size_t i = 0; i < r->natt; i++)
		free(r->att[i].title);
	for (size_t i = 0; i < r->nrun; i++) {
		struct rp_run *u = &r->run[i];
		free(u->how), free(u->by), free(u->hostname), free(u->version), free(u->kind);
	}
	for (size_t i = 0; i < r->nan; i++)
		free(r->an[i].path), free(r->an[i].decoder_error);
	free(r->att), free(r->run), free(r->an);
	r->att = NULL, r->run = NULL, r->an = NULL;
	r->natt = r->nrun = r->nan = r->nfails = 0;
}
