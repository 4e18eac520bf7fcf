/* sandbox/policy_parse.c — OCI / Docker seccomp JSON profile -> rule list.
 *
 * Pure: no kernel feature is used, only jansson and libseccomp's syscall
 * name table. Anything malformed is -EINVAL with a message naming the file
 * and the field ("default.json: syscalls[3].args[0].op: ..."), because a
 * half-understood security policy must never be compiled: a field we
 * skipped could be the one that was meant to deny something.
 */
#include "policy_internal.h"
#include "lib/fd.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

struct parser {
	const char *origin;
	const struct pol_env *env;
	struct pol_spec *spec;
	size_t cap;
	struct sbx_err *err;   /* the caller's: where a malformed field is named */
};

#define BAD(ps, where, fmt, ...) \
	sbx_fail((ps)->err, -EINVAL, "%s: %s: " fmt, (ps)->origin, (where), __VA_ARGS__)

/* Field paths for messages ("syscalls[3].args[0].op"); a path cut short
 * only shortens a message. */
#define WHERE_MAX 160
__attribute__((format(printf, 2, 3)))
static void at(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, WHERE_MAX, fmt, ap);
	va_end(ap);
}

static const struct {
	const char *name;
	enum pol_kind kind;
} actions[] = {
	{ "SCMP_ACT_ALLOW", POL_ALLOW },
	{ "SCMP_ACT_LOG", POL_LOG },
	{ "SCMP_ACT_ERRNO", POL_ERRNO },
	{ "SCMP_ACT_TRAP", POL_TRAP },
	{ "SCMP_ACT_KILL", POL_KILL_THREAD }, /* libseccomp: KILL == KILL_THREAD */
	{ "SCMP_ACT_KILL_THREAD", POL_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", POL_KILL_PROCESS },
};

static const char *const ops[] = {
	[POL_OP_NE] = "SCMP_CMP_NE",
	[POL_OP_LT] = "SCMP_CMP_LT",
	[POL_OP_LE] = "SCMP_CMP_LE",
	[POL_OP_EQ] = "SCMP_CMP_EQ",
	[POL_OP_GE] = "SCMP_CMP_GE",
	[POL_OP_GT] = "SCMP_CMP_GT",
	[POL_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* Every arch a Docker / Podman profile may list. Only the x86 family is
 * compiled on this host; the others are accepted so that multi-arch
 * profiles load unchanged, and rejected when misspelt. */
static const char *const known_arches[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
	"SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
	"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
	"SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
	"SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
	"SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
	"SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

/* What the i386 ABI multiplexes through socketcall(2) and ipc(2). Their
 * arguments are in user memory there, out of seccomp's reach. */
static const char *const multiplexed[] = {
	"socket", "bind", "connect", "listen", "accept", "accept4",
	"getsockname", "getpeername", "socketpair", "send", "recv", "sendto",
	"recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg",
	"recvmsg", "recvmmsg", "sendmmsg",
	"semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv",
	"msgget", "msgctl", "shmat", "shmdt", "shmget", "shmctl",
};

bool pol_action_eq(struct pol_action a, struct pol_action b)
{
	return a.kind == b.kind && (a.kind != POL_ERRNO || a.errno_ret == b.errno_ret);
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Unknown keys are errors, not ignored: a misspelt "args" would otherwise
 * silently turn a conditional allow into an unconditional one. */
static int only_keys(struct parser *ps, json_t *obj, const char *where,
		     const char *const *keys, size_t nkeys)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "comment") == 0 || in_list(key, keys, nkeys))
			continue;
		return BAD(ps, where, "unknown field \"%s\"", key);
	}
	return 0;
}

static int want_object(struct parser *ps, json_t *v, const char *where)
{
	return json_is_object(v) ? 0 : BAD(ps, where, "%s", "must be an object");
}

static int get_uint(struct parser *ps, json_t *v, const char *where,
		    uint64_t max, uint64_t *out)
{
	if (!v)
		return BAD(ps, where, "%s", "is required");
	if (!json_is_integer(v))
		return BAD(ps, where, "%s", "must be an integer");
	json_int_t i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return BAD(ps, where, "%lld is out of range 0..%llu", (long long)i,
			   (unsigned long long)max);
	*out = (uint64_t)i;
	return 0;
}

static int get_string(struct parser *ps, json_t *v, const char *where, const char **out)
{
	if (!json_is_string(v))
		return BAD(ps, where, "%s", "must be a string");
	*out = json_string_value(v);
	return 0;
}

static int parse_action(struct parser *ps, json_t *v, const char *where,
			struct pol_action *out)
{
	const char *s = NULL;
	int r = get_string(ps, v, where, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < SR_ARRAY_LEN(actions); i++)
		if (strcmp(s, actions[i].name) == 0) {
			*out = (struct pol_action){ .kind = actions[i].kind, .errno_ret = EPERM };
			return 0;
		}
	if (strcmp(s, "SCMP_ACT_TRACE") == 0 || strcmp(s, "SCMP_ACT_NOTIFY") == 0)
		return BAD(ps, where, "%s is not supported: sandrun runs no tracer or "
			   "notification listener, so the call could never be answered", s);
	return BAD(ps, where, "unknown action \"%s\"", s);
}

/* "errnoRet" / "defaultErrnoRet": only with SCMP_ACT_ERRNO, EPERM if absent
 * (what runc does). */
static int parse_errno(struct parser *ps, json_t *v, const char *where, struct pol_action *a)
{
	if (!v || json_is_null(v))
		return 0;
	if (a->kind != POL_ERRNO)
		return BAD(ps, where, "%s", "is only meaningful with SCMP_ACT_ERRNO");
	uint64_t e;
	int r = get_uint(ps, v, where, POL_MAX_ERRNO, &e);
	if (r < 0)
		return r;
	a->errno_ret = (uint16_t)e;
	return 0;
}

static int parse_arch(struct parser *ps, json_t *v, const char *where)
{
	const char *s = NULL;
	int r = get_string(ps, v, where, &s);
	if (r < 0)
		return r;
	if (!in_list(s, known_arches, SR_ARRAY_LEN(known_arches)))
		return BAD(ps, where, "unknown architecture \"%s\"", s);
	if (strcmp(s, "SCMP_ARCH_X86_64") == 0)
		ps->spec->arches |= POL_ARCH_X86_64;
	else if (strcmp(s, "SCMP_ARCH_X86") == 0)
		ps->spec->arches |= POL_ARCH_X86;
	else if (strcmp(s, "SCMP_ARCH_X32") == 0)
		ps->spec->arches |= POL_ARCH_X32;
	return 0;
}

static int parse_arch_list(struct parser *ps, json_t *v, const char *where)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD(ps, where, "%s", "must be an array of strings");
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		char w[WHERE_MAX];
		at(w, "%s[%zu]", where, i);
		int r = parse_arch(ps, e, w);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_arches(struct parser *ps, json_t *root)
{
	json_t *list = json_object_get(root, "architectures");
	json_t *map = json_object_get(root, "archMap");
	if (json_array_size(list) > 0 && json_array_size(map) > 0)
		return BAD(ps, "archMap", "%s", "use either \"architectures\" or \"archMap\"");
	int r = parse_arch_list(ps, list, "architectures");
	if (r < 0 || !map || json_is_null(map))
		return r;
	if (!json_is_array(map))
		return BAD(ps, "archMap", "%s", "must be an array");
	size_t i;
	json_t *e;
	json_array_foreach(map, i, e) {
		static const char *const keys[] = { "architecture", "subArchitectures" };
		char w[WHERE_MAX], w2[WHERE_MAX];
		at(w, "archMap[%zu]", i);
		if ((r = want_object(ps, e, w)) < 0 ||
		    (r = only_keys(ps, e, w, keys, SR_ARRAY_LEN(keys))) < 0)
			return r;
		json_t *main_arch = json_object_get(e, "architecture");
		at(w2, "%s.architecture", w);
		if (!main_arch)
			return BAD(ps, w2, "%s", "is required");
		if ((r = parse_arch(ps, main_arch, w2)) < 0)
			return r;
		at(w2, "%s.subArchitectures", w);
		if ((r = parse_arch_list(ps, json_object_get(e, "subArchitectures"), w2)) < 0)
			return r;
	}
	return 0;
}

static int parse_flags(struct parser *ps, json_t *v)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return BAD(ps, "flags", "%s", "must be an array of strings");
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		char w[WHERE_MAX];
		at(w, "flags[%zu]", i);
		const char *s = NULL;
		int r = get_string(ps, e, w, &s);
		if (r < 0)
			return r;
		if (strcmp(s, "SECCOMP_FILTER_FLAG_LOG") == 0)
			ps->spec->flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			continue; /* the job is single-threaded when the filter goes on */
		else if (strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			return BAD(ps, w, "%s is refused: it would switch off the speculative "
				   "store bypass mitigation for untrusted code", s);
		else
			return BAD(ps, w, "unsupported flag \"%s\"", s);
	}
	return 0;
}

