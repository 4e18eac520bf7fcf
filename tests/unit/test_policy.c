/* tests/unit/test_policy.c — seccomp policies: the JSON parser (pure), the
 * compiled BPF, and the filters themselves, enforced in forked children.
 * No root needed. Every probe that would change anything if the filter
 * were missing is chosen to be harmless then: it only affects the forked
 * child, or fails for another reason (ENOENT, ENOTTY on a pipe). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sandbox/policy_internal.h"
#include "sandbox/sandbox.h"
#include "lib/fd.h"
#include "tests/unit/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------- */

static const char *const test_arch[] = { "amd64", NULL };
static const struct pol_env test_env = { .arch = test_arch, .kernel = { 5, 10, 0 } };

/* JSON is easier to read with single quotes in C strings. */
static char *jq(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static int parse(const char *json, struct pol_spec *spec, struct sbx_err *err)
{
	_cleanup_free_ char *t = jq(json);
	return pol_parse_json(t, strlen(t), "test.json", &test_env, spec, err);
}

static int compile(const char *json, struct sbx_policy **p, struct sbx_err *err)
{
	_cleanup_free_ char *t = jq(json);
	return pol_policy_from_json(t, strlen(t), "test", "test.json", &test_env, p, err);
}

static size_t count_rules(const struct pol_spec *s, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nrules; i++)
		n += strcmp(s->rules[i].name, name) == 0;
	return n;
}


static int load_shipped(const char *name, struct sbx_policy **p)
{
	struct sbx_err e = SBX_ERR_INIT;
	int r = sbx_policy_load(name, tk_policy_dir(), p, &e);
	if (r < 0)
		print_error("load %s: %s\n", name, sbx_err_text(&e, r));
	return r;
}

static bool bpf_has(const struct sock_fprog *f, uint16_t code, uint32_t k)
{
	for (unsigned i = 0; i < f->len; i++)
		if (f->filter[i].code == code && f->filter[i].k == k)
			return true;
	return false;
}

static bool bpf_has_x32_numbers(const struct sock_fprog *f)
{
	for (unsigned i = 0; i < f->len; i++)
		if (BPF_CLASS(f->filter[i].code) == BPF_JMP &&
		    (f->filter[i].k & 0xfffff000u) == 0x40000000u)
			return true;
	return false;
}

/* i386 system call from 64-bit code: the compat ABI, arguments < 4 GiB. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory");
	return ret;
}

#define X86_getpid 20
#define X86_socketcall 102
#define X86_unshare 310
#define X86_socket 359

/* Run fn in a forked child under `p` (no_new_privs set, as the runner
 * does). The child exits with fn's result: 0, or the number of the first
 * failed check. tk_spawn's child leaves through the raw exit_group
 * syscall: exit() would run LeakSanitizer (which needs ptrace) and even
 * _exit() goes through the sanitizer runtime (sigaltstack), which the
 * strict policy rightly kills. Returns the wait status. */
struct confined {
	const struct sbx_policy *p;
	int (*fn)(void);
};

static int confined_main(void *arg)
{
	const struct confined *c = arg;
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core); /* SIGSYS would dump core */
	int null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, 1) < 0)
		return 200;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 201;
	if (sbx_policy_install(c->p, &(struct sbx_err)SBX_ERR_INIT) < 0)
		return 202;
	return c->fn();
}

static int run_confined(const struct sbx_policy *p, int (*fn)(void))
{
	struct confined c = { p, fn };
	int st = tk_run(confined_main, &c);
	assert_true(st >= 0);
	return st;
}

