/* sandbox/policy.c — seccomp policies: find the file, compile it once per
 * run with libseccomp into classic BPF kept in memory (or take the same
 * programs from the cache, policy_cache.c), install it in the child with
 * nothing but seccomp(2).
 *
 * Why the BPF is exported at load time: the child may run after clone3()
 * without exec, sharing nothing it could lock or allocate safely, so the
 * install step must be one system call per program on memory prepared in
 * advance. libseccomp 2.5 can only export into a file descriptor, hence
 * the memfd round trip.
 *
 * Why there can be several programs ("layers"), see docs/policy.md: one
 * libseccomp filter silently drops a conditional rule when the same
 * syscall also has an unconditional one (so "allow ioctl, but EPERM for
 * TIOCSTI" would allow TIOCSTI), and refuses a rule whose action equals the
 * default. sandrun wants "the most restrictive matching rule wins" and gets
 * it exactly from the kernel, which runs every stacked filter and keeps the
 * most restrictive result.
 */
#include "policy_internal.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define POL_MAX_FILE (1u << 20)
#define GUARD_ENTRY UINT_MAX  /* pol_rule.entry of a rule sandrun adds */

static uint32_t scmp_action(struct pol_action a)
{
	switch (a.kind) {
	case POL_ALLOW: return SCMP_ACT_ALLOW;
	case POL_LOG: return SCMP_ACT_LOG;
	case POL_ERRNO: return SCMP_ACT_ERRNO(a.errno_ret);
	case POL_TRAP: return SCMP_ACT_TRAP;
	case POL_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
	case POL_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static enum scmp_compare scmp_op(enum pol_op op)
{
	switch (op) {
	case POL_OP_NE: return SCMP_CMP_NE;
	case POL_OP_LT: return SCMP_CMP_LT;
	case POL_OP_LE: return SCMP_CMP_LE;
	case POL_OP_EQ: return SCMP_CMP_EQ;
	case POL_OP_GE: return SCMP_CMP_GE;
	case POL_OP_GT: return SCMP_CMP_GT;
	case POL_OP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN;
}

/* On the i386 ABI, socketcall(2) and ipc(2) carry their real arguments in
 * user memory. libseccomp turns a rule like "socket if domain == AF_UNIX"
 * into "socketcall if call == SYS_SOCKET" there, dropping the condition,
 * so a 32-bit caller would get any socket family. When the profile relies
 * on such a condition, the multiplexers get the default action instead
 * (32-bit programs still have the direct socket/IPC syscalls, which are
 * filtered with their arguments). */
static const char *const guarded[] = { "socketcall", "ipc" };

/* Which layer each rule goes to. For each syscall, its distinct actions
 * are ordered from least to most restrictive; a rule goes to the layer of
 * its action's rank. Layer 0 (the profile's default action) additionally
 * gets every rule, so that a call matching only a restrictive rule is not
 * answered by the default there. Returns the number of layers. */
static int plan_layers(const struct pol_rule *all, size_t n, const char *origin,
		       unsigned *layer_of, struct sbx_err *err)
{
	unsigned nlayers = 1;
	for (size_t i = 0; i < n; i++) {
		struct pol_action acts[POL_MAX_LAYERS];
		size_t nacts = 0;
		for (size_t j = 0; j < n; j++)
			if (all[j].nr == all[i].nr && all[j].entry == GUARD_ENTRY) {
				/* never layer 0: there libseccomp adds the
				 * condition-less multiplexer rule itself */
				acts[nacts++] = (struct pol_action){ .kind = POL_ALLOW };
				break;
			}
		for (size_t j = 0; j < n; j++) {
			if (all[j].nr != all[i].nr)
				continue;
			bool seen = false;
			for (size_t k = 0; k < nacts; k++)
				seen |= pol_action_eq(acts[k], all[j].act);
			if (seen)
				continue;
			if (nacts == POL_MAX_LAYERS)
				return sbx_fail(err, -EINVAL, "%s: syscall %s: rules with more than %d "
						"different actions", origin, all[i].name,
						POL_MAX_LAYERS);
			size_t at = nacts;
			while (at > 0 && acts[at - 1].kind > all[j].act.kind)
				at--;
			memmove(&acts[at + 1], &acts[at], (nacts - at) * sizeof acts[0]);
			acts[at] = all[j].act;
			nacts++;
		}
		for (size_t k = 0; k < nacts; k++)
			if (pol_action_eq(acts[k], all[i].act))
				layer_of[i] = (unsigned)k;
		if (layer_of[i] + 1 > nlayers)
			nlayers = layer_of[i] + 1;
	}
	return (int)nlayers;
}

static int export_bpf(scmp_filter_ctx ctx, const char *origin, struct sock_fprog *out,
		      struct sbx_err *err)
{
	_cleanup_close_ int fd = memfd_create("sandrun-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sbx_fail(err, -errno, "%s: memfd_create", origin);
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return sbx_fail(err, r, "%s: seccomp_export_bpf", origin);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_fail(err, -errno, "%s: fstat memfd", origin);
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) != 0)
		return sbx_fail(err, -EIO, "%s: libseccomp exported %zu bytes of BPF", origin, size);
	size_t insns = size / sizeof(struct sock_filter);
	if (insns > BPF_MAXINSNS)
		return sbx_fail(err, -E2BIG, "%s: filter has %zu instructions, the kernel takes %d",
				origin, insns, BPF_MAXINSNS);
	_cleanup_free_ struct sock_filter *prog = malloc(size);
	if (!prog)
		return sbx_fail(err, -ENOMEM, "%s: BPF", origin);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sbx_fail(err, -errno, "%s: lseek memfd", origin);
	r = sr_read_full(fd, prog, size);
	if (r < 0 || (size_t)r != size)
		return sbx_fail(err, r < 0 ? r : -EIO, "%s: read back BPF", origin);
	out->len = (unsigned short)insns;
	out->filter = sr_steal_ptr(&prog);
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct pol_rule *rule, const char *origin,
		    struct sbx_err *err)
{
	struct scmp_arg_cmp cmp[POL_MAX_ARGS];
	for (unsigned a = 0; a < rule->nargs; a++)
		cmp[a] = (struct scmp_arg_cmp){
			.arg = rule->args[a].index,
			.op = scmp_op(rule->args[a].op),
			.datum_a = rule->args[a].value,
			.datum_b = rule->args[a].value_two,
		};
	int r = seccomp_rule_add_array(ctx, scmp_action(rule->act), rule->nr, rule->nargs, cmp);
	/* -EACCES: same action as this layer's default; -EEXIST: the same
	 * conditions with another action. Either way the rule's own layer
	 * (or a more restrictive one) carries it, see plan_layers(). */
	if (r == -EACCES || r == -EEXIST)
		return 0;
	if (r < 0) {
		if (rule->entry == GUARD_ENTRY)
			return sbx_fail(err, r, "%s: %s guard: libseccomp refused the rule",
					origin, rule->name);
		return sbx_fail(err, r, "%s: syscalls[%u]: %s: libseccomp refused the rule",
				origin, rule->entry, rule->name);
	}
	return 0;
}

static int build_layer(const struct pol_spec *s, const struct pol_rule *all, size_t n,
		       const unsigned *layer_of, unsigned layer, const char *origin,
		       struct sock_fprog *out, struct sbx_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(layer == 0 ? scmp_action(s->def) : SCMP_ACT_ALLOW);
	if (!ctx)
		return sbx_fail(err, -ENOMEM, "%s: seccomp_init", origin);
	int r = 0;
	/* The compat ABIs get the same rules and the same default: a call
	 * made through int $0x80 or with the x32 bit set is not a way around
	 * the filter, whatever the profile's "architectures" say. An arch
	 * the filter does not know (none exists on x86_64) is killed. */
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && r != -EEXIST)
			goto out;
		if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && r != -EEXIST)
			goto out;
	}
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		goto out;
	/* a binary tree of syscall numbers: long allowlists cost log(n) */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool mine = layer == 0 ? all[i].entry != GUARD_ENTRY : layer_of[i] == layer;
		if (mine && (r = add_rule(ctx, &all[i], origin, err)) < 0) {
			seccomp_release(ctx);
			return r;
		}
	}
	r = export_bpf(ctx, origin, out, err);
	seccomp_release(ctx);
	return r;
