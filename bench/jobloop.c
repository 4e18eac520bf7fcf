/* bench/jobloop.c — run one command N times, P at a time, and report the
 * wall-clock cost per job. The same loop drives every row of the per-job
 * table, so "plain fork+exec+wait" and a wrapper around the same command
 * are compared with identical driver overhead:
 *
 *   jobloop [-n N] [-j P] [-o FILE] [-e] -- CMD [ARG...]
 *
 *   -n N     jobs to run (default 100)
 *   -j P     parallel slots (default 1: strictly sequential)
 *   -o FILE  append every job's stdout to FILE (default /dev/null)
 *   -e       keep the jobs' stderr (default /dev/null)
 *   -w N     warm-up jobs run first and not counted (default 0)
 *   -t FILE  write each job's own wall time (fork to reap, µs) to FILE,
 *            one line per job in the order they were reaped
 *
 * Each job is fork() + execvp() + waitpid(pid) — waitpid on the pid that
 * slot started, never wait(-1), so a wrapper's stray grandchildren cannot
 * be mistaken for a job. Prints one line on stdout:
 *
 *   jobs=N slots=P total_us=T us_per_job=U failed=F
 *
 * us_per_job is total wall time / N (with P slots this is the throughput
 * cost, not the latency). Exit status 1 if any job did not exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int out_fd = -1, err_fd = -1;
static long long *job_us; /* per-job wall time, when -t */
static long njob_us;

static pid_t start(char **argv)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("jobloop: fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(out_fd, STDOUT_FILENO);
		if (err_fd >= 0)
			dup2(err_fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for one of the slots' pids; returns its slot index. */
static int wait_slot(const pid_t *slots, int nslots, int *failed)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("jobloop: waitpid");
			exit(2);
		}
		for (int i = 0; i < nslots; i++) {
			if (slots[i] == pid) {
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					(*failed)++;
				return i;
			}
		}
		/* not ours (a reparented orphan if we are a subreaper): ignore */
	}
}

static int run(char **argv, long n, int p, int *failed)
{
	pid_t *slots = calloc((size_t)p, sizeof *slots);
	long long *since = calloc((size_t)p, sizeof *since);
	if (!slots || !since)
		return -1;
	long started = 0, done = 0;
	int busy = 0;
	if (p == 1) {
		/* strictly sequential: waitpid(pid), nothing else */
		for (long i = 0; i < n; i++) {
			int st;
			long long t0 = now_us();
			pid_t pid = start(argv);
			while (waitpid(pid, &st, 0) < 0)
				if (errno != EINTR) {
					perror("jobloop: waitpid");
					exit(2);
				}
			if (job_us)
				job_us[njob_us++] = now_us() - t0;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				(*failed)++;
		}
		free(slots);
		free(since);
		return 0;
	}
	while (done < n) {
		while (busy < p && started < n) {
			for (int i = 0; i < p; i++)
				if (slots[i] == 0) {
					since[i] = now_us();
					slots[i] = start(argv);
					busy++;
					started++;
					break;
				}
		}
		int i = wait_slot(slots, p, failed);
		if (job_us)
			job_us[njob_us++] = now_us() - since[i];
		slots[i] = 0;
		busy--;
		done++;
	}
	free(slots);
	free(since);
	return 0;
}

int main(int argc, char **argv)
{
	long n = 100, warm = 0;
	int p = 1, opt, keep_err = 0;
	const char *out = "/dev/null", *times = NULL;
	while ((opt = getopt(argc, argv, "+n:j:o:ew:t:")) != -1) {
		switch (opt) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'j': p = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'e': keep_err = 1; break;
		case 'w': warm = strtol(optarg, NULL, 10); break;
		case 't': times = optarg; break;
		default:
			fprintf(stderr, "usage: jobloop [-n N] [-j P] [-o FILE] [-e] [-w N] [-t FILE] -- CMD [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc || n < 1 || p < 1 || warm < 0) {
		fprintf(stderr, "usage: jobloop [-n N] [-j P] [-o FILE] [-e] [-w N] [-t FILE] -- CMD [ARG...]\n");
		return 2;
	}
	out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "jobloop: %s: %s\n", out, strerror(errno));
		return 2;
	}
	if (!keep_err)
		err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char **cmd = argv + optind;
	int failed = 0, warm_failed = 0;
	if (warm > 0)
		run(cmd, warm, p, &warm_failed);
	if (times && !(job_us = calloc((size_t)n, sizeof *job_us))) {
		fprintf(stderr, "jobloop: out of memory\n");
		return 2;
	}
	long long t0 = now_us();
	run(cmd, n, p, &failed);
	long long total = now_us() - t0;
	if (times) {
		FILE *f = fopen(times, "ae");
		if (!f) {
			fprintf(stderr, "jobloop: %s: %s\n", times, strerror(errno));
			return 2;
		}
		for (long i = 0; i < njob_us; i++)
			fprintf(f, "%lld\n", job_us[i]);
		fclose(f);
	}
	printf("jobs=%ld slots=%d total_us=%lld us_per_job=%.1f failed=%d\n", n, p, total,
	       (double)total / (double)n, failed);
	return failed ? 1 : 0;
}
