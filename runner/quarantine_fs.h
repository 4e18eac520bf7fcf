/* runner/quarantine_fs.h — the file operations of `sandrun quarantine`,
 * done on directory descriptors opened without following symbolic links.
 *
 * Why: quarantine runs as root on paths inside trees that other users own.
 * A path string would be resolved again by every syscall, and the owner of
 * any directory on it can swap that directory for a symlink in between, so
 * root would move or copy a file of the owner's choosing out of a directory
 * the owner cannot read. Every component is therefore resolved once, with
 * RESOLVE_NO_SYMLINKS, into a directory fd, and the file is checked against
 * the identity the store recorded before anything is moved. */
#ifndef SANDRUN_QUARANTINE_FS_H
#define SANDRUN_QUARANTINE_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* The directory PATH (absolute, or relative to atfd), every component
 * resolved without following symlinks; beneath atfd when atfd is a
 * descriptor. An O_PATH descriptor, or -errno (-ELOOP: a symlink on it). */
int qfs_open_dir(int atfd, const char *path);
/* Like qfs_open_dir(dirfd, rel), creating missing components (0755). */
int qfs_make_dir(int dirfd, const char *rel);
/* The entry NAME of dirfd, not followed, must be a regular file of the
 * recorded size and mtime (-1: never recorded). 0 and its stat in *st,
 * -ENODATA (nothing recorded), -EINVAL (not a regular file), -ESTALE
 * (another file now), or -errno. */
int qfs_check_identity(int dirfd, const char *name, int64_t size, int64_t mtime_ns,
		       struct stat *st);
/* Move sdir/sname to ddir/dname, never over an existing entry; across file
 * systems copy, then unlink. want is the identity checked before: a file
 * swapped in between is put back and -ESTALE returned (-ENOTRECOVERABLE
 * when it could not be put back). *copied_only when
 * the original could not be removed. */
int qfs_move(int sdir, const char *sname, const struct stat *want, int ddir, const char *dname,
	     bool *copied_only);
/* Copy sdir/sname (which must still be want) to a new file ddir/dname. */
int qfs_copy(int sdir, const char *sname, const struct stat *want, int ddir, const char *dname);
/* A sentence for the errors above that are refusals, else NULL. */
const char *qfs_refusal(int r);

#endif
