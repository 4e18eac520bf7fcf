/* tests/lib/no-ia32.c — run a command as if on a host without i386 (and
 * x32) system calls, the way some hypervisors are.
 *
 *   no-ia32 CMD [ARG...]
 *
 * Installs a seccomp filter, inherited by everything CMD starts, that
 * traps every i386 system call (SIGSYS, as a faulting `int $0x80` gives
 * SIGSEGV on such hosts: either way the caller dies of a signal) and
 * answers every x32 system call with ENOSYS (what a kernel without x32
 * says). Everything native is allowed; filters stack, so sandrun's own
 * filters still apply on top. Needs root, or sets no_new_privs to install
 * the filter unprivileged. Used by tests/run.sh (SANDRUN_EMULATE_NO_IA32=1)
 * to prove the suite skips, never crashes or falsely passes, there. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: no-ia32 CMD [ARG...]\n");
		return 2;
	}
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		/* unprivileged: only allowed with no_new_privs */
		if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
			fprintf(stderr, "no-ia32: cannot install the filter: %s\n", strerror(errno));
			return 126;
		}
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-ia32: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
