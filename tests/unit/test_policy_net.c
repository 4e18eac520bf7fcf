/* tests/unit/test_policy_net.c — the socket and terminal rules of the
 * shipped `default` policy (issue 12, items 5 and 8), enforced in forked
 * children. No root needed.
 *
 * The point of these rules is that the kernel's family and protocol code
 * never runs for a refused call (on distribution kernels it would autoload
 * SCTP, TIPC, DCCP... modules). An EPERM alone does not prove that: the
 * kernel could have answered it. So every refused call is made three ways:
 *   - under `default` as shipped: EPERM;
 *   - under `default` with only defaultErrnoRet changed to EHWPOISON, an
 *     errno no socket/ioctl code returns: EHWPOISON, i.e. the answer is the
 *     filter's default action and no rule let the call through to the
 *     kernel;
 *   - without any filter, where that is harmless (no module can be
 *     loaded): the kernel's own, different answer (socketpair(AF_INET) is
 *     EOPNOTSUPP, an ioctl on a pipe ENOTTY, MPTCP when built in succeeds).
 * Calls that would make an unconfined test autoload a module on the
 * developer's host (SCTP, TIPC, DCCP) are not made without the filter.
 *
 * Children are forked only through tk_run (tests/unit/testkit.h: signals
 * reset to SIG_DFL, left through exit_group, no cmocka in the child). A
 * child reports one call's result as its exit code: 0 for success, else
 * the errno. */
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
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#define XAF_TIPC 30
#define XSOCK_DCCP 6
#define MARK_ERRNO EHWPOISON /* 133: never returned by socket/ioctl code */

/* ---- the policies ---------------------------------------------------- */


static struct sbx_policy *shipped;   /* default.json as shipped */
static struct sbx_policy *marked;    /* the same, defaultErrnoRet 133 */

static int setup(void **state)
{
	(void)state;
	struct sbx_err e = SBX_ERR_INIT;
	int r = sbx_policy_load("default", tk_policy_dir(), &shipped, &e);
	if (r < 0) {
		print_error("load default: %s\n", sbx_err_text(&e, r));
		return -1;
	}
	char path[4400];
	snprintf(path, sizeof path, "%s/default.json", tk_policy_dir());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	static char text[1 << 17];
	int n = sr_read_full(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0 || n >= (int)sizeof text - 1)
		return -1;
	text[n] = '\0';
	/* the one change: the errno of the default action */
	const char *key = "\"defaultErrnoRet\": 1,";
	char *at = strstr(text, key);
	if (!at)
		return -1;
	char mod[sizeof text + 16];
	int len = snprintf(mod, sizeof mod, "%.*s\"defaultErrnoRet\": %d,%s", (int)(at - text),
			   text, MARK_ERRNO, at + strlen(key));
	struct pol_env env;
	if (pol_env_host(&env, NULL) < 0)
		return -1;
	struct sbx_err ce = SBX_ERR_INIT;
	if ((r = pol_policy_from_json(mod, (size_t)len, "default-marked", "default-marked.json", &env,
				      &marked, &ce)) < 0) {
		print_error("compile marked: %s\n", sbx_err_text(&ce, r));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sbx_policy_free(shipped);
	sbx_policy_free(marked);
	return 0;
}

/* ---- one call in a child ---------------------------------------------- */

enum call_kind { C_SOCKET, C_SOCKETPAIR, C_IOCTL_PIPE, C_IOCTL_PTY, C_I386 };

struct call {
	const char *what;
	enum call_kind kind;
	unsigned long a, b, c;
	const struct sbx_policy *p; /* NULL: no filter */
};

/* i386 system call from 64-bit code: the compat ABI, arguments < 4 GiB. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static int result(long r)
{
	if (r >= 0)
		return 0;
	return errno > 0 && errno < 250 ? errno : 250;
}

static int open_pty(int *master)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0)
		return -1;
	const char *name = ptsname(*master);
	return name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
}

/* Child: prepare outside the filter (pipe, pty, low memory), install the
 * filter if any (no_new_privs first, as the runner does), make the call. */
static int call_main(void *arg)
{
	const struct call *c = arg;
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	int fd = -1, master = -1;
	int *low = NULL;
	if (c->kind == C_IOCTL_PIPE) {
		int pfd[2];
		if (pipe(pfd) < 0)
			return 251;
		fd = pfd[0];
	} else if (c->kind == C_IOCTL_PTY) {
		fd = open_pty(&master);
		if (fd < 0)
			return 252;
	} else if (c->kind == C_I386) {
		low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (low == MAP_FAILED)
			return 253;
	}
	if (c->p) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_policy_install(c->p, &(struct sbx_err)SBX_ERR_INIT) < 0)
			return 254;
	}
	int sv[2];
	errno = 0;
	switch (c->kind) {
	case C_SOCKET:
		return result(syscall(SYS_socket, c->a, c->b, c->c));
	case C_SOCKETPAIR:
		return result(syscall(SYS_socketpair, c->a, c->b, c->c, sv));
	case C_IOCTL_PIPE:
	case C_IOCTL_PTY: {
		/* N_TTY (0) first: what the pty already has, harmless; room
		 * for a struct termios or serial_struct for the reads */
		union {
			int ldisc;
			char room[512];
		} buf = { .ldisc = 0 };
		return result(syscall(SYS_ioctl, fd, c->a, &buf));
	}
	case C_I386: {
		/* a = i386 syscall number, b = its first argument; for socketpair
		 * (360) the vector is in low memory */
		long r;
		if (c->a == 360) {
			/* the fourth argument (sv) goes in esi */
			__asm__ volatile("int $0x80"
					 : "=a"(r)
					 : "a"(360L), "b"((long)c->b), "c"((long)SOCK_STREAM),
					   "d"(0L), "S"((long)(uintptr_t)low)
					 : "memory");
		} else {
			r = int80((long)c->a, (long)c->b, (long)(c->c >> 16), (long)(c->c & 0xffff));
		}
		if (r < 0) {
			errno = (int)-r;
			return result(-1);
		}
		return 0;
	}
	}
	return 249;
}