static void assert_exit_ok(int st)
{
	if (WIFSIGNALED(st))
		fail_msg("confined child killed by signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("confined child failed check %d", WEXITSTATUS(st));
}

static void assert_killed_by_sigsys(int st)
{
	if (!WIFSIGNALED(st))
		fail_msg("child exited %d instead of dying by SIGSYS", WEXITSTATUS(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* ---- the shipped policies ------------------------------------------ */

static void test_shipped_parse(void **state)
{
	(void)state;
	struct pol_env env;
	assert_int_equal(pol_env_host(&env, NULL), 0);
	const char *names[] = { "default", "strict", "analyzer" };
	for (size_t i = 0; i < 2; i++) {
		char path[4400];
		snprintf(path, sizeof path, "%s/%s.json", tk_policy_dir(), names[i]);
		int fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		char buf[1 << 16];
		int n = sr_read_full(fd, buf, sizeof buf);
		close(fd);
		assert_true(n > 0 && n < (int)sizeof buf);
		struct pol_spec s;
		struct sbx_err e = SBX_ERR_INIT;
		int r = pol_parse_json(buf, (size_t)n, path, &env, &s, &e);
		if (r < 0)
			fail_msg("%s", sbx_err_text(&e, r));
		assert_true(s.nrules > 0);
		assert_true(s.arches & POL_ARCH_X86_64);
		if (i == 0) {
			assert_int_equal(s.def.kind, POL_ERRNO);
			assert_int_equal(s.def.errno_ret, EPERM);
			assert_int_equal(count_rules(&s, "clone"), 1);
			assert_int_equal(s.rules[0].act.kind, POL_ALLOW);
			/* socket(AF_UNIX...) conditions: the i386 multiplexer guard */
			assert_true(s.multiplexed_cond);
		} else {
			assert_int_equal(s.def.kind, POL_KILL_PROCESS);
			assert_int_equal(count_rules(&s, "socket"), 0);
			assert_int_equal(count_rules(&s, "openat"), 1);
			assert_false(s.multiplexed_cond);
		}
		pol_spec_free(&s);
	}
}

static void test_shipped_compile(void **state)
{
	(void)state;
	struct sbx_policy *def = NULL, *strict = NULL;
	assert_int_equal(load_shipped("default", &def), 0);
	assert_int_equal(load_shipped("strict", &strict), 0);
	assert_string_equal(sbx_policy_name(def), "default");
	assert_string_equal(sbx_policy_name(strict), "strict");
	assert_false(sbx_policy_kills(def));
	assert_true(sbx_policy_kills(strict));
	/* default: main layer + the TIOCSTI/TIOCLINUX and multiplexer overrides */
	assert_int_equal(pol_policy_nlayers(def), 2);
	assert_int_equal(pol_policy_nlayers(strict), 1);
	struct sbx_policy *both[] = { def, strict };
	for (size_t i = 0; i < 2; i++) {
		for (size_t l = 0; l < pol_policy_nlayers(both[i]); l++) {
			const struct sock_fprog *f = pol_policy_layer(both[i], l);
			assert_non_null(f);
			assert_true(f->len > 0);
			/* every layer checks both audit arches and the x32 range */
			assert_true(bpf_has(f, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64));
			assert_true(bpf_has(f, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386));
		}
		assert_true(bpf_has_x32_numbers(pol_policy_layer(both[i], 0)));
		assert_null(pol_policy_layer(both[i], pol_policy_nlayers(both[i])));
	}
	sbx_policy_free(def);
	sbx_policy_free(strict);
}

static void test_lookup(void **state)
{
	(void)state;
	struct sbx_policy *p = (void *)1;
	char dir[] = "/tmp/sandrun-policy-test.XXXXXX";
	assert_non_null(mkdtemp(dir));

	struct sbx_err e = SBX_ERR_INIT;
	assert_int_equal(sbx_policy_load("nope", dir, &p, &e), -ENOENT);
	assert_null(p);
	char want[128];
	snprintf(want, sizeof want, "%s/nope.json", dir);
	assert_non_null(strstr(sbx_err_text(&e, -ENOENT), want));

	/* anything with a '/' is a path, not looked up in the directory */
	struct sbx_err e2 = SBX_ERR_INIT;
	assert_int_equal(sbx_policy_load("./nope.json", dir, &p, &e2), -ENOENT);
	assert_non_null(strstr(sbx_err_text(&e2, -ENOENT), "./nope.json"));
	assert_int_equal(sbx_policy_load("nope", NULL, &p, NULL), -EINVAL);
	assert_int_equal(sbx_policy_load("", dir, &p, NULL), -EINVAL);

	char path[160];
	snprintf(path, sizeof path, "%s/mine.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", f);
	fclose(f);
	assert_int_equal(sbx_policy_load("mine", dir, &p, NULL), 0);
	assert_string_equal(sbx_policy_name(p), "mine");
	sbx_policy_free(p);
	assert_int_equal(sbx_policy_load(path, "/nonexistent", &p, NULL), 0);
	assert_string_equal(sbx_policy_name(p), path);
	sbx_policy_free(p);

	/* a directory is not a policy */
	char sub[160];
	snprintf(sub, sizeof sub, "%s/d.json", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(sbx_policy_load("d", dir, &p, NULL), -EINVAL);
	rmdir(sub);
	unlink(path);
	rmdir(dir);
}

/* ---- malformed profiles --------------------------------------------- */

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *json, *needle;
	} cases[] = {
		{ "{'defaultAction': 'SCMP_ACT_ALLOW',", "line 1" },
		{ "[]", "(top level)" },
		{ "{}", "defaultAction: is required" },
		{ "{'defaultAction': 'SCMP_ACT_NOPE'}", "defaultAction: unknown action \"SCMP_ACT_NOPE\"" },
		{ "{'defaultAction': 7}", "defaultAction: must be a string" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}", "defaultErrnoRet" },
		{ "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 'x'}", "defaultErrnoRet: must be an integer" },
		{ "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 5000}", "defaultErrnoRet: 5000 is out of range" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultAction': 'SCMP_ACT_ERRNO'}", "duplicate" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscall': []}", "unknown field \"syscall\"" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': {}}", "syscalls: must be an array" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [3]}", "syscalls[0]: must be an object" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read']}]}",
		  "syscalls[0].action: is required" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_FOO'}]}",
		  "syscalls[0].action: unknown action \"SCMP_ACT_FOO\"" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_TRACE'}]}",
		  "syscalls[0].action: SCMP_ACT_TRACE is not supported" },
		{ "{'defaultAction': 'SCMP_ACT_NOTIFY'}", "defaultAction: SCMP_ACT_NOTIFY is not supported" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': 'read', 'action': 'SCMP_ACT_ERRNO'}]}",
		  "syscalls[0].names: must be a non-empty array" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [1], 'action': 'SCMP_ACT_ERRNO'}]}",
		  "syscalls[0].names[0]: must be a syscall name" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'name': 'read', 'action': 'SCMP_ACT_ERRNO'}]}",
		  "syscalls[0]: use either" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL', 'errnoRet': 1}]}",
		  "syscalls[0].errnoRet: is only meaningful with SCMP_ACT_ERRNO" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'arg': []}]}",
		  "syscalls[0]: unknown field \"arg\"" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_ALMOST'}]}]}",
		  "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ALMOST\"" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}",
		  "syscalls[0].args[0].index: 6 is out of range 0..5" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': '0', 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}",
		  "syscalls[0].args[0].index: must be an integer" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': '1', 'op': 'SCMP_CMP_EQ'}]}]}",
		  "syscalls[0].args[0].value: must be an integer" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': -1, 'op': 'SCMP_CMP_EQ'}]}]}",
		  "syscalls[0].args[0].value: -1 is out of range" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]}",
		  "syscalls[0].args[0].value: is required" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'args': {}}]}",
		  "syscalls[0].args: must be an array" },
		{ "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_GE'}, {'index': 0, 'value': 3, 'op': 'SCMP_CMP_LE'}]}]}",
		  "syscalls[0]: two conditions on the same argument" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'includes': {'caps': 'CAP_SYS_ADMIN'}}]}",
		  "syscalls[0].includes.caps: must be an array" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'excludes': {'minKernel': 'five'}}]}",
		  "syscalls[0].excludes.minKernel: \"five\" is not a kernel version" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'includes': {'kernel': '5.8'}}]}",
		  "syscalls[0].includes: unknown field \"kernel\"" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_Z80']}",
		  "architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86'], 'archMap': [{'architecture': 'SCMP_ARCH_X86_64'}]}",
		  "archMap: use either" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'archMap': [{'subArchitectures': []}]}",
		  "archMap[0].architecture: is required" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_SPEC_ALLOW']}",
		  "flags[0]: SECCOMP_FILTER_FLAG_SPEC_ALLOW is refused" },
		{ "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/notify.sock'}",
		  "listenerPath: is not supported" },
	};
	for (size_t i = 0; i < SR_ARRAY_LEN(cases); i++) {
		struct pol_spec s;
		struct sbx_err e = SBX_ERR_INIT;
		int r = parse(cases[i].json, &s, &e);
		if (r != -EINVAL)
			fail_msg("case %zu: got %d for %s", i, r, cases[i].json);
		const char *msg = sbx_err_text(&e, r);
		if (strncmp(msg, "test.json: ", 11) != 0 || !strstr(msg, cases[i].needle))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, msg, cases[i].needle);
		/* the whole path reports the same, through the compiler */
		struct sbx_policy *p = (void *)1;
		assert_int_equal(compile(cases[i].json, &p, NULL), -EINVAL);
		assert_null(p);
	}
}

