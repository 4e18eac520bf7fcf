/* sandbox/thaw_guard.h — thaws a paused v1 job if its runner dies
 * (thaw_guard.c says why). Internal to the sandbox module. */
#ifndef SANDRUN_THAW_GUARD_H
#define SANDRUN_THAW_GUARD_H

struct thaw_guard {
	int pidfd; /* the guard process, -1 when none */
	int wr;    /* our end of its pipe */
};
#define THAW_GUARD_INIT { .pidfd = -1, .wr = -1 }

/* Start the guard for the job's v1 freezer directory, before freezing it.
 * 0 (also when already armed) or -errno. */
int thaw_guard_arm(struct thaw_guard *g, int freezer_dirfd);
/* After the runner thawed the job itself (or it is gone): the guard exits
 * without touching the cgroup, and is reaped before this returns. */
void thaw_guard_disarm(struct thaw_guard *g);

#endif