/* The call's result under p: 0 or the errno (250..254: the harness). */
static int call_under(struct call c, const struct sbx_policy *p)
{
	c.p = p;
	int st = tk_run(call_main, &c);
	assert_true(st >= 0);
	if (WIFSIGNALED(st))
		fail_msg("%s: child killed by signal %d", c.what, WTERMSIG(st));
	int r = WEXITSTATUS(st);
	if (r >= 249)
		fail_msg("%s: harness step %d failed in the child", c.what, r);
	return r;
}

/* Refused by the filter: EPERM as shipped, the marker errno when only the
 * default's errno changes. `bare` is what the kernel says without a filter,
 * checked when >= 0 (-1: the call is not made unconfined). */
static void assert_filtered(struct call c, int bare)
{
	int got = call_under(c, shipped);
	if (got != EPERM)
		fail_msg("%s under default: %s, expected EPERM", c.what, strerror(got));
	int mark = call_under(c, marked);
	if (mark != MARK_ERRNO && !(c.kind == C_IOCTL_PIPE || c.kind == C_IOCTL_PTY))
		fail_msg("%s: %s with defaultErrnoRet %d: not the filter's default", c.what,
			 strerror(mark), MARK_ERRNO);
	if (bare >= 0) {
		int unconfined = call_under(c, NULL);
		print_message("# %s: %s without the filter, %s with it\n", c.what,
			      unconfined ? strerror(unconfined) : "success", strerror(got));
		assert_int_equal(unconfined, bare);
		assert_int_not_equal(unconfined, got);
	}
}

static void assert_allowed(struct call c)
{
	int got = call_under(c, shipped);
	if (got != 0)
		fail_msg("%s under default: %s, expected success", c.what, strerror(got));
}

/* ---- item 5: socket families and protocols ---------------------------- */

static void test_socketpair_only_unix(void **state)
{
	(void)state;
	/* the kernel creates an inet socket, then says EOPNOTSUPP */
	assert_filtered((struct call){ "socketpair(AF_INET, SOCK_STREAM, 0)", C_SOCKETPAIR,
				       AF_INET, SOCK_STREAM, 0, NULL },
			EOPNOTSUPP);
	assert_filtered((struct call){ "socketpair(AF_INET6, SOCK_DGRAM, 0)", C_SOCKETPAIR,
				       AF_INET6, SOCK_DGRAM, 0, NULL },
			EOPNOTSUPP);
	assert_filtered((struct call){ "socketpair(AF_TIPC, SOCK_RDM, 0)", C_SOCKETPAIR, XAF_TIPC,
				       SOCK_RDM, 0, NULL },
			-1);
	assert_allowed((struct call){ "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)",
				      C_SOCKETPAIR, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, NULL });
	assert_allowed((struct call){ "socketpair(AF_UNIX, SOCK_DGRAM, 0)", C_SOCKETPAIR, AF_UNIX,
				      SOCK_DGRAM, 0, NULL });
	assert_allowed((struct call){ "socketpair(AF_UNIX, SOCK_SEQPACKET, 0)", C_SOCKETPAIR,
				      AF_UNIX, SOCK_SEQPACKET, 0, NULL });
}

