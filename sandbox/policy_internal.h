/* sandbox/policy_internal.h — the seccomp policy between its two stages.
 *
 *   JSON text --pol_parse_json()--> struct pol_spec --compile--> BPF layers
 *
 * The first stage (policy_parse.c) is pure: it needs no kernel feature and
 * is what the unit tests exercise with hand-written profiles. It already
 * applies everything that depends on the host (includes/excludes, unknown
 * syscall names), so the rule list is exactly what gets compiled. The
 * second stage (policy.c) turns the rule list into one or more classic BPF
 * programs with libseccomp; see docs/policy.md for why there can be more
 * than one.
 */
#ifndef SANDRUN_POLICY_INTERNAL_H
#define SANDRUN_POLICY_INTERNAL_H

#include "sandbox.h"

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_MAX_ARGS 6      /* seccomp_data.args[] */
#define POL_MAX_ERRNO 4095  /* the kernel clamps SECCOMP_RET_ERRNO data to this */
#define POL_MAX_LAYERS 8

/* Ordered by the kernel's precedence when stacked filters disagree
 * (kernel/seccomp.c): a larger value always wins. */
enum pol_kind {
	POL_ALLOW = 0,
	POL_LOG,
	POL_ERRNO,
	POL_TRAP,
	POL_KILL_THREAD,
	POL_KILL_PROCESS,
};

struct pol_action {
	enum pol_kind kind;
	uint16_t errno_ret;        /* POL_ERRNO only */
};

enum pol_op {
	POL_OP_NE,
	POL_OP_LT,
	POL_OP_LE,
	POL_OP_EQ,
	POL_OP_GE,
	POL_OP_GT,
	POL_OP_MASKED_EQ,          /* (arg & value) == value_two */
};

struct pol_arg {
	unsigned index;
	enum pol_op op;
	uint64_t value, value_two;
};

struct pol_rule {
	int nr;                    /* libseccomp's number; < 0 for a syscall
	                            * only some ABIs have (mmap2, socketcall) */
	char name[48];
	struct pol_action act;
	unsigned nargs;
	struct pol_arg args[POL_MAX_ARGS];
	unsigned entry;            /* index in syscalls[], for messages */
};

/* x86-family architectures named by the profile (informational: sandrun
 * compiles for all three whatever the profile lists). */
enum {
	POL_ARCH_X86_64 = 1u << 0,
	POL_ARCH_X86 = 1u << 1,
	POL_ARCH_X32 = 1u << 2,
};

struct pol_spec {
	struct pol_action def;
	uint32_t flags;            /* SECCOMP_FILTER_FLAG_* for every layer */
	unsigned arches;           /* POL_ARCH_* listed by the profile */
	struct pol_rule *rules;
	size_t nrules;
	/* A rule with argument conditions names a syscall that the i386 ABI
	 * also reaches through socketcall(2) or ipc(2); see policy.c. */
	bool multiplexed_cond;
	struct {
		size_t unknown;    /* names this libseccomp does not know */
		size_t caps;       /* rules skipped by includes/excludes.caps */
		size_t arch;       /* ... by includes/excludes.arches */
		size_t kernel;     /* ... by includes/excludes.minKernel */
	} skipped;
};

/* What includes/excludes are evaluated against. */
struct pol_env {
	const char *const *arch;   /* names of the host arch, NULL-terminated */
	unsigned kernel[3];        /* running kernel, e.g. {6, 18, 44} */
};

/* The host: arch aliases of the native ABI and uname's release. */
int pol_env_host(struct pol_env *env, struct sbx_err *err);

/* Parse a profile. `origin` (the file name) starts every error message.
 * Returns 0, or -EINVAL with *err naming the field. */
int pol_parse_json(const char *text, size_t len, const char *origin,
		   const struct pol_env *env, struct pol_spec *out, struct sbx_err *err);
void pol_spec_free(struct pol_spec *s);

/* Same kind and, for ERRNO, same errno. */
bool pol_action_eq(struct pol_action a, struct pol_action b);

/* What sbx_policy_load() returns: compiled, or read back from the cache
 * (policy_cache.c), which must give exactly these fields. */
struct sbx_policy {
	char *name;
	unsigned flags;            /* SECCOMP_FILTER_FLAG_* */
	bool kills;
	bool from_cache;           /* informational (tests); never changes the install */
	size_t nlayers;
	struct sock_fprog layer[POL_MAX_LAYERS];
};

/* policy.c: parse + compile text directly (used by sbx_policy_load and by
 * the unit tests, which have no policy directory). */
int pol_policy_from_json(const char *text, size_t len, const char *name,
			 const char *origin, const struct pol_env *env,
			 struct sbx_policy **out, struct sbx_err *err);
/* Compiled program i: 0 is the profile's main filter, 1.. the override
 * layers (installed before it); NULL past the end. */
const struct sock_fprog *pol_policy_layer(const struct sbx_policy *p, size_t i);
size_t pol_policy_nlayers(const struct sbx_policy *p);
unsigned pol_policy_flags(const struct sbx_policy *p);
bool pol_policy_from_cache(const struct sbx_policy *p);

/* policy_cache.c: compiled policies kept across processes in
 * $SANDRUN_CACHE_DIR/policy/ (default /var/cache/sandrun/policy/); see
 * docs/policy.md. None of these calls sbx_fail(): a cache that cannot be
 * used is a miss, never an error. */
#define POL_CACHE_KEY_LEN 32
/* The key: everything the compiled programs depend on. */
int pol_cache_key(const char *text, size_t len, const char *name,
		  const struct pol_env *env, unsigned char key[POL_CACHE_KEY_LEN]);
/* The trusted <dir>/policy directory (created 0700 if missing), or -errno;
 * -ECANCELED when SANDRUN_NO_POLICY_CACHE is set. */
int pol_cache_open(void);
/* A verified entry as a new policy named `name`; -errno on a miss. */
int pol_cache_get(int dirfd, const unsigned char key[POL_CACHE_KEY_LEN],
		  const char *name, struct sbx_policy **out);
/* Write (or replace) an entry atomically; 0 or -errno (callers ignore it). */
int pol_cache_put(int dirfd, const unsigned char key[POL_CACHE_KEY_LEN],
		  const struct sbx_policy *p);

#endif
