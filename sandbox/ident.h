/* sandbox/ident.h — per-job uids from a reserved, locked range (ident.c). */
#ifndef SANDRUN_IDENT_H
#define SANDRUN_IDENT_H

#include "sandbox.h"
#include <sys/types.h>

#define SBX_UID_LOCK_DIR_PARENT "/run/sandrun"

struct ident {
	uid_t id;     /* uid and gid of the job */
	int lock_fd;  /* flock()ed while the job lives */
};

/* 0, or -EEXIST naming the account or subordinate range in the way. */
int ident_check_range(struct sbx_err *err);
/* The lock directory (/run/sandrun/uid, root's, 0700), O_DIRECTORY. */
int ident_open_dir(struct sbx_err *err);
/* Without root: this user's own lock directory, HOME/.sandrun-locks/uid
 * (0700), HOME from the password database: the ids behind the slots are
 * the user's subordinate ones, so every runner of this uid, however it was
 * started (a unit, a login shell, systemd-run --user, any environment),
 * must compete in this one directory, and only they do
 * (docs/security.md, "Without root"). */
#define SBX_UID_LOCK_DIR_USER ".sandrun-locks"
int ident_open_user_dir(struct sbx_err *err);
/* Claim a free uid among the first `count` of the range (0: all of it);
 * *next is the run's rotating start. -EAGAIN if all are taken. */
int ident_claim(int dirfd, unsigned count, unsigned *next, struct ident *out, struct sbx_err *err);
unsigned ident_random_start(void);
void ident_release(struct ident *id);

#endif
