/* bench/cgbench.c — what one job's cgroup costs, step by step, in a loop.
 *
 *   cgbench v1 N   per job: mkdir one cgroup in each v1 hierarchy sandrun
 *                  uses (memory, cpu, cpuacct, pids, freezer), write two
 *                  limits, fork a child, write its pid to every
 *                  cgroup.procs (the v1 migration), let it exit, reap it,
 *                  rmdir the five directories; and, first after the gap,
 *                  a child that writes "0" (itself) to every "tasks" file,
 *                  as sandrun's jobs join their cgroups
 *   cgbench v2 N   per job on the cgroup2 hierarchy (the unified mount on a
 *                  hybrid host): mkdir, clone3(CLONE_INTO_CGROUP) a child
 *                  born inside it, reap, rmdir; then the same with a plain
 *                  fork + a write to cgroup.procs, for comparison
 *   cgbench fork N the floor: fork, _exit, waitpid
 *   cgbench pingpong N  one byte there and back over two pipes
 *   cgbench nsfloor N   fork+exec of /bin/true against the same inside
 *                  sandrun's process shape with nothing but namespaces
 *   GAP_US         optional third argument: sleep this long between jobs
 *                  (a batch runner's jobs are spaced by their run time;
 *                  whether a v1 attach waits for an RCU grace period
 *                  depends on that spacing)
 *
 * Every directory lives under <own cgroup>/cgbench-<pid>, removed at the
 * end. Prints one line per step: "<mode> <step> median_us=M p25_us=A
 * p75_us=B" (medians over the N jobs), so bench/run.sh can tabulate it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 100000

/* Idle time between two jobs: a batch runner spaces jobs by their run
 * time, and the cost of a v1 attach depends on that spacing. */
static long gap_us;

/* cgbench-<pid>-<ns>: pids repeat across pid namespaces sharing one
 * cgroup tree, so the pid alone could collide with another run's. */
static char unique[64];

/* Every directory made, so that any exit (an error included) removes them,
 * children first. */
#define MAXDIRS 16
static char made[MAXDIRS][1200];
static int nmade;

static int mkdir_tracked(const char *path)
{
	if (mkdir(path, 0755) < 0)
		return -1;
	if (nmade < MAXDIRS)
		snprintf(made[nmade++], sizeof made[0], "%.1100s", path);
	return 0;
}

static void untrack(const char *path)
{
	for (int i = nmade - 1; i >= 0; i--)
		if (strcmp(made[i], path) == 0) {
			memmove(made[i], made[i + 1], (size_t)(nmade - i - 1) * sizeof made[0]);
			nmade--;
			return;
		}
}

static void remove_made(void)
{
	for (int i = nmade - 1; i >= 0; i--)
		for (int k = 0; rmdir(made[i]) < 0 && errno == EBUSY && k < 1000; k++)
			usleep(1000);
	nmade = 0;
}

static void gap(void)
{
	if (gap_us > 0)
		nanosleep(&(struct timespec){ .tv_sec = gap_us / 1000000, .tv_nsec = (gap_us % 1000000) * 1000 }, NULL);
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *mode, const char *step, long long *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	printf("%s %s median_us=%lld p25_us=%lld p75_us=%lld\n", mode, step, v[n / 2], v[n / 4],
	       v[(3 * n) / 4]);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	return w < 0 ? -e : 0;
}

/* Our cgroup path in hierarchy ctl ("memory"), or the v2 one (ctl NULL). */
static int own_path(const char *ctl, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char line[1024];
	int r = -1;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = 0;
		int match = 0;
		if (!ctl) {
			match = strcmp(line, "0") == 0;
		} else {
			for (char *s, *t = strtok_r(c1 + 1, ",", &s); t; t = strtok_r(NULL, ",", &s))
				if (strcmp(t, ctl) == 0)
					match = 1;
		}
		if (match) {
			snprintf(out, len, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static pid_t fork_blocked(int *release_wr)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) < 0) { /* released */ }
		_exit(0);
	}
	close(p[0]);
	*release_wr = p[1];
	return pid;
}

static int run_fork(int n)
{
	long long *t = calloc((size_t)n, sizeof *t);
	for (int i = 0; i < n; i++) {
		gap();
		long long a = now_us();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
		t[i] = now_us() - a;
	}
	report("fork", "fork+exit+wait", t, n);
	free(t);
	return 0;
}

