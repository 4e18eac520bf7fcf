/* sandbox/harden.c — what keeps the job's init (a copy of the runner) and
 * the kernel's per-user state out of the job's reach.
 *
 * The init is not exec'd: its memory is the runner's (other inputs' paths,
 * --env values, the database path, the compiled policies). The job runs as
 * the same uid as the init, so only these stand between them:
 *   - the init shows "sandrun-init" as its argv and an empty environment in
 *     /proc/1/cmdline and /proc/1/environ (PR_SET_MM_MAP);
 *   - it is not dumpable (/proc/1/{mem,environ,maps,...} become root's,
 *     ptrace needs CAP_SYS_PTRACE): set explicitly after the uid change,
 *     which would reset it to fs.suid_dumpable;
 *   - once the command runs, its own seccomp filter allows only what an
 *     init does: wait, write its status record, close, exit.
 * And the job starts in a fresh anonymous session keyring, not the
 * runner's (root's keys, e.g. of the login session that started sandrun). */
#include "child.h"
#include "lib/fd.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The init's argv as /proc shows it. */
static const char init_name[] = "sandrun-init";

/* PR_SET_MM_MAP replaces the whole map at once and, unlike the single
 * PR_SET_MM_ARG_* operations, needs no CAP_SYS_RESOURCE (a service or a
 * container may run sandrun without it). It wants every field: the current
 * ones come from /proc/self/stat (fields 26-28 and 45-51) and brk(0). */
int harden_init_name(struct sbx_err *err)
{
	char buf[1024];
	int n = sr_read_file_at(AT_FDCWD, "/proc/self/stat", buf, sizeof buf);
	if (n < 0)
		return sbx_fail(err, n, "read /proc/self/stat");
	char *p = strrchr(buf, ')');
	unsigned long long f[52] = { 0 };
	/* field 3 (state) follows ") " */
	for (int i = 3; p && i <= 51; i++) {
		p = strchr(p + 1, ' ');
		if (p && i > 3)
			f[i] = strtoull(p + 1, NULL, 10);
	}
	if (!p || !f[26] || !f[51])
		return sbx_fail(err, -EIO, "parse /proc/self/stat");
	/* /proc/PID/cmdline reads only anonymous memory (FOLL_ANON): not
	 * .data, a page of its own. */
	char *page = mmap(NULL, sizeof init_name, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return sbx_fail(err, -errno, "mmap");
	memcpy(page, init_name, sizeof init_name);
	unsigned long a = (unsigned long)page, z = a + sizeof init_name;
	struct prctl_mm_map map = {
		.start_code = f[26], .end_code = f[27], .start_stack = f[28],
		.start_data = f[45], .end_data = f[46], .start_brk = f[47],
		.brk = (unsigned long)syscall(SYS_brk, 0),
		.arg_start = a, .arg_end = z, .env_start = z, .env_end = z,
		.exe_fd = (uint32_t)-1,
	};
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0) < 0)
		return sbx_fail(err, -errno, "PR_SET_MM_MAP: hide the runner's argv and environment");
	return 0;
}

int harden_not_dumpable(struct sbx_err *err)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return sbx_fail(err, -errno, "PR_SET_DUMPABLE");
	return 0;
}

/* After the uid change: the new keyring is the job uid's, charged to its
 * quota. The uid's user and user-session keyrings outlive a job (the uid
 * is reused later): clear them, so no job finds a key an earlier one left.
 * A kernel without keys (ENOSYS) has nothing to inherit. */
int harden_keyrings(struct sbx_err *err)
{
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
		return errno == ENOSYS ? 0 : sbx_fail(err, -errno, "KEYCTL_JOIN_SESSION_KEYRING");
	if (syscall(SYS_keyctl, KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING) < 0)
		return sbx_fail(err, -errno, "clear the uid's user keyring");
	if (syscall(SYS_keyctl, KEYCTL_CLEAR, KEY_SPEC_USER_SESSION_KEYRING) < 0)
		return sbx_fail(err, -errno, "clear the uid's user session keyring");
	return 0;
}

#if defined(__x86_64__)
#define INIT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define INIT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* In the init, after vfork returned (the command has exec'd or exited, so
 * it does not inherit this). Anything but waiting, reporting and exiting
 * kills the init — and with it, the whole job. */
int harden_init_seccomp(struct sbx_err *err)
{
#ifdef INIT_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, INIT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		/* x32 numbers are the x86_64 ones plus this bit */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
		ALLOW(__NR_wait4),
		ALLOW(__NR_waitid),
		ALLOW(__NR_write),
		ALLOW(__NR_close),
		ALLOW(__NR_exit),
		ALLOW(__NR_exit_group),
		ALLOW(__NR_rt_sigreturn),
		ALLOW(__NR_restart_syscall),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = SR_ARRAY_LEN(f), .filter = f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return sbx_fail(err, -errno, "seccomp for the init");
	return 0;
#else
	return sbx_fail(err, -ENOSYS, "no init filter for this architecture");
#endif
}
