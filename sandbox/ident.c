/* sandbox/ident.c — every job its own uid and gid, for its whole life.
 *
 * Why: the kernel accounts per user, not per process. With one shared uid
 * (nobody) a job could take all of the uid's inotify instances, pipe pages,
 * pending signals, keys and epoll watches and starve a concurrent job; and
 * ptrace_may_access() and /proc ownership compare uids, so jobs of one uid
 * are one principal. Here each running job holds a uid of a reserved range
 * that no account and no other running job (of any sandrun process on the
 * host) holds.
 *
 * The range (SBX_UID_BASE, SBX_UID_COUNT in sandbox.h) is 0x7FFF0000 and
 * up: above systemd's container ranges (0x80000-0x6FFFFFFF) and its foreign
 * range (0x7FFE0000-0x7FFEFFFF), far above regular users (1000-60000),
 * systemd's dynamic users (61184-65519), nobody (65534) and the subordinate
 * ranges that useradd hands out (100000 + 65536 * n), and below 2^31 (some
 * tools treat uid_t as signed). sbx_run_open refuses to run if any entry of
 * /etc/passwd, /etc/group, /etc/subuid or /etc/subgid falls into it: a job
 * must never be an account, nor a uid some user namespace maps.
 *
 * Claiming: one lock file per uid in a root-only directory; a job's uid is
 * the first one (from a rotating start) whose file we can flock()
 * exclusively without waiting. The lock is held by the runner until the
 * job's init has been reaped, when the kernel has already killed everything
 * in the job's pid namespace. However the runner dies (SIGKILL too), the
 * kernel drops its locks — and its jobs die with it (parent-death signal).
 * flock() works across pid and mount namespaces: /run is the host's. */
#include "ident.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static bool in_range(unsigned long long id)
{
	return id >= SBX_UID_BASE && id < (unsigned long long)SBX_UID_BASE + SBX_UID_COUNT;
}

/* /etc/subuid, /etc/subgid: "name:first:count" lines. */
static int check_subid_file(const char *path, struct sbx_err *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : sbx_fail(err, -errno, "open %s", path);
	char line[512];
	int r = 0;
	while (r == 0 && fgets(line, sizeof line, f)) {
		unsigned long long first, count;
		char *c = strchr(line, ':');
		if (!c || sscanf(c + 1, "%llu:%llu", &first, &count) != 2 || count == 0)
			continue;
		if (first < (unsigned long long)SBX_UID_BASE + SBX_UID_COUNT &&
		    first + count > SBX_UID_BASE) {
			line[strcspn(line, "\n")] = '\0';
			r = sbx_fail(err, -EEXIST, "the job uid range %u-%u overlaps '%s' in %s", SBX_UID_BASE,
				     SBX_UID_BASE + SBX_UID_COUNT - 1, line, path);
		}
	}
	fclose(f);
	return r;
}

int ident_check_range(struct sbx_err *err)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return sbx_fail(err, -errno, "open /etc/passwd");
	int r = 0;
	for (struct passwd *p; r == 0 && (p = fgetpwent(f));)
		if (in_range(p->pw_uid) || in_range(p->pw_gid))
			r = sbx_fail(err, -EEXIST, "account '%s' (uid %u, gid %u) in /etc/passwd is in the job uid range %u-%u",
				     p->pw_name, p->pw_uid, p->pw_gid, SBX_UID_BASE, SBX_UID_BASE + SBX_UID_COUNT - 1);
	fclose(f);
	if (r < 0)
		return r;
	if (!(f = fopen("/etc/group", "re")))
		return sbx_fail(err, -errno, "open /etc/group");
	for (struct group *g; r == 0 && (g = fgetgrent(f));)
		if (in_range(g->gr_gid))
			r = sbx_fail(err, -EEXIST, "group '%s' (gid %u) in /etc/group is in the job gid range %u-%u",
				     g->gr_name, g->gr_gid, SBX_UID_BASE, SBX_UID_BASE + SBX_UID_COUNT - 1);
	fclose(f);
	if (r == 0)
		r = check_subid_file("/etc/subuid", err);
	if (r == 0)
		r = check_subid_file("/etc/subgid", err);
	return r;
}

/* mkdir + open a directory that must be ours (root's in root mode, the
 * runner user's without root) and writable by us only: whoever could write
 * there could pre-create, delete or lock our files. */