static void test_inet_protocols(void **state)
{
	(void)state;
	static const int fams[] = { AF_INET, AF_INET6 };
	for (size_t i = 0; i < 2; i++) {
		unsigned long f = (unsigned long)fams[i];
		const char *fn = f == AF_INET ? "AF_INET" : "AF_INET6";
		char w[8][96];
		snprintf(w[0], sizeof w[0], "socket(%s, SOCK_STREAM, IPPROTO_SCTP)", fn);
		assert_filtered((struct call){ w[0], C_SOCKET, f, SOCK_STREAM, IPPROTO_SCTP, NULL }, -1);
		snprintf(w[1], sizeof w[1], "socket(%s, SOCK_SEQPACKET, IPPROTO_SCTP)", fn);
		assert_filtered((struct call){ w[1], C_SOCKET, f, SOCK_SEQPACKET, IPPROTO_SCTP, NULL },
				-1);
		snprintf(w[2], sizeof w[2], "socket(%s, SOCK_DCCP, 0)", fn);
		assert_filtered((struct call){ w[2], C_SOCKET, f, XSOCK_DCCP, 0, NULL }, -1);
		snprintf(w[3], sizeof w[3], "socket(%s, SOCK_DGRAM, IPPROTO_ICMP)", fn);
		assert_filtered((struct call){ w[3], C_SOCKET, f, SOCK_DGRAM, IPPROTO_ICMP, NULL }, -1);
		/* MPTCP: built in (no module to load) when /proc/sys/net/mptcp
		 * exists; then the kernel would have made the socket */
		snprintf(w[4], sizeof w[4], "socket(%s, SOCK_STREAM, IPPROTO_MPTCP)", fn);
		bool mptcp_builtin = access("/proc/sys/net/mptcp", F_OK) == 0;
		assert_filtered((struct call){ w[4], C_SOCKET, f, SOCK_STREAM, IPPROTO_MPTCP, NULL },
				mptcp_builtin ? 0 : -1);
		/* the protocol is an int: garbage in the upper half is ignored by
		 * the kernel and by the mask, so SCTP stays SCTP */
		snprintf(w[5], sizeof w[5], "socket(%s, SOCK_STREAM, 1<<32 | IPPROTO_SCTP)", fn);
		assert_filtered((struct call){ w[5], C_SOCKET, f, SOCK_STREAM,
					       (1UL << 32) | IPPROTO_SCTP, NULL },
				-1);
		/* a type bit other than CLOEXEC/NONBLOCK is refused by the filter
		 * (the kernel would say EINVAL) */
		snprintf(w[6], sizeof w[6], "socket(%s, SOCK_STREAM|0x100, 0)", fn);
		assert_filtered((struct call){ w[6], C_SOCKET, f, SOCK_STREAM | 0x100, 0, NULL },
				EINVAL);
		/* TCP with the UDP number: not a pair the kernel has */
		snprintf(w[7], sizeof w[7], "socket(%s, SOCK_STREAM, IPPROTO_UDP)", fn);
		assert_filtered((struct call){ w[7], C_SOCKET, f, SOCK_STREAM, IPPROTO_UDP, NULL }, -1);

		/* what programs use still works */
		static const struct {
			unsigned long type, proto;
		} ok[] = {
			{ SOCK_STREAM, 0 },
			{ SOCK_STREAM | SOCK_CLOEXEC, 0 },
			{ SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP },
			{ SOCK_STREAM, IPPROTO_TCP },
			{ SOCK_DGRAM, 0 },
			{ SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP },
			{ SOCK_DGRAM, IPPROTO_UDP },
		};
		for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
			char what[96];
			snprintf(what, sizeof what, "socket(%s, %#lx, %lu)", fn, ok[k].type,
				 ok[k].proto);
			assert_allowed((struct call){ what, C_SOCKET, f, ok[k].type, ok[k].proto, NULL });
		}
	}
}

