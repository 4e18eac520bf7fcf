/* runner/spec_guard.c — finished work of another job spec is not analyzed
 * again unasked. See spec_guard.h. */
#include "runner/spec_guard.h"
#include "runner/common.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPECS 64

/* An earlier run's description, its key, and whether it is this very
 * spec under the old key format. */
struct run_spec {
	char key[72];
	char *text;
	bool same;
};

struct guard {
	const struct jobspec *js;
	struct run_spec spec[MAX_SPECS]; /* the latest run's first */
	size_t nspecs;
	int64_t done, failed;
	const char *biggest;        /* the other key with the most done items */
	int64_t biggest_done;
};

static int find(const struct guard *g, const char *key)
{
	for (size_t i = 0; i < g->nspecs; i++)
		if (strcmp(g->spec[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int on_run_spec(const char *text, void *ctx)
{
	struct guard *g = ctx;
	if (g->nspecs == MAX_SPECS)
		return 0;
	char now[72];
	struct run_spec *s = &g->spec[g->nspecs];
	if (jobspec_keys_of_run_spec(text, s->key, now) < 0)
		return 0; /* not ours to judge: its items count as another spec */
	if (strcmp(s->key, g->js->key) == 0 || find(g, s->key) >= 0)
		return 0; /* this spec; or a run of a spec already seen */
	if (!(s->text = strdup(text)))
		return -ENOMEM;
	s->same = strcmp(now, g->js->key) == 0;
	g->nspecs++;
	return 0;
}

static int on_count(const char *key, int64_t done, int64_t failed, void *ctx)
{
	struct guard *g = ctx;
	int i = find(g, key);
	if (strcmp(key, g->js->key) == 0 || (i >= 0 && g->spec[i].same))
		return 0;
	g->done += done;
	g->failed += failed;
	if (done > g->biggest_done && i >= 0) {
		g->biggest = g->spec[i].text;
		g->biggest_done = done;
	}
	return 0;
}

/* What the user changes to change each part of a description. Parts
 * that follow from an earlier one (--cmd's words are its argv) are only
 * named when that one is the same. */
static const struct {
	const char *field, *option;
	int after;                   /* only if options[after] is the same; -1: always */
} options[] = {
	/* 0 */ { "kind", "--cmd (one of the two used the built-in analyzer)", -1 },
	/* 1 */ { "command.string", "--cmd", 0 },
	/* 2 */ { "program_sha256", "the program's bytes (rebuilt or upgraded)", 1 },
	/* 3 */ { "argv", "the command's arguments", 1 },
	/* 4 */ { "command.input", "{} or stdin", 1 },
	/* 5 */ { "policy", "--policy (or the policy file's text)", 0 },
	/* 6 */ { "etc", "--etc", 0 },
	/* 7 */ { "result", "--output", 0 },
	/* 8 */ { "bad_input_exit", "the analyzer's bad-input status", 0 },
	/* 9 */ { "command.env", "--env", 0 },
	/* 10 */ { "command.binds", "--bind/--bind-ro", 0 },
	/* 11 */ { "command.ok_codes", "--ok-codes", 0 },
};

static json_t *field(json_t *d, const char *path)
{
	const char *dot = strchr(path, '.');
	if (!dot)
		return json_object_get(d, path);
	char head[32];
	snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
	return json_object_get(json_object_get(d, head), dot + 1);
}

void spec_guard_differences(json_t *a, json_t *b, char *out, size_t len)
{
	enum { N = sizeof options / sizeof options[0] };
	bool differs[N];
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N; i++) {
		json_t *x = field(a, options[i].field), *y = field(b, options[i].field);
		differs[i] = !((!x && !y) || (x && y && json_equal(x, y)));
		if (!differs[i] || (options[i].after >= 0 && differs[options[i].after]))
			continue;
		int n = snprintf(out + at, len - at, "%s%s", at ? ", " : "", options[i].option);
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
}

static void refuse(const struct guard *g, const char *db)
{
	char what[512] = "";
	json_t *now = json_loads(g->js->description, 0, NULL);
	json_t *before = g->biggest ? jobspec_description_now(g->biggest) : NULL;
	if (now && before)
		spec_guard_differences(before, now, what, sizeof what);
	json_decref(now);
	json_decref(before);
	char failed[64] = "";
	if (g->failed)
		snprintf(failed, sizeof failed, " (and %" PRId64 " failed)", g->failed);
	sr_err("%" PRId64 " done item%s%s in %s %s analyzed with another job spec%s%s%s; this run would analyze "
	       "again each of them it names.",
	       g->done, g->done == 1 ? "" : "s", failed, db, g->done == 1 ? "was" : "were",
	       what[0] ? " (it differs in: " : "", what, what[0] ? ")" : "");
	sr_err("give --new-spec to do that (--force analyzes everything again), or the options of the "
	       "earlier run (docs/runner.md, \"Item identity and job specs\"); nothing was changed");
}

int spec_guard_check(struct store *st, const struct jobspec *js, bool confirmed)
{
	struct guard *g = calloc(1, sizeof *g);
	if (!g)
		return SR_EXIT_STORE;
	g->js = js;
	int status = 0;
	if (store_run_specs(st, on_run_spec, g) < 0 || store_spec_counts(st, on_count, g) < 0) {
		sr_err("%s", store_errmsg(st));
		status = SR_EXIT_STORE;
	} else if (g->done > 0 && !confirmed) {
		refuse(g, store_path(st));
		status = SR_EXIT_USAGE;
	}
	/* The same spec under the old key format: its items are this spec's. */
	for (size_t i = 0; status == 0 && i < g->nspecs; i++) {
		int64_t n = 0;
		if (g->spec[i].same && store_spec_rekey(st, g->spec[i].key, js->key, &n) < 0) {
			sr_err("%s", store_errmsg(st));
			status = SR_EXIT_STORE;
		}
	}
	for (size_t i = 0; i < g->nspecs; i++)
		free(g->spec[i].text);
	free(g);
	return status;
}
