/* sandbox/hostview.c — how much of the host the job sees in /etc and /proc.
 *
 * /etc is an ALLOWLIST, not the host's /etc with secrets masked: a denylist
 * always misses something (pip.conf and npmrc with tokens, chromium API
 * keys, /etc/environment, the real hostname...). The job's /etc is a small
 * read-only tmpfs holding generated passwd, group, hostname and hosts, plus
 * read-only binds of exactly these host entries, where they exist:
 *
 *   dynamic linking   ld.so.cache ld.so.conf ld.so.conf.d
 *   locale            locale.alias locale.conf default/locale
 *   time zone         localtime timezone
 *   name service      nsswitch.conf host.conf gai.conf protocols services
 *                     (files only; the job's network namespace is empty, so
 *                     resolv.conf is not shown: it names the host's DNS)
 *   TLS trust         ssl/certs ssl/openssl.cnf ca-certificates
 *                     ca-certificates.conf
 *   programs          alternatives (/usr/bin/awk etc. link through it),
 *                     python3 python3.* mime.types magic magic.mime
 *
 * More with `--etc NAME` (sbx_spec.etc_extra), except a name that is, is
 * under, or contains one of the secrets below. Every entry is resolved
 * beneath the host's /etc without following symlinks on the way; an entry
 * that is itself a symlink (localtime -> /usr/share/zoneinfo/...) is
 * recreated as a symlink, so it resolves inside the job's own root, never
 * to a host path outside what is bound there.
 *
 * /proc is the job's own pid namespace, but a few files are host-wide:
 * kernel command line and config, keyrings, interrupt and scheduler
 * counters, pressure stall information (a side channel on other jobs),
 * boot_id. They are masked (/dev/null over files, an empty read-only tmpfs
 * over directories) rather than mounting proc with subset=pid: that would
 * also remove /proc/cpuinfo and /proc/meminfo, which Python, numpy and
 * glibc read (sysconf(_SC_NPROCESSORS_CONF) falls back to cpuinfo, as /sys
 * is not mounted). An empty /proc/stat makes glibc's get_nprocs() fall back
 * to sched_getaffinity. cpuinfo, meminfo and uptime remain visible. */
#include "mounts_internal.h"
#include "lib/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const etc_allow[] = {
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d",
	"locale.alias", "locale.conf", "default/locale",
	"localtime", "timezone",
	"nsswitch.conf", "host.conf", "gai.conf", "protocols", "services",
	"ssl/certs", "ssl/openssl.cnf", "ca-certificates", "ca-certificates.conf",
	"alternatives", "python3", "python3.*", "mime.types", "magic", "magic.mime",
};

/* Never shown, not even with --etc: readable by their owner or revealing
 * the host's identity. */
static const char *const etc_secrets[] = {
	"shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d", "ssh",
	"security/opasswd", "ssl/private", "machine-id",
};

/* Generated, not the host's: only the job's own users, the sandbox's name.
 * passwd and group also get the job's own uid (ident.c) as "sandrun", home
 * /tmp (its HOME), so getpwuid() in the job answers. */
static const char *const etc_generated[][2] = {
	{ "passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
		    "sandrun:x:%u:%u:sandrun job:/tmp:/usr/sbin/nologin\n" },
	{ "group", "root:x:0:\nnogroup:x:65534:\nsandrun:x:%u:\n" },
	{ "hostname", "sandrun\n" },
	{ "hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tsandrun\n::1\tlocalhost ip6-localhost ip6-loopback\n" },
};

static const char *const proc_masked_files[] = {
	"cmdline", "config.gz", "keys", "key-users", "interrupts", "softirqs", "stat",
	"loadavg", "vmstat", "diskstats", "partitions", "swaps", "kallsyms", "modules",
	"timer_list", "sched_debug", "schedstat", "vmallocinfo", "buddyinfo", "pagetypeinfo",
	"zoneinfo", "slabinfo", "iomem", "ioports", "latency_stats", "kcore", "kmsg",
	"sysrq-trigger", "mdstat", "sys/kernel/random/boot_id",
};
static const char *const proc_masked_dirs[] = { "pressure", "irq", "acpi", "scsi", "driver" };

