/* sandbox/policy_cache.c — compiled seccomp policies kept across processes.
 *
 * Compiling default.json with libseccomp for three ABIs takes ~13 ms, more
 * than half of a `sandrun exec`. The result only depends on inputs that
 * rarely change, so it is kept in <dir>/policy/<key>.bpf, <dir> being
 * $SANDRUN_CACHE_DIR or /var/cache/sandrun. docs/policy.md has the
 * reasoning; in short:
 *
 * - A hit must install exactly what compiling would. The key covers every
 *   input of the compile: the policy text and name, the host environment
 *   the parser evaluates (arch names, kernel version), the kernel and the
 *   libseccomp runtime, and the code that compiles (the build ids of the
 *   program and of every loaded library). Any change is a miss.
 * - An entry decides what a job may do, so it is as trusted as the policy
 *   file: only the effective user may have written it. Both directory
 *   levels and the file must be owned by geteuid() and not group/other
 *   writable, and are opened without following symlinks.
 * - A file is read whole and checked (magic, key, every size, a trailing
 *   SHA-256) before anything of it is used; entries are written to a
 *   temporary name and renamed, so a reader never sees half a file.
 * - The cache never fails a run: anything unexpected is a miss, and a
 *   failed write is ignored.
 */
#include "policy_internal.h"
#include "lib/hash.h"
#include "lib/fd.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef SANDRUN_VERSION
#define SANDRUN_VERSION "unknown"
#endif

#define CACHE_DEFAULT_DIR "/var/cache/sandrun"
#define CACHE_MAGIC "SRPOLBPF"     /* 8 bytes, no NUL */
#define CACHE_FORMAT 1u
/* Bump when compile() or the file layout changes what an entry means
 * (a sandrun build with another build id misses anyway). */
#define KEY_FORMAT "sandrun policy cache 1"
/* Every flag pol_parse_json() can set. A file with another one was not
 * written by this code. */
#define KNOWN_FLAGS ((uint32_t)SECCOMP_FILTER_FLAG_LOG)

_Static_assert(POL_CACHE_KEY_LEN == SR_SHA256_LEN, "the key is a SHA-256");

/* magic, format, key, flags, kills, nlayers | per layer: len, insns | sum */
#define HEADER_LEN (8 + 4 + POL_CACHE_KEY_LEN + 4 + 4 + 4)
#define MAX_FILE (HEADER_LEN + POL_MAX_LAYERS * (4 + BPF_MAXINSNS * sizeof(struct sock_filter)) + \
		  SR_SHA256_LEN)

/* The escape hatch: SANDRUN_NO_POLICY_CACHE=1 neither reads nor writes. */
static bool cache_enabled(void)
{
	const char *e = getenv("SANDRUN_NO_POLICY_CACHE");
	return !e || !*e || strcmp(e, "0") == 0;
}

/* ---- the key --------------------------------------------------------- */

static void put_u64(struct sr_sha256 *s, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	sr_sha256_update(s, b, sizeof b);
}

/* Length first, so that no two different inputs hash the same bytes. */
static void put_bytes(struct sr_sha256 *s, const void *p, size_t n)
{
	put_u64(s, n);
	sr_sha256_update(s, p, n);
}

static void put_str(struct sr_sha256 *s, const char *str)
{
	if (str)
		put_bytes(s, str, strlen(str));
	else
		put_u64(s, UINT64_MAX);
}

/* The code that parses and compiles: the GNU build id of every loaded
 * object (the program, which holds sandbox/, libseccomp, jansson, libc),
 * so that a rebuilt sandrun or an updated library never reuses programs
 * compiled by the old code. An object without one is named by its file's
 * identity instead. */
static int hash_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct sr_sha256 *s = data;
	bool found = false;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		size_t align = ph->p_align == 8 ? 8 : 4;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		size_t left = ph->p_memsz;
		while (left >= sizeof(ElfW(Nhdr))) {
			ElfW(Nhdr) n;
			memcpy(&n, p, sizeof n);
			size_t name_len = (n.n_namesz + align - 1) & ~(align - 1);
			size_t desc_len = (n.n_descsz + align - 1) & ~(align - 1);
			if (name_len > left || desc_len > left - name_len ||
			    sizeof n > left - name_len - desc_len)
				break;
			if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 &&
			    memcmp(p + sizeof n, "GNU", 4) == 0) {
				put_bytes(s, p + sizeof n + name_len, n.n_descsz);
				found = true;
			}
			p += sizeof n + name_len + desc_len;
			left -= sizeof n + name_len + desc_len;
		}
	}
	if (!found) {
		const char *path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
		struct stat st;
		put_str(s, path);
		if (stat(path, &st) == 0) {
			put_u64(s, st.st_dev);
			put_u64(s, st.st_ino);
			put_u64(s, (uint64_t)st.st_size);
			put_u64(s, (uint64_t)st.st_mtim.tv_sec);
			put_u64(s, (uint64_t)st.st_mtim.tv_nsec);
		} else {
			put_u64(s, UINT64_MAX);
		}
	}
	return 0;
}