static void test_other_families(void **state)
{
	(void)state;
	assert_filtered((struct call){ "socket(AF_TIPC, SOCK_RDM, 0)", C_SOCKET, XAF_TIPC, SOCK_RDM,
				       0, NULL },
			-1);
	assert_filtered((struct call){ "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)", C_SOCKET,
				       AF_NETLINK, SOCK_RAW, 9, NULL },
			-1);
	assert_allowed((struct call){ "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)", C_SOCKET,
				      AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, NULL });
	assert_allowed((struct call){ "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)",
				      C_SOCKET, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0, NULL });
}

/* The compat ABI: the direct i386 socket calls are filtered with their
 * arguments, socketcall (arguments in memory) is refused outright. */
static void test_i386(void **state)
{
	(void)state;
	tk_skip_unless(tk_have_ia32(), "no i386 syscalls on this host");
	/* c packs the i386 arguments 2 and 3 as (b << 16) | c */
	assert_filtered((struct call){ "i386 socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)", C_I386,
				       359, AF_INET, (SOCK_STREAM << 16) | IPPROTO_SCTP, NULL },
			-1);
	assert_allowed((struct call){ "i386 socket(AF_INET, SOCK_STREAM, 0)", C_I386, 359, AF_INET,
				      SOCK_STREAM << 16, NULL });
	assert_filtered((struct call){ "i386 socketpair(AF_INET, SOCK_STREAM, 0)", C_I386, 360,
				       AF_INET, 0, NULL },
			-1);
	assert_allowed((struct call){ "i386 socketpair(AF_UNIX, SOCK_STREAM, 0)", C_I386, 360,
				      AF_UNIX, 0, NULL });
	/* socketcall(SYS_SOCKETPAIR = 8, NULL): EFAULT without the filter */
	assert_filtered((struct call){ "i386 socketcall(SYS_SOCKETPAIR)", C_I386, 102, 8, 0, NULL },
			EFAULT);
	assert_filtered((struct call){ "i386 socketcall(SYS_SOCKET)", C_I386, 102, 1, 0, NULL },
			EFAULT);
}

/* ---- item 8: terminal requests ---------------------------------------- */

static void test_tty_ioctls(void **state)
{
	(void)state;
	/* on a pipe the kernel says ENOTTY: EPERM can only be the filter.
	 * These are explicit ERRNO(1) rules, not the default, so the marked
	 * policy answers EPERM too (assert_filtered allows that for ioctls). */
	static const struct {
		const char *name;
		unsigned long req;
	} refused[] = {
		{ "TIOCSETD", TIOCSETD },
		{ "TIOCSETD | 1<<32", (1UL << 32) | TIOCSETD },
		{ "TIOCCONS", TIOCCONS },
		{ "TIOCSSERIAL", TIOCSSERIAL },
		{ "TIOCSTI", TIOCSTI },
		{ "TIOCLINUX", TIOCLINUX },
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "ioctl(pipe, %s)", refused[i].name);
		assert_filtered((struct call){ what, C_IOCTL_PIPE, refused[i].req, 0, 0, NULL },
				ENOTTY);
	}
	/* on a real terminal: the kernel would set N_TTY again (success) */
	int m, s = open_pty(&m);
	tk_skip_unless(s >= 0, "no pseudo-terminals here");
	close(s);
	close(m);
	assert_filtered((struct call){ "ioctl(pty, TIOCSETD, N_TTY)", C_IOCTL_PTY, TIOCSETD, 0, 0,
				       NULL },
			0);
	/* reading the discipline and the modes stays allowed */
	assert_allowed((struct call){ "ioctl(pty, TIOCGETD)", C_IOCTL_PTY, TIOCGETD, 0, 0, NULL });
	assert_allowed((struct call){ "ioctl(pty, TCGETS)", C_IOCTL_PTY, TCGETS, 0, 0, NULL });
}

int main(void)
{
	/* about the compiler and the filters, never the host's cache */
	setenv("SANDRUN_NO_POLICY_CACHE", "1", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socketpair_only_unix),
		cmocka_unit_test(test_inet_protocols),
		cmocka_unit_test(test_other_families),
		cmocka_unit_test(test_i386),
		cmocka_unit_test(test_tty_ioctls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
