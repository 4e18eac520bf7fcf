/* tty — try to push keystrokes into an inherited terminal. For fds 0-2 and
 * /dev/tty: if it is a terminal, first try to make it our controlling
 * terminal (TIOCSCTTY) and then inject "#" with TIOCSTI (the classic
 * sandbox escape: the characters would be read by the user's shell after
 * the job ends). Then, in a child that starts a session of its own
 * (setsid), the same again on fd 0: a terminal that is nobody's controlling
 * terminal could be acquired that way. Expected: every TIOCSTI fails (the
 * job has no controlling terminal, or the policy refuses TIOCSTI), /dev/tty
 * gives ENXIO or does not exist. A successful TIOCSCTTY is reported as a
 * note ("acquired") but is not by itself a failure. Prints "stdin:
 * terminal" or "stdin: not a terminal" so the suite knows whether a terminal
 * reached the job at all, one line per attempt, and exits 1 if TIOCSTI
 * worked or the job had a controlling terminal from the start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int bad;

static void attack(int fd, const char *name)
{
	if (ioctl(fd, TIOCSCTTY, 0) == 0) {
		/* not a failure by itself: it only matters if TIOCSTI works */
		printf("%s: TIOCSCTTY: acquired as controlling terminal (note)\n", name);
	} else {
		printf("%s: TIOCSCTTY: %s\n", name, strerrorname_np(errno));
	}
	char c = '#';
	if (ioctl(fd, TIOCSTI, &c) == 0) {
		printf("%s: TIOCSTI SUCCEEDED (injected input)\n", name);
		bad = 1;
	} else {
		printf("%s: TIOCSTI: %s\n", name, strerrorname_np(errno));
	}
}

int main(void)
{
	char buf[16] = "?";
	int fd = open("/proc/sys/dev/tty/legacy_tiocsti", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n - 1 : 0] = 0;
		close(fd);
	}
	printf("legacy_tiocsti: %s\n", buf);
	printf("session leader: %s, sid %d pid %d\n",
	       getsid(0) == getpid() ? "yes" : "no", (int)getsid(0), (int)getpid());
	int any = 0;
	for (int i = 0; i <= 2; i++) {
		static const char *names[] = { "stdin", "stdout", "stderr" };
		if (isatty(i)) {
			any = 1;
			printf("%s: terminal %s\n", names[i], ttyname(i) ? ttyname(i) : "(no name)");
			attack(i, names[i]);
		} else {
			printf("%s: not a terminal (%s)\n", names[i], strerrorname_np(errno));
		}
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		printf("/dev/tty: %s\n", strerrorname_np(errno));
	} else {
		any = 1;
		printf("/dev/tty: OPENED (we have a controlling terminal)\n");
		bad = 1;
		attack(fd, "/dev/tty");
		close(fd);
	}
	if (isatty(0)) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			if (setsid() < 0) {
				printf("new session: setsid: %s\n", strerrorname_np(errno));
				_exit(0);
			}
			printf("new session: setsid ok, sid %d\n", (int)getsid(0));
			attack(0, "new session, stdin");
			fflush(stdout);
			_exit(bad);
		}
		int st = 0;
		if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st))
			bad = 1;
	}
	printf("tty: %s%s\n", any ? "a terminal was reachable, " : "no terminal reachable, ",
	       bad ? "SOMETHING SUCCEEDED" : "everything refused");
	fflush(stdout);
	return bad;
}
