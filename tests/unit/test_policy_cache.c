/* tests/unit/test_policy_cache.c — the compiled-policy cache
 * (sandbox/policy_cache.c): a hit gives exactly what compiling gives, and
 * anything damaged, foreign or redirected is a miss that still loads the
 * policy. Every test uses its own SANDRUN_CACHE_DIR under a temporary
 * directory. No root needed (as root, files owned by someone else are
 * tested too). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sandbox/policy_internal.h"
#include "sandbox/sandbox.h"
#include "lib/hash.h"
#include "lib/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Two layers (ioctl is allowed and, for TIOCSTI, killed), a flag and the
 * kills bit: every field of an entry is something a hit must restore. */
static const char policy_a[] =
	"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
	" \"syscalls\": [\n"
	"  {\"names\": [\"read\", \"write\", \"exit_group\", \"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\"},\n"
	"  {\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_KILL_PROCESS\",\n"
	"   \"args\": [{\"index\": 1, \"value\": 21522, \"op\": \"SCMP_CMP_EQ\"}]}]}\n";
static const char policy_b[] =
	"{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
	" \"syscalls\": [{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\"}]}\n";

static char root[64];        /* the test's temporary directory */
static char pol_dir[128];    /* root/pol: a.json, b.json */

/* Offsets in an entry (policy_cache.c): magic 8, format 4, key 32, then
 * flags, kills, nlayers, the first layer's length. */
enum { OFF_FLAGS = 44, OFF_KILLS = 48, OFF_NLAYERS = 52, OFF_LEN0 = 56 };

static void write_file(const char *path, const void *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sr_write_all(fd, data, len), 0);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(sr_read_full(fd, buf, (size_t)st.st_size), (int)st.st_size);
	*len = (size_t)st.st_size;
	return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/sandrun-pcache.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(pol_dir, sizeof pol_dir, "%s/pol", root);
	if (mkdir(pol_dir, 0700) < 0)
		return -1;
	char path[256];
	snprintf(path, sizeof path, "%s/a.json", pol_dir);
	write_file(path, policy_a, strlen(policy_a));
	snprintf(path, sizeof path, "%s/b.json", pol_dir);
	write_file(path, policy_b, strlen(policy_b));
	unsetenv("SANDRUN_NO_POLICY_CACHE");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* SANDRUN_CACHE_DIR=root/<name>; returns the entries' directory. */
static const char *use_cache(const char *name, char *policy_sub, size_t len)
{
	static char base[256];
	snprintf(base, sizeof base, "%s/%s", root, name);
	setenv("SANDRUN_CACHE_DIR", base, 1);
	snprintf(policy_sub, len, "%s/policy", base);
	return base;
}

/* The one entry in dir (there must be exactly one, and no leftover
 * temporary file), as a path. */
