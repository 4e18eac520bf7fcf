/* analyzer/guard.c — see guard.h. */
#include "analyzer/guard.h"

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>

const char *const an_guard_refused[] = {
	"open", "openat", "openat2", "creat", "open_by_handle_at",
	NULL,
};

const char *const an_guard_denied[] = {
	/* running another program */
	"execve", "execveat",
	/* new processes and threads: the analyzer has neither */
	"fork", "vfork", "clone", "clone3",
	/* the network and local sockets */
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
	/* other processes' memory and registers */
	"ptrace", "process_vm_readv", "process_vm_writev",
	NULL,
};

static int add_rules(scmp_filter_ctx ctx, const char *const *names, uint32_t action)
{
	for (; *names; names++) {
		int nr = seccomp_syscall_resolve_name(*names);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall on this architecture */
		int r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int an_guard_install(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return -ENOMEM;
	/* Syscalls through a foreign ABI would bypass a denylist keyed by
	 * native numbers. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		goto out;
	r = add_rules(ctx, an_guard_denied, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		goto out;
	r = add_rules(ctx, an_guard_refused, SCMP_ACT_ERRNO(EACCES));
	if (r < 0)
		goto out;
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}
