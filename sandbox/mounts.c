/* sandbox/mounts.c — the job's filesystem: a fresh tmpfs root.
 *
 * What the job sees, and why:
 *   /usr /bin /sbin /lib*       read-only, nosuid, nodev binds: a dynamically
 *                               linked program runs, nothing can be changed,
 *                               and a setuid binary gains nothing.
 *   /etc                        a read-only tmpfs with an allowlist of the
 *                               host's entries and generated passwd, group,
 *                               hostname, hosts (hostview.c).
 *   /tmp /dev/shm               private tmpfs of --tmp size: scratch space
 *                               that is charged to the job and then vanishes.
 *   /dev                        null, zero, full, random, urandom only: no disk,
 *                               no tty, no kmsg.
 *   /proc                       read-only, of the job's own pid namespace: the
 *                               host's processes do not exist for it; its
 *                               host-wide files are masked (hostview.c).
 *   --bind-ro / --bind          only the paths the user named.
 * Everything else — /home, /root, /srv, the host's /tmp, project trees — is
 * simply not there. The old root is detached after pivot_root, so there is
 * no path back to it.
 *
 * Where the sources come from, and why:
 *   system dirs, /dev nodes     fixed paths the admin controls, opened here
 *                               (O_PATH) before the staging tmpfs is mounted,
 *                               so /tmp means the host's, not the staging area.
 *   the analyzer binary         a path bind (sbx_bind_by_fd false): the runner
 *                               made it a real path at startup and only the
 *                               admin can change it; a final link is refused.
 *   inputs, --bind/--bind-ro    by descriptor only (sbx_bind_by_fd): the runner
 *                               opened and checked the inode, and
 *                               mounts_clone_binds made a detached, already
 *                               restricted copy of it before clone3. Here it is
 *                               only moved into place: no path that a tree
 *                               owner can swap is ever resolved by this root
 *                               process. */
#include "child.h"
#include "mounts_internal.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const system_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
};
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom" };

/* Clone the mount tree at srcfd and attach it at rootfd/dst with attrs,
 * recursively (a plain MS_REMOUNT|MS_RDONLY would leave submounts rw). */
int bind_at(int srcfd, int rootfd, const char *dst, uint64_t attrs, struct sbx_err *err)
{
	_cleanup_close_ int tree = open_tree(srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					     AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return sbx_fail(err, -errno, "open_tree for /%s", dst);
	struct mount_attr a = { .attr_set = attrs };
	if (attrs && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
		return sbx_fail(err, -errno, "mount_setattr on /%s", dst);
	if (move_mount(tree, "", rootfd, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_fail(err, -errno, "move_mount onto /%s", dst);
	return 0;
}

int mount_tmpfs(const char *dst, unsigned long flags, const char *opts, struct sbx_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, STAGING "/%s", dst);
	if (mount("sandrun", path, "tmpfs", flags, opts) < 0)
		return sbx_fail(err, -errno, "mount tmpfs on /%s", dst);
	return 0;
}

/* mkdir -p inside the new root (relative path), then the final component
 * as a directory or an empty file, to serve as a mount point. */
int make_mountpoint(int rootfd, const char *rel, bool is_dir, struct sbx_err *err)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", rel);
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(rootfd, buf, 0755) < 0 && errno != EEXIST)
			return sbx_fail(err, -errno, "mkdir /%s in the sandbox", buf);
		*p = '/';
	}
	if (is_dir) {
		if (mkdirat(rootfd, buf, 0755) < 0 && errno != EEXIST)
			return sbx_fail(err, -errno, "mkdir /%s in the sandbox", buf);
		return 0;
	}
	int fd = openat(rootfd, buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno != EEXIST && errno != EROFS)
		return sbx_fail(err, -errno, "create /%s in the sandbox", buf);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Attributes of a user bind: never setuid or device nodes; read-only
 * unless --bind asked for writable; noexec when asked (the input). */
static uint64_t user_bind_attrs(const struct sbx_bind *b)
{
	uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	if (!b->writable)
		attrs |= MOUNT_ATTR_RDONLY;
	if (b->noexec)
		attrs |= MOUNT_ATTR_NOEXEC;
	return attrs;
}

void mounts_close_binds(struct bind_tree *trees, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sr_closep(&trees[i].fd);
}

/* The detached copy at tree, made private and restricted; tree closed on
 * failure. */
static int restrict_copy(int tree, const struct sbx_bind *b, unsigned rec, struct sbx_err *err)
{
	/* Private: nothing mounted later on the host shows up in the
	 * job, and nothing the job's namespace does reaches the host. */
	struct mount_attr a = { .attr_set = user_bind_attrs(b), .propagation = MS_PRIVATE };
	if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &a, sizeof a) < 0) {
		int e = errno;
		close(tree);
		return sbx_fail(err, -e, "mount_setattr for %s", b->dst);
	}
	return tree;
}

