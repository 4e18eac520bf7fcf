/* ttyread — what a job can do with the terminal it was started from
 * (issue 12 item 8). For fds 0, 1 and 2 it prints what the descriptor is
 * ("terminal", "/dev/null", "other", "closed"), then for each terminal or
 * /dev/null: tries to read what the user typed (poll 300 ms, then one
 * read: "fdN: READ n bytes" when it got any, else the error or "nothing"),
 * turns echo off (tcsetattr; allowed by the policy, sandrun exec restores
 * the modes afterwards), and tries TIOCSETD with N_TTY (harmless if it
 * worked; the default policy refuses it). One line per attempt; the
 * suite judges. Exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	for (int i = 0; i <= 2; i++) {
		struct stat st;
		const char *what = "other";
		if (fstat(i, &st) < 0)
			what = "closed";
		else if (isatty(i))
			what = "terminal";
		else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
			what = "/dev/null";
		dprintf(1, "fd%d: %s\n", i, what);
		if (strcmp(what, "terminal") != 0 && strcmp(what, "/dev/null") != 0)
			continue;
		struct pollfd pf = { .fd = i, .events = POLLIN };
		int ready = poll(&pf, 1, 300);
		char buf[256];
		if (ready > 0 && (pf.revents & POLLIN)) {
			int fl = fcntl(i, F_GETFL);
			fcntl(i, F_SETFL, fl | O_NONBLOCK);
			ssize_t n = read(i, buf, sizeof buf - 1);
			fcntl(i, F_SETFL, fl);
			if (n > 0)
				dprintf(1, "fd%d: READ %zd bytes\n", i, n);
			else
				dprintf(1, "fd%d: read: %s\n", i, n == 0 ? "EOF" : strerrorname_np(errno));
		} else {
			dprintf(1, "fd%d: read: nothing (%s)\n", i,
				ready < 0 ? strerrorname_np(errno) : "not readable");
		}
		if (strcmp(what, "terminal") != 0)
			continue;
		struct termios t;
		if (tcgetattr(i, &t) == 0) {
			/* Flip echo (and VMIN), so that it is a change whatever
			 * mode the terminal was in (pty_run makes it raw, echo
			 * already off): sandrun exec must put it back. */
			t.c_lflag ^= (tcflag_t)ECHO;
			t.c_cc[VMIN] = (cc_t)(t.c_cc[VMIN] + 3);
			dprintf(1, "fd%d: echo off: %s\n", i,
				tcsetattr(i, TCSANOW, &t) == 0 ? "done" : strerrorname_np(errno));
		}
		int ldisc = 0; /* N_TTY */
		if (ioctl(i, TIOCSETD, &ldisc) == 0)
			dprintf(1, "fd%d: TIOCSETD: SUCCEEDED\n", i);
		else
			dprintf(1, "fd%d: TIOCSETD: %s\n", i, strerrorname_np(errno));
	}
	return 0;
}
