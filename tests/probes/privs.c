/* privs — try to get or use privileges from inside the sandbox. Checks the
 * credentials (uid = gid, neither 0 nor 65534, no capability in any set, NoNewPrivs 1,
 * Seccomp 2, RLIMIT_CORE hard 0, RLIMIT_FSIZE bounded) and then attempts,
 * each in a throwaway child process so one success cannot taint the next:
 * mount, umount, unshare (user/mnt/net/...), clone(CLONE_NEWUSER),
 * clone3(CLONE_NEWUSER), setns, chroot, pivot_root, setuid(0)/setgid(0)/
 * setgroups, capset, raising an ambient capability, raising hard rlimits,
 * keyctl/add_key, bpf, perf_event_open, userfaultfd, io_uring_setup, mknod,
 * sethostname, finit_module, open_by_handle_at, iopl, ptrace of pid 1,
 * acct. Every one must be refused. One line per check ("mount: EPERM");
 * failures say SUCCEEDED or BAD. Exits 1 if anything was not refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

static int bad;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* ---- credential checks (in this process) ---------------------------- */

static void check_ids(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	int zero = r == 0 || e == 0 || s == 0 || gr == 0 || ge == 0 || gs == 0;
	/* A job has a uid of its own (sandbox/ident.c), never the shared
	 * nobody, and its gid is the same number. */
	int shared = r == 65534 || gr == 65534 || r != e || e != s || gr != ge || ge != gs || r != gr;
	say("ids: uid %u/%u/%u gid %u/%u/%u%s%s\n", r, e, s, gr, ge, gs,
	    zero ? " BAD (root)" : "", shared ? " BAD (nobody, or not one uid = gid of its own)" : "");
	zero |= shared;
	gid_t groups[256];
	int n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == 0) {
			say("groups: BAD (member of group 0)\n");
			zero = 1;
		}
	say("groups: %d supplementary\n", n);
	bad |= zero;
}

static void check_status(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f) {
		say("/proc/self/status: BAD (%s)\n", strerrorname_np(errno));
		bad = 1;
		return;
	}
	char line[256];
	int seen = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long v;
		char key[32];
		if (sscanf(line, "%31[^:]:\t%llx", key, &v) != 2)
			continue;
		int cap = strncmp(key, "Cap", 3) == 0;
		if (cap) {
			seen++;
			say("%s: %016llx%s\n", key, v, v ? " BAD (not empty)" : "");
			bad |= v != 0;
		} else if (strcmp(key, "NoNewPrivs") == 0) {
			seen++;
			say("NoNewPrivs: %llx%s\n", v, v != 1 ? " BAD (expected 1)" : "");
			bad |= v != 1;
		} else if (strcmp(key, "Seccomp") == 0) {
			seen++;
			say("Seccomp: %llx%s\n", v, v != 2 ? " BAD (expected 2 = filter)" : "");
			bad |= v != 2;
		}
	}
	fclose(f);
	if (seen < 7) {
		say("/proc/self/status: BAD (only %d of the 7 expected fields)\n", seen);
		bad = 1;
	}
}

static void check_capget(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0) {
		say("capget: %s\n", strerrorname_np(errno));
		return;
	}
	int any = 0;
	for (int i = 0; i < 2; i++)
		any |= d[i].effective | d[i].permitted | d[i].inheritable;
	say("capget: eff %08x%08x prm %08x%08x inh %08x%08x%s\n",
	    d[1].effective, d[0].effective, d[1].permitted, d[0].permitted,
	    d[1].inheritable, d[0].inheritable, any ? " BAD (not empty)" : "");
	bad |= any;
}

static void check_rlimits(void)
{
	static const struct { int r; const char *name; } L[] = {
		{ RLIMIT_CORE, "RLIMIT_CORE" },
		{ RLIMIT_FSIZE, "RLIMIT_FSIZE" },
		{ RLIMIT_NOFILE, "RLIMIT_NOFILE" },
	};
	for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
		struct rlimit rl;
		getrlimit(L[i].r, &rl);
		char soft[32], hard[32];
		snprintf(soft, sizeof soft, rl.rlim_cur == RLIM_INFINITY ? "inf" : "%llu",
			 (unsigned long long)rl.rlim_cur);
		snprintf(hard, sizeof hard, rl.rlim_max == RLIM_INFINITY ? "inf" : "%llu",
			 (unsigned long long)rl.rlim_max);
		const char *verdict = "";
		if (L[i].r == RLIMIT_CORE && rl.rlim_max != 0)
			verdict = " BAD (hard limit not 0: the job can enable core dumps)";
		else if (rl.rlim_max == RLIM_INFINITY)
			verdict = " BAD (hard limit unbounded)";
		say("%s: soft %s hard %s%s\n", L[i].name, soft, hard, verdict);
		bad |= *verdict != 0;
	}
}