out:
	seccomp_release(ctx);
	return sbx_fail(err, r, "%s: libseccomp setup", origin);
}

static bool kind_kills(enum pol_kind k)
{
	/* TRAP counts: an unhandled SIGSYS kills, and it is seccomp's doing */
	return k == POL_TRAP || k == POL_KILL_THREAD || k == POL_KILL_PROCESS;
}

static int compile(const struct pol_spec *s, const char *origin, struct sbx_policy *p,
		   struct sbx_err *err)
{
	size_t n = s->nrules;
	bool guard = s->multiplexed_cond && s->def.kind > POL_LOG;
	_cleanup_free_ struct pol_rule *all = calloc(n + SR_ARRAY_LEN(guarded), sizeof *all);
	_cleanup_free_ unsigned *layer_of = calloc(n + SR_ARRAY_LEN(guarded), sizeof *layer_of);
	if (!all || !layer_of)
		return sbx_fail(err, -ENOMEM, "%s: compile", origin);
	if (n)
		memcpy(all, s->rules, n * sizeof *all);
	for (size_t g = 0; guard && g < SR_ARRAY_LEN(guarded); g++) {
		struct pol_rule *r = &all[n++];
		r->nr = seccomp_syscall_resolve_name(guarded[g]);
		snprintf(r->name, sizeof r->name, "%s", guarded[g]);
		r->act = s->def;
		r->entry = GUARD_ENTRY;
	}
	int nlayers = plan_layers(all, n, origin, layer_of, err);
	if (nlayers < 0)
		return nlayers;
	p->flags = s->flags;
	p->kills = kind_kills(s->def.kind);
	for (size_t i = 0; i < s->nrules; i++)
		p->kills |= kind_kills(s->rules[i].act.kind);
	for (unsigned l = 0; l < (unsigned)nlayers; l++) {
		int r = build_layer(s, all, n, layer_of, l, origin, &p->layer[l], err);
		if (r < 0)
			return r;
		p->nlayers = l + 1;
	}
	return 0;
}