/* ---- semantics of the format ---------------------------------------- */

static void test_caps_arches_kernel(void **state)
{
	(void)state;
	/* The job has no capabilities: includes.caps never applies,
	 * excludes.caps always does. Kernel here is 5.10, arch amd64. */
	struct pol_spec s;
	struct sbx_err e = SBX_ERR_INIT;
	int r = parse("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
		      " {'names': ['getpid'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'caps': ['CAP_SYS_ADMIN']}},"
		      " {'names': ['gettid'], 'action': 'SCMP_ACT_ALLOW', 'excludes': {'caps': ['CAP_SYS_ADMIN']}},"
		      " {'names': ['getuid'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'arches': ['amd64', 'x32']}},"
		      " {'names': ['getgid'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'arches': ['s390x']}},"
		      " {'names': ['geteuid'], 'action': 'SCMP_ACT_ALLOW', 'excludes': {'arches': ['amd64']}},"
		      " {'names': ['getegid'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'minKernel': '4.8'}},"
		      " {'names': ['getppid'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'minKernel': '5.10.1'}},"
		      " {'names': ['getpgrp'], 'action': 'SCMP_ACT_ALLOW', 'excludes': {'minKernel': '5.10'}},"
		      " {'name': 'getsid', 'action': 'SCMP_ACT_ALLOW', 'comment': 'old singular form',"
		      "  'includes': {}, 'excludes': {'caps': [], 'arches': null}}"
		      "]}", &s, &e);
	if (r < 0)
		fail_msg("%s", sbx_err_text(&e, r));
	assert_int_equal(count_rules(&s, "getpid"), 0);
	assert_int_equal(count_rules(&s, "gettid"), 1);
	assert_int_equal(count_rules(&s, "getuid"), 1);
	assert_int_equal(count_rules(&s, "getgid"), 0);
	assert_int_equal(count_rules(&s, "geteuid"), 0);
	assert_int_equal(count_rules(&s, "getegid"), 1);
	assert_int_equal(count_rules(&s, "getppid"), 0);
	assert_int_equal(count_rules(&s, "getpgrp"), 0);
	assert_int_equal(count_rules(&s, "getsid"), 1);
	assert_int_equal(s.skipped.caps, 1);
	assert_int_equal(s.skipped.arch, 2);
	assert_int_equal(s.skipped.kernel, 2);
	assert_int_equal(s.nrules, 4);
	pol_spec_free(&s);
}