/* "4.8" or "5.10.2": the kernel the rule needs. */
static int parse_kernel(struct parser *ps, json_t *v, const char *where, unsigned out[3])
{
	const char *s = NULL;
	int r = get_string(ps, v, where, &s);
	if (r < 0)
		return r;
	unsigned n = 0;
	const char *p = s;
	out[0] = out[1] = out[2] = 0;
	while (n < 3) {
		if (*p < '0' || *p > '9')
			break;
		unsigned long x = 0;
		while (*p >= '0' && *p <= '9' && x < 100000)
			x = x * 10 + (unsigned long)(*p++ - '0');
		out[n++] = (unsigned)x;
		if (*p != '.')
			break;
		p++;
	}
	if (n < 2 || *p != '\0')
		return BAD(ps, where, "\"%s\" is not a kernel version like \"5.8\"", s);
	return 0;
}

static bool kernel_at_least(const struct pol_env *env, const unsigned v[3])
{
	for (int i = 0; i < 3; i++)
		if (env->kernel[i] != v[i])
			return env->kernel[i] > v[i];
	return true;
}

static bool is_host_arch(const struct pol_env *env, const char *s)
{
	for (const char *const *a = env->arch; a && *a; a++)
		if (strcmp(*a, s) == 0)
			return true;
	return false;
}