static int open_private_dir(int at, const char *name, mode_t mode, struct sbx_err *err)
{
	if (mkdirat(at, name, mode) < 0 && errno != EEXIST)
		return sbx_fail(err, -errno, "mkdir %s", name);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail(err, -errno, "open %s", name);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return sbx_fail(err, -EPERM, "%s must be a directory owned by uid %u and writable only by it",
				name, (unsigned)geteuid());
	}
	return fd;
}

int ident_open_dir(struct sbx_err *err)
{
	_cleanup_close_ int run = open_private_dir(AT_FDCWD, SBX_UID_LOCK_DIR_PARENT, 0755, err);
	if (run < 0)
		return run;
	return open_private_dir(run, "uid", 0700, err);
}

/* The home directory of our uid, from the password database (never $HOME):
 * ours or root's, and writable by nobody else (whoever could write it could
 * rename our lock directory away and let a runner make a second one). */
static int open_home(char *home, size_t len, struct sbx_err *err)
{
	struct passwd pw, *pp = NULL;
	char buf[16384]; /* an entry larger than this is refused, said as such */
	uid_t me = geteuid();
	int pr = getpwuid_r(me, &pw, buf, sizeof buf, &pp);
	if (pr != 0 || !pp || pp->pw_dir[0] != '/')
		return sbx_fail_plain(err, pr > 0 ? -pr : -ENOENT, "no directory for the job uid locks: without root, "
				"sandrun keeps them under the home directory of uid %u in the password database, "
				"and %s", (unsigned)me, pr == ERANGE ? "its entry is too large to read"
				: pr != 0 ? "the password database cannot be read" : "it has none");
	snprintf(home, len, "%s", pp->pw_dir);
	/* the admin names the home (trusted); a link on the way is still refused */
	int fd = sr_openat2(AT_FDCWD, home, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		return sbx_fail_plain(err, e, "no directory for the job uid locks: without root, sandrun keeps them "
				"in %s/%s, under the home directory of uid %u in the password database: %s: %s (a "
				"symbolic link anywhere on that path is refused too; give the user a home of its own "
				"reached without links: usermod --home DIR --move-home USER)", home,
				SBX_UID_LOCK_DIR_USER, (unsigned)me, home, strerror(-e));
	}
	if ((st.st_uid != me && st.st_uid != 0) || (st.st_mode & 022)) {
		close(fd);
		return sbx_fail_plain(err, -EPERM, "no directory for the job uid locks: the home directory %s of uid %u "
				"must belong to it (or root) and be writable by no one else (owner uid %u, mode %04o)",
				home, (unsigned)me, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

int ident_open_user_dir(struct sbx_err *err)
{
	char home[4096];
	_cleanup_close_ int h = open_home(home, sizeof home, err);
	if (h < 0)
		return h;
	_cleanup_close_ int dir = open_private_dir(h, SBX_UID_LOCK_DIR_USER, 0700, err);
	if (dir < 0)
		return dir;
	return open_private_dir(dir, "uid", 0700, err);
}

int ident_claim(int dirfd, unsigned count, unsigned *next, struct ident *out, struct sbx_err *err)
{
	if (count == 0 || count > SBX_UID_COUNT)
		count = SBX_UID_COUNT;
	for (unsigned i = 0; i < count; i++) {
		unsigned slot = (*next + i) % count;
		char name[16];
		snprintf(name, sizeof name, "%u", SBX_UID_BASE + slot);
		int fd = openat(dirfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return sbx_fail(err, -errno, "open the uid lock %s/uid/%s", SBX_UID_LOCK_DIR_PARENT, name);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			out->id = SBX_UID_BASE + slot;
			out->lock_fd = fd;
			/* Rotate: a uid freed a moment ago is the last one reused. */
			*next = slot + 1;
			return 0;
		}
		int e = errno;
		close(fd);
		if (e != EWOULDBLOCK)
			return sbx_fail(err, -e, "flock the uid lock %s", name);
	}
	return sbx_fail(err, -EAGAIN, "all %u job uids are in use", count);
}

unsigned ident_random_start(void)
{
	unsigned v = 0;
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
		v = (unsigned)getpid();
	return v % SBX_UID_COUNT;
}

void ident_release(struct ident *id)
{
	sr_closep(&id->lock_fd);
}