int pol_cache_key(const char *text, size_t len, const char *name,
		  const struct pol_env *env, unsigned char key[POL_CACHE_KEY_LEN])
{
	struct sr_sha256 s;
	sr_sha256_init(&s);
	put_str(&s, KEY_FORMAT);
	put_str(&s, SANDRUN_VERSION);
	put_bytes(&s, text, len);
	put_str(&s, name);
	/* what includes/excludes were evaluated against (pol_env_host) */
	for (const char *const *a = env->arch; a && *a; a++)
		put_str(&s, *a);
	put_u64(&s, UINT64_MAX);
	for (int i = 0; i < 3; i++)
		put_u64(&s, env->kernel[i]);
	/* which ABIs get compiled, libseccomp's syscall tables and code
	 * generator, and what it found the kernel supports */
	put_u64(&s, seccomp_arch_native());
	const struct scmp_version *v = seccomp_version();
	put_u64(&s, v ? v->major : UINT64_MAX);
	put_u64(&s, v ? v->minor : UINT64_MAX);
	put_u64(&s, v ? v->micro : UINT64_MAX);
	put_u64(&s, seccomp_api_get());
	/* the full kernel identity: env->kernel is only three numbers, and
	 * two builds of one release may differ in what they support */
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	put_str(&s, u.release);
	put_str(&s, u.version);
	put_str(&s, u.machine);
	dl_iterate_phdr(hash_object, &s);
	sr_sha256_final(&s, key);
	return 0;
}

/* ---- the directory --------------------------------------------------- */

/* Written by us and nobody else: whoever can write an entry chooses what
 * the jobs may do. */
static bool trusted(const struct stat *st, mode_t type)
{
	return (st->st_mode & S_IFMT) == type && st->st_uid == geteuid() &&
	       !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* One level, never through a symlink (O_NOFOLLOW): a link planted in place
 * of the directory would send us to files we did not write. */
static int open_level(int parent, const char *name)
{
	int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	_cleanup_close_ int fd = openat(parent, name, flags);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(parent, name, flags);
	}
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!trusted(&st, S_IFDIR))
		return -EPERM;
	return sr_steal_fd(&fd);
}

int pol_cache_open(void)
{
	if (!cache_enabled())
		return -ECANCELED;
	const char *base = getenv("SANDRUN_CACHE_DIR");
	if (!base || !*base)
		base = CACHE_DEFAULT_DIR;
	char buf[PATH_MAX];
	size_t n = strlen(base);
	if (n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, base, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	/* The parent is configuration (the admin's /var/cache, or the test's
	 * /tmp) and may be reached through links; the two levels that hold
	 * entries are checked. Only the last level is created. */
	const char *parent = ".", *leaf = buf;
	char *slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		parent = slash == buf ? "/" : buf;
		leaf = slash + 1;
	}
	if (!*leaf || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0)
		return -EINVAL;
	_cleanup_close_ int pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	_cleanup_close_ int bfd = open_level(pfd, leaf);
	if (bfd < 0)
		return bfd;
	return open_level(bfd, "policy");
}

static void entry_name(const unsigned char key[POL_CACHE_KEY_LEN], char *out, size_t len)
{
	char hex[2 * SR_SHA256_LEN + 1];
	sr_sha256_hex(key, hex);
	snprintf(out, len, "%s.bpf", hex);
}

/* ---- the file -------------------------------------------------------- */

static void put32(unsigned char **p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		(*p)[i] = (unsigned char)(v >> (8 * i));
	*p += 4;
}

static uint32_t get32(const unsigned char **p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)(*p)[i] << (8 * i);
	*p += 4;
	return v;
}

/* `buf` holds the whole file, `size` bytes. Nothing is taken from it
 * before the checksum, the key and every length have been checked. */