struct cond {
	bool any_caps, host_arch, has_arches, has_kernel, kernel_ok;
};

static int parse_cond(struct parser *ps, json_t *v, const char *where, struct cond *c)
{
	static const char *const keys[] = { "caps", "arches", "minKernel" };
	*c = (struct cond){ 0 };
	if (!v || json_is_null(v))
		return 0;
	int r;
	if ((r = want_object(ps, v, where)) < 0 ||
	    (r = only_keys(ps, v, where, keys, SR_ARRAY_LEN(keys))) < 0)
		return r;
	for (int k = 0; k < 2; k++) {
		const char *field = k == 0 ? "caps" : "arches";
		json_t *list = json_object_get(v, field);
		char w[WHERE_MAX];
		at(w, "%s.%s", where, field);
		if (!list || json_is_null(list))
			continue;
		if (!json_is_array(list))
			return BAD(ps, w, "%s", "must be an array of strings");
		size_t i;
		json_t *e;
		json_array_foreach(list, i, e) {
			char we[WHERE_MAX];
			at(we, "%s[%zu]", w, i);
			const char *s = NULL;
			if ((r = get_string(ps, e, we, &s)) < 0)
				return r;
			if (k == 0)
				c->any_caps = true;
			else {
				c->has_arches = true;
				c->host_arch |= is_host_arch(ps->env, s);
			}
		}
	}
	json_t *mk = json_object_get(v, "minKernel");
	if (mk && !json_is_null(mk)) {
		char w[WHERE_MAX];
		unsigned kv[3];
		at(w, "%s.minKernel", where);
		if ((r = parse_kernel(ps, mk, w, kv)) < 0)
			return r;
		c->has_kernel = true;
		c->kernel_ok = kernel_at_least(ps->env, kv);
	}
	return 0;
}

