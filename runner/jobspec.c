/* runner/jobspec.c — job specs: the built-in analyzer, the spec key, and
 * the mapping from a finished job to its stored outcome. See jobspec.h. */
#include "runner/jobspec.h"
#include "lib/text.h"
#include "runner/cmdspec.h"
#include "lib/hash.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- SHA-256 (sandbox/sha256.c) ----------------------------------------- */

void jobspec_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[SR_SHA256_LEN];
	sr_sha256(data, len, d);
	sr_sha256_hex(d, out);
}

/* Hash a file's bytes; at most max_bytes (0: no cap). */
int jobspec_sha256_file(const char *path, size_t max_bytes, char out[65])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct sr_sha256 s;
	sr_sha256_init(&s);
	char buf[65536];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		total += (size_t)n;
		if (max_bytes && total > max_bytes)
			return -EFBIG;
		sr_sha256_update(&s, buf, (size_t)n);
	}
	unsigned char d[SR_SHA256_LEN];
	sr_sha256_final(&s, d);
	sr_sha256_hex(d, out);
	return 0;
}

/* ---- the spec -------------------------------------------------------- */

void jobspec_free(struct jobspec *js)
{
	if (!js)
		return;
	free(js->program);
	free(js->decoder);
	if (js->argv)
		for (char **a = js->argv; *a; a++)
			free(*a);
	free(js->argv);
	free(js->policy_arg);
	sbx_policy_free(js->policy);
	if (js->kind == JOBSPEC_COMMAND) {
		for (size_t i = 0; i < js->nbinds; i++) {
			free((char *)js->binds[i].src); /* dst is the same string */
			if (sbx_bind_by_fd(&js->binds[i]))
				close(js->binds[i].src_fd);
		}
		if (js->envp)
			for (char **e = js->envp; *e; e++)
				free(*e);
		free(js->envp);
		free(js->command);
		cmdspec_job_free(js->job);
	}
	free(js->description);
	free(js->run_description);
	free(js);
}

static json_t *limits_json(const struct sbx_limits *l)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I}",
			 "mem_bytes", (json_int_t)l->mem_bytes, "timeout_ms", (json_int_t)l->timeout_ms,
			 "cpu_time_ms", (json_int_t)l->cpu_time_ms, "cpus", l->cpus,
			 "pids", (json_int_t)l->pids, "fsize_bytes", (json_int_t)l->fsize_bytes,
			 "nofile", (json_int_t)l->nofile, "tmp_bytes", (json_int_t)l->tmp_bytes);
}

/* --etc names, sorted: the order they were given in changes nothing. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *etc_json(const struct jobspec *js)
{
	const char *names[SBX_MAX_ETC_EXTRA];
	size_t n = js->netc_extra < SBX_MAX_ETC_EXTRA ? js->netc_extra : SBX_MAX_ETC_EXTRA;
	if (n)
		memcpy(names, js->etc_extra, n * sizeof *names);
	qsort(names, n, sizeof *names, cmp_str);
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* The key of a canonical description text. */
static int key_of(json_t *d, char **text_out, char key[72])
{
	char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	char hex[65];
	jobspec_sha256_hex(text, strlen(text), hex);
	snprintf(key, 72, "sha256:%s", hex);
	if (text_out)
		*text_out = text;
	else
		free(text);
	return 0;
}

