/* tests/probes/flipper.c — the hostile tree owner, as a harness helper.
 *
 *   flipper UID DIR NAME1 NAME2 [SECONDS]
 *
 * Becomes UID (gid too, no supplementary groups): it acts as the owner of
 * DIR, who may rename entries there at any instant, never as root. Then
 * swaps DIR/NAME1 and DIR/NAME2 with renameat2(RENAME_EXCHANGE) in a tight
 * loop — typically a real file and a symlink to something the owner must
 * not reach — until SECONDS have passed (default 60) or SIGTERM arrives.
 * Prints "flipper: N swaps" at the end; exits 1 if no swap succeeded.
 *
 * Not a sandboxed probe: the suites run it beside sandrun, inside the outer
 * test namespace, as the attacker against the runner's path handling. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: flipper UID DIR NAME1 NAME2 [SECONDS]\n");
		return 2;
	}
	uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);
	int secs = argc > 5 ? atoi(argv[5]) : 60;
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
		fprintf(stderr, "flipper: cannot become uid %u: %s\n", (unsigned)uid, strerror(errno));
		return 2;
	}
	int dir = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		fprintf(stderr, "flipper: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	time_t end = time(NULL) + secs;
	unsigned long n = 0, fails = 0;
	while (!stop) {
		if (renameat2(dir, argv[3], dir, argv[4], RENAME_EXCHANGE) == 0)
			n++;
		else
			fails++;
		if ((n & 1023) == 0 && time(NULL) >= end)
			break;
	}
	printf("flipper: %lu swaps, %lu failed\n", n, fails);
	return n > 0 ? 0 : 1;
}