/* NAME is under (or is) DIR: "ssl/private/x" under "ssl/private". */
static bool is_under(const char *name, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(name, dir, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

static int check_extra_name(const char *name, struct sbx_err *err)
{
	if (!name[0] || name[0] == '/' || strstr(name, "..") || strlen(name) > 200)
		return sbx_fail(err, -EINVAL, "--etc %s: give a name relative to /etc, without ..", name);
	for (size_t i = 0; i < SR_ARRAY_LEN(etc_secrets); i++)
		if (is_under(name, etc_secrets[i]) || is_under(etc_secrets[i], name))
			return sbx_fail(err, -EPERM, "--etc %s would show /etc/%s, which is never shown",
					name, etc_secrets[i]);
	for (size_t i = 0; i < SR_ARRAY_LEN(etc_generated); i++)
		if (strcmp(name, etc_generated[i][0]) == 0)
			return sbx_fail(err, -EPERM, "--etc %s: /etc/%s is generated for the job", name, name);
	return 0;
}

/* One entry beneath the host's /etc: no symlink followed on the way (a
 * directory link could lead anywhere); a final symlink kept as a link. */
static int open_etc_entry(int etcfd, const char *name, struct source *s)
{
	s->fd = -1;
	s->link[0] = '\0';
	_cleanup_close_ int fd = sr_openat2(etcfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC,
					    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(fd, "", s->link, sizeof s->link - 1);
		if (n < 0)
			return -errno;
		s->link[n] = '\0';
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EINVAL;
	s->is_dir = S_ISDIR(st.st_mode);
	s->fd = sr_steal_fd(&fd);
	return 0;
}

struct etc_list {
	struct source *v;
	size_t n, cap;
	char (*rel)[256];
};

static int add_entry(int etcfd, struct etc_list *l, const char *name, bool required,
		     struct sbx_err *err)
{
	if (l->n == l->cap)
		return sbx_fail(err, -E2BIG, "too many /etc entries (at most %zu)", l->cap);
	struct source *s = &l->v[l->n];
	snprintf(l->rel[l->n], sizeof l->rel[0], "etc/%s", name);
	s->rel = l->rel[l->n];
	int r = open_etc_entry(etcfd, name, s);
	if (r == -ENOENT && !required)
		return 0;
	if (r < 0)
		return required ? sbx_fail(err, r, "--etc %s", name) : 0;
	l->n++;
	return 0;
}

/* "python3.*": every top-level entry of /etc that matches. */
static int add_pattern(int etcfd, struct etc_list *l, const char *pattern, struct sbx_err *err)
{
	DIR *d = fdopendir(openat(etcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!d)
		return 0;
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));)
		if (e->d_name[0] != '.' && fnmatch(pattern, e->d_name, 0) == 0)
			r = add_entry(etcfd, l, e->d_name, false, err);
	closedir(d);
	return r;
}

int sbx_etc_name_check(const char *name, struct sbx_err *err)
{
	int r = check_extra_name(name, err);
	if (r < 0)
		return r;
	_cleanup_close_ int etcfd = open("/etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (etcfd < 0)
		return sbx_fail(err, -errno, "open /etc");
	struct source s;
	if ((r = open_etc_entry(etcfd, name, &s)) < 0)
		return sbx_fail(err, r, "--etc %s: /etc/%s%s", name, name,
				r == -ELOOP ? " has a symbolic link on its way" : "");
	if (s.fd >= 0)
		close(s.fd);
	return 0;
}

int hostview_open_etc(const struct sbx_spec *spec, struct source *etc, size_t cap, size_t *n,
		      struct sbx_err *err)
{
	static char rel[96][256];
	struct etc_list l = { .v = etc, .cap = cap < SR_ARRAY_LEN(rel) ? cap : SR_ARRAY_LEN(rel), .rel = rel };
	_cleanup_close_ int etcfd = open("/etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (etcfd < 0)
		return sbx_fail(err, -errno, "open /etc");
	int r = 0;
	for (size_t i = 0; r == 0 && i < SR_ARRAY_LEN(etc_allow); i++)
		r = strchr(etc_allow[i], '*') ? add_pattern(etcfd, &l, etc_allow[i], err)
					      : add_entry(etcfd, &l, etc_allow[i], false, err);
	for (size_t i = 0; r == 0 && i < spec->netc_extra; i++)
		if ((r = check_extra_name(spec->etc_extra[i], err)) == 0)
			r = add_entry(etcfd, &l, spec->etc_extra[i], true, err);
	*n = l.n;
	return r;
}

static int write_generated(int rootfd, const char *name, const char *text, struct sbx_err *err)
{
	char rel[64];
	snprintf(rel, sizeof rel, "etc/%s", name);
	_cleanup_close_ int fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return sbx_fail(err, -errno, "create /%s", rel);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return sbx_fail(err, -EIO, "write /%s", rel);
	return 0;
}

int hostview_build_etc(int rootfd, const struct source *etc, size_t n, uid_t job_uid,
		       struct sbx_err *err)
{
	int r;
	if (mkdirat(rootfd, "etc", 0755) < 0)
		return sbx_fail(err, -errno, "mkdir /etc");
	/* noexec nosuid nodev: nothing in /etc is a program or a device. */
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if ((r = mount_tmpfs("etc", flags, "mode=0755,size=256k", err)) < 0)
		return r;
	for (size_t i = 0; i < SR_ARRAY_LEN(etc_generated); i++) {
		char text[512];
		/* Only passwd and group have %u; the others are printed as they are. */
		snprintf(text, sizeof text, etc_generated[i][1], (unsigned)job_uid, (unsigned)job_uid);
		if ((r = write_generated(rootfd, etc_generated[i][0], text, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = attach_source(rootfd, &etc[i], RO_ATTRS, err)) < 0)
			return r;
	/* Read-only once populated; the binds on it are read-only themselves. */
	if (mount(NULL, STAGING "/etc", NULL, MS_REMOUNT | MS_RDONLY | flags, NULL) < 0)
		return sbx_fail(err, -errno, "make /etc read-only");
	return 0;
}

int hostview_mask_proc(int rootfd, int devnull_fd, struct sbx_err *err)
{
	char rel[128];
	struct stat st;
	int r;
	for (size_t i = 0; i < SR_ARRAY_LEN(proc_masked_files); i++) {
		snprintf(rel, sizeof rel, "proc/%s", proc_masked_files[i]);
		if (fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue; /* not on this kernel */
		/* Without nodev: the file reads as empty, like a kernel that
		 * has nothing to say, instead of failing with EACCES. */
		if ((r = bind_at(devnull_fd, rootfd, rel,
				 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err)) < 0)
			return r;
	}
	for (size_t i = 0; i < SR_ARRAY_LEN(proc_masked_dirs); i++) {
		snprintf(rel, sizeof rel, "proc/%s", proc_masked_dirs[i]);
		if (fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		r = mount_tmpfs(rel, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555", err);
		if (r < 0)
			return r;
	}
	return 0;
}
