/* daemonize TOKEN — leave a daemon behind: fork, setsid, fork again; the
 * grandchild ignores SIGHUP/SIGTERM/SIGINT, keeps stdin/stdout/stderr open
 * and appends a marker line to /tmp/sandrun-daemon-TOKEN every 200 ms,
 * "forever" (safety net: it exits by itself after 120 s). The job's main
 * process exits 0 as soon as the grandchild is running. Expected: outcome
 * ok, and no process with TOKEN on its command line left once sandrun has
 * returned (the job's pid namespace / cgroup is torn down with it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: daemonize TOKEN\n");
		return 64;
	}
	int pfd[2];
	if (pipe(pfd) < 0) {
		perror("daemonize: pipe");
		return 2;
	}
	pid_t c = fork();
	if (c < 0) {
		perror("daemonize: fork");
		return 2;
	}
	if (c == 0) {
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 2 : 0);
		/* the grandchild: a daemon in its own session */
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		close(pfd[0]);
		char path[256];
		snprintf(path, sizeof path, "/tmp/sandrun-daemon-%s", argv[1]);
		char msg[64];
		int n = snprintf(msg, sizeof msg, "%d\n", (int)getpid());
		if (write(pfd[1], msg, (size_t)n) < 0)
			_exit(2);
		close(pfd[1]);
		for (int i = 0; i < 600; i++) {
			FILE *f = fopen(path, "a");
			if (f) {
				fprintf(f, "%s alive %d\n", argv[1], i);
				fclose(f);
			}
			struct timespec ts = { 0, 200 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		_exit(1);
	}
	close(pfd[1]);
	int st;
	waitpid(c, &st, 0);
	char buf[64] = "";
	ssize_t n = read(pfd[0], buf, sizeof buf - 1);
	if (n <= 0) {
		printf("daemonize: the grandchild did not start\n");
		return 2;
	}
	buf[n] = 0;
	printf("daemonize: daemon running as pid %s", buf);
	return 0;
}