static int decode(const unsigned char *buf, size_t size, const unsigned char key[POL_CACHE_KEY_LEN],
		  struct sbx_policy *p)
{
	if (size < HEADER_LEN + SR_SHA256_LEN || size > MAX_FILE)
		return -EBADMSG;
	unsigned char sum[SR_SHA256_LEN];
	sr_sha256(buf, size - SR_SHA256_LEN, sum);
	if (memcmp(sum, buf + size - SR_SHA256_LEN, SR_SHA256_LEN) != 0)
		return -EBADMSG;
	const unsigned char *q = buf, *end = buf + size - SR_SHA256_LEN;
	if (memcmp(q, CACHE_MAGIC, 8) != 0)
		return -EBADMSG;
	q += 8;
	if (get32(&q) != CACHE_FORMAT)
		return -EBADMSG;
	/* a file copied from another key's name is not this policy */
	if (memcmp(q, key, POL_CACHE_KEY_LEN) != 0)
		return -EBADMSG;
	q += POL_CACHE_KEY_LEN;
	uint32_t flags = get32(&q), kills = get32(&q), nlayers = get32(&q);
	if ((flags & ~KNOWN_FLAGS) || kills > 1 || nlayers < 1 || nlayers > POL_MAX_LAYERS)
		return -EBADMSG;
	for (uint32_t l = 0; l < nlayers; l++) {
		if ((size_t)(end - q) < 4)
			return -EBADMSG;
		uint32_t len = get32(&q);
		if (len < 1 || len > BPF_MAXINSNS || (size_t)(end - q) < len * sizeof(struct sock_filter))
			return -EBADMSG;
		struct sock_filter *f = malloc(len * sizeof *f);
		if (!f)
			return -ENOMEM;
		memcpy(f, q, len * sizeof *f);
		q += len * sizeof *f;
		p->layer[l] = (struct sock_fprog){ .len = (unsigned short)len, .filter = f };
		p->nlayers = l + 1;
	}
	if (q != end)
		return -EBADMSG;
	p->flags = flags;
	p->kills = kills == 1;
	return 0;
}

int pol_cache_get(int dirfd, const unsigned char key[POL_CACHE_KEY_LEN],
		  const char *name, struct sbx_policy **out)
{
	*out = NULL;
	char file[2 * SR_SHA256_LEN + 8];
	entry_name(key, file, sizeof file);
	/* O_NONBLOCK: a FIFO in its place must not hang the runner */
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!trusted(&st, S_IFREG))
		return -EPERM;
	if (st.st_size < HEADER_LEN + SR_SHA256_LEN || (size_t)st.st_size > MAX_FILE)
		return -EBADMSG;
	size_t size = (size_t)st.st_size;
	_cleanup_free_ unsigned char *buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	/* one byte more than fstat said: a file that grew is not the one checked */
	int n = sr_read_full(fd, buf, size + 1);
	if (n < 0)
		return n;
	if ((size_t)n != size)
		return -EBADMSG;
	struct sbx_policy *p = calloc(1, sizeof *p);
	if (!p || !(p->name = strdup(name))) {
		free(p);
		return -ENOMEM;
	}
	int r = decode(buf, size, key, p);
	if (r < 0) {
		sbx_policy_free(p);
		return r;
	}
	p->from_cache = true;
	*out = p;
	return 0;
}

int pol_cache_put(int dirfd, const unsigned char key[POL_CACHE_KEY_LEN],
		  const struct sbx_policy *p)
{
	if (!p || p->nlayers < 1 || p->nlayers > POL_MAX_LAYERS)
		return -EINVAL;
	size_t size = HEADER_LEN + SR_SHA256_LEN;
	for (size_t l = 0; l < p->nlayers; l++)
		size += 4 + p->layer[l].len * sizeof(struct sock_filter);
	_cleanup_free_ unsigned char *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	unsigned char *q = buf;
	memcpy(q, CACHE_MAGIC, 8);
	q += 8;
	put32(&q, CACHE_FORMAT);
	memcpy(q, key, POL_CACHE_KEY_LEN);
	q += POL_CACHE_KEY_LEN;
	put32(&q, p->flags);
	put32(&q, p->kills ? 1 : 0);
	put32(&q, (uint32_t)p->nlayers);
	for (size_t l = 0; l < p->nlayers; l++) {
		size_t bytes = p->layer[l].len * sizeof(struct sock_filter);
		put32(&q, p->layer[l].len);
		memcpy(q, p->layer[l].filter, bytes);
		q += bytes;
	}
	sr_sha256(buf, (size_t)(q - buf), q);

	/* Written under a name no reader looks up, then renamed over the
	 * entry: a reader sees the old file, the new one, or none. */
	char file[2 * SR_SHA256_LEN + 8], tmp[2 * SR_SHA256_LEN + 64];
	entry_name(key, file, sizeof file);
	snprintf(tmp, sizeof tmp, ".%s.%d.%llx.tmp", file, (int)getpid(),
		 (unsigned long long)sr_now_us());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = sr_write_all(fd, buf, size);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, file) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}