static int parse_arg(struct parser *ps, json_t *v, const char *where, struct pol_arg *a)
{
	static const char *const keys[] = { "index", "value", "valueTwo", "op" };
	int r;
	if ((r = want_object(ps, v, where)) < 0 ||
	    (r = only_keys(ps, v, where, keys, SR_ARRAY_LEN(keys))) < 0)
		return r;
	char w[WHERE_MAX];
	uint64_t idx;
	at(w, "%s.index", where);
	if ((r = get_uint(ps, json_object_get(v, "index"), w, POL_MAX_ARGS - 1, &idx)) < 0)
		return r;
	a->index = (unsigned)idx;
	at(w, "%s.value", where);
	if ((r = get_uint(ps, json_object_get(v, "value"), w, INT64_MAX, &a->value)) < 0)
		return r;
	a->value_two = 0;
	json_t *two = json_object_get(v, "valueTwo");
	at(w, "%s.valueTwo", where);
	if (two && !json_is_null(two) && (r = get_uint(ps, two, w, INT64_MAX, &a->value_two)) < 0)
		return r;
	const char *op = NULL;
	at(w, "%s.op", where);
	if ((r = get_string(ps, json_object_get(v, "op"), w, &op)) < 0)
		return r;
	for (size_t i = 0; i < SR_ARRAY_LEN(ops); i++)
		if (strcmp(op, ops[i]) == 0) {
			a->op = (enum pol_op)i;
			return 0;
		}
	return BAD(ps, w, "unknown operator \"%s\"", op);
}

static int push_rule(struct parser *ps, const struct pol_rule *rule)
{
	struct pol_spec *s = ps->spec;
	if (s->nrules == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		struct pol_rule *n = realloc(s->rules, cap * sizeof *n);
		if (!n)
			return sbx_fail(ps->err, -ENOMEM, "%s: rules", ps->origin);
		s->rules = n;
		ps->cap = cap;
	}
	s->rules[s->nrules++] = *rule;
	return 0;
}

/* One name of one entry. libseccomp cannot AND two comparisons of the same
 * argument; runc then ORs them as separate rules. That is harmless for a
 * denying action (it only denies more) but would widen an allowlist, so
 * sandrun refuses it for ALLOW and LOG. */
