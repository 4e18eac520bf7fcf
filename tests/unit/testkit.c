/* tests/unit/testkit.c — see testkit.h. No cmocka in here: the functions
 * run in forked children too. */
#include "tests/unit/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static _Noreturn void leave(int code)
{
	for (;;)
		syscall(SYS_exit_group, code & 0xff);
}

pid_t tk_spawn(int (*fn)(void *arg), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	/* cmocka's (and ASan's) handlers would turn a fault into a jump back
	 * into the test runner: a fault must end this child, visibly. */
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t unblock;
	sigemptyset(&unblock);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaction(sigs[i], &dfl, NULL);
		sigaddset(&unblock, sigs[i]);
	}
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	leave(fn(arg));
}

int tk_wait(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return st;
}

int tk_run(int (*fn)(void *arg), void *arg)
{
	pid_t pid = tk_spawn(fn, arg);
	return pid < 0 ? pid : tk_wait(pid);
}

int tk_put(const char *root, const char *rel, const char *content)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (!f)
		return -errno;
	int r = fputs(content, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r;
}

int tk_tree_new(void **state, const char *tag)
{
	struct tk_tree *t = calloc(1, sizeof *t);
	char tmpl[128];
	snprintf(tmpl, sizeof tmpl, "/tmp/sandrun-test-%s.XXXXXX", tag);
	/* The real path, so expectations compare with realpath output. */
	if (!t || !mkdtemp(tmpl) || !realpath(tmpl, t->root)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

int tk_tree_teardown(void **state)
{
	struct tk_tree *t = *state;
	char cmd[sizeof t->root + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
	int r = system(cmd);
	free(t);
	return r == 0 ? 0 : -1;
}

/* ---- host capabilities ------------------------------------------------ */

/* -1: not known yet. */
static int cap_ia32 = -1, cap_x32 = -1, cap_landlock = -1, cap_kmsg = -1;

/* From SANDRUN_HOST_CAPS ("ia32=0 x32=0 landlock=7 kmsg=1"), if set. */
static int from_env(const char *key)
{
	const char *caps = getenv("SANDRUN_HOST_CAPS");
	size_t klen = strlen(key);
	for (const char *p = caps; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return atoi(p + klen + 1);
		p = strchr(p, ' ');
	}
	return -1;
}

#if defined(__x86_64__)
static int int80_getpid(void *arg)
{
	(void)arg;
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
	return ret == getpid() ? 0 : 1;
}
#endif

static int probe_ia32(void)
{
#if defined(__x86_64__)
	/* Without IA32 emulation (or where the hypervisor offers none) the
	 * instruction faults: SIGSEGV, or SIGSYS under a filter that traps
	 * the ABI. Either ends the child; only a clean getpid counts. */
	int st = tk_run(int80_getpid, NULL);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
#else
	return 0;
#endif
}

static int probe_x32(void)
{
#if defined(__x86_64__)
	return syscall(0x40000000 | SYS_getpid) == getpid();
#else
	return 0;
#endif
}

static int probe_landlock(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi > 0 ? (int)abi : 0;
}

static int probe_kmsg(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int cached(int *slot, const char *key, int (*probe)(void))
{
	if (*slot < 0)
		*slot = from_env(key);
	if (*slot < 0)
		*slot = probe();
	return *slot;
}

bool tk_have_ia32(void) { return cached(&cap_ia32, "ia32", probe_ia32) > 0; }
bool tk_have_x32(void) { return cached(&cap_x32, "x32", probe_x32) > 0; }
int tk_landlock_abi(void) { return cached(&cap_landlock, "landlock", probe_landlock); }
bool tk_have_kmsg(void) { return cached(&cap_kmsg, "kmsg", probe_kmsg) > 0; }

/* ---- the shipped policies ---------------------------------------------- */

const char *tk_policy_dir(void)
{
	static char dir[4200];
	if (dir[0])
		return dir;
	const char *env = getenv("SANDRUN_POLICY_DIR");
	if (env) {
		snprintf(dir, sizeof dir, "%s", env);
		return dir;
	}
	char exe[3000];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 6; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
			char probe[3100];
			snprintf(probe, sizeof probe, "%s/policies/default.json", exe);
			if (access(probe, R_OK) == 0) {
				snprintf(dir, sizeof dir, "%s/policies", exe);
				return dir;
			}
		}
	}
	snprintf(dir, sizeof dir, "policies");
	return dir;
}