static void test_docker_style_profile(void **state)
{
	(void)state;
	/* The shapes Docker's and Podman's profiles use: archMap with a null
	 * subArchitectures, ERRNO with errnoRet, a masked clone rule, a rule
	 * for another arch, 32-bit-only names. */
	struct pol_spec s;
	struct sbx_err e = SBX_ERR_INIT;
	int r = parse("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
		      " 'archMap': [{'architecture': 'SCMP_ARCH_X86_64', 'subArchitectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_X32']},"
		      "             {'architecture': 'SCMP_ARCH_RISCV64', 'subArchitectures': null}],"
		      " 'syscalls': ["
		      "  {'names': ['read', 'write', 'mmap2', '_llseek', 'socketcall'], 'action': 'SCMP_ACT_ALLOW'},"
		      "  {'names': ['clone'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 0, 'value': 2114060288, 'op': 'SCMP_CMP_MASKED_EQ'}],"
		      "   'excludes': {'caps': ['CAP_SYS_ADMIN'], 'arches': ['s390', 's390x']}},"
		      "  {'names': ['clone3'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38, 'excludes': {'caps': ['CAP_SYS_ADMIN']}},"
		      "  {'names': ['riscv_flush_icache'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'arches': ['riscv64']}}"
		      "]}", &s, &e);
	if (r < 0)
		fail_msg("%s", sbx_err_text(&e, r));
	assert_int_equal(s.arches, POL_ARCH_X86_64 | POL_ARCH_X86 | POL_ARCH_X32);
	assert_int_equal(s.nrules, 7);
	assert_int_equal(count_rules(&s, "clone"), 1);
	for (size_t i = 0; i < s.nrules; i++) {
		if (strcmp(s.rules[i].name, "clone") == 0) {
			assert_int_equal(s.rules[i].nargs, 1);
			assert_int_equal(s.rules[i].args[0].op, POL_OP_MASKED_EQ);
			assert_int_equal(s.rules[i].args[0].value, 0x7E020000);
			assert_int_equal(s.rules[i].args[0].value_two, 0);
		}
		if (strcmp(s.rules[i].name, "clone3") == 0) {
			assert_int_equal(s.rules[i].act.kind, POL_ERRNO);
			assert_int_equal(s.rules[i].act.errno_ret, ENOSYS);
		}
		/* i386-only names resolve to libseccomp's negative pseudo numbers */
		if (strcmp(s.rules[i].name, "mmap2") == 0)
			assert_true(s.rules[i].nr < 0);
	}
	assert_int_equal(s.skipped.arch, 1);
	pol_spec_free(&s);
}

