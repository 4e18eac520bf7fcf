/* pty_run [-n] [-a] [-i TEXT] CMD [ARG...] — a HARNESS HELPER, not a probe: runs CMD
 * (sandrun, outside the sandbox) in a new session whose controlling terminal
 * is a fresh pseudo-terminal, with that terminal as stdin (stdout and stderr
 * are left alone so the suite can read them) — the situation of a user
 * running sandrun from an interactive shell. With -n the terminal is stdin
 * but nobody's controlling terminal (CMD's session has none), so a job that
 * starts a session could acquire it. The terminal is put in raw mode; after
 * CMD exits, pty_run reports on stderr how many bytes are waiting in the
 * terminal's input queue ("pty_run: injected N") — anything there was
 * pushed in by the job (TIOCSTI). Exits with CMD's status (128+signal if
 * killed); 125 if no pseudo-terminal could be had ("pty_run: no pty").
 * -i TEXT: the user typed TEXT ahead: it waits in the terminal's input
 * queue before CMD starts (then "injected N" counts what is left of it).
 * -a: the terminal is stdout and stderr too, as in an interactive shell;
 * what CMD writes there is copied to pty_run's stdout. Always reported:
 * "pty_run: modes same|changed" (the terminal's termios after CMD against
 * before it). */
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int ctty = 1, all = 0;
	const char *typed = NULL;
	for (;;) {
		if (argc > 1 && strcmp(argv[1], "-n") == 0) {
			ctty = 0;
		} else if (argc > 1 && strcmp(argv[1], "-a") == 0) {
			all = 1;
		} else if (argc > 2 && strcmp(argv[1], "-i") == 0) {
			typed = argv[2];
			argv++;
			argc--;
		} else {
			break;
		}
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: pty_run [-n] CMD [ARG...]\n");
		return 64;
	}
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
		fprintf(stderr, "pty_run: no pty: %s\n", strerrorname_np(errno));
		return 125;
	}
	char *name = ptsname(m);
	int s = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (s < 0) {
		fprintf(stderr, "pty_run: no pty: open slave: %s\n", strerrorname_np(errno));
		return 125;
	}
	struct termios t, before, after;
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	int have_before = tcgetattr(s, &before) == 0;
	if (typed && write(m, typed, strlen(typed)) != (ssize_t)strlen(typed)) {
		perror("pty_run: type ahead");
		return 125;
	}
	fprintf(stderr, "pty_run: terminal %s%s\n", name,
		ctty ? "" : " (not a controlling terminal)");
	pid_t c = fork();
	if (c < 0) {
		perror("pty_run: fork");
		return 125;
	}
	if (c == 0) {
		if (setsid() < 0 || (ctty && ioctl(s, TIOCSCTTY, 0) < 0)) {
			fprintf(stderr, "pty_run: no pty: controlling terminal: %s\n",
				strerrorname_np(errno));
			_exit(125);
		}
		dup2(s, 0); /* clears FD_CLOEXEC on fd 0 */
		if (all) {
			dup2(s, 1);
			dup2(s, 2);
		}
		execvp(argv[1], argv + 1);
		fprintf(stderr, "pty_run: exec %s: %s\n", argv[1], strerrorname_np(errno));
		_exit(127);
	}
	signal(SIGHUP, SIG_IGN);
	int st;
	for (;;) {
		pid_t w = waitpid(c, &st, all ? WNOHANG : 0);
		if (w == c)
			break;
		if (w < 0 && errno != EINTR) {
			perror("pty_run: waitpid");
			return 125;
		}
		if (all) { /* copy the terminal's output while CMD runs */
			struct pollfd pf = { .fd = m, .events = POLLIN };
			char buf[4096];
			if (poll(&pf, 1, 50) > 0 && (pf.revents & POLLIN)) {
				ssize_t n = read(m, buf, sizeof buf);
				if (n > 0 && write(1, buf, (size_t)n) < 0)
					return 125;
			}
		}
	}
	if (all) { /* and what is left */
		char buf[4096];
		ssize_t n;
		fcntl(m, F_SETFL, O_NONBLOCK);
		while ((n = read(m, buf, sizeof buf)) > 0)
			if (write(1, buf, (size_t)n) < 0)
				return 125;
	}
	if (have_before && tcgetattr(s, &after) == 0) {
		/* The fields a job can set (not memcmp: padding and the speed
		 * fields glibc fills in are not the terminal's modes). */
		const char *what = before.c_iflag != after.c_iflag ? "iflag"
				 : before.c_oflag != after.c_oflag ? "oflag"
				 : before.c_cflag != after.c_cflag ? "cflag"
				 : before.c_lflag != after.c_lflag ? "lflag"
				 : before.c_line != after.c_line ? "line discipline"
				 : memcmp(before.c_cc, after.c_cc, sizeof after.c_cc) ? "control characters"
				 : NULL;
		if (what)
			fprintf(stderr, "pty_run: modes changed (%s)\n", what);
		else
			fprintf(stderr, "pty_run: modes same\n");
	}
	int pending = -1;
	ioctl(s, FIONREAD, &pending);
	fprintf(stderr, "pty_run: injected %d\n", pending);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