int jobspec_compute_key(struct jobspec *js)
{
	json_t *argv = json_array();
	for (char **a = js->argv; a && *a; a++)
		json_array_append_new(argv, json_string(*a));
	/* The policy is its text: the same file under another name is the same
	 * policy. Only when the text could not be read does the name stand in.
	 * Format 2: what changes a result, and nothing else — no limits, no
	 * output cap (docs/runner.md, "Item identity and job specs"). */
	json_t *d = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:i, s:s}",
			      "format", JOBSPEC_KEY_FORMAT,
			      "kind", js->kind == JOBSPEC_ANALYZER ? "analyzer" : "command",
			      "program_sha256", js->program_sha256,
			      "argv", argv,
			      "policy", js->policy_sha256[0] ? json_pack("{s:s}", "sha256", js->policy_sha256)
							     : json_pack("{s:s}", "name", js->policy_arg ? js->policy_arg : ""),
			      "etc", etc_json(js),
			      "bad_input_exit", js->bad_input_exit,
			      "result", js->result_kind == STORE_RESULT_JSON ? "json"
					: js->result_kind == STORE_RESULT_TEXT ? "text" : "blob");
	/* A command's own settings; the analyzer's description stays as it
	 * was, so its keys (and the items done under them) do not change. */
	if (d && js->decoder_sha256[0] &&
	    json_object_set_new(d, "decoder_sha256", json_string(js->decoder_sha256)) < 0) {
		json_decref(d);
		return -ENOMEM;
	}
	if (d && js->kind == JOBSPEC_COMMAND) {
		json_t *c = cmdspec_describe(js);
		if (!c || json_object_set_new(d, "command", c) < 0) {
			json_decref(d);
			return -ENOMEM;
		}
	}
	if (!d)
		return -ENOMEM;
	char *text = NULL;
	int r = key_of(d, &text, js->key);
	/* What the run records (runs.spec): the description and, outside the
	 * key, the run's limits and output cap (the report draws them). */
	char *run_text = NULL;
	if (r == 0 && (json_object_set_new(d, "limits", limits_json(&js->limits)) < 0 ||
		       json_object_set_new(d, "max_output", json_integer((json_int_t)js->max_output)) < 0 ||
		       !(run_text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS))))
		r = -ENOMEM;
	json_decref(d);
	if (r < 0) {
		free(text);
		return r;
	}
	free(js->description);
	js->description = text;
	free(js->run_description);
	js->run_description = run_text;
	return 0;
}

static json_t *description_now(const char *text, json_int_t *format_out)
{
	json_t *d = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	json_int_t format = json_integer_value(json_object_get(d, "format"));
	if (format_out)
		*format_out = format;
	if (!json_is_object(d) || (format != 1 && format != JOBSPEC_KEY_FORMAT)) {
		json_decref(d);
		return NULL;
	}
	/* Format 1 had the limits and the output cap in the key, and no
	 * --etc; format 2 records them beside it. */
	json_object_del(d, "limits");
	json_object_del(d, "max_output");
	if (format == 1) {
		json_object_set_new(d, "etc", json_array());
		json_object_set_new(d, "format", json_integer(JOBSPEC_KEY_FORMAT));
	}
	return d;
}

json_t *jobspec_description_now(const char *text)
{
	return description_now(text, NULL);
}

int jobspec_keys_of_run_spec(const char *text, char old_key[72], char key[72])
{
	json_int_t format;
	json_t *d = description_now(text, &format);
	if (!d)
		return -EINVAL;
	int r = key_of(d, NULL, key);
	json_decref(d);
	if (r < 0)
		return r;
	if (format != 1) {
		memcpy(old_key, key, 72);
		return 0;
	}
	/* Format 1's key is the hash of the text itself. */
	char hex[65];
	jobspec_sha256_hex(text, strlen(text), hex);
	snprintf(old_key, 72, "sha256:%s", hex);
	return 0;
}

/* The file behind a policy argument, for hashing: a path as given, or
 * <dir>/<name>.json for a bare name (sbx_policy_load's rule). */
static void policy_file(const char *arg, const char *dir, char *out, size_t len)
{
	if (strchr(arg, '/'))
		snprintf(out, len, "%s", arg);
	else
		snprintf(out, len, "%s/%s.json", dir ? dir : ".", arg);
}