static void test_unknown_names_skipped(void **state)
{
	(void)state;
	const char *json = "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
			   " {'names': ['getpid', 'no_such_syscall_xyz', 'getppid'], 'action': 'SCMP_ACT_ALLOW'}]}";
	struct pol_spec s;
	assert_int_equal(parse(json, &s, NULL), 0);
	assert_int_equal(s.nrules, 2);
	assert_int_equal(s.skipped.unknown, 1);
	assert_int_equal(count_rules(&s, "no_such_syscall_xyz"), 0);
	pol_spec_free(&s);
	struct sbx_policy *p = NULL;
	assert_int_equal(compile(json, &p, NULL), 0);
	assert_true(pol_policy_layer(p, 0)->len > 0);
	sbx_policy_free(p);
}

static void test_same_arg_deny_is_split(void **state)
{
	(void)state;
	/* for a denying action runc's OR reading only denies more: accepted */
	struct pol_spec s;
	assert_int_equal(parse("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
			       " {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'args': ["
			       "  {'index': 0, 'value': 4194304, 'op': 'SCMP_CMP_EQ'},"
			       "  {'index': 0, 'value': 262144, 'op': 'SCMP_CMP_EQ'}]}]}", &s, NULL), 0);
	assert_int_equal(s.nrules, 2);
	assert_int_equal(s.rules[0].nargs, 1);
	assert_int_equal(s.rules[1].nargs, 1);
	assert_int_equal(s.rules[1].args[0].value, 262144);
	pol_spec_free(&s);
}

static void test_layers_and_kills(void **state)
{
	(void)state;
	struct sbx_policy *p = NULL;
	/* one action per syscall: one program, like runc would build */
	assert_int_equal(compile("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
				 " {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
				 " {'names': ['ioctl'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 1, 'value': 21505, 'op': 'SCMP_CMP_EQ'}]}]}",
				 &p, NULL), 0);
	assert_int_equal(pol_policy_nlayers(p), 1);
	assert_false(sbx_policy_kills(p));
	sbx_policy_free(p);

	/* unconditional allow + conditional deny of one syscall: libseccomp
	 * alone would drop the deny; it becomes a second program */
	assert_int_equal(compile("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
				 " {'names': ['ioctl'], 'action': 'SCMP_ACT_ALLOW'},"
				 " {'names': ['ioctl'], 'action': 'SCMP_ACT_KILL_PROCESS', 'args': [{'index': 1, 'value': 21522, 'op': 'SCMP_CMP_EQ'}]}]}",
				 &p, NULL), 0);
	assert_int_equal(pol_policy_nlayers(p), 2);
	assert_true(sbx_policy_kills(p));
	sbx_policy_free(p);

	/* TRAP delivers SIGSYS too */
	assert_int_equal(compile("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
				 " {'names': ['uname'], 'action': 'SCMP_ACT_TRAP'},"
				 " {'names': ['getppid'], 'action': 'SCMP_ACT_LOG'}]}", &p, NULL), 0);
	assert_true(sbx_policy_kills(p));
	sbx_policy_free(p);

	/* SECCOMP_FILTER_FLAG_LOG is kept, TSYNC accepted */
	assert_int_equal(compile("{'defaultAction': 'SCMP_ACT_KILL_THREAD', 'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC']}", &p, NULL), 0);
	assert_true(sbx_policy_kills(p));
	sbx_policy_free(p);
}

