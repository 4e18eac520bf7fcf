/* analyzer/guard.h — the analyzer's own seccomp filter, installed after
 * the input is open and before libsndfile sees a byte of it.
 *
 * Defence in depth: sandrun already runs the analyzer under its strict
 * allowlist policy, but the analyzer also runs standalone (debugging,
 * other callers), and a second, independent filter written by the code
 * that knows what it needs catches a mistake in either. This one is a
 * denylist on top of "allow": whatever the decoder does, it can never
 * again start a program, open a file, make a socket, create a process or
 * thread, or trace one. Each of those kills the whole process with
 * SIGSYS (SECCOMP_RET_KILL_PROCESS), so a hijacked decoder cannot retry.
 * A syscall made through another ABI (i386 int 0x80, x32) also kills:
 * otherwise the denylist could be stepped around by number.
 *
 * Filters stack: this one only ever narrows what the strict policy
 * allows. Installing it needs seccomp(2) (and prctl(PR_SET_NO_NEW_PRIVS)
 * unless that is set already) to be allowed by the outer policy.
 */
#ifndef SANDRUN_ANALYZER_GUARD_H
#define SANDRUN_ANALYZER_GUARD_H

/* Returns 0 or -errno (libseccomp's error). */
int an_guard_install(void);

/* The syscalls the filter kills on, and those it fails with EACCES;
 * NULL-terminated (for the docs and the tests). */
extern const char *const an_guard_denied[];
extern const char *const an_guard_refused[];

#endif