/* The floor of sandrun's process shape, with nothing else: fork+exec of
 * /bin/true and wait (what "plain" means in the bench), against clone3 of
 * an init in new pid, mount, net, ipc and uts namespaces that vforks and
 * execs /bin/true, waits for it and exits, reaped through its pidfd — no
 * cgroup, no mounts, no seccomp, no privilege drop, no database. */
static int run_nsfloor(int n)
{
	long long *plain = calloc((size_t)n, sizeof *plain), *ns = calloc((size_t)n, sizeof *ns);
	char *const argv[] = { "/bin/true", NULL };
	for (int i = 0; i < n; i++) {
		gap();
		long long a = now_us();
		pid_t pid = fork();
		if (pid == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
		long long b = now_us();
		int pidfd = -1;
		struct clone_args ca = {
			.flags = CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS,
			.pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD,
		};
		long init = syscall(SYS_clone3, &ca, sizeof ca);
		if (init == 0) {
			pid_t cmd = vfork();
			if (cmd == 0) {
				execv(argv[0], argv);
				_exit(127);
			}
			waitpid(cmd, NULL, 0);
			_exit(0);
		}
		if (init < 0) {
			fprintf(stderr, "cgbench: clone3: %s\n", strerror(errno));
			return 1;
		}
		siginfo_t si;
		waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
		long long c = now_us();
		plain[i] = b - a;
		ns[i] = c - b;
	}
	report("floor", "fork+exec+wait(/bin/true)", plain, n);
	report("floor", "clone3(5-namespaces)+init+vfork+exec+wait", ns, n);
	free(plain);
	free(ns);
	return 0;
}

/* One byte there and back between two processes over pipes: the cost of
 * one cross-process wakeup, which every handoff of a job pays (runner ->
 * init -> command -> init -> runner). */
static int run_pingpong(int n)
{
	int a[2], b[2];
	if (pipe(a) < 0 || pipe(b) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1)
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	long long *t = calloc((size_t)n, sizeof *t);
	for (int i = 0; i < n; i++) {
		char c = 'x';
		gap();
		long long t0 = now_us();
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			return 1;
		t[i] = now_us() - t0;
	}
	close(a[1]);
	waitpid(pid, NULL, 0);
	report("pingpong", "pipe-round-trip", t, n);
	free(t);
	return 0;
}

static const char *const v1_ctls[] = { "memory", "cpu", "cpuacct", "pids", "freezer" };
#define NV1 5

/* fork a child that moves itself into dir[0..nc) through "tasks"; µs from
 * before the fork until the child has written the last one, or -1. */
static long long self_attach(char dir[][1100], int nc)
{
	int fds[NV1], p[2];
	char f[1200];
	for (int c = 0; c < nc; c++) {
		snprintf(f, sizeof f, "%.1100s/tasks", dir[c]);
		if ((fds[c] = open(f, O_WRONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "cgbench: open %s: %s\n", f, strerror(errno));
			return -1;
		}
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	long long t0 = now_us(), t1 = -1;
	pid_t pid = fork();
	if (pid == 0) {
		long long t = -1;
		int ok = 1;
		for (int c = 0; c < nc; c++)
			ok &= write(fds[c], "0", 1) == 1;
		if (ok)
			t = now_us();
		if (write(p[1], &t, sizeof t) < 0) { /* the parent sees -1 */ }
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &t1, sizeof t1) != (ssize_t)sizeof t1 || t1 < 0)
		fprintf(stderr, "cgbench: self-attach failed\n");
	close(p[0]);
	for (int c = 0; c < nc; c++)
		close(fds[c]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return t1 < 0 ? -1 : t1 - t0;
}

static int run_v1(int n)
{
	char base[NV1][1024];
	int nc = 0;
	for (int c = 0; c < NV1; c++) {
		char own[512], mnt[128], real[512];
		snprintf(mnt, sizeof mnt, "/sys/fs/cgroup/%s", v1_ctls[c]);
		if (!realpath(mnt, real) || own_path(v1_ctls[c], own, sizeof own) < 0)
			continue;
		/* co-mounted hierarchies (cpu,cpuacct) count once, as in sandrun */
		int dup = 0;
		for (int o = 0; o < nc; o++)
			if (strncmp(base[o], real, strlen(real)) == 0 && base[o][strlen(real)] == '/')
				dup = 1;
		if (dup)
			continue;
		snprintf(base[nc], sizeof base[nc], "%s%s/%s", real, own, unique);
		if (mkdir_tracked(base[nc]) < 0) {
			fprintf(stderr, "cgbench: mkdir %s: %s\n", base[nc], strerror(errno));
			return 1;
		}
		nc++;
	}
	if (nc == 0) {
		fprintf(stderr, "cgbench: no v1 hierarchy\n");
		return 1;
	}
	long long *mk = calloc((size_t)n, sizeof *mk), *lim = calloc((size_t)n, sizeof *lim),
		  *att1 = calloc((size_t)n, sizeof *att1), *attr = calloc((size_t)n, sizeof *attr),
		  *reap = calloc((size_t)n, sizeof *reap), *rm = calloc((size_t)n, sizeof *rm),
		  *tot = calloc((size_t)n, sizeof *tot), *fk = calloc((size_t)n, sizeof *fk),
		  *self = calloc((size_t)n, sizeof *self);
	long long *attc[NV1];
	for (int c = 0; c < nc; c++)
		attc[c] = calloc((size_t)n, sizeof **attc);
	for (int i = 0; i < n; i++) {
		char dir[NV1][1100], f[1200];
		gap();
		long long t0 = now_us();
		for (int c = 0; c < nc; c++) {
			snprintf(dir[c], sizeof dir[c], "%.1024s/job-%d", base[c], i);
			if (mkdir_tracked(dir[c]) < 0) {
				fprintf(stderr, "cgbench: mkdir %s: %s\n", dir[c], strerror(errno));
				return 1;
			}
		}
		long long t1 = now_us();
		for (int c = 0; c < nc; c++) {
			if (strstr(dir[c], "/memory/")) {
				snprintf(f, sizeof f, "%.1100s/memory.limit_in_bytes", dir[c]);
				write_str(f, "268435456");
			} else if (strstr(dir[c], "/pids/")) {
				snprintf(f, sizeof f, "%.1100s/pids.max", dir[c]);
				write_str(f, "64");
			}
		}
		long long t2 = now_us();
		/* What sandrun does: the child writes "0" (itself) to each
		 * hierarchy's tasks file, opened beforehand. A thread moving
		 * itself skips the global rwsem, so this comes first after the
		 * gap and does not warm anything for the cgroup.procs write. */
		self[i] = self_attach(dir, nc);
		if (self[i] < 0)
			return 1;
		long long t2b = now_us();
		int rel;
		pid_t pid = fork_blocked(&rel);
		long long t3 = now_us();
		char buf[32];
		snprintf(buf, sizeof buf, "%d", (int)pid);
		long long ta = 0, tc = now_us();
		for (int c = 0; c < nc; c++) {
			snprintf(f, sizeof f, "%.1100s/cgroup.procs", dir[c]);
			int r = write_str(f, buf);
			long long te = now_us();
			attc[c][i] = te - tc;
			tc = te;
			if (r < 0) {
				fprintf(stderr, "cgbench: attach to %s: %s\n", f, strerror(-r));
				return 1;
			}
			if (c == 0)
				ta = now_us();
		}
		long long t4 = now_us();
		close(rel);
		waitpid(pid, NULL, 0);
		long long t5 = now_us();
		for (int c = 0; c < nc; c++) {
			for (int k = 0; rmdir(dir[c]) < 0 && errno == EBUSY && k < 1000; k++)
				usleep(200);
			untrack(dir[c]);
		}
		long long t6 = now_us();
		mk[i] = t1 - t0;
		lim[i] = t2 - t1;
		fk[i] = t3 - t2b;
		att1[i] = ta - t3;
		attr[i] = t4 - ta;
		reap[i] = t5 - t4;
		rm[i] = t6 - t5;
		tot[i] = t6 - t0;
	}
	char mode[32];
	snprintf(mode, sizeof mode, "v1(%d)", nc);
	report(mode, "mkdir", mk, n);
	report(mode, "limits", lim, n);
	report(mode, "fork", fk, n);
	report(mode, "attach-first", att1, n);
	report(mode, "attach-rest", attr, n);
	report(mode, "exit+reap", reap, n);
	report(mode, "rmdir", rm, n);
	report(mode, "total", tot, n);
	report(mode, "fork+self-attach(tasks:0)", self, n);
	for (int c = 0; c < nc; c++) {
		char step[64], *h = strstr(base[c], "/sys/fs/cgroup/");
		snprintf(step, sizeof step, "attach[%.*s]",
			 h ? (int)strcspn(h + 15, "/") : 1, h ? h + 15 : "?");
		report(mode, step, attc[c], n);
	}
	remove_made();
	return 0;
}

static int run_v2(int n)
{
	char own[512], root[64] = "/sys/fs/cgroup/unified", base[700];
	struct stat st;
	if (stat("/sys/fs/cgroup/unified/cgroup.procs", &st) < 0)
		snprintf(root, sizeof root, "/sys/fs/cgroup");
	if (own_path(NULL, own, sizeof own) < 0) {
		fprintf(stderr, "cgbench: no cgroup2 line in /proc/self/cgroup\n");
		return 1;
	}
	snprintf(base, sizeof base, "%s%s/%s", root, own, unique);
	if (mkdir_tracked(base) < 0) {
		fprintf(stderr, "cgbench: mkdir %s: %s\n", base, strerror(errno));
		return 1;
	}
	long long *mk = calloc((size_t)n, sizeof *mk), *cl = calloc((size_t)n, sizeof *cl),
		  *rm = calloc((size_t)n, sizeof *rm), *tot = calloc((size_t)n, sizeof *tot),
		  *att = calloc((size_t)n, sizeof *att), *tot2 = calloc((size_t)n, sizeof *tot2);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char dir[800];
		snprintf(dir, sizeof dir, "%s/job-%d", base, i);
		gap();
		long long t0 = now_us();
		mkdir_tracked(dir);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		long long t1 = now_us();
		struct clone_args args = {
			.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)dfd,
		};
		long pid = syscall(SYS_clone3, &args, sizeof args);
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			fprintf(stderr, "cgbench: clone3(CLONE_INTO_CGROUP): %s\n", strerror(errno));
			rc = 1;
		} else {
			waitpid((pid_t)pid, NULL, 0);
		}
		long long t2 = now_us();
		close(dfd);
		for (int k = 0; rmdir(dir) < 0 && errno == EBUSY && k < 1000; k++)
			usleep(200);
		long long t3 = now_us();
		mk[i] = t1 - t0;
		cl[i] = t2 - t1;
		rm[i] = t3 - t2;
		tot[i] = t3 - t0;

		/* the same job, attached after the fork by a cgroup.procs write */
		gap();
		t0 = now_us();
		mkdir(dir, 0755);
		int rel;
		pid_t p2 = fork_blocked(&rel);
		char f[900], buf[32];
		snprintf(f, sizeof f, "%s/cgroup.procs", dir);
		snprintf(buf, sizeof buf, "%d", (int)p2);
		long long ta = now_us();
		write_str(f, buf);
		att[i] = now_us() - ta;
		close(rel);
		waitpid(p2, NULL, 0);
		for (int k = 0; rmdir(dir) < 0 && errno == EBUSY && k < 1000; k++)
			usleep(200);
		untrack(dir);
		tot2[i] = now_us() - t0;
	}
	if (rc == 0) {
		report("v2", "mkdir+open", mk, n);
		report("v2", "clone_into_cgroup+exit+reap", cl, n);
		report("v2", "rmdir", rm, n);
		report("v2", "total(clone_into_cgroup)", tot, n);
		report("v2", "attach(cgroup.procs)", att, n);
		report("v2", "total(fork+cgroup.procs)", tot2, n);
	}
	remove_made();
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: cgbench v1|v2|fork|pingpong|nsfloor N [GAP_US]\n");
		return 2;
	}
	int n = atoi(argv[2]);
	gap_us = argc == 4 ? atol(argv[3]) : 0;
	snprintf(unique, sizeof unique, "cgbench-%d-%lld", (int)getpid(), now_us());
	atexit(remove_made);
	if (n < 1 || n > MAXN)
		return 2;
	if (strcmp(argv[1], "v1") == 0)
		return run_v1(n);
	if (strcmp(argv[1], "v2") == 0)
		return run_v2(n);
	if (strcmp(argv[1], "fork") == 0)
		return run_fork(n);
	if (strcmp(argv[1], "pingpong") == 0)
		return run_pingpong(n);
	if (strcmp(argv[1], "nsfloor") == 0)
		return run_nsfloor(n);
	fprintf(stderr, "usage: cgbench v1|v2|fork|pingpong|nsfloor N [GAP_US]\n");
	return 2;
}
