/* sandbox/cgroup.c — per-run and per-job cgroups, v1 and v2.
 *
 * Each limit is one short function named for what it enforces, in the
 * style of isolate's cg.c. Every directory created here is removed by
 * cg_job_remove()/cg_run_close(); directories left by a runner that was
 * SIGKILLed are swept by the next cg_run_open() (sweep_stale_runs). */
#include "cgroup.h"
#include "lib/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"

static const char *const ctl_names[CG_NCTL] = {
	[CG_MEMORY] = "memory", [CG_CPU] = "cpu", [CG_CPUACCT] = "cpuacct",
	[CG_PIDS] = "pids", [CG_FREEZER] = "freezer",
};

static bool is_fs(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

int cg_detect(enum sbx_cgroup_mode *mode)
{
	if (is_fs(CG_ROOT, CGROUP2_SUPER_MAGIC))
		*mode = SBX_CG_V2;
	else if (is_fs(CG_ROOT "/memory", CGROUP_SUPER_MAGIC))
		*mode = is_fs(CG_ROOT "/unified", CGROUP2_SUPER_MAGIC) ? SBX_CG_HYBRID : SBX_CG_V1;
	else
		*mode = SBX_CG_NONE;
	return 0;
}

/* Our own cgroup path for a v1 controller ("memory") or v2 (ctl NULL),
 * from /proc/self/cgroup. */
static int own_cgroup_path(const char *ctl, char *out, size_t len, struct sbx_err *err)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return sbx_fail(err, -errno, "open /proc/self/cgroup");
	char line[1024];
	int r = -ENOENT;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		const char *ctls = c1 + 1, *path = c2 + 1;
		bool match = false;
		if (!ctl) {
			match = strcmp(line, "0") == 0 && *ctls == '\0';
		} else {
			char buf[256];
			snprintf(buf, sizeof buf, "%s", ctls);
			for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (strcmp(t, ctl) == 0)
					match = true;
		}
		if (match) {
			snprintf(out, len, "%s", path);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}


/* SIGKILL every process listed in a v1 cgroup; 1 if there were any. */
static int v1_kill_procs(int fd)
{
	char procs[65536];
	int r = sr_read_file_at(fd, "cgroup.procs", procs, sizeof procs);
	if (r <= 0)
		return r;
	for (char *s, *t = strtok_r(procs, "\n", &s); t; t = strtok_r(NULL, "\n", &s))
		kill((pid_t)atoi(t), SIGKILL);
	return 1;
}

/* The whole stale-run sweep of one cg_run_open() may take this long, over
 * every hierarchy and directory together: a runner must not spend its
 * start (or hang) on a predecessor's leftovers. Tasks that were thawed and
 * SIGKILLed are normally gone within milliseconds. */
#define SWEEP_BUDGET_MS 2000

/* v1: SIGKILL the tasks while frozen (nothing forks in between), then thaw
 * so the kills are delivered. A task stays frozen, in state D and immune
 * to SIGKILL, until its freezer cgroup is THAWED: a runner SIGKILLed while
 * its jobs were paused (SIGUSR1) leaves them so forever otherwise. Only
 * the freezer hierarchy has freezer.state; elsewhere the write fails. */
static void v1_kill_and_thaw(int fd)
{
	v1_kill_procs(fd);
	sr_write_file_at(fd, "freezer.state", "THAWED");
}

/* Kill and remove one cgroup directory tree (children first), until the
 * sweep's deadline; log what is left. */
static void remove_tree_at(int parentfd, const char *where, const char *name, bool v2,
			   uint64_t deadline_ms)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", where, name);
	DIR *d = fdopendir(dup(fd));
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_type == DT_DIR && e->d_name[0] != '.')
				remove_tree_at(fd, path, e->d_name, v2, deadline_ms);
		closedir(d);
	}
	if (v2)
		sr_write_file_at(fd, "cgroup.kill", "1");
	else
		v1_kill_and_thaw(fd);
	close(fd);
	while (unlinkat(parentfd, name, AT_REMOVEDIR) < 0) {
		if (errno == ENOENT)
			return;
		if (errno != EBUSY || sr_now_ms() >= deadline_ms) {
			fprintf(stderr, "sandrun: could not remove the stale cgroup %s: %s%s\n", path,
				strerror(errno), errno == EBUSY ? " (tasks still in it; the next run tries again)" : "");
			return;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

/* A runner killed with SIGKILL cannot clean up; its successor does. Every
 * live runner holds an flock on each of its run directories for its whole
 * life, and the kernel drops it when the runner dies, however it dies.
 * So a run directory we can lock has no runner: remove it. This works
 * across pid namespaces and containers, where a pid would name nobody. */
static void sweep_stale_runs(int parentfd, const char *where, bool v2, uint64_t deadline_ms)
{
	DIR *d = fdopendir(dup(parentfd));
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid;
		unsigned long long st;
		if (sscanf(e->d_name, "sandrun-%d-%llu", &pid, &st) != 2)
			continue;
		_cleanup_close_ int fd = openat(parentfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue; /* its runner is alive: leave it alone */
		remove_tree_at(parentfd, where, e->d_name, v2, deadline_ms);
	}
	closedir(d);
}

/* Hold the run directory's lock for the life of this runner. */
static int lock_run_dir(int fd, const char *what, struct sbx_err *err)
{
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return sbx_fail(err, -errno, "lock %s", what);
	return 0;
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* v2's no-internal-processes rule: a cgroup with processes in it cannot
 * hand controllers to children. If ours does, move every process of it
 * into a leaf "sandrun-supervisor", as a delegated service manager would. */
static int v2_enable_controllers(int ownfd, const char *ownpath, struct sbx_err *err)
{
	const char *want = "+memory +cpu +pids";
	int r = sr_write_file_at(ownfd, "cgroup.subtree_control", want);
	if (r != -EBUSY)
		return r < 0 ? sbx_fail(err, r, "enable %s in %s/cgroup.subtree_control", want, ownpath) : 0;
	if (mkdirat(ownfd, "sandrun-supervisor", 0755) < 0 && errno != EEXIST)
		return sbx_fail(err, -errno, "mkdir %s/sandrun-supervisor", ownpath);
	_cleanup_close_ int leaf = openat(ownfd, "sandrun-supervisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (leaf < 0)
		return sbx_fail(err, -errno, "open %s/sandrun-supervisor", ownpath);
	char procs[65536];
	for (int round = 0; round < 10; round++) {
		if (sr_read_file_at(ownfd, "cgroup.procs", procs, sizeof procs) <= 0)
			break;
		for (char *s, *t = strtok_r(procs, "\n", &s); t; t = strtok_r(NULL, "\n", &s))
			sr_write_file_at(leaf, "cgroup.procs", t);
	}
	r = sr_write_file_at(ownfd, "cgroup.subtree_control", want);
	return r < 0 ? sbx_fail(err, r, "enable %s in %s/cgroup.subtree_control", want, ownpath) : 0;
}

static int run_open_v2(struct cg_run *run, uint64_t sweep_deadline_ms, struct sbx_err *err)
{
	char own[400], path[512];
	int r = own_cgroup_path(NULL, own, sizeof own, err);
	if (r < 0)
		return sbx_fail(err, r, "find own cgroup v2 path in /proc/self/cgroup");
	/* Already in the leaf an earlier sandrun made: its parent is the
	 * delegated cgroup with the controllers enabled. Nesting another
	 * leaf each time would grow without bound. */
	char *leaf = strrchr(own, '/');
	if (leaf && strcmp(leaf, "/sandrun-supervisor") == 0)
		*(leaf == own ? leaf + 1 : leaf) = '\0';
	snprintf(path, sizeof path, CG_ROOT "%s", strcmp(own, "/") == 0 ? "" : own);
	_cleanup_close_ int ownfd = open_dir(path);
	if (ownfd < 0)
		return sbx_fail(err, ownfd, "open %s", path);
	/* Sweep, mkdir and lock as one step: another runner's sweep must not
	 * find our directory between its mkdir and its lock. */
	flock(ownfd, LOCK_EX);
	sweep_stale_runs(ownfd, path, true, sweep_deadline_ms);
	if ((r = v2_enable_controllers(ownfd, path, err)) < 0)
		return r;
	if (mkdirat(ownfd, run->run_name, 0755) < 0)
		return sbx_fail(err, -errno, "mkdir %s/%s", path, run->run_name);
	run->run_dirfd[0] = openat(ownfd, run->run_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run->run_dirfd[0] < 0)
		return sbx_fail(err, -errno, "open %s/%s", path, run->run_name);
	snprintf(run->parent_path[0], sizeof run->parent_path[0], "%s", path);
	if ((r = lock_run_dir(run->run_dirfd[0], run->run_name, err)) < 0)
		return r;
	r = sr_write_file_at(run->run_dirfd[0], "cgroup.subtree_control", "+memory +cpu +pids");
	if (r < 0)
		return sbx_fail(err, r, "enable memory, cpu, pids in %s/%s", path, run->run_name);
	return 0;
}

/* Without root: the runner's own v2 cgroup must be delegated to its user
 * (what systemd's Delegate=yes does: the directory, its cgroup.procs,
 * cgroup.subtree_control and cgroup.threads chowned to the service's user),
 * with memory, cpu and pids available. Only then can run_open_v2 make the
 * run and job cgroups beneath it and write their limits. */
int cg_check_delegated(struct sbx_err *err)
{
	static const char fix[] = "start sandrun in a cgroup subtree delegated to its user: "
				  "`systemd-run --user -p Delegate=yes --scope sandrun ...`, or a User= "
				  "service with Delegate=yes (docs/deployment.md)";
	char own[400], path[512], ctls[256];
	int r = own_cgroup_path(NULL, own, sizeof own, err);
	if (r < 0)
		return sbx_fail(err, r, "no cgroup v2 entry in /proc/self/cgroup; %s", fix);
	char *leaf = strrchr(own, '/');
	if (leaf && strcmp(leaf, "/sandrun-supervisor") == 0)
		*(leaf == own ? leaf + 1 : leaf) = '\0';
	snprintf(path, sizeof path, CG_ROOT "%s", strcmp(own, "/") == 0 ? "" : own);
	_cleanup_close_ int fd = open_dir(path);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sbx_fail(err, fd < 0 ? fd : -errno, "open the own cgroup %s; %s", path, fix);
	if (st.st_uid != geteuid() || faccessat(fd, "cgroup.procs", W_OK, AT_EACCESS) < 0 ||
	    faccessat(fd, "cgroup.subtree_control", W_OK, AT_EACCESS) < 0)
		return sbx_fail_plain(err, -EACCES, "the cgroup %s (owner uid %u) is not delegated to uid %u "
				"(its directory, cgroup.procs and cgroup.subtree_control must be the user's); %s",
				path, (unsigned)st.st_uid, (unsigned)geteuid(), fix);
	/* " memory cpu pids " with a space around every name, to find words */
	ctls[0] = ' ';
	if (sr_read_file_at(fd, "cgroup.controllers", ctls + 1, sizeof ctls - 2) < 0)
		ctls[1] = '\0';
	ctls[strcspn(ctls, "\n")] = '\0';
	strcat(ctls, " ");
	static const char *const need[] = { " memory ", " cpu ", " pids " };
	for (size_t i = 0; i < SR_ARRAY_LEN(need); i++)
		if (!strstr(ctls, need[i]))
			return sbx_fail_plain(err, -ENODEV, "the delegated cgroup %s has no%scontroller (its parent must "
					"enable it in cgroup.subtree_control)", path, need[i]);
	return 0;
}

/* v1: sweep the freezer hierarchy before the others. Its tasks can only
 * die once thawed, and until they have, rmdir in memory, pids, ... fails
 * with EBUSY: swept in the others' order, every stale directory would wait
 * out the whole budget. */
static void v1_sweep_freezer_first(uint64_t sweep_deadline_ms)
{
	char mnt[PATH_MAX], own[512], path[PATH_MAX + 512];
	if (!realpath(CG_ROOT "/freezer", mnt) || !is_fs(mnt, CGROUP_SUPER_MAGIC) ||
	    own_cgroup_path("freezer", own, sizeof own, NULL) < 0)
		return;
	snprintf(path, sizeof path, "%s%s", mnt, strcmp(own, "/") == 0 ? "" : own);
	_cleanup_close_ int ownfd = open_dir(path);
	if (ownfd < 0)
		return;
	flock(ownfd, LOCK_EX); /* see run_open_v2 */
	sweep_stale_runs(ownfd, path, false, sweep_deadline_ms);
}

static int run_open_v1(struct cg_run *run, uint64_t sweep_deadline_ms, struct sbx_err *err)
{
	v1_sweep_freezer_first(sweep_deadline_ms);
	char mounts[CG_NCTL][PATH_MAX];
	for (int c = 0; c < CG_NCTL; c++) {
		run->hier_owner[c] = -1;
		char own[512], path[600];
		snprintf(path, sizeof path, CG_ROOT "/%s", ctl_names[c]);
		if (!realpath(path, mounts[c]) || !is_fs(mounts[c], CGROUP_SUPER_MAGIC))
			continue; /* controller absent: fail later only if needed */
		for (int o = 0; o < c; o++)
			if (run->hier_owner[o] == o && strcmp(mounts[o], mounts[c]) == 0)
				run->hier_owner[c] = o; /* co-mounted, e.g. cpu,cpuacct */
		if (run->hier_owner[c] >= 0)
			continue;
		if (own_cgroup_path(ctl_names[c], own, sizeof own, NULL) < 0)
			continue;
		snprintf(run->parent_path[c], sizeof run->parent_path[c], "%s%s", mounts[c],
			 strcmp(own, "/") == 0 ? "" : own);
		_cleanup_close_ int ownfd = open_dir(run->parent_path[c]);
		if (ownfd < 0)
			return sbx_fail(err, ownfd, "open %s", run->parent_path[c]);
		flock(ownfd, LOCK_EX); /* released when ownfd closes: see run_open_v2 */
		sweep_stale_runs(ownfd, run->parent_path[c], false, sweep_deadline_ms);
		if (mkdirat(ownfd, run->run_name, 0755) < 0)
			return sbx_fail(err, -errno, "mkdir %s/%s", run->parent_path[c], run->run_name);
		run->run_dirfd[c] = openat(ownfd, run->run_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (run->run_dirfd[c] < 0)
			return sbx_fail(err, -errno, "open %s/%s", run->parent_path[c], run->run_name);
		int r = lock_run_dir(run->run_dirfd[c], run->run_name, err);
		if (r < 0)
			return r;
		run->hier_owner[c] = c;
	}
	return 0;
}

int cg_run_open(struct cg_run *run, struct sbx_err *err)
{
	unsigned long long st = 0;
	for (int c = 0; c < CG_NCTL; c++)
		run->run_dirfd[c] = -1, run->hier_owner[c] = -1;
	run->seq = 0;
	cg_detect(&run->mode);
	sr_read_pid_stat(getpid(), &st, NULL);
	/* pid + start time name a runner within its pid namespace; the
	 * namespace's inode makes the name unique across namespaces. */
	struct stat ns;
	unsigned long long nsino = stat("/proc/self/ns/pid", &ns) == 0 ? (unsigned long long)ns.st_ino : 0;
	snprintf(run->run_name, sizeof run->run_name, "sandrun-%d-%llu-%llu", (int)getpid(), st, nsino);
	int r;
	uint64_t sweep_deadline_ms = sr_now_ms() + SWEEP_BUDGET_MS;
	switch (run->mode) {
	case SBX_CG_V2:
		r = run_open_v2(run, sweep_deadline_ms, err);
		break;
	case SBX_CG_V1:
	case SBX_CG_HYBRID:
		r = run_open_v1(run, sweep_deadline_ms, err);
		break;
	default:
		return sbx_fail(err, -ENODEV, "no cgroup hierarchy at " CG_ROOT);
	}
	if (r < 0)
		cg_run_close(run);
	return r;
}

bool cg_run_has(const struct cg_run *run, enum cg_ctl ctl)
{
	/* v2: cpu.stat and cgroup.freeze are core files, so "cpuacct" and
	 * "freezer" exist wherever the run directory does. */
	if (run->mode == SBX_CG_V2)
		return run->run_dirfd[0] >= 0;
	return run->hier_owner[ctl] >= 0;
}

static void run_close_hierarchy(struct cg_run *run, int c, uint64_t deadline_ms)
{
	if (run->run_dirfd[c] < 0)
		return;
	close(run->run_dirfd[c]);
	run->run_dirfd[c] = -1;
	_cleanup_close_ int parent = open_dir(run->parent_path[c]);
	if (parent >= 0)
		remove_tree_at(parent, run->parent_path[c], run->run_name, run->mode == SBX_CG_V2,
			       deadline_ms);
}

void cg_run_close(struct cg_run *run)
{
	/* The freezer first, for the reason given at v1_sweep_freezer_first. */
	uint64_t deadline_ms = sr_now_ms() + SWEEP_BUDGET_MS;
	if (run->mode != SBX_CG_V2)
		run_close_hierarchy(run, CG_FREEZER, deadline_ms);
	for (int c = 0; c < CG_NCTL; c++)
		run_close_hierarchy(run, c, deadline_ms);
}

/* ---- per-job limits: one function per limit ------------------------ */

/* v1 fd of the hierarchy that carries controller ctl for this job */
static int v1_fd(const struct cg_run *run, const struct cg_job *job, enum cg_ctl ctl)
{
	int o = run->hier_owner[ctl];
	return o < 0 ? -1 : job->dirfd[o];
}

static int set_file(int dirfd, const char *file, const char *fmt, uint64_t v, struct sbx_err *err)
{
	char buf[64];
	snprintf(buf, sizeof buf, fmt, v);
	int r = sr_write_file_at(dirfd, file, buf);
	return r < 0 ? sbx_fail(err, r, "write %s=%s", file, buf) : 0;
}

static int limit_memory(const struct cg_run *run, const struct cg_job *job, uint64_t bytes,
			struct sbx_err *err)
{
	if (run->mode == SBX_CG_V2) {
		int fd = job->dirfd[0], r;
		if ((r = set_file(fd, "memory.max", "%" PRIu64, bytes, err)) < 0)
			return r;
		/* Swap would let a job exceed its limit unseen: none at all. */
		if (faccessat(fd, "memory.swap.max", F_OK, 0) == 0 &&
		    (r = set_file(fd, "memory.swap.max", "%" PRIu64, 0, err)) < 0)
			return r;
		/* On OOM the whole job dies, not one random task of it. */
		return set_file(fd, "memory.oom.group", "%" PRIu64, 1, err);
	}
	int fd = v1_fd(run, job, CG_MEMORY), r;
	if ((r = set_file(fd, "memory.limit_in_bytes", "%" PRIu64, bytes, err)) < 0)
		return r;
	if (faccessat(fd, "memory.memsw.limit_in_bytes", F_OK, 0) == 0 &&
	    (r = set_file(fd, "memory.memsw.limit_in_bytes", "%" PRIu64, bytes, err)) < 0)
		return r;
	set_file(fd, "memory.swappiness", "%" PRIu64, 0, NULL); /* absent on some kernels */
	return 0;
}

static int limit_pids(const struct cg_run *run, const struct cg_job *job, uint32_t pids,
		      struct sbx_err *err)
{
	int fd = run->mode == SBX_CG_V2 ? job->dirfd[0] : v1_fd(run, job, CG_PIDS);
	return set_file(fd, "pids.max", "%" PRIu64, pids, err);
}

static int limit_cpus(const struct cg_run *run, const struct cg_job *job, double cpus,
		      struct sbx_err *err)
{
	const uint64_t period = 100000;
	uint64_t quota = (uint64_t)(cpus * (double)period);
	if (quota < 1000)
		quota = 1000;
	if (run->mode == SBX_CG_V2) {
		char buf[64];
		snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64, quota, period);
		int r = sr_write_file_at(job->dirfd[0], "cpu.max", buf);
		return r < 0 ? sbx_fail(err, r, "write cpu.max=%s", buf) : 0;
	}
	int fd = v1_fd(run, job, CG_CPU), r;
	if ((r = set_file(fd, "cpu.cfs_period_us", "%" PRIu64, period, err)) < 0)
		return r;
	return set_file(fd, "cpu.cfs_quota_us", "%" PRIu64, quota, err);
}

static int require(const struct cg_run *run, enum cg_ctl ctl, const char *why,
		   struct sbx_err *err)
{
	if (cg_run_has(run, ctl))
		return 0;
	return sbx_fail(err, -ENODEV, "the %s cgroup controller is not available (needed for %s)",
			ctl_names[ctl], why);
}

int cg_job_create(struct cg_run *run, const struct sbx_limits *lim, struct cg_job *job,
		  struct sbx_err *err)
{
	int r;
	for (int c = 0; c < CG_NCTL; c++)
		job->dirfd[c] = -1;
	snprintf(job->name, sizeof job->name, "job-%lu", ++run->seq);
	/* Fail closed: refuse before creating anything. */
	if (lim->mem_bytes && (r = require(run, CG_MEMORY, "--mem", err)) < 0)
		return r;
	if (lim->pids && (r = require(run, CG_PIDS, "--pids", err)) < 0)
		return r;
	if (lim->cpus > 0 && (r = require(run, CG_CPU, "--cpus", err)) < 0)
		return r;
	if (lim->cpu_time_ms && run->mode != SBX_CG_V2 &&
	    (r = require(run, CG_CPUACCT, "--cpu-time", err)) < 0)
		return r;

	int n = run->mode == SBX_CG_V2 ? 1 : CG_NCTL;
	for (int c = 0; c < n; c++) {
		if (run->run_dirfd[c] < 0 || (run->mode != SBX_CG_V2 && run->hier_owner[c] != c))
			continue;
		if (mkdirat(run->run_dirfd[c], job->name, 0755) < 0) {
			r = sbx_fail(err, -errno, "mkdir cgroup %s/%s/%s", run->parent_path[c], run->run_name, job->name);
			goto fail;
		}
		job->dirfd[c] = openat(run->run_dirfd[c], job->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (job->dirfd[c] < 0) {
			r = sbx_fail(err, -errno, "open cgroup %s", job->name);
			goto fail;
		}
	}
	if (lim->mem_bytes && (r = limit_memory(run, job, lim->mem_bytes, err)) < 0)
		goto fail;
	if (lim->pids && (r = limit_pids(run, job, lim->pids, err)) < 0)
		goto fail;
	if (lim->cpus > 0 && (r = limit_cpus(run, job, lim->cpus, err)) < 0)
		goto fail;
	return 0;
fail:
	cg_job_remove(run, job, NULL); /* the cause is r's: keep its detail */
	return r;
}

int cg_job_clone_fd(const struct cg_run *run, const struct cg_job *job)
{
	return run->mode == SBX_CG_V2 ? job->dirfd[0] : -1;
}

int cg_job_open_tasks(const struct cg_run *run, const struct cg_job *job, int fds[CG_NCTL],
		      struct sbx_err *err)
{
	int n = 0;
	if (run->mode == SBX_CG_V2)
		return 0;
	for (int c = 0; c < CG_NCTL; c++) {
		if (job->dirfd[c] < 0)
			continue;
		int fd = openat(job->dirfd[c], "tasks", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int r = sbx_fail(err, -errno, "open %s/%s/%s/tasks", run->parent_path[c], run->run_name, job->name);
			while (n > 0)
				close(fds[--n]);
			return r;
		}
		fds[n++] = fd;
	}
	return n;
}

/* Runs in the child. Writing "0" to a v1 "tasks" file moves the calling
 * thread alone, which the kernel does without taking the global
 * cgroup_threadgroup_rwsem for writing; a pid written to cgroup.procs by
 * the runner takes it, and when no other migration happened recently that
 * waits for an RCU grace period (~10 ms here). The child is single
 * threaded, so moving the thread moves the process. */
int cg_join_self(const int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		ssize_t w = write(fds[i], "0", 1);
		if (w != 1)
			return w < 0 ? -errno : -EIO;
		close(fds[i]);
	}
	return 0;
}

int cg_job_cpu_ms(const struct cg_run *run, const struct cg_job *job, uint64_t *ms)
{
	uint64_t v;
	int r;
	if (run->mode == SBX_CG_V2) {
		if ((r = sr_read_keyed_u64_at(job->dirfd[0], "cpu.stat", "usage_usec", &v)) < 0)
			return r;
		*ms = v / 1000;
		return 0;
	}
	int fd = v1_fd(run, job, CG_CPUACCT);
	if (fd < 0)
		return -ENODEV;
	if ((r = sr_read_u64_at(fd, "cpuacct.usage", &v)) < 0)
		return r;
	*ms = v / 1000000;
	return 0;
}

int cg_job_peak_bytes(const struct cg_run *run, const struct cg_job *job, uint64_t *bytes)
{
	if (run->mode == SBX_CG_V2)
		return sr_read_u64_at(job->dirfd[0], "memory.peak", bytes);
	int fd = v1_fd(run, job, CG_MEMORY);
	return fd < 0 ? -ENODEV : sr_read_u64_at(fd, "memory.max_usage_in_bytes", bytes);
}

int cg_job_oom_kills(const struct cg_run *run, const struct cg_job *job, uint64_t *n)
{
	if (run->mode == SBX_CG_V2)
		return sr_read_keyed_u64_at(job->dirfd[0], "memory.events", "oom_kill", n);
	int fd = v1_fd(run, job, CG_MEMORY);
	return fd < 0 ? -ENODEV : sr_read_keyed_u64_at(fd, "memory.oom_control", "oom_kill", n);
}

static int v1_freezer_state(int fd, const char *want)
{
	int r = sr_write_file_at(fd, "freezer.state", want);
	if (r < 0)
		return r;
	char buf[32];
	for (int i = 0; i < 2000; i++) { /* FREEZING -> FROZEN takes a moment */
		if (sr_read_file_at(fd, "freezer.state", buf, sizeof buf) > 0 && strncmp(buf, want, strlen(want)) == 0)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 500000 }, NULL);
	}
	return -ETIMEDOUT;
}

int cg_job_freezer_fd(const struct cg_run *run, const struct cg_job *job)
{
	return run->mode == SBX_CG_V2 ? -1 : v1_fd(run, job, CG_FREEZER);
}

int cg_job_freeze(const struct cg_run *run, const struct cg_job *job, bool frozen,
		  struct sbx_err *err)
{
	if (run->mode == SBX_CG_V2)
		return sr_write_file_at(job->dirfd[0], "cgroup.freeze", frozen ? "1" : "0");
	int fd = v1_fd(run, job, CG_FREEZER);
	if (fd < 0)
		return sbx_fail(err, -ENODEV, "the freezer cgroup controller is not available");
	return v1_freezer_state(fd, frozen ? "FROZEN" : "THAWED");
}

int cg_job_kill(const struct cg_run *run, const struct cg_job *job)
{
	if (run->mode == SBX_CG_V2)
		return sr_write_file_at(job->dirfd[0], "cgroup.kill", "1");
	/* v1 has no cgroup.kill, and needs none: the caller has SIGKILLed the
	 * job's pid namespace init, after which the kernel kills every task
	 * of the namespace and no fork in it can succeed
	 * (zap_pid_ns_processes), and every task of the job's cgroups is in
	 * that namespace (the init joins them from inside it; nothing else
	 * can). No freeze-then-kill: a runner SIGKILLed between FROZEN and
	 * THAWED would leave the job frozen, immune to SIGKILL. No kill by
	 * pid from cgroup.procs either: tasks exit while we read, and a
	 * recycled pid would be a host process. Only THAWED, in case a pause
	 * could not be undone: a frozen task takes its SIGKILL once thawed. */
	int ffd = v1_fd(run, job, CG_FREEZER);
	if (ffd >= 0)
		sr_write_file_at(ffd, "freezer.state", "THAWED");
	return 0;
}

int cg_job_remove(const struct cg_run *run, struct cg_job *job, struct sbx_err *err)
{
	int n = run->mode == SBX_CG_V2 ? 1 : CG_NCTL, r = 0;
	for (int c = 0; c < n; c++) {
		if (job->dirfd[c] < 0)
			continue;
		close(job->dirfd[c]);
		job->dirfd[c] = -1;
		int tries = 0;
		while (unlinkat(run->run_dirfd[c], job->name, AT_REMOVEDIR) < 0) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY || ++tries > 2000) {
				r = sbx_fail(err, -errno, "rmdir cgroup %s/%s/%s", run->parent_path[c], run->run_name, job->name);
				break;
			}
			/* Tasks still exiting: make sure they are dying, then wait. */
			if (tries == 1)
				remove_tree_at(run->run_dirfd[c], run->parent_path[c], job->name,
					       run->mode == SBX_CG_V2, sr_now_ms() + SWEEP_BUDGET_MS);
			nanosleep(&(struct timespec){ .tv_nsec = 500000 }, NULL);
		}
	}
	return r;
}