static void the_entry(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		size_t l = strlen(e->d_name);
		assert_true(l == 68 && strcmp(e->d_name + 64, ".bpf") == 0);
		snprintf(out, len, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 1);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* What compiling gives, without the cache. */
static struct sbx_policy *fresh(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s.json", pol_dir, name);
	size_t len;
	_cleanup_free_ unsigned char *text = read_file(path, &len);
	struct pol_env env;
	assert_int_equal(pol_env_host(&env, NULL), 0);
	struct sbx_policy *p = NULL;
	assert_int_equal(pol_policy_from_json((const char *)text, len, name, path, &env, &p, NULL), 0);
	return p;
}

static void assert_same(const struct sbx_policy *got, const char *name)
{
	struct sbx_policy *want = fresh(name);
	assert_string_equal(sbx_policy_name(got), name);
	assert_int_equal(pol_policy_nlayers(got), pol_policy_nlayers(want));
	assert_int_equal(pol_policy_flags(got), pol_policy_flags(want));
	assert_int_equal(sbx_policy_kills(got), sbx_policy_kills(want));
	for (size_t l = 0; l < pol_policy_nlayers(want); l++) {
		const struct sock_fprog *g = pol_policy_layer(got, l), *w = pol_policy_layer(want, l);
		assert_int_equal(g->len, w->len);
		assert_memory_equal(g->filter, w->filter, w->len * sizeof *w->filter);
	}
	sbx_policy_free(want);
}

/* Load `name`; assert it loaded, whether it came from the cache, and that
 * it is what compiling gives. */
static void load_expect(const char *name, bool from_cache)
{
	struct sbx_policy *p = NULL;
	struct sbx_err e = SBX_ERR_INIT;
	int r = sbx_policy_load(name, pol_dir, &p, &e);
	if (r < 0)
		print_error("load %s: %s\n", name, sbx_err_text(&e, r));
	assert_int_equal(r, 0);
	assert_int_equal(pol_policy_from_cache(p), from_cache);
	assert_same(p, name);
	sbx_policy_free(p);
}

/* Rewrite the trailing checksum after a deliberate change, so that only
 * the other checks stand between the change and a hit. */
static void reseal(unsigned char *buf, size_t len)
{
	sr_sha256(buf, len - SR_SHA256_LEN, buf + len - SR_SHA256_LEN);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- tests ----------------------------------------------------------- */

static void test_miss_then_hit(void **state)
{
	(void)state;
	char sub[300], entry[400];
	const char *base = use_cache("c-hit", sub, sizeof sub);
	load_expect("a", false);
	/* both levels created, private to the effective user */
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	the_entry(sub, entry, sizeof entry);
	assert_int_equal(stat(entry, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	load_expect("a", true);
	load_expect("a", true);
	load_expect("b", false);
	load_expect("b", true);
	assert_int_equal(count_entries(sub), 2);

	/* the name is part of the key: a path to the same file is its own entry */
	char path[256];
	snprintf(path, sizeof path, "%s/a.json", pol_dir);
	struct sbx_policy *p = NULL;
	assert_int_equal(sbx_policy_load(path, NULL, &p, NULL), 0);
	assert_false(pol_policy_from_cache(p));
	assert_string_equal(sbx_policy_name(p), path);
	sbx_policy_free(p);
	assert_int_equal(count_entries(sub), 3);

	/* a changed policy text is a miss */
	char changed[sizeof policy_b + 8];
	snprintf(changed, sizeof changed, "%s ", policy_b);
	snprintf(path, sizeof path, "%s/b.json", pol_dir);
	write_file(path, changed, strlen(changed));
	load_expect("b", false);
	write_file(path, policy_b, strlen(policy_b));
	load_expect("b", true);

	/* the escape hatch: neither read nor written */
	setenv("SANDRUN_NO_POLICY_CACHE", "1", 1);
	load_expect("a", false);
	use_cache("c-off", sub, sizeof sub);
	load_expect("a", false);
	assert_int_equal(access(sub, F_OK), -1);
	unsetenv("SANDRUN_NO_POLICY_CACHE");
}

static void test_damaged_entries(void **state)
{
	(void)state;
	char sub[300], entry[400];
	use_cache("c-damage", sub, sizeof sub);
	load_expect("a", false);
	the_entry(sub, entry, sizeof entry);
	size_t len;
	_cleanup_free_ unsigned char *good = read_file(entry, &len);
	assert_true(len > OFF_LEN0 + 4 + 8 + SR_SHA256_LEN);
	_cleanup_free_ unsigned char *bad = malloc(len + 1);
	assert_non_null(bad);

	/* each damage: the entry is ignored, the policy compiled, the entry
	 * rewritten (the next load hits) */
	enum { FLIP_BPF, FLIP_SUM, FLIP_MAGIC, TRUNC1, TRUNC_HEAD, APPEND, EMPTY,
	       NLAYERS0, NLAYERS9, LEN0, LENMAX, LENSHORT, FLAGS, KILLS, NDAMAGE };
	for (int d = 0; d < NDAMAGE; d++) {
		memcpy(bad, good, len);
		size_t n = len;
		switch (d) {
		case FLIP_BPF: bad[OFF_LEN0 + 4 + 13] ^= 0x01; break;
		case FLIP_SUM: bad[len - 1] ^= 0x80; break;
		case FLIP_MAGIC: bad[0] ^= 0x20; reseal(bad, n); break;
		case TRUNC1: n = len - 1; break;
		case TRUNC_HEAD: n = 10; break;
		case APPEND: bad[len] = 0; n = len + 1; break;
		case EMPTY: n = 0; break;
		case NLAYERS0: put32(bad + OFF_NLAYERS, 0); reseal(bad, n); break;
		case NLAYERS9: put32(bad + OFF_NLAYERS, POL_MAX_LAYERS + 1); reseal(bad, n); break;
		case LEN0: put32(bad + OFF_LEN0, 0); reseal(bad, n); break;
		case LENMAX: put32(bad + OFF_LEN0, BPF_MAXINSNS + 1); reseal(bad, n); break;
		/* one instruction less in layer 0: every length still in range,
		 * but the file is longer than the header says */
		case LENSHORT: {
			uint32_t l0 = (uint32_t)bad[OFF_LEN0] | (uint32_t)bad[OFF_LEN0 + 1] << 8;
			put32(bad + OFF_LEN0, l0 - 1);
			reseal(bad, n);
			break;
		}
		case FLAGS: put32(bad + OFF_FLAGS, 1u << 30); reseal(bad, n); break;
		case KILLS: put32(bad + OFF_KILLS, 2); reseal(bad, n); break;
		}
		write_file(entry, bad, n);
		print_message("# damage %d\n", d);
		load_expect("a", false);
		size_t now_len;
		_cleanup_free_ unsigned char *now = read_file(entry, &now_len);
		assert_int_equal(now_len, len);
		assert_memory_equal(now, good, len);
		load_expect("a", true);
	}

	/* a sound entry of another key, copied to this key's name */
	char sub_b[300], entry_b[400];
	use_cache("c-damage-b", sub_b, sizeof sub_b);
	load_expect("b", false);
	the_entry(sub_b, entry_b, sizeof entry_b);
	size_t blen;
	_cleanup_free_ unsigned char *b = read_file(entry_b, &blen);
	use_cache("c-damage", sub, sizeof sub);
	write_file(entry, b, blen);
	load_expect("a", false);
	load_expect("a", true);
}

static void test_untrusted_entries(void **state)
{
	(void)state;
	char sub[300], entry[400];
	const char *base = use_cache("c-trust", sub, sizeof sub);
	load_expect("a", false);
	the_entry(sub, entry, sizeof entry);

	/* group- or other-writable: someone else could have written it */
	for (mode_t m = 0620; m; m = m == 0620 ? 0602 : 0) {
		assert_int_equal(chmod(entry, m), 0);
		load_expect("a", false);
		struct stat st;
		assert_int_equal(stat(entry, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);   /* replaced by our own */
		load_expect("a", true);
	}
	/* owned by someone else (only root can make one) */
	if (geteuid() == 0) {
		assert_int_equal(chown(entry, 65534, 65534), 0);
		load_expect("a", false);
		load_expect("a", true);
	}

	/* a directory level others can write, or that is someone else's:
	 * not read, not written */
	size_t before = count_entries(sub);
	assert_int_equal(chmod(sub, 0770), 0);
	load_expect("a", false);
	load_expect("b", false);
	assert_int_equal(count_entries(sub), before);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(chmod(base, 0702), 0);
	load_expect("a", false);
	assert_int_equal(chmod(base, 0700), 0);
	load_expect("a", true);
	if (geteuid() == 0) {
		assert_int_equal(chown(base, 65534, 65534), 0);
		load_expect("a", false);
		assert_int_equal(count_entries(sub), before);
		assert_int_equal(chown(base, 0, 0), 0);
		load_expect("a", true);
	}

	/* nor a world-writable directory in the cache's place */
	char other[300];
	snprintf(other, sizeof other, "%s/c-foreign", root);
	assert_int_equal(mkdir(other, 0777), 0);
	assert_int_equal(chmod(other, 0777), 0);
	use_cache("c-foreign", sub, sizeof sub);
	load_expect("a", false);
	assert_int_equal(access(sub, F_OK), -1);
}

static void test_links_and_fifos(void **state)
{
	(void)state;
	char sub[300], entry[400];
	use_cache("c-link", sub, sizeof sub);
	load_expect("a", false);
	the_entry(sub, entry, sizeof entry);

	/* a symlink in place of the entry, to a sound copy: not followed, and
	 * the copy is left alone when the entry is rewritten */
	char elsewhere[300];
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere.bpf", root);
	assert_int_equal(rename(entry, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, entry), 0);
	load_expect("a", false);
	struct stat st;
	assert_int_equal(lstat(entry, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(lstat(elsewhere, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	load_expect("a", true);

	/* a FIFO in place of the entry must not hang the load */
	assert_int_equal(unlink(entry), 0);
	assert_int_equal(mkfifo(entry, 0600), 0);
	load_expect("a", false);
	load_expect("a", true);

	/* a symlink as either directory level: not followed, nothing written
	 * through it */
	char real[300], link_base[300];
	snprintf(real, sizeof real, "%s/c-link", root);
	snprintf(link_base, sizeof link_base, "%s/c-via-link", root);
	assert_int_equal(symlink(real, link_base), 0);
	use_cache("c-via-link", sub, sizeof sub);
	load_expect("a", false);
	load_expect("b", false);
	snprintf(sub, sizeof sub, "%s/policy", real);
	assert_int_equal(count_entries(sub), 1);

	char base2[300], sub2[300];
	snprintf(base2, sizeof base2, "%s/c-sublink", root);
	assert_int_equal(mkdir(base2, 0700), 0);
	snprintf(sub2, sizeof sub2, "%s/policy", base2);
	assert_int_equal(symlink(sub, sub2), 0);
	use_cache("c-sublink", sub, sizeof sub);
	load_expect("b", false);
	snprintf(sub, sizeof sub, "%s/policy", real);
	assert_int_equal(count_entries(sub), 1);
}

static void test_unusable_dir(void **state)
{
	(void)state;
	char sub[300], file[300];
	/* a path through a regular file: cannot exist, cannot be made */
	snprintf(file, sizeof file, "%s/plainfile", root);
	write_file(file, "x", 1);
	use_cache("plainfile/cache", sub, sizeof sub);
	load_expect("a", false);
	load_expect("a", false);
	/* a parent that does not exist: only the last level is created */
	use_cache("missing/cache", sub, sizeof sub);
	load_expect("a", false);
	/* read-only for us (as root, DAC does not stop the write: then it
	 * simply works) */
	const char *base = use_cache("c-ro", sub, sizeof sub);
	assert_int_equal(mkdir(base, 0700), 0);
	assert_int_equal(mkdir(sub, 0500), 0);
	load_expect("a", false);
	if (geteuid() != 0)
		assert_int_equal(count_entries(sub), 0);
	assert_int_equal(chmod(sub, 0700), 0);
	/* silly values */
	setenv("SANDRUN_CACHE_DIR", "/", 1);
	struct sbx_policy *p = NULL;
	assert_int_equal(sbx_policy_load("b", pol_dir, &p, NULL), 0);
	sbx_policy_free(p);
}

/* Every input the key covers changes it; the same inputs give the same
 * key (the build ids and the kernel cannot be varied here). */
static void test_key(void **state)
{
	(void)state;
	struct pol_env env;
	assert_int_equal(pol_env_host(&env, NULL), 0);
	unsigned char k0[POL_CACHE_KEY_LEN], k[POL_CACHE_KEY_LEN];
	assert_int_equal(pol_cache_key("abc", 3, "n", &env, k0), 0);
	assert_int_equal(pol_cache_key("abc", 3, "n", &env, k), 0);
	assert_memory_equal(k, k0, sizeof k);
	assert_int_equal(pol_cache_key("abd", 3, "n", &env, k), 0);
	assert_memory_not_equal(k, k0, sizeof k);
	assert_int_equal(pol_cache_key("abc", 2, "n", &env, k), 0);
	assert_memory_not_equal(k, k0, sizeof k);
	assert_int_equal(pol_cache_key("abc", 3, "m", &env, k), 0);
	assert_memory_not_equal(k, k0, sizeof k);
	/* the boundary between text and name is part of the key */
	assert_int_equal(pol_cache_key("ab", 2, "cn", &env, k), 0);
	assert_int_equal(pol_cache_key("abc", 3, "n", &env, k0), 0);
	assert_memory_not_equal(k, k0, sizeof k);
	struct pol_env e2 = env;
	e2.kernel[2]++;
	assert_int_equal(pol_cache_key("abc", 3, "n", &e2, k), 0);
	assert_memory_not_equal(k, k0, sizeof k);
	static const char *const other[] = { "x86_64", NULL }, *const none[] = { NULL };
	e2 = env;
	e2.arch = other;
	assert_int_equal(pol_cache_key("abc", 3, "n", &e2, k), 0);
	assert_memory_not_equal(k, k0, sizeof k);
	e2.arch = none;
	assert_int_equal(pol_cache_key("abc", 3, "n", &e2, k), 0);
	assert_memory_not_equal(k, k0, sizeof k);
}

/* The one SHA-256: FIPS 180-4 vectors, including a multi-block input fed
 * in uneven pieces. */
static void test_sha256(void **state)
{
	(void)state;
	unsigned char d[SR_SHA256_LEN];
	char hex[2 * SR_SHA256_LEN + 1];
	sr_sha256("abc", 3, d);
	sr_sha256_hex(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	static char a[2048];
	memset(a, 'a', sizeof a);
	struct sr_sha256 s;
	sr_sha256_init(&s);
	for (size_t i = 0, step = 1; i < 1000000; i += step, step = step % 997 + 63) {
		size_t take = 1000000 - i < step ? 1000000 - i : step;
		sr_sha256_update(&s, a, take);
	}
	sr_sha256_final(&s, d);
	sr_sha256_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_miss_then_hit),
		cmocka_unit_test(test_damaged_entries),
		cmocka_unit_test(test_untrusted_entries),
		cmocka_unit_test(test_links_and_fifos),
		cmocka_unit_test(test_unusable_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