static void test_syscall_name(void **state)
{
	(void)state;
	assert_string_equal(sbx_syscall_name(SYS_getpid), "getpid");
	assert_string_equal(sbx_syscall_name(SYS_socket), "socket");
	assert_string_equal(sbx_syscall_name(SYS_read), "read");
	/* cached: the same pointer the second time */
	assert_ptr_equal(sbx_syscall_name(SYS_socket), sbx_syscall_name(SYS_socket));
	assert_null(sbx_syscall_name(-1));
	assert_null(sbx_syscall_name(100000));
}

/* ---- the filters, enforced ------------------------------------------- */

/* The i386 checks run only where the host runs i386 syscalls at all. */
static bool ia32;

static void *thread_fn(void *arg)
{
	return arg;
}

/* Under the default policy. Returns 0 or the number of the failed check. */
static int default_probe(void)
{
#define CHECK(n, cond) do { if (!(cond)) return (n); } while (0)
	int pfd[2];
	CHECK(1, pipe(pfd) == 0);
	CHECK(2, getpid() > 0);

	errno = 0;
	CHECK(3, unshare(CLONE_NEWUTS) == -1 && errno == EPERM);
	/* without the filter: ENOENT (nothing is mounted) */
	CHECK(4, mount(NULL, "/nonexistent-sandrun-test", NULL, MS_REMOUNT, NULL) == -1 &&
		 errno == EPERM);
	/* without the filter: EINVAL (size 0) */
	CHECK(5, syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
	long c = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, NULL, NULL, 0);
	if (c == 0)
		_exit(0);
	CHECK(6, c == -1 && errno == EPERM);
	CHECK(7, syscall(SYS_setns, 0, 0) == -1 && errno == EPERM);
	CHECK(8, personality(ADDR_NO_RANDOMIZE) == -1 && errno == EPERM);
	CHECK(9, personality(0xffffffff) >= 0);

	/* TIOCSTI on a pipe would be ENOTTY: EPERM is the filter, also with
	 * garbage in the upper half of the (unsigned int) request */
	char ch = 'x';
	CHECK(10, ioctl(pfd[0], TIOCSTI, &ch) == -1 && errno == EPERM);
	CHECK(11, syscall(SYS_ioctl, pfd[0], 0x100000000UL | TIOCSTI, &ch) == -1 && errno == EPERM);
	CHECK(12, syscall(SYS_ioctl, pfd[0], TIOCLINUX, &ch) == -1 && errno == EPERM);
	struct termios tio;
	CHECK(13, ioctl(pfd[0], TCGETS, &tio) == -1 && errno == ENOTTY);

	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(14, s >= 0);
	close(s);
	CHECK(15, socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0) == -1 && errno == EPERM);
	int sp[2];
	CHECK(16, socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);

	/* fork and threads: clone without namespace flags, clone3 fallback
	 * (the probe of fork itself: this grandchild leaves at once) */
	pid_t kid = fork();
	if (kid == 0)
		_exit(7);
	int st;
	CHECK(17, kid > 0 && waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	pthread_t t;
	void *ret = NULL;
	CHECK(18, pthread_create(&t, NULL, thread_fn, &ch) == 0 && pthread_join(t, &ret) == 0 &&
		  ret == &ch);
	CHECK(19, syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) == -1 && errno == EPERM);
	CHECK(20, syscall(SYS_userfaultfd, 0) == -1 && errno == EPERM);
	CHECK(21, syscall(SYS_io_uring_setup, 1, NULL) == -1 && errno == EPERM);

	if (ia32) {
		/* the i386 ABI: same rules, same default */
		CHECK(30, int80(X86_getpid, 0, 0, 0) == getpid());
		CHECK(31, int80(X86_unshare, CLONE_NEWUTS, 0, 0) == -EPERM);
		long fd = int80(X86_socket, AF_UNIX, SOCK_STREAM, 0);
		CHECK(32, fd >= 0);
		close((int)fd);
		CHECK(33, int80(X86_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0) == -EPERM);
		/* socketcall hides its arguments in memory: refused outright
		 * (without the filter: EFAULT) */
		CHECK(34, int80(X86_socketcall, 1 /* SYS_SOCKET */, 0, 0) == -EPERM);
	}
	return 0;
