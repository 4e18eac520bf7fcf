/* sandbox/landlock.c — Landlock, one more layer over the mounts.
 *
 * The mounts decide what exists in the job's root; Landlock decides, in
 * the kernel's path walk, what the job may do with it, independently of
 * uids, modes and mount flags. A mistake in one layer (a bind made
 * writable, a world-writable file in /etc, a masked secret that was missed)
 * is not a way out on its own.
 *
 * Best effort by the ABI the kernel has: a kernel without Landlock still
 * has every other layer, so its absence is not an error; but on a kernel
 * that has it, failing to apply it is a setup error.
 *
 * The ruleset is built by the init before the capabilities go (opening a
 * bind target needs search permission on its parents, which the job's uid
 * may lack) and after the descriptors step (close_range would close it);
 * the command restricts itself with it right before seccomp. The init
 * stays outside the job's domain: with ABI >= 6, the job can neither
 * signal it nor any process outside, nor connect to abstract unix sockets
 * made outside its domain. Network rights are not handled: the job's
 * network namespace is empty anyway. No libc wrapper: raw syscalls. */
#include "child.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* From linux/landlock.h, spelled out: Debian 12's headers stop at ABI 3. */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
enum {
	LL_EXECUTE = 1ULL << 0, LL_WRITE_FILE = 1ULL << 1, LL_READ_FILE = 1ULL << 2,
	LL_READ_DIR = 1ULL << 3, LL_REMOVE_DIR = 1ULL << 4, LL_REMOVE_FILE = 1ULL << 5,
	LL_MAKE_CHAR = 1ULL << 6, LL_MAKE_DIR = 1ULL << 7, LL_MAKE_REG = 1ULL << 8,
	LL_MAKE_SOCK = 1ULL << 9, LL_MAKE_FIFO = 1ULL << 10, LL_MAKE_BLOCK = 1ULL << 11,
	LL_MAKE_SYM = 1ULL << 12, LL_REFER = 1ULL << 13,      /* ABI 2 */
	LL_TRUNCATE = 1ULL << 14,                             /* ABI 3 */
	LL_IOCTL_DEV = 1ULL << 15,                            /* ABI 5 */
};
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)         /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* The rights a rule on a non-directory may carry. */
#define LL_FILE_RIGHTS (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)
#define LL_READ (LL_READ_FILE | LL_READ_DIR)
#define LL_CODE (LL_READ_FILE | LL_EXECUTE)

int sbx_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -errno;
	return (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t all = (LL_MAKE_SYM << 1) - 1; /* ABI 1 */
	if (abi >= 2)
		all |= LL_REFER;
	if (abi >= 3)
		all |= LL_TRUNCATE;
	if (abi >= 5)
		all |= LL_IOCTL_DEV;
	return all;
}

/* Allow `rights` beneath `path` (a path in the job's new root). A path
 * that does not exist on this host (/lib32, /libx32) grants nothing. */
static int allow(int ruleset, uint64_t handled, const char *path, uint64_t rights, bool optional,
		 struct sbx_err *err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return optional && errno == ENOENT ? 0 : sbx_fail(err, -errno, "landlock: open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_fail(err, -errno, "landlock: stat %s", path);
	if (!S_ISDIR(st.st_mode))
		rights &= LL_FILE_RIGHTS;
	struct ll_path_beneath_attr pb = { .allowed_access = rights & handled, .parent_fd = fd };
	if (!pb.allowed_access)
		return 0;
	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		return sbx_fail(err, -errno, "landlock: add a rule for %s", path);
	return 0;
}

static int add_command_rules(int rs, uint64_t h, const struct sbx_spec *spec, struct sbx_err *err)
{
	static const char *const sys[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc" };
	int r = 0;
	for (size_t i = 0; r == 0 && i < SR_ARRAY_LEN(sys); i++)
		r = allow(rs, h, sys[i], LL_READ | LL_EXECUTE, true, err);
	/* The job's own pid namespace, mounted read-only: programs read
	 * /proc/self and /proc/meminfo. */
	if (r == 0)
		r = allow(rs, h, "/proc", LL_READ, false, err);
	/* null zero full random urandom, and the /dev/fd links */
	if (r == 0)
		r = allow(rs, h, "/dev", LL_READ | LL_WRITE_FILE | LL_TRUNCATE | LL_IOCTL_DEV, false, err);
	if (r == 0)
		r = allow(rs, h, "/tmp", h, false, err);
	if (r == 0)
		r = allow(rs, h, "/dev/shm", h, false, err);
	for (size_t i = 0; r == 0 && i < spec->nbinds; i++) {
		const struct sbx_bind *b = &spec->binds[i];
		r = allow(rs, h, b->dst, b->writable ? h : LL_READ | LL_EXECUTE, false, err);
		/* A file bind (/input/NAME): its directory may be listed; it
		 * holds nothing but mount points. Never "/": that would be
		 * every directory. */
		const char *slash = strrchr(b->dst, '/');
		if (r == 0 && slash && slash != b->dst) {
			char dir[PATH_MAX];
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - b->dst), b->dst);
			struct stat st;
			if (stat(b->dst, &st) == 0 && !S_ISDIR(st.st_mode))
				r = allow(rs, h, dir, LL_READ_DIR, false, err);
		}
	}
	return r;
}

/* The program and its libraries, nothing else: no data, no listing. */
static int add_code_rules(int rs, uint64_t h, const struct sbx_spec *spec, struct sbx_err *err)
{
	static const char *const code[] = { "/usr", "/lib", "/lib32", "/lib64", "/libx32" };
	int r = 0;
	for (size_t i = 0; r == 0 && i < SR_ARRAY_LEN(code); i++)
		r = allow(rs, h, code[i], LL_CODE, true, err);
	if (r == 0)
		r = allow(rs, h, "/etc/ld.so.cache", LL_READ_FILE, true, err);
	if (r == 0 && spec->argv[0][0] == '/')
		r = allow(rs, h, spec->argv[0], LL_CODE, false, err);
	/* programs bound beside it (the analyzer's FFmpeg fallback) */
	for (size_t i = 0; r == 0 && i < spec->nbinds; i++)
		r = allow(rs, h, spec->binds[i].dst, LL_CODE, false, err);
	return r;
}

int landlock_prepare(const struct sbx_spec *spec, int *out_fd, struct sbx_err *err)
{
	*out_fd = -1;
	int abi = sbx_landlock_abi();
	if (abi < 0)
		return sbx_fail(err, abi, "landlock: ABI version");
	if (abi == 0)
		return 0; /* best effort: every other layer still applies */
	uint64_t h = handled_fs(abi);
	struct ll_ruleset_attr attr = {
		.handled_access_fs = h,
		.scoped = abi >= 6 ? LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL : 0,
	};
	size_t size = abi >= 6 ? sizeof attr : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		return sbx_fail(err, -errno, "landlock: create a ruleset (ABI %d)", abi);
	int r = spec->fs_profile == SBX_FS_CODE_ONLY ? add_code_rules(rs, h, spec, err)
						       : add_command_rules(rs, h, spec, err);
	if (r < 0) {
		close(rs);
		return r;
	}
	*out_fd = rs; /* created close-on-exec by the kernel */
	return 0;
}

/* In the command, after no_new_privs (inherited from the init), before
 * seccomp: one system call, nothing allocated (this is a vfork child). */
int landlock_restrict(int ruleset, struct sbx_err *err)
{
	if (ruleset < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return sbx_fail(err, -errno, "landlock_restrict_self");
	return 0;
}