int pol_policy_from_json(const char *text, size_t len, const char *name,
			 const char *origin, const struct pol_env *env,
			 struct sbx_policy **out, struct sbx_err *err)
{
	*out = NULL;
	struct pol_spec spec;
	int r = pol_parse_json(text, len, origin, env, &spec, err);
	if (r < 0)
		return r;
	struct sbx_policy *p = calloc(1, sizeof *p);
	if (!p || !(p->name = strdup(name))) {
		free(p);
		pol_spec_free(&spec);
		return sbx_fail(err, -ENOMEM, "%s", origin);
	}
	r = compile(&spec, origin, p, err);
	pol_spec_free(&spec);
	if (r < 0) {
		sbx_policy_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int sbx_policy_load(const char *name_or_path, const char *policy_dir,
		    struct sbx_policy **out, struct sbx_err *err)
{
	*out = NULL;
	if (!name_or_path || !*name_or_path)
		return sbx_fail(err, -EINVAL, "empty policy name");
	_cleanup_free_ char *path = NULL;
	if (strchr(name_or_path, '/'))
		path = strdup(name_or_path);
	else if (!policy_dir)
		return sbx_fail(err, -EINVAL, "policy %s: no policy directory", name_or_path);
	else if (asprintf(&path, "%s/%s.json", policy_dir, name_or_path) < 0)
		path = NULL;
	if (!path)
		return sbx_fail(err, -ENOMEM, "policy %s", name_or_path);

	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sbx_fail(err, -errno, "policy %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_fail(err, -errno, "policy %s", path);
	if (!S_ISREG(st.st_mode))
		return sbx_fail(err, -EINVAL, "policy %s: not a regular file", path);
	if (st.st_size > POL_MAX_FILE)
		return sbx_fail(err, -EFBIG, "policy %s: larger than %u bytes", path, POL_MAX_FILE);
	_cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
	if (!text)
		return sbx_fail(err, -ENOMEM, "policy %s", path);
	int n = sr_read_full(fd, text, (size_t)st.st_size);
	if (n < 0)
		return sbx_fail(err, n, "policy %s: read", path);

	struct pol_env env;
	int r = pol_env_host(&env, err);
	if (r < 0)
		return r;
	/* A hit skips parsing and compiling (~13 ms for default.json) and
	 * gives the very programs, flags and kills bit compiling would: the
	 * key covers every input of the compile (policy_cache.c). */
	unsigned char key[POL_CACHE_KEY_LEN];
	_cleanup_close_ int cache = pol_cache_open();
	bool keyed = cache >= 0 && pol_cache_key(text, (size_t)n, name_or_path, &env, key) == 0;
	if (keyed && pol_cache_get(cache, key, name_or_path, out) == 0)
		return 0;
	r = pol_policy_from_json(text, (size_t)n, name_or_path, path, &env, out, err);
	if (r == 0 && keyed)
		(void)pol_cache_put(cache, key, *out);
	return r;
}

void sbx_policy_free(struct sbx_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nlayers; i++)
		free(p->layer[i].filter);
	free(p->name);
	free(p);
}

const char *sbx_policy_name(const struct sbx_policy *p)
{
	return p ? p->name : NULL;
}

bool sbx_policy_kills(const struct sbx_policy *p)
{
	return p && p->kills;
}

size_t pol_policy_nlayers(const struct sbx_policy *p)
{
	return p ? p->nlayers : 0;
}

const struct sock_fprog *pol_policy_layer(const struct sbx_policy *p, size_t i)
{
	return p && i < p->nlayers ? &p->layer[i] : NULL;
}

unsigned pol_policy_flags(const struct sbx_policy *p)
{
	return p ? p->flags : 0;
}

bool pol_policy_from_cache(const struct sbx_policy *p)
{
	return p && p->from_cache;
}

/* Runs in the child: no allocation, no locks, no stdio, and no sbx_fail()
 * (strerror may allocate): only the code goes into *err, whose text is
 * then strerror's, formatted by the step's report. The caller has set
 * no_new_privs. The override layers go on first: the main layer may well
 * refuse seccomp(2) itself. If one fails after another succeeded, the
 * caller must not exec. */
int sbx_policy_install(const struct sbx_policy *p, struct sbx_err *err)
{
	*err = (struct sbx_err)SBX_ERR_INIT;
	if (!p || p->nlayers == 0)
		return err->code = -EINVAL;
	for (size_t i = p->nlayers; i-- > 0;) {
		const struct sock_fprog *prog = &p->layer[i];
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, prog) == 0)
			continue;
		int e = errno;
		/* kernels before 3.17 have only the prctl() interface */
		if (e == ENOSYS && p->flags == 0 &&
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) == 0)
			continue;
		return err->code = -e;
	}
	return 0;
}

/* For the parent's report of a seccomp kill; resolved names are kept for
 * the life of the process (the table is small and bounded). */
const char *sbx_syscall_name(int nr)
{
	static char *cache[1024];
	if (nr < 0 || (size_t)nr >= SR_ARRAY_LEN(cache))
		return NULL;
	char *s = __atomic_load_n(&cache[nr], __ATOMIC_ACQUIRE);
	if (s)
		return s;
	s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (!s)
		return NULL;
	char *expected = NULL;
	if (!__atomic_compare_exchange_n(&cache[nr], &expected, s, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(s);
		return expected;
	}
	return s;
}
