/* sandbox/thaw_guard.c — a paused job on a cgroup v1 host must not outlive
 * its runner.
 *
 * Why: a task in a FROZEN v1 freezer cgroup does not act on SIGKILL until
 * the cgroup is THAWED. A runner SIGKILLed while its jobs are paused
 * (SIGUSR1) therefore left them frozen, holding their memory and pids,
 * until the next runner's sweep — which may never come. (On v2 a frozen
 * task dies of a fatal signal, and the job's init has PR_SET_PDEATHSIG.)
 *
 * So before it freezes a v1 job, the runner starts a guard: a small child
 * holding only the job's freezer directory and the read end of a pipe.
 * When the pipe reaches EOF without a word (the runner died: the kernel
 * closed its end), the guard writes THAWED, and the init's pending
 * PDEATHSIG then takes the job's pid namespace with it. When the runner
 * resumes the job itself it writes one byte first, and waits for the guard
 * to exit, so a late THAWED can never undo a later pause.
 *
 * The pipe alone is not enough: a child the runner forked for another
 * purpose (serve's spool copy, which may hang in a FUSE flush the client
 * controls) holds a copy of its write end, and its EOF would never come.
 * So the guard also holds a pidfd of the runner, and thaws when either
 * says the runner is gone.
 *
 * The guard ignores the signals a service manager or a terminal sends to
 * the whole group (SIGTERM, SIGINT, SIGHUP, ...). It runs no code but raw
 * system calls after the clone. */
#include "thaw_guard.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* Close every descriptor but the n (at most 3) given. */
static void close_all_but(const int *keep, int n)
{
	int k[3];
	for (int i = 0; i < n; i++) { /* sorted, n is tiny */
		int j = i;
		while (j > 0 && k[j - 1] > keep[i]) {
			k[j] = k[j - 1];
			j--;
		}
		k[j] = keep[i];
	}
	unsigned lo = 0;
	for (int i = 0; i < n; i++) {
		if ((unsigned)k[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0U);
		lo = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0U);
}

static _Noreturn void guard_main(int rd, int freezer_dirfd, int runner_pidfd)
{
	static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTSTP };
	for (unsigned i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_NAME, "sandrun-thaw", 0, 0, 0);
	close_all_but((int[]){ rd, freezer_dirfd, runner_pidfd }, 3);
	struct pollfd p[2] = { { .fd = rd, .events = POLLIN }, { .fd = runner_pidfd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break; /* cannot watch: thaw rather than leave the job frozen */
		}
		if (p[1].revents) /* the runner has exited */
			break;
		if (p[0].revents) {
			char c;
			ssize_t n = read(rd, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 1) /* "I thawed it myself" */
				_exit(0);
			break; /* EOF: the runner is gone */
		}
	}
	int fd = openat(freezer_dirfd, "freezer.state", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "THAWED", 6);
		close(fd);
	}
	_exit(0);
}

int thaw_guard_arm(struct thaw_guard *g, int freezer_dirfd)
{
	if (g->pidfd >= 0)
		return 0;
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (self < 0)
		return -errno;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		close(self);
		return -e;
	}
	int pidfd = -1;
	long pid = sr_clone_pidfd(0, &pidfd);
	if (pid == 0)
		guard_main(p[0], freezer_dirfd, self);
	close(p[0]);
	close(self);
	if (pid < 0) {
		close(p[1]);
		return (int)pid;
	}
	g->pidfd = pidfd;
	g->wr = p[1];
	return 0;
}

void thaw_guard_disarm(struct thaw_guard *g)
{
	if (g->pidfd < 0)
		return;
	(void)!write(g->wr, "q", 1); /* "I thawed it myself": exit without a word */
	close(g->wr);
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)g->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(g->pidfd);
	g->pidfd = g->wr = -1;
}