static int add_name(struct parser *ps, const char *name, const struct pol_rule *tmpl,
		    const char *where)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || strlen(name) >= sizeof tmpl->name) {
		ps->spec->skipped.unknown++; /* as Docker: newer than this libseccomp */
		return 0;
	}
	struct pol_rule rule = *tmpl;
	rule.nr = nr;
	snprintf(rule.name, sizeof rule.name, "%s", name);
	if (rule.nargs > 0 && in_list(name, multiplexed, SR_ARRAY_LEN(multiplexed)))
		ps->spec->multiplexed_cond = true;

	bool repeated = false;
	for (unsigned i = 0; i < tmpl->nargs; i++)
		for (unsigned j = i + 1; j < tmpl->nargs; j++)
			repeated |= tmpl->args[i].index == tmpl->args[j].index;
	if (!repeated)
		return push_rule(ps, &rule);
	if (tmpl->act.kind <= POL_LOG)
		return BAD(ps, where, "%s", "two conditions on the same argument cannot be "
			   "combined by libseccomp, and OR-ing them (as runc does) would "
			   "allow more than written; split the rule");
	for (unsigned i = 0; i < tmpl->nargs; i++) {
		rule.nargs = 1;
		rule.args[0] = tmpl->args[i];
		int r = push_rule(ps, &rule);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "args": at most POL_MAX_ARGS conditions, into the rule template. */
static int parse_args(struct parser *ps, json_t *args, const char *where, struct pol_rule *tmpl)
{
	char w[WHERE_MAX];
	int r;
	if (!args || json_is_null(args))
		return 0;
	at(w, "%s.args", where);
	if (!json_is_array(args))
		return BAD(ps, w, "%s", "must be an array");
	if (json_array_size(args) > POL_MAX_ARGS)
		return BAD(ps, w, "more than %d conditions", POL_MAX_ARGS);
	size_t i;
	json_t *a;
	json_array_foreach(args, i, a) {
		at(w, "%s.args[%zu]", where, i);
		if ((r = parse_arg(ps, a, w, &tmpl->args[tmpl->nargs++])) < 0)
			return r;
	}
	return 0;
}

/* Exactly one of "name" (a string) and "names" (a non-empty array of
 * non-empty strings). */
static int check_names(struct parser *ps, json_t *name, json_t *names, const char *where)
{
	char w[WHERE_MAX];
	if (names && name)
		return BAD(ps, where, "%s", "use either \"names\" or \"name\"");
	if (name) {
		at(w, "%s.name", where);
		if (!json_is_string(name))
			return BAD(ps, w, "%s", "must be a string");
		return 0;
	}
	at(w, "%s.names", where);
	if (!json_is_array(names) || json_array_size(names) == 0)
		return BAD(ps, w, "%s", "must be a non-empty array of strings");
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		char wn[WHERE_MAX];
		at(wn, "%s[%zu]", w, i);
		if (!json_is_string(n) || json_string_length(n) == 0)
			return BAD(ps, wn, "%s", "must be a syscall name");
	}
	return 0;
}

/* Whether a rule's includes/excludes leave it out for this job, counted
 * by why. The job has no capabilities at all: a rule for holders of a
 * capability never applies, one for non-holders always does. Order and
 * meaning otherwise as in Docker's setupSeccomp(). */
static bool rule_skipped(struct parser *ps, const struct cond *inc, const struct cond *exc)
{
	if (exc->has_arches && exc->host_arch)
		return ps->spec->skipped.arch++, true;
	if (exc->has_kernel && exc->kernel_ok)
		return ps->spec->skipped.kernel++, true;
	if (inc->has_arches && !inc->host_arch)
		return ps->spec->skipped.arch++, true;
	if (inc->any_caps)
		return ps->spec->skipped.caps++, true;
	if (inc->has_kernel && !inc->kernel_ok)
		return ps->spec->skipped.kernel++, true;
	return false;
}

static int parse_syscall(struct parser *ps, json_t *v, size_t idx)
{
	static const char *const keys[] = { "names", "name", "action", "errnoRet",
					    "args", "includes", "excludes" };
	char where[WHERE_MAX], w[WHERE_MAX];
	int r;
	at(where, "syscalls[%zu]", idx);
	if ((r = want_object(ps, v, where)) < 0 ||
	    (r = only_keys(ps, v, where, keys, SR_ARRAY_LEN(keys))) < 0)
		return r;

	struct pol_rule tmpl = { .entry = (unsigned)idx };
	at(w, "%s.action", where);
	json_t *act = json_object_get(v, "action");
	if (!act)
		return BAD(ps, w, "%s", "is required");
	if ((r = parse_action(ps, act, w, &tmpl.act)) < 0)
		return r;
	at(w, "%s.errnoRet", where);
	if ((r = parse_errno(ps, json_object_get(v, "errnoRet"), w, &tmpl.act)) < 0)
		return r;
	if ((r = parse_args(ps, json_object_get(v, "args"), where, &tmpl)) < 0)
		return r;

	struct cond inc, exc;
	at(w, "%s.includes", where);
	if ((r = parse_cond(ps, json_object_get(v, "includes"), w, &inc)) < 0)
		return r;
	at(w, "%s.excludes", where);
	if ((r = parse_cond(ps, json_object_get(v, "excludes"), w, &exc)) < 0)
		return r;

	json_t *names = json_object_get(v, "names");
	json_t *name = json_object_get(v, "name");
	if ((r = check_names(ps, name, names, where)) < 0)
		return r;
	if (rule_skipped(ps, &inc, &exc))
		return 0;
	if (name)
		return add_name(ps, json_string_value(name), &tmpl, where);
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n)
		if ((r = add_name(ps, json_string_value(n), &tmpl, where)) < 0)
			return r;
	return 0;
}