#undef CHECK
}

static void test_default_enforced(void **state)
{
	(void)state;
	ia32 = false;
	struct sbx_policy *p = NULL;
	assert_int_equal(load_shipped("default", &p), 0);
	assert_exit_ok(run_confined(p, default_probe));
	sbx_policy_free(p);
}

/* The same rules through the i386 entry point. */
static void test_default_enforced_i386(void **state)
{
	(void)state;
	tk_skip_unless(tk_have_ia32(), "no i386 syscalls on this host");
	ia32 = true;
	struct sbx_policy *p = NULL;
	assert_int_equal(load_shipped("default", &p), 0);
	assert_exit_ok(run_confined(p, default_probe));
	sbx_policy_free(p);
}

static int strict_ok_probe(void)
{
	if (getpid() <= 0)
		return 1;
	if (write(1, "ok\n", 3) != 3)
		return 2;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 3;
	char buf[64];
	if (read(fd, buf, sizeof buf) <= 0)
		return 4;
	close(fd);
	return 0;
}

static int strict_socket_probe(void)
{
	syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	return 50; /* still alive: the filter did not kill */
}

static int strict_int80_probe(void)
{
	int80(X86_socket, AF_UNIX, SOCK_STREAM, 0);
	return 51;
}

static int strict_write_open_probe(void)
{
	/* without the filter: ENOENT, nothing is created */
	openat(AT_FDCWD, "/nonexistent-sandrun-test/x", O_WRONLY | O_CREAT, 0600);
	return 52;
}

static int strict_exec_true_probe(void)
{
	char *argv[] = { "true", NULL };
	execve("/bin/true", argv, (char *[]){ NULL });
	return 53;
}

static int strict_exec_ls_probe(void)
{
	/* a dynamic program doing something the analyzer never does
	 * (getdents64): killed after the exec */
	char *argv[] = { "ls", "/", NULL };
	execve("/bin/ls", argv, (char *[]){ NULL });
	return 54;
}

/* fork() as the FFmpeg fallback's hand-off makes it: a raw clone with
 * the exit signal only; the child leaves at once, the parent reaps it. */
static int fork_probe(void)
{
	long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		syscall(SYS_exit_group, 0);
	if (pid < 0)
		return 55;
	int st = -1;
	if (syscall(SYS_wait4, pid, &st, 0, NULL) != pid || st != 0)
		return 56;
	return 0;
}

/* clone with a namespace flag: outside fork()'s mask, killed. */
static int clone_ns_probe(void)
{
	long pid = syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_NEWNS), 0, 0, 0, 0);
	if (pid == 0)
		syscall(SYS_exit_group, 0);
	return 57;
}

/* A shipped policy against a list of probes: each exits 0 or dies of SIGSYS. */
struct probe_want {
	int (*probe)(void);
	bool killed;
};

static void check_policy(const char *name, const struct probe_want *w, size_t n)
{
	struct sbx_policy *p = NULL;
	assert_int_equal(load_shipped(name, &p), 0);
	for (size_t i = 0; i < n; i++) {
		int st = run_confined(p, w[i].probe);
		if (w[i].killed)
			assert_killed_by_sigsys(st);
		else
			assert_exit_ok(st);
	}
	sbx_policy_free(p);
}

