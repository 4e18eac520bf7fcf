/* tests/unit/test_analyzer_guard.c — the analyzer's own seccomp filter
 * (analyzer/guard.c). Each case forks a child (tk_spawn: default signal
 * dispositions, leaves through exit_group, so no atexit handler —
 * LeakSanitizer's among them, which clones and ptraces — runs under the
 * filter) that installs the filter and then tries one thing; the parent
 * checks how the child ended. No root needed: libseccomp sets
 * no_new_privs first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/guard.h"
#include "tests/analyzer/memfile.h"
#include "tests/unit/testkit.h"

enum probe {
	PROBE_NOTHING,
	PROBE_EXECVE,
	PROBE_SOCKET,
	PROBE_FORK,
	PROBE_CLONE_THREAD,
	PROBE_PTRACE,
	PROBE_OPEN,
	PROBE_I386_ABI,
	PROBE_DECODE,
};

static int decode_under_guard(void)
{
	/* the file is made before the guard, as the program opens its input
	 * before installing it */
	struct memfile m;
	if (memfile_sine(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 2, 48000, 1000.0, -6.0, 1.0) < 0)
		return 10;
	if (an_guard_install() < 0)
		return 11;
	struct an_input in;
	struct an_json j;
	an_input_from_memory(&in, m.data, (size_t)m.len);
	an_json_init(&j);
	enum an_status st = an_analyze_to_json(&in, &j);
	/* random bytes: libsndfile's resource-fork probe opens files */
	static uint8_t junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	struct an_json j2;
	an_input_from_memory(&in, junk, sizeof(junk));
	an_json_init(&j2);
	enum an_status st2 = an_analyze_to_json(&in, &j2);
	return st == AN_STATUS_OK && st2 == AN_STATUS_BAD_INPUT ? 0 : 12;
}

static int run_probe(enum probe p)
{
	if (p == PROBE_DECODE)
		return decode_under_guard();
	if (an_guard_install() < 0)
		return 2;
	switch (p) {
	case PROBE_NOTHING: {
		/* what decoding needs keeps working */
		void *big = mmap(NULL, 1 << 24, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (big == MAP_FAILED)
			return 3;
		memset(big, 1, 1 << 24);
		munmap(big, 1 << 24);
		if (write(STDERR_FILENO, "", 0) < 0)
			return 4;
		return 0;
	}
	case PROBE_EXECVE: {
		char *argv[] = { "/bin/true", NULL };
		execve("/bin/true", argv, NULL);
		return 5;
	}
	case PROBE_SOCKET:
		socket(AF_UNIX, SOCK_STREAM, 0);
		return 5;
	case PROBE_FORK:
		syscall(SYS_fork);
		return 5;
	case PROBE_CLONE_THREAD:
		syscall(SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, NULL, NULL, NULL, 0);
		return 5;
	case PROBE_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		return 5;
	case PROBE_OPEN: {
		/* refused, not killed: see guard.h */
		int fd = open("/etc/hostname", O_RDONLY);
		if (fd >= 0)
			return 6;
		int e1 = errno;
		fd = openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			return 7;
		return e1 == EACCES && errno == EACCES ? 0 : 8;
	}
	case PROBE_I386_ABI:
#if defined(__x86_64__)
	{
		/* getpid through the 32-bit entry point */
		long ret;
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
		(void)ret;
		return 5;
	}
#else
		return 0;
#endif
	default:
		return 9;
	}
}

static int probe_main(void *p)
{
	return run_probe(*(enum probe *)p);
}

/* Returns the wait status of a child that ran the probe. */
static int probe_status(enum probe p)
{
	int status = tk_run(probe_main, &p);
	assert_true(status >= 0);
	return status;
}

static void assert_killed(enum probe p)
{
	int status = probe_status(p);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("probe %d: expected death by SIGSYS, got status 0x%x", (int)p, status);
}

static void assert_exit_0(enum probe p)
{
	int status = probe_status(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("probe %d: expected exit 0, got status 0x%x", (int)p, status);
}

static void test_allowed_work_continues(void **state)
{
	assert_exit_0(PROBE_NOTHING);
}

static void test_decoding_works_under_guard(void **state)
{
	assert_exit_0(PROBE_DECODE);
}

static void test_execve_kills(void **state)
{
	assert_killed(PROBE_EXECVE);
}

static void test_socket_kills(void **state)
{
	assert_killed(PROBE_SOCKET);
}

static void test_fork_kills(void **state)
{
	assert_killed(PROBE_FORK);
}

static void test_thread_kills(void **state)
{
	assert_killed(PROBE_CLONE_THREAD);
}

static void test_ptrace_kills(void **state)
{
	assert_killed(PROBE_PTRACE);
}

static void test_open_is_refused(void **state)
{
	assert_exit_0(PROBE_OPEN);
}

/* Only where the host runs i386 syscalls at all: elsewhere `int $0x80`
 * faults before any filter sees it, and the probe would prove nothing. */
static void test_foreign_abi_kills(void **state)
{
#if defined(__x86_64__)
	tk_skip_unless(tk_have_ia32(), "no i386 syscalls on this host");
	assert_killed(PROBE_I386_ABI);
#else
	tk_skip_unless(false, "not an x86-64 host");
#endif
}

static void test_lists_are_terminated(void **state)
{
	size_t n = 0;

	for (const char *const *p = an_guard_denied; *p; p++)
		n++;
	assert_true(n >= 10);
	n = 0;
	for (const char *const *p = an_guard_refused; *p; p++)
		n++;
	assert_true(n >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_work_continues),
		cmocka_unit_test(test_decoding_works_under_guard),
		cmocka_unit_test(test_execve_kills),
		cmocka_unit_test(test_socket_kills),
		cmocka_unit_test(test_fork_kills),
		cmocka_unit_test(test_thread_kills),
		cmocka_unit_test(test_ptrace_kills),
		cmocka_unit_test(test_open_is_refused),
		cmocka_unit_test(test_foreign_abi_kills),
		cmocka_unit_test(test_lists_are_terminated),
	};
	return cmocka_run_group_tests_name("analyzer_guard", tests, NULL, NULL);
}
