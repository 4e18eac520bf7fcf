/* sandbox/rootless.h — running without root: what it needs, and the uid
 * maps of each job's user namespace (rootless.c). */
#ifndef SANDRUN_ROOTLESS_H
#define SANDRUN_ROOTLESS_H

#include "sandbox.h"
#include <sys/types.h>

/* Fixed paths, never looked up in PATH: the setuid helpers of the uidmap
 * package are the only programs the runner itself executes. */
#define RL_NEWUIDMAP "/usr/bin/newuidmap"
#define RL_NEWGIDMAP "/usr/bin/newgidmap"

struct rootless {
	bool on;               /* not root: every job gets a user namespace */
	uid_t uid;             /* the runner's */
	gid_t gid;
	unsigned long sub_uid, sub_gid; /* first id of the user's subordinate ranges */
	unsigned slots;        /* how many job ids both ranges hold (<= SBX_UID_COUNT) */
	unsigned inotify_instances, inotify_watches; /* each job's share (see below) */
};

/* The kernel charges a user namespace's inotify instances and watches to
 * its owner too, in the parent namespace: every job of one rootless runner
 * counts against the runner uid's fs.inotify.max_user_* (128 instances on
 * Debian). So that one job cannot take them all from the others, each job's
 * namespace gets 1/RL_INOTIFY_SHARES of them (user.max_inotify_*, set by
 * its init while it still may, rootless_cap_inotify). */
#define RL_INOTIFY_SHARES 8
/* In the child, in its user namespace: 0 or -errno. */
int rootless_cap_inotify(unsigned instances, unsigned watches, struct sbx_err *err);

/* The checks, each with its own text (sandrun check shows them all). */
int rootless_check_cgroup(struct sbx_err *err);
int rootless_check_userns(struct sbx_err *err);
int rootless_check_subids(struct rootless *rl, struct sbx_err *err);
int rootless_check_uidmap(struct sbx_err *err);

/* Every check in order; 0 when the user-namespace mode can run, else
 * -ENODEV with each failing check's reason and fix joined in err. */
int rootless_open(struct rootless *rl, struct sbx_err *err);

/* In the runner, right after clone3(CLONE_NEWUSER): map the child's user
 * namespace with newuidmap/newgidmap: inside 0 -> the runner's own uid and
 * gid (the setup, before the drop, acts with the runner's own rights and
 * no more), inside `inner` -> the subordinate id of this slot (the job).
 * Nothing maps to any other host id. */
int rootless_map(const struct rootless *rl, pid_t pid, unsigned slot, uid_t inner,
		 struct sbx_err *err);

#endif