static void test_strict_enforced(void **state)
{
	(void)state;
	/* strict stays fork-free: the fallback's fork is analyzer.json's */
	static const struct probe_want w[] = {
		{ strict_ok_probe, false },         { strict_socket_probe, true },
		{ strict_write_open_probe, true },  { strict_exec_true_probe, false },
		{ strict_exec_ls_probe, true },     { fork_probe, true },
	};
	check_policy("strict", w, SR_ARRAY_LEN(w));
}

/* analyzer.json: strict plus a fork-only clone for the FFmpeg fallback's
 * hand-off; still no namespace, socket or writable open. */
static void test_analyzer_policy(void **state)
{
	(void)state;
	static const struct probe_want w[] = {
		{ strict_ok_probe, false },        { fork_probe, false },
		{ clone_ns_probe, true },          { strict_socket_probe, true },
		{ strict_write_open_probe, true }, { strict_exec_ls_probe, true },
	};
	check_policy("analyzer", w, SR_ARRAY_LEN(w));
}

static void test_strict_kills_i386(void **state)
{
	(void)state;
	tk_skip_unless(tk_have_ia32(), "no i386 syscalls on this host");
	struct sbx_policy *p = NULL;
	assert_int_equal(load_shipped("strict", &p), 0);
	assert_killed_by_sigsys(run_confined(p, strict_int80_probe));
	sbx_policy_free(p);
}

/* Several rules match one call: the most restrictive wins, and a call
 * that matches a rule never falls back to the default. */
static int restrictive_probe(void)
{
	errno = 0;
	if (syscall(SYS_getpriority, PRIO_PROCESS, 0) < 0)
		return 1;
	if (syscall(SYS_getpriority, PRIO_PGRP, 0) != -1 || errno != EACCES)
		return 2;
	return 0;
}

static int restrictive_default_probe(void)
{
	syscall(SYS_getpriority, PRIO_USER, 0);
	return 60;
}

static void test_most_restrictive_wins(void **state)
{
	(void)state;
	struct sbx_policy *p = NULL;
	/* unconditional allow + conditional errno: libseccomp alone drops
	 * the errno rule (the TIOCSTI case) */
	assert_int_equal(compile("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
				 " {'names': ['exit_group'], 'action': 'SCMP_ACT_ALLOW'},"
				 " {'names': ['getpriority'], 'action': 'SCMP_ACT_ALLOW'},"
				 " {'names': ['getpriority'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13,"
				 "  'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}", &p, NULL), 0);
	assert_exit_ok(run_confined(p, restrictive_probe));
	sbx_policy_free(p);

	/* a killing default: PRIO_PGRP matches the errno rule only, and gets
	 * it; PRIO_USER matches nothing and is killed */
	assert_int_equal(compile("{'defaultAction': 'SCMP_ACT_KILL_PROCESS', 'syscalls': ["
				 " {'names': ['exit_group'], 'action': 'SCMP_ACT_ALLOW'},"
				 " {'names': ['getpriority'], 'action': 'SCMP_ACT_ALLOW',"
				 "  'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'}]},"
				 " {'names': ['getpriority'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13,"
				 "  'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}", &p, NULL), 0);
	assert_int_equal(pol_policy_nlayers(p), 2);
	assert_exit_ok(run_confined(p, restrictive_probe));
	assert_killed_by_sigsys(run_confined(p, restrictive_default_probe));
	sbx_policy_free(p);
}

int main(void)
{
	/* These tests are about the compiler; the cache has test_policy_cache.c
	 * (and must not touch /var/cache when the tests run as root). */
	setenv("SANDRUN_NO_POLICY_CACHE", "1", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_parse),
		cmocka_unit_test(test_shipped_compile),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps_arches_kernel),
		cmocka_unit_test(test_docker_style_profile),
		cmocka_unit_test(test_unknown_names_skipped),
		cmocka_unit_test(test_same_arg_deny_is_split),
		cmocka_unit_test(test_layers_and_kills),
		cmocka_unit_test(test_syscall_name),
		cmocka_unit_test(test_most_restrictive_wins),
		cmocka_unit_test(test_default_enforced),
		cmocka_unit_test(test_default_enforced_i386),
		cmocka_unit_test(test_strict_enforced),
		cmocka_unit_test(test_analyzer_policy),
		cmocka_unit_test(test_strict_kills_i386),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