int jobspec_finish(struct jobspec *js, const char *policy_dir, char *err, size_t errlen)
{
	char pfile[PATH_MAX + 64];
	policy_file(js->policy_arg, policy_dir, pfile, sizeof pfile);
	if (jobspec_sha256_file(pfile, 4u << 20, js->policy_sha256) < 0)
		js->policy_sha256[0] = '\0'; /* the loader decides; the name stands in */
	struct sbx_err perr = SBX_ERR_INIT;
	int r = sbx_policy_load(js->policy_arg, policy_dir, &js->policy, &perr);
	if (r < 0) {
		snprintf(err, errlen, "policy %s: %s", js->policy_arg, sbx_err_text(&perr, r));
		return r;
	}
	if ((r = jobspec_compute_key(js)) < 0)
		snprintf(err, errlen, "out of memory");
	return r;
}

int jobspec_open_analyzer(const struct jobspec_opts *opts, struct jobspec **out, char *err,
			  size_t errlen)
{
	struct jobspec *js = calloc(1, sizeof *js);
	if (!js)
		return -ENOMEM;
	js->kind = JOBSPEC_ANALYZER;
	js->limits = opts->limits;
	js->etc_extra = opts->etc_extra;
	js->netc_extra = opts->netc_extra;
	js->max_output = opts->max_output ? opts->max_output : JOBSPEC_DEFAULT_MAX_OUTPUT;
	js->bad_input_exit = JOBSPEC_ANALYZER_BAD_INPUT_EXIT;
	js->result_kind = STORE_RESULT_JSON;
	int r;
	char real[PATH_MAX];
	if (!realpath(opts->program, real) || access(real, X_OK) < 0) {
		r = -errno;
		snprintf(err, errlen,
			 "cannot run the analyzer %s: %s (build it with make, or set SANDRUN_ANALYZER)",
			 opts->program, strerror(-r));
		goto fail;
	}
	if ((r = jobspec_sha256_file(real, 0, js->program_sha256)) < 0) {
		snprintf(err, errlen, "cannot read the analyzer %s: %s", real, strerror(-r));
		goto fail;
	}
	js->program = strdup(real);
	js->argv = calloc(4, sizeof *js->argv);
	js->policy_arg = strdup(opts->policy ? opts->policy : "analyzer");
	size_t na = 1;
	if (!js->program || !js->argv || !js->policy_arg || !(js->argv[0] = strdup(JOBSPEC_ANALYZER_DST)) ||
	    (opts->fingerprint && !(js->argv[na++] = strdup("--fingerprint"))) ||
	    (opts->spectral && !(js->argv[na++] = strdup("--spectral")))) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* A path bind, the one kind left: the analyzer is the admin's file at
	 * a real path no one else can change, unlike inputs and --bind
	 * sources, which are bound by descriptor. */
	js->binds[0] = (struct sbx_bind){ .src = js->program, .dst = JOBSPEC_ANALYZER_DST };
	js->nbinds = 1;
	/* Its FFmpeg fallback, if installed beside it: bound beside it too,
	 * and part of the key (it decides the results of what it decodes).
	 * Not under --policy strict, which is fork-free: the analyzer forks
	 * the fallback's spare (and the fingerprint helper) before its guard,
	 * and would die of seccomp on every MPEG file. Without the decoder in
	 * sight it forks nothing: MPEG is read by libsndfile alone (no
	 * recovery of a damaged stream), the fallback's containers are
	 * unsupported and --fingerprint says it is unavailable. */
	const char *slash = strrchr(js->program, '/');
	char dec[PATH_MAX];
	snprintf(dec, sizeof dec, "%.*s/" JOBSPEC_DECODER_NAME, (int)(slash - js->program), js->program);
	if (strcmp(js->policy_arg, "strict") != 0 && access(dec, X_OK) == 0 &&
	    jobspec_sha256_file(dec, 0, js->decoder_sha256) == 0) {
		if (!(js->decoder = strdup(dec))) {
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		js->binds[1] = (struct sbx_bind){ .src = js->decoder, .dst = JOBSPEC_DECODER_DST };
		js->nbinds = 2;
	}

	if ((r = jobspec_finish(js, opts->policy_dir, err, errlen)) < 0)
		goto fail;
	*out = js;
	return 0;
fail:
	jobspec_free(js);
	return r;
}

void jobspec_sbx_spec(const struct jobspec *js, const struct jobspec_input *in, int out_fd, int err_fd,
		      struct sbx_spec *out)
{
	if (js->kind == JOBSPEC_COMMAND) {
		cmdspec_sbx_spec(js, in, out_fd, err_fd, out);
		return;
	}
	*out = (struct sbx_spec){
		.argv = js->argv,
		.stdin_fd = in->fd,
		.stdout_fd = out_fd,
		.stderr_fd = err_fd,
		.binds = js->binds,
		.nbinds = js->nbinds,
		.policy = js->policy,
		.limits = js->limits,
		.etc_extra = js->etc_extra,
		.netc_extra = js->netc_extra,
		/* it reads only its descriptors */
		.fs_profile = SBX_FS_CODE_ONLY,
	};
}

/* ---- verdicts -------------------------------------------------------- */

char *jobspec_printable(const char *in, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	if (outlen == 0)
		return out;
	for (size_t i = 0; i < len;) {
		uint32_t cp = p[i];
		size_t n = p[i] < 0x80 ? 1 : sr_utf8_decode(p + i, len - i, &cp);
		/* One '?' per character the text module calls unsafe (C0, DEL,
		 * C1 such as 0x9b alone, bidi controls, U+2028/9): this line is
		 * stored and shown again, it must not carry them. */
		size_t seq = n && !sr_text_unsafe(cp) ? n : 0;
		char c = p[i] == '\n' || p[i] == '\t' || p[i] == '\r' ? ' ' : seq == 0 ? '?' : 0;
		size_t need = c ? 1 : seq;
		if (o + need + 1 > outlen)
			break;
		if (c)
			out[o] = c;
		else
			memcpy(out + o, p + i, seq);
		o += need;
		i += n ? n : 1;
	}
	out[o] = '\0';
	return out;
}

char *jobspec_utf8_lossy(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t len = strlen(in), o = 0;
	if (outlen == 0)
		return out;
	for (size_t i = 0; i < len;) {
		/* C1 controls are valid UTF-8: keep them here (JSON escapes
		 * nothing above 0x7f, but it is text, not a terminal). */
		uint32_t cp;
		size_t seq = p[i] < 0x80 ? 1 : sr_utf8_decode(p + i, len - i, &cp);
		size_t need = seq ? seq : 1;
		if (o + need + 1 > outlen)
			break;
		if (seq)
			memcpy(out + o, p + i, seq);
		else
			out[o] = '?';
		o += need;
		i += need;
	}
	out[o] = '\0';
	return out;
}

/* The last non-blank line of a stderr tail, printable. */
static void last_line(const struct job_capture *cap, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!cap || !cap->err_tail)
		return;
	size_t end = cap->err_len;
	while (end > 0 && (cap->err_tail[end - 1] == '\n' || cap->err_tail[end - 1] == ' ' ||
			   cap->err_tail[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start > 0 && cap->err_tail[start - 1] != '\n')
		start--;
	jobspec_printable(cap->err_tail + start, end - start, out, outlen);
}

/* bad_input's message: the analyzer's {"error": "..."}, else its stderr. */
static void bad_input_message(const struct job_capture *cap, char *out, size_t outlen)
{
	json_t *o = cap && cap->out_len ? json_loadb(cap->out, cap->out_len, JSON_REJECT_DUPLICATES, NULL)
					: NULL;
	const char *e = o ? json_string_value(json_object_get(o, "error")) : NULL;
	if (e && *e) {
		jobspec_printable(e, strlen(e), out, outlen);
	} else {
		last_line(cap, out, outlen);
		if (!out[0])
			snprintf(out, outlen, "the input was rejected");
	}
	json_decref(o);
}

/* A JSON result that says its input is damaged: {"damage": {"damaged":
 * true, ...}} (the built-in analyzer's report; a --cmd analyzer opts in by
 * writing the same key, docs/runner.md). Then *out gets a short account
 * from the fields the analyzer documents (docs/analyzer.md): what is
 * wrong, in its own words made printable. */
static bool result_says_damaged(const struct job_capture *cap, char *out, size_t outlen)
{
	if (!cap || !cap->out_len || !memmem(cap->out, cap->out_len, "\"damaged\"", 9))
		return false; /* most results: no parse */
	json_t *o = json_loadb(cap->out, cap->out_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *d = json_object_get(o, "damage");
	bool damaged = json_is_true(json_object_get(d, "damaged"));
	if (damaged) {
		char buf[400] = "", piece[200];
		size_t at = 0;
		json_int_t missing = json_integer_value(json_object_get(d, "frames_missing"));
		if (json_is_true(json_object_get(d, "truncated")))
			at += (size_t)snprintf(buf + at, sizeof buf - at, "%struncated", at ? ", " : "");
		if (missing > 0 && at < sizeof buf)
			at += (size_t)snprintf(buf + at, sizeof buf - at, " (%lld frames missing)", (long long)missing);
		if (json_is_true(json_object_get(d, "stopped_early")) && at < sizeof buf)
			at += (size_t)snprintf(buf + at, sizeof buf - at, "%sthe decoder stopped early%s", at ? ", " : "",
					       json_is_string(json_object_get(d, "recovered_by")) ? " (recovered by the fallback)" : "");
		json_t *imp = json_object_get(d, "implausible");
		size_t i;
		json_t *v;
		json_array_foreach(imp, i, v) {
			const char *s = json_string_value(v);
			if (s && at < sizeof buf) {
				jobspec_printable(s, strlen(s), piece, 40);
				at += (size_t)snprintf(buf + at, sizeof buf - at, "%simplausible %s", at ? ", " : "", piece);
			}
		}
		const char *e = json_string_value(json_object_get(d, "decoder_error"));
		if (e && at < sizeof buf) {
			jobspec_printable(e, strlen(e), piece, sizeof piece);
			at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", at ? ": " : "", piece);
		}
		if (json_integer_value(json_object_get(d, "non_finite_samples")) > 0 && at < sizeof buf)
			at += (size_t)snprintf(buf + at, sizeof buf - at, "%snon-finite samples", at ? ", " : "");
		snprintf(out, outlen, "damaged input%s%s", buf[0] ? ": " : "", buf);
	}
	json_decref(o);
	return damaged;
}

static void with_detail(char *out, size_t outlen, const char *what, const char *detail)
{
	snprintf(out, outlen, "%s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
}

void jobspec_verdict(const struct jobspec *js, const struct sbx_result *res,
		     const struct job_capture *cap, bool result_valid, struct job_verdict *v)
{
	char line[300], what[160];
	*v = (struct job_verdict){ .exit_code = res->exit_code, .signal = res->signal };
	snprintf(v->syscall, sizeof v->syscall, "%s", res->syscall);
	/* The runner killed it for writing too much: that is the reason,
	 * whatever the job was doing when the SIGKILL landed. */
	enum outcome o = cap && cap->out_overflow && res->outcome != OUTCOME_SETUP_ERROR
				     ? OUTCOME_OUTPUT_LIMIT : res->outcome;
	/* --ok-codes: these exit statuses are a success like 0. */
	for (size_t i = 0; o == OUTCOME_EXIT_NONZERO && i < js->nok_codes; i++)
		if (res->exit_code == js->ok_codes[i])
			o = OUTCOME_OK;
	switch (o) {
	case OUTCOME_OK:
		if (js->result_kind == STORE_RESULT_JSON && !result_valid) {
			v->outcome = OUTCOME_BAD_OUTPUT;
			if (!cap || cap->out_len == 0)
				snprintf(v->error, sizeof v->error, "the result is empty, not JSON");
			else
				snprintf(v->error, sizeof v->error, "the result is not valid JSON (%zu bytes)",
					 cap->out_len);
		} else {
			v->outcome = js->result_kind == STORE_RESULT_JSON &&
						     result_says_damaged(cap, v->error, sizeof v->error)
					     ? OUTCOME_DAMAGED : OUTCOME_OK;
			v->store_result = true;
		}
		break;
	case OUTCOME_EXIT_NONZERO:
		if (js->bad_input_exit >= 0 && res->exit_code == js->bad_input_exit) {
			v->outcome = OUTCOME_BAD_INPUT;
			bad_input_message(cap, v->error, sizeof v->error);
		} else {
			v->outcome = OUTCOME_EXIT_NONZERO;
			last_line(cap, line, sizeof line);
			snprintf(what, sizeof what, "exited with status %d", res->exit_code);
			with_detail(v->error, sizeof v->error, what, line);
		}
		break;
	case OUTCOME_SIGNALED: {
		const char *abbrev = res->signal > 0 ? sigabbrev_np(res->signal) : NULL;
		v->outcome = OUTCOME_SIGNALED;
		last_line(cap, line, sizeof line);
		snprintf(what, sizeof what, "killed by signal %d (SIG%s)", res->signal, abbrev ? abbrev : "?");
		with_detail(v->error, sizeof v->error, what, line);
		break;
	}
	case OUTCOME_OOM:
		v->outcome = OUTCOME_OOM;
		snprintf(v->error, sizeof v->error, "out of memory (limit %" PRIu64 " MiB, %" PRIu64 " OOM kill%s)",
			 js->limits.mem_bytes >> 20, res->oom_kills, res->oom_kills == 1 ? "" : "s");
		break;
	case OUTCOME_TIMEOUT:
		v->outcome = OUTCOME_TIMEOUT;
		snprintf(v->error, sizeof v->error, "wall-clock timeout after %.1f s",
			 (double)js->limits.timeout_ms / 1000);
		break;
	case OUTCOME_CPU_LIMIT:
		v->outcome = OUTCOME_CPU_LIMIT;
		snprintf(v->error, sizeof v->error, "CPU time limit reached (%.1f s)",
			 (double)js->limits.cpu_time_ms / 1000);
		break;
	case OUTCOME_SECCOMP:
		v->outcome = OUTCOME_SECCOMP;
		snprintf(v->error, sizeof v->error, "stopped by the seccomp policy at syscall %s",
			 res->syscall[0] ? res->syscall : "(unknown)");
		break;
	case OUTCOME_SETUP_ERROR:
		v->outcome = OUTCOME_SETUP_ERROR;
		jobspec_printable(res->error, strnlen(res->error, sizeof res->error), line, sizeof line);
		with_detail(v->error, sizeof v->error, "the sandbox could not be set up", line);
		break;
	case OUTCOME_OUTPUT_LIMIT:
	default:
		v->outcome = OUTCOME_OUTPUT_LIMIT;
		snprintf(v->error, sizeof v->error, "wrote more than %" PRIu64 " bytes to stdout (--max-output)",
			 js->max_output);
		v->exit_code = -1;
		v->signal = 0;
		break;
	}
}

/* ---- captures -------------------------------------------------------- */

int out_capture_append(struct out_capture *c, const void *data, size_t n)
{
	size_t room = c->limit - c->len;
	size_t take = n < room ? n : room;
	if (take > 0 && c->len + take > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + take)
			cap *= 2;
		if (cap > c->limit)
			cap = c->limit;
		char *p = realloc(c->buf, cap);
		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->cap = cap;
	}
	if (take)
		memcpy(c->buf + c->len, data, take);
	c->len += take;
	if (take < n)
		c->overflow = true;
	return c->overflow ? 1 : 0;
}

void out_capture_free(struct out_capture *c)
{
	free(c->buf);
	*c = (struct out_capture){ .limit = c->limit };
}

int tail_capture_append(struct tail_capture *t, const void *data, size_t n)
{
	if (!t->buf && !(t->buf = malloc(t->size)))
		return -ENOMEM;
	const char *p = data;
	if (n >= t->size) {
		memcpy(t->buf, p + n - t->size, t->size);
		t->len = t->size;
		return 0;
	}
	if (t->len + n > t->size) {
		size_t drop = t->len + n - t->size;
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	return 0;
}

void tail_capture_free(struct tail_capture *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
}