int mounts_clone_binds(const struct sbx_spec *spec, struct bind_tree *trees, bool in_child,
		       struct sbx_err *err)
{
	if (spec->nbinds > SBX_MAX_BINDS)
		return sbx_fail(err, -E2BIG, "too many binds (%zu, at most %d)", spec->nbinds, SBX_MAX_BINDS);
	for (size_t i = 0; i < spec->nbinds; i++)
		trees[i] = (struct bind_tree){ .fd = -1 };
	for (size_t i = 0; i < spec->nbinds; i++) {
		const struct sbx_bind *b = &spec->binds[i];
		if (!sbx_bind_by_fd(b))
			continue;
		struct stat st;
		if (fstat(b->src_fd, &st) < 0)
			return sbx_fail(err, -errno, "bind source %s", b->src ? b->src : "(descriptor)");
		/* A file alone (AT_RECURSIVE would take along whatever is
		 * mounted on top of it); a directory with its submounts, each
		 * restricted too (a plain remount would leave them as they are). */
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			return sbx_fail(err, -EINVAL, "bind source %s is neither a regular file nor a directory",
					b->src ? b->src : "(descriptor)");
		unsigned rec = S_ISDIR(st.st_mode) ? AT_RECURSIVE : 0;
		trees[i].is_dir = S_ISDIR(st.st_mode);
		trees[i].in_child = in_child;
		if (in_child)
			continue;
		int tree = open_tree(b->src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
		if (tree < 0)
			return sbx_fail(err, -errno, "open_tree for %s", b->dst);
		if ((trees[i].fd = restrict_copy(tree, b, rec, err)) < 0)
			return trees[i].fd;
	}
	return 0;
}

/* Without root, in the child (its own user and mount namespace, before
 * the staging tmpfs): the copy of each descriptor bind the runner could not
 * make. open_tree only copies mounts of the caller's namespace, so the
 * source is found by the descriptor's path in the child's copy of the
 * runner's tree, resolved with the runner's own rights (inside uid 0 is the
 * runner's uid) and with no link anywhere on it, as the runner resolved it
 * (openat2 RESOLVE_NO_SYMLINKS), and then must be the very inode the runner checked (same
 * st_dev and st_ino as src_fd): a tree owner who swapped a component of
 * the path for a link in the meantime gets a refusal, never another file
 * bound. A path that is gone (" (deleted)") fails the same way. */
static int copy_in_child(const struct sbx_bind *b, struct bind_tree *t, struct sbx_err *err)
{
	unsigned rec = t->is_dir ? AT_RECURSIVE : 0;
	struct stat want;
	if (fstat(b->src_fd, &want) < 0)
		return sbx_fail(err, -errno, "bind source %s", b->dst);
	/* The descriptor's path is where its inode is now: a rename between
	 * reading it and resolving it (an owner renaming the directory back and
	 * forth) sends the walk elsewhere, and the inode check refuses that.
	 * Read it again a few times; safety never depends on the count, only
	 * the outcome does. */
	for (int tries = 0;; tries++) {
		char link[64], path[PATH_MAX];
		snprintf(link, sizeof link, "/proc/self/fd/%d", b->src_fd);
		ssize_t n = readlink(link, path, sizeof path - 1);
		int e = 0;
		if (n < 0 && errno != ENAMETOOLONG)
			return sbx_fail(err, -errno, "readlink %s (bind %s)", link, b->dst);
		if (n < 0 || (size_t)n == sizeof path - 1)
			e = ENAMETOOLONG; /* moved deeper than a path can say */
		else
			path[n] = '\0';
		/* Resolved as the runner resolved the source (sr_open_bind_source):
		 * openat2 with no link anywhere on the path, then the copy made
		 * from that descriptor. A link planted on the way is refused
		 * (ELOOP), not followed to the same inode on another mount, whose
		 * submounts AT_RECURSIVE would take along. */
		_cleanup_close_ int at = e ? -1 : sr_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC,
							      RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (!e && at < 0)
			e = -at;
		/* What the owner of a directory on the path can cause (a link, a
		 * rename, a chmod, a move too deep) is the source's change; the
		 * rest (EMFILE, ENOMEM, ...) is ours. */
		if (at < 0 && e != ELOOP && e != ENOENT && e != ENOTDIR && e != EACCES && e != EPERM &&
		    e != ENAMETOOLONG)
			return sbx_fail(err, -e, "open the bind source of %s again", b->dst);
		struct stat got;
		if (at >= 0 && (fstat(at, &got) < 0 || want.st_dev != got.st_dev || want.st_ino != got.st_ino))
			e = ESTALE;
		if (e == 0) {
			int tree = open_tree(at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
			if (tree < 0)
				return sbx_fail(err, -errno, "open_tree for %s", b->dst);
			/* The same inode, and the copy is of that descriptor. */
			return (t->fd = restrict_copy(tree, b, rec, err)) < 0 ? t->fd : 0;
		}
		if (tries == 7) {
			sbx_fail(err, -ESTALE, "the bind source of %s changed after it was checked (%s)", b->dst,
				 strerror(e));
			err->input_changed = b->input;
			return -ESTALE;
		}
	}
}

static int open_source(const char *host_path, struct source *s)
{
	struct stat st;
	s->fd = -1;
	s->link[0] = '\0';
	if (lstat(host_path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(host_path, s->link, sizeof s->link - 1);
		if (n < 0)
			return -errno;
		s->link[n] = '\0';
		return 0;
	}
	s->is_dir = S_ISDIR(st.st_mode);
	s->fd = open(host_path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return s->fd < 0 ? -errno : 0;
}

int attach_source(int rootfd, const struct source *s, uint64_t attrs, struct sbx_err *err)
{
	if (s->link[0]) {
		if (symlinkat(s->link, rootfd, s->rel) < 0 && errno != EEXIST)
			return sbx_fail(err, -errno, "symlink /%s", s->rel);
		return 0;
	}
	int r = make_mountpoint(rootfd, s->rel, s->is_dir, err);
	return r < 0 ? r : bind_at(s->fd, rootfd, s->rel, attrs, err);
}

static int build_dev(int rootfd, const struct source *nodes, size_t n, const struct sbx_limits *lim,
		     struct sbx_err *err)
{
	int r;
	if (mkdirat(rootfd, "dev", 0755) < 0)
		return sbx_fail(err, -errno, "mkdir /dev");
	/* noexec: nothing in /dev is a program; nosuid for the same reason. */
	if ((r = mount_tmpfs("dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k", err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].fd >= 0 &&
		    (r = attach_source(rootfd, &nodes[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err)) < 0)
			return r;
	static const char *const links[][2] = {
		{ "/proc/self/fd", "dev/fd" }, { "/proc/self/fd/0", "dev/stdin" },
		{ "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
	};
	for (size_t i = 0; i < SR_ARRAY_LEN(links); i++)
		if (symlinkat(links[i][0], rootfd, links[i][1]) < 0)
			return sbx_fail(err, -errno, "symlink /%s", links[i][1]);
	if (mkdirat(rootfd, "dev/shm", 01777) < 0)
		return sbx_fail(err, -errno, "mkdir /dev/shm");
	char opts[64];
	snprintf(opts, sizeof opts, "mode=1777,size=%llu", (unsigned long long)lim->tmp_bytes);
	return mount_tmpfs("dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts, err);
}

/* A user bind: move the runner's detached copy into place, or (a path bind,
 * admin-trusted) clone the host path opened by open_source. */
static int attach_bind(int rootfd, const struct source *s, const struct bind_tree *t, uint64_t attrs,
		       struct sbx_err *err)
{
	if (t->fd < 0)
		return attach_source(rootfd, s, attrs, err);
	int r = make_mountpoint(rootfd, s->rel, t->is_dir, err);
	if (r < 0)
		return r;
	if (move_mount(t->fd, "", rootfd, s->rel, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_fail(err, -errno, "move_mount onto /%s", s->rel);
	return 0;
}

/* The admin's fixed sources: the system directories (absent ones are
 * skipped) and the /dev nodes, opened O_PATH before anything is mounted. */
static int open_fixed_sources(struct source *sys, char (*sysrel)[16], struct source *dev,
			      char (*devpaths)[32], struct sbx_err *err)
{
	for (size_t i = 0; i < SR_ARRAY_LEN(system_dirs); i++) {
		char host[32];
		snprintf(host, sizeof host, "/%s", system_dirs[i]);
		snprintf(sysrel[i], sizeof sysrel[i], "%s", system_dirs[i]);
		sys[i].rel = sysrel[i];
		if (open_source(host, &sys[i]) < 0)
			sys[i].fd = -1, sys[i].link[0] = '\0'; /* absent on this host */
	}
	for (size_t i = 0; i < SR_ARRAY_LEN(dev_nodes); i++) {
		char host[32];
		snprintf(host, sizeof host, "/dev/%s", dev_nodes[i]);
		snprintf(devpaths[i], sizeof devpaths[i], "dev/%s", dev_nodes[i]);
		dev[i].rel = devpaths[i];
		if (open_source(host, &dev[i]) < 0)
			return sbx_fail(err, -errno, "open %s", host);
		dev[i].is_dir = false;
	}
	return 0;
}

/* The user's binds: their targets checked; a source given by descriptor
 * (trees[i]) needs nothing more, a path source is opened now. */
static int open_user_binds(const struct sbx_spec *spec, const struct bind_tree *trees,
			   struct source *user, struct sbx_err *err)
{
	int r;
	for (size_t i = 0; i < spec->nbinds; i++) {
		const struct sbx_bind *b = &spec->binds[i];
		if (b->dst[0] != '/' || strstr(b->dst, ".."))
			return sbx_fail(err, -EINVAL, "bind target %s must be an absolute path without ..", b->dst);
		user[i] = (struct source){ .rel = b->dst + 1, .fd = -1 };
		if (trees[i].fd >= 0)
			continue; /* by descriptor: nothing to resolve */
		if (!b->src)
			return sbx_fail(err, -EINVAL, "a bind to %s has no source", b->dst);
		if ((r = open_source(b->src, &user[i])) < 0)
			return sbx_fail(err, r, "bind source %s", b->src);
		/* A path bind is a real path the admin named: a link there
		 * means the tree changed, and it is not followed. */
		if (user[i].link[0])
			return sbx_fail(err, -ELOOP, "bind source %s is a symbolic link", b->src);
		user[i].rel = b->dst + 1;
	}
	return 0;
}

/* The job's scratch space and kernel views: /tmp (and /var/tmp), /dev,
 * and a read-only /proc of its own pid namespace, host-wide files masked. */
static int mount_scratch_and_proc(int rootfd, const struct sbx_spec *spec, const struct source *dev,
				  size_t ndev, struct sbx_err *err)
{
	int r;
	char opts[64];
	snprintf(opts, sizeof opts, "mode=1777,size=%llu", (unsigned long long)spec->limits.tmp_bytes);
	if (mkdirat(rootfd, "tmp", 01777) < 0)
		return sbx_fail(err, -errno, "mkdir /tmp");
	if ((r = mount_tmpfs("tmp", MS_NOSUID | MS_NODEV, opts, err)) < 0)
		return r;
	if (mkdirat(rootfd, "var", 0755) < 0 || symlinkat("../tmp", rootfd, "var/tmp") < 0)
		return sbx_fail(err, -errno, "make /var/tmp");
	if ((r = build_dev(rootfd, dev, ndev, &spec->limits, err)) < 0)
		return r;
	if (mkdirat(rootfd, "proc", 0555) < 0)
		return sbx_fail(err, -errno, "mkdir /proc");
	if (mount("proc", STAGING "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return sbx_fail(err, -errno, "mount /proc");
	return hostview_mask_proc(rootfd, dev[0].fd, err);
}

/* pivot_root(".", ".") stacks the old root on top of the new one;
 * detaching it leaves no path back to the host's tree. */
static int enter_new_root(struct sbx_err *err)
{
	if (chdir(STAGING) < 0)
		return sbx_fail(err, -errno, "chdir to the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_fail(err, -errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_fail(err, -errno, "detach the old root");
	if (chdir("/") < 0)
		return sbx_fail(err, -errno, "chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return sbx_fail(err, -errno, "make the root read-only");
	return 0;
}

int mounts_build_root(const struct sbx_spec *spec, const struct bind_tree *trees, uid_t job_uid,
		      struct sbx_err *err)
{
	int r;
	struct source sys[SR_ARRAY_LEN(system_dirs)], dev[SR_ARRAY_LEN(dev_nodes)];
	struct source user[SBX_MAX_BINDS], etc[96];
	size_t netc = 0;
	char devpaths[SR_ARRAY_LEN(dev_nodes)][32], sysrel[SR_ARRAY_LEN(system_dirs)][16];
	struct bind_tree own[SBX_MAX_BINDS]; /* trees, with the child's own copies */

	if (spec->nbinds > SR_ARRAY_LEN(user))
		return sbx_fail(err, -E2BIG, "too many binds (%zu, at most %zu)", spec->nbinds, SR_ARRAY_LEN(user));
	memcpy(own, trees, spec->nbinds * sizeof *own);
	trees = own;

	/* Nothing we mount may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_fail(err, -errno, "make / private");
	/* Every source is opened before the staging tmpfs exists. */
	for (size_t i = 0; i < spec->nbinds; i++)
		if (own[i].in_child && (r = copy_in_child(&spec->binds[i], &own[i], err)) < 0)
			return r;
	if ((r = open_fixed_sources(sys, sysrel, dev, devpaths, err)) < 0 ||
	    (r = hostview_open_etc(spec, etc, SR_ARRAY_LEN(etc), &netc, err)) < 0 ||
	    (r = open_user_binds(spec, trees, user, err)) < 0)
		return r;

	/* The new root: a small tmpfs, made read-only once populated. */
	if (mount("sandrun-root", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return sbx_fail(err, -errno, "mount the root tmpfs");
	_cleanup_close_ int rootfd = open(STAGING, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sbx_fail(err, -errno, "open the new root");

	for (size_t i = 0; i < SR_ARRAY_LEN(sys); i++)
		if ((sys[i].fd >= 0 || sys[i].link[0]) && (r = attach_source(rootfd, &sys[i], RO_ATTRS, err)) < 0)
			return r;
	if ((r = hostview_build_etc(rootfd, etc, netc, job_uid, err)) < 0 ||
	    (r = mount_scratch_and_proc(rootfd, spec, dev, SR_ARRAY_LEN(dev), err)) < 0)
		return r;
	for (size_t i = 0; i < spec->nbinds; i++)
		if ((r = attach_bind(rootfd, &user[i], &trees[i], user_bind_attrs(&spec->binds[i]), err)) < 0)
			return r;
	return enter_new_root(err);
}