static int parse_root(struct parser *ps, json_t *root)
{
	static const char *const keys[] = { "defaultAction", "defaultErrnoRet",
					    "architectures", "archMap", "syscalls",
					    "flags", "listenerPath", "listenerMetadata" };
	int r;
	if (!json_is_object(root))
		return BAD(ps, "(top level)", "%s", "must be an object");
	if ((r = only_keys(ps, root, "(top level)", keys, SR_ARRAY_LEN(keys))) < 0)
		return r;
	json_t *def = json_object_get(root, "defaultAction");
	if (!def)
		return BAD(ps, "defaultAction", "%s", "is required");
	if ((r = parse_action(ps, def, "defaultAction", &ps->spec->def)) < 0 ||
	    (r = parse_errno(ps, json_object_get(root, "defaultErrnoRet"), "defaultErrnoRet",
			     &ps->spec->def)) < 0 ||
	    (r = parse_arches(ps, root)) < 0 ||
	    (r = parse_flags(ps, json_object_get(root, "flags"))) < 0)
		return r;
	json_t *lp = json_object_get(root, "listenerPath");
	if (lp && !(json_is_string(lp) && json_string_length(lp) == 0) && !json_is_null(lp))
		return BAD(ps, "listenerPath", "%s", "is not supported (no SCMP_ACT_NOTIFY)");

	json_t *calls = json_object_get(root, "syscalls");
	if (!calls || json_is_null(calls))
		return 0;
	if (!json_is_array(calls))
		return BAD(ps, "syscalls", "%s", "must be an array");
	size_t i;
	json_t *c;
	json_array_foreach(calls, i, c)
		if ((r = parse_syscall(ps, c, i)) < 0)
			return r;
	return 0;
}

int pol_parse_json(const char *text, size_t len, const char *origin,
		   const struct pol_env *env, struct pol_spec *out, struct sbx_err *err)
{
	*out = (struct pol_spec){ 0 };
	json_error_t jerr;
	/* Duplicate keys are refused: with two "action"s the reader and the
	 * compiler could each believe a different one. */
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return sbx_fail(err, -EINVAL, "%s: line %d column %d: %s", origin, jerr.line,
				jerr.column, jerr.text);
	struct parser ps = { .origin = origin, .env = env, .spec = out, .err = err };
	int r = parse_root(&ps, root);
	json_decref(root);
	if (r < 0)
		pol_spec_free(out);
	return r;
}

void pol_spec_free(struct pol_spec *s)
{
	free(s->rules);
	s->rules = NULL;
	s->nrules = 0;
}

int pol_env_host(struct pol_env *env, struct sbx_err *err)
{
	/* Docker compares includes.arches with libseccomp's native name
	 * ("amd64"); OCI tools write the SCMP_ARCH_ form. Accept both. */
	static const char *const amd64[] = { "amd64", "x86_64", "SCMP_ARCH_X86_64", NULL };
	static const char *const none[] = { NULL };
	env->arch = seccomp_arch_native() == SCMP_ARCH_X86_64 ? amd64 : none;

	struct utsname u;
	if (uname(&u) < 0)
		return sbx_fail(err, -errno, "uname");
	unsigned v[3] = { 0, 0, 0 };
	const char *p = u.release;
	for (int i = 0; i < 3 && *p >= '0' && *p <= '9'; i++) {
		v[i] = (unsigned)strtoul(p, (char **)&p, 10);
		if (*p != '.')
			break;
		p++;
	}
	memcpy(env->kernel, v, sizeof v);
	return 0;
}
