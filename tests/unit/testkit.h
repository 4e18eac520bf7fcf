/* tests/unit/testkit.h — the only way a unit test forks, and the host
 * capabilities every test asks about, detected once.
 *
 * A forked child must never return into cmocka: cmocka catches SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE and SIGSYS and longjmps back into its runner, so a
 * child that faulted (an `int $0x80` on a host without i386 syscalls) would
 * go on to run the remaining tests itself and print a second set of
 * results. tk_spawn() resets those signals and SIGABRT to their defaults,
 * calls fn, and leaves through the raw exit_group system call — no atexit
 * handler (LeakSanitizer's clones and ptraces), no stdio flush, no cmocka.
 * The child may not call any cmocka assertion: it reports through its exit
 * code (0..255) and, for diagnostics, dprintf(2, ...). */
#ifndef SANDRUN_TESTS_TESTKIT_H
#define SANDRUN_TESTS_TESTKIT_H

#include <stdbool.h>
#include <sys/types.h>

/* Fork a child that runs fn(arg) and exits with its result. Returns the
 * child's pid, or -errno (fork failed). Stdio is flushed before the fork
 * so nothing buffered is printed twice. */
pid_t tk_spawn(int (*fn)(void *arg), void *arg);
/* Wait for a child of tk_spawn; returns its wait status, or -errno. */
int tk_wait(pid_t pid);
/* tk_spawn + tk_wait: the child's wait status, or -errno. */
int tk_run(int (*fn)(void *arg), void *arg);

/* Host capabilities, detected once per test run: tests/run.sh probes them
 * (build/.../tests/hostcaps) and exports SANDRUN_HOST_CAPS, e.g.
 * "ia32=0 x32=0 landlock=7 kmsg=1"; without it (a test binary run by hand)
 * each is probed on first use in this process. */
bool tk_have_ia32(void);   /* i386 syscalls through int $0x80 work */
bool tk_have_x32(void);    /* x32 syscalls (nr | 0x40000000) work */
int tk_landlock_abi(void); /* 0: no Landlock */
bool tk_have_kmsg(void);   /* /dev/kmsg readable */

/* A scratch tree for cmocka setup/teardown: tk_tree_new makes a fresh
 * directory /tmp/sandrun-test-TAG.XXXXXX (root is its real path) and puts
 * the tree in *state; tk_tree_teardown removes it all. 0 or -1. */
struct tk_tree {
	char root[4096];
};
int tk_tree_new(void **state, const char *tag);
int tk_tree_teardown(void **state);
/* Write content to root/rel (a new or truncated file): 0 or -errno. */
int tk_put(const char *root, const char *rel, const char *content);

/* The shipped policies: $SANDRUN_POLICY_DIR, else the policies/ directory
 * of the source tree the test binary was built in (build/.../tests/). */
const char *tk_policy_dir(void);

/* Inside a cmocka test: say why, then skip (counted as skipped, never as
 * passed). The reason is printed as a TAP diagnostic line. */
#define tk_skip_unless(cond, why)                                              \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_message("# SKIP: %s\n", (why));                  \
			skip();                                                \
		}                                                              \
	} while (0)

#endif
