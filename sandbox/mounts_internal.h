/* sandbox/mounts_internal.h — the mount helpers shared by mounts.c (the
 * fresh root) and hostview.c (what of the host's /etc and /proc the job
 * sees). Child-side only: every function runs in the job's mount namespace. */
#ifndef SANDRUN_MOUNTS_INTERNAL_H
#define SANDRUN_MOUNTS_INTERNAL_H

#include "sandbox.h"

#include <limits.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

#define STAGING "/tmp"
#define RO_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

struct source {
	const char *rel;     /* path inside the new root, no leading '/' */
	int fd;              /* O_PATH fd of the host source, or -1 */
	bool is_dir;
	char link[PATH_MAX]; /* non-empty: recreate as this symlink instead */
};

int bind_at(int srcfd, int rootfd, const char *dst, uint64_t attrs, struct sbx_err *err);
int mount_tmpfs(const char *dst, unsigned long flags, const char *opts, struct sbx_err *err);
int make_mountpoint(int rootfd, const char *rel, bool is_dir, struct sbx_err *err);
int attach_source(int rootfd, const struct source *s, uint64_t attrs, struct sbx_err *err);

/* sandbox/hostview.c. Before the staging root is mounted: open the
 * allowlisted /etc entries (and spec->etc_extra) into etc[] (*n of cap). */
int hostview_open_etc(const struct sbx_spec *spec, struct source *etc, size_t cap, size_t *n,
		      struct sbx_err *err);
/* After: /etc as a read-only tmpfs of those entries and generated files. */
int hostview_build_etc(int rootfd, const struct source *etc, size_t n, uid_t job_uid,
		       struct sbx_err *err);
/* After /proc is mounted: hide its host-wide files. */
int hostview_mask_proc(int rootfd, int devnull_fd, struct sbx_err *err);

#endif