/* ---- attempts (each in a child) ------------------------------------- */

/* Returns the syscall's result; errno set on failure. */
typedef long (*attempt_fn)(void);

/* strict: only EPERM/EACCES/ENOSYS count as "refused"; any other error
 * means the privilege check was passed (e.g. EBADF after CAP_SYS_MODULE). */
static void attempt(const char *name, attempt_fn fn, int strict)
{
	fflush(stdout);
	pid_t c = fork();
	if (c < 0) {
		say("%s: could not fork to try (%s)\n", name, strerrorname_np(errno));
		return;
	}
	if (c == 0) {
		errno = 0;
		long r = fn();
		int e = errno;
		if (r >= 0) {
			say("%s: SUCCEEDED (returned %ld)\n", name, r);
			_exit(1);
		}
		if (strict && e != EPERM && e != EACCES && e != ENOSYS) {
			say("%s: BAD (%s: the privilege check passed)\n", name, strerrorname_np(e));
			_exit(1);
		}
		say("%s: %s\n", name, strerrorname_np(e));
		_exit(0);
	}
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		say("%s: the attempt died of signal %d (refused)\n", name, WTERMSIG(st));
	} else if (WEXITSTATUS(st) != 0) {
		bad = 1;
	}
}

static long a_mount(void) { return mount("none", "/tmp", "tmpfs", 0, "size=1m"); }
static long a_bind(void) { return mount("/", "/tmp", NULL, MS_BIND | MS_REC, NULL); }
static long a_remount(void) { return mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL); }
static long a_umount(void) { return umount2("/proc", MNT_DETACH); }
static long a_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long a_unshare_ns(void) { return unshare(CLONE_NEWNS); }
static long a_unshare_net(void) { return unshare(CLONE_NEWNET); }
static long a_unshare_all(void)
{
	return unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
		       CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP);
}
static long a_clone_user(void)
{
	long r = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, NULL, NULL, 0L);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}
struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
static long a_clone3_user(void)
{
	struct clone_args_v0 ca = { .flags = CLONE_NEWUSER | CLONE_NEWNS, .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}
static long a_setns(void)
{
	int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return setns(fd, 0);
}
static long a_chroot(void) { return chroot("/tmp"); }
static long a_pivot_root(void) { return syscall(SYS_pivot_root, "/tmp", "/tmp"); }
static long a_setuid(void) { return setuid(0); }
static long a_setgid(void) { return setgid(0); }
static long a_setgroups(void) { gid_t g = 0; return setgroups(1, &g); }
static long a_capset(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0xff, sizeof d);
	return syscall(SYS_capset, &h, d);
}
static long a_ambient(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0); }
static long raise_hard(int res)
{
	struct rlimit rl;
	getrlimit(res, &rl);
	if (rl.rlim_max == RLIM_INFINITY) {
		/* nothing to raise; check_rlimits() judges the limit itself */
		say("  (hard limit is unlimited: nothing to raise)\n");
		errno = EPERM;
		return -1;
	}
	rl.rlim_max += 1;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(res, &rl);
}
static long a_rlimit_nofile(void) { return raise_hard(RLIMIT_NOFILE); }
static long a_rlimit_core(void) { return raise_hard(RLIMIT_CORE); }
static long a_rlimit_fsize(void) { return raise_hard(RLIMIT_FSIZE); }
static long a_rlimit_nproc(void) { return raise_hard(RLIMIT_NPROC); }
static long a_keyctl(void) { return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "sandrun-probe"); }
static long a_add_key(void)
{
	return syscall(SYS_add_key, "user", "sandrun-probe", "x", 1L, (long)KEY_SPEC_PROCESS_KEYRING);
}
static long a_bpf(void)
{
	union bpf_attr at;
	memset(&at, 0, sizeof at);
	at.map_type = BPF_MAP_TYPE_ARRAY;
	at.key_size = 4;
	at.value_size = 4;
	at.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &at, sizeof at);
}
static long a_perf(void)
{
	struct perf_event_attr pa;
	memset(&pa, 0, sizeof pa);
	pa.size = sizeof pa;
	pa.type = PERF_TYPE_SOFTWARE;
	pa.config = PERF_COUNT_SW_TASK_CLOCK;
	pa.disabled = 1;
	pa.exclude_kernel = 1;
	pa.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0UL);
}
static long a_userfaultfd(void) { return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY); }
static long a_io_uring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	return syscall(SYS_io_uring_setup, 4, &p);
}
static long a_mknod(void)
{
	long r = mknod("/tmp/sandrun-probe-null", S_IFCHR | 0666, makedev(1, 3));
	if (r == 0)
		unlink("/tmp/sandrun-probe-null");
	return r;
}
static long a_sethostname(void) { return sethostname("sandrun-pwned", 13); }
static long a_finit_module(void) { return syscall(SYS_finit_module, -1, "", 0); }
static long a_open_by_handle(void)
{
	struct { struct file_handle fh; unsigned char b[8]; } h;
	memset(&h, 0, sizeof h);
	h.fh.handle_bytes = 8;
	h.fh.handle_type = 1;
	return open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY);
}
#if defined(__x86_64__) || defined(__i386__)
static long a_iopl(void) { return iopl(3); }
#endif
static long a_ptrace1(void)
{
	/* pid 1 is the job's first process (our parent here) or the
	 * sandbox's init: the default policy must refuse ptrace anyway */
	long r = ptrace(PTRACE_ATTACH, 1, NULL, NULL);
	if (r == 0)
		ptrace(PTRACE_DETACH, 1, NULL, NULL);
	return r;
}
static long a_acct(void) { return acct("/tmp/sandrun-probe-acct"); }

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	check_ids();
	check_status();
	check_capget();
	check_rlimits();

	attempt("mount tmpfs on /tmp", a_mount, 0);
	attempt("bind-mount / on /tmp", a_bind, 0);
	attempt("remount /", a_remount, 0);
	attempt("umount /proc", a_umount, 0);
	attempt("unshare(CLONE_NEWUSER)", a_unshare_user, 0);
	attempt("unshare(CLONE_NEWNS)", a_unshare_ns, 0);
	attempt("unshare(CLONE_NEWNET)", a_unshare_net, 0);
	attempt("unshare(all namespaces)", a_unshare_all, 0);
	attempt("clone(CLONE_NEWUSER)", a_clone_user, 0);
	attempt("clone3(CLONE_NEWUSER|CLONE_NEWNS)", a_clone3_user, 0);
	attempt("setns(/proc/1/ns/mnt)", a_setns, 0);
	attempt("chroot", a_chroot, 0);
	attempt("pivot_root", a_pivot_root, 0);
	attempt("setuid(0)", a_setuid, 0);
	attempt("setgid(0)", a_setgid, 0);
	attempt("setgroups([0])", a_setgroups, 0);
	attempt("capset(all)", a_capset, 0);
	attempt("raise ambient CAP_SYS_ADMIN", a_ambient, 0);
	attempt("setrlimit raise hard RLIMIT_NOFILE", a_rlimit_nofile, 0);
	attempt("setrlimit raise hard RLIMIT_CORE", a_rlimit_core, 0);
	attempt("setrlimit raise hard RLIMIT_FSIZE", a_rlimit_fsize, 0);
	attempt("setrlimit raise hard RLIMIT_NPROC", a_rlimit_nproc, 0);
	attempt("keyctl(JOIN_SESSION_KEYRING)", a_keyctl, 0);
	attempt("add_key", a_add_key, 0);
	attempt("bpf(BPF_MAP_CREATE)", a_bpf, 0);
	attempt("perf_event_open(self, user only)", a_perf, 0);
	attempt("userfaultfd(UFFD_USER_MODE_ONLY)", a_userfaultfd, 0);
	attempt("io_uring_setup", a_io_uring, 0);
	attempt("mknod /tmp char device", a_mknod, 0);
	attempt("sethostname", a_sethostname, 0);
	attempt("finit_module", a_finit_module, 1);
	attempt("open_by_handle_at", a_open_by_handle, 1);
#if defined(__x86_64__) || defined(__i386__)
	attempt("iopl(3)", a_iopl, 0);
#endif
	attempt("ptrace(PTRACE_ATTACH, 1)", a_ptrace1, 0);
	attempt("acct", a_acct, 0);
	say("privs: %s\n", bad ? "SOMETHING WAS NOT REFUSED" : "everything refused");
	return bad;
}
