/* tests/unit/test_inputs.c — collecting inputs (runner/inputs.c,
 * runner/inputs_feed.c): the pure rules (classification, messages, lexical
 * paths, list splitting), the walk and the resumable feed on a scratch tree
 * in a temporary directory (no root needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner/inputs.h"
#include "tests/unit/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- pure rules ------------------------------------------------------- */

static void test_classify(void **state)
{
	assert_int_equal(inputs_classify(S_IFREG | 0644, false), INPUT_CLASS_FILE);
	assert_int_equal(inputs_classify(S_IFREG | 0644, true), INPUT_CLASS_FILE);
	assert_int_equal(inputs_classify(S_IFDIR | 0755, false), INPUT_CLASS_DIR_NO_R);
	assert_int_equal(inputs_classify(S_IFDIR | 0755, true), INPUT_CLASS_WALK);
	assert_int_equal(inputs_classify(S_IFLNK | 0777, true), INPUT_CLASS_SYMLINK);
	assert_int_equal(inputs_classify(S_IFIFO | 0644, true), INPUT_CLASS_SPECIAL);
	assert_int_equal(inputs_classify(S_IFSOCK | 0644, false), INPUT_CLASS_SPECIAL);
	assert_int_equal(inputs_classify(S_IFCHR | 0644, false), INPUT_CLASS_SPECIAL);
}

static void test_messages(void **state)
{
	assert_non_null(strstr(inputs_class_message(INPUT_CLASS_DIR_NO_R, S_IFDIR), "use -r"));
	assert_non_null(strstr(inputs_class_message(INPUT_CLASS_SYMLINK, S_IFLNK), "symbolic link"));
	assert_non_null(strstr(inputs_class_message(INPUT_CLASS_SPECIAL, S_IFIFO), "FIFO"));
	assert_non_null(strstr(inputs_class_message(INPUT_CLASS_SPECIAL, S_IFCHR), "device"));
	assert_non_null(strstr(inputs_class_message(INPUT_CLASS_SPECIAL, S_IFSOCK), "socket"));
	assert_string_equal(inputs_errno_message(-ENOENT), "no such file or directory");
	assert_string_equal(inputs_errno_message(-EACCES), "permission denied");
	/* O_NOFOLLOW's ELOOP is explained as the link rule, not as a loop. */
	assert_non_null(strstr(inputs_errno_message(-ELOOP), "does not follow links"));
	assert_non_null(strstr(inputs_errno_message(-EINVAL), "not a regular file"));
}

static void check_abs(const char *cwd, const char *path, const char *want)
{
	char out[PATH_MAX];
	assert_int_equal(inputs_absolute(cwd, path, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void test_absolute(void **state)
{
	check_abs("/home/u", "a.wav", "/home/u/a.wav");
	check_abs("/home/u", "./a.wav", "/home/u/a.wav");
	check_abs("/home/u", "d//e/./f", "/home/u/d/e/f");
	check_abs("/home/u", "../x", "/home/x");
	check_abs("/home/u", "../../../../x", "/x"); /* never above the root */
	check_abs("/home/u", "/abs/../p", "/p");
	check_abs("/", ".", "/");
	check_abs("/home/u", "dir/", "/home/u/dir");
	char tiny[8];
	assert_int_equal(inputs_absolute("/", "/a/long/path", tiny, sizeof tiny), -ENAMETOOLONG);
}

/* ---- list splitting ----------------------------------------------------- */

struct entries {
	char got[16][64];
	int n;
};

static int collect_entry(const char *e, void *ctx)
{
	struct entries *en = ctx;
	snprintf(en->got[en->n++], sizeof en->got[0], "%s", e);
	return 0;
}

static void test_split_newlines_any_chunking(void **state)
{
	const char text[] = "a.wav\n\nsub dir/b.wav\n  spaced  \nlast";
	/* Every way of cutting the stream in two gives the same entries. */
	for (size_t cut = 0; cut <= sizeof text - 1; cut++) {
		struct entries en = { .n = 0 };
		struct list_splitter sp;
		list_splitter_init(&sp, '\n');
		assert_int_equal(list_splitter_feed(&sp, text, cut, collect_entry, &en), 0);
		assert_int_equal(list_splitter_feed(&sp, text + cut, sizeof text - 1 - cut, collect_entry, &en), 0);
		assert_int_equal(list_splitter_finish(&sp, collect_entry, &en), 0);
		list_splitter_free(&sp);
		assert_int_equal(en.n, 4);
		assert_string_equal(en.got[0], "a.wav");
		assert_string_equal(en.got[1], "sub dir/b.wav");
		assert_string_equal(en.got[2], "  spaced  "); /* paths are kept byte for byte */
		assert_string_equal(en.got[3], "last");       /* no final separator */
	}
}

static void test_split_nul(void **state)
{
	const char text[] = "with\nnewline\0b\0\0c";
	struct entries en = { .n = 0 };
	struct list_splitter sp;
	list_splitter_init(&sp, '\0');
	assert_int_equal(list_splitter_feed(&sp, text, sizeof text - 1, collect_entry, &en), 0);
	assert_int_equal(list_splitter_finish(&sp, collect_entry, &en), 0);
	list_splitter_free(&sp);
	assert_int_equal(en.n, 3);
	assert_string_equal(en.got[0], "with\nnewline");
	assert_string_equal(en.got[1], "b");
	assert_string_equal(en.got[2], "c");
}

static void test_split_refuses_nul_in_lines_and_huge_entries(void **state)
{
	struct entries en = { .n = 0 };
	struct list_splitter sp;
	list_splitter_init(&sp, '\n');
	assert_int_equal(list_splitter_feed(&sp, "a\0b\n", 4, collect_entry, &en), -EILSEQ);
	list_splitter_free(&sp);
	assert_int_equal(en.n, 0);

	list_splitter_init(&sp, '\n');
	char *big = malloc(70000);
	memset(big, 'x', 70000);
	assert_int_equal(list_splitter_feed(&sp, big, 70000, collect_entry, &en), -E2BIG);
	list_splitter_free(&sp);
	free(big);
}

/* ---- the walk, on a scratch tree ----------------------------------------- */

static void put(const char *root, const char *rel, const char *content)
{
	assert_int_equal(tk_put(root, rel, content), 0);
}

static int tree_setup(void **state)
{
	if (tk_tree_new(state, "inputs") < 0)
		return -1;
	struct tk_tree *t = *state;
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/d", t->root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/d/sub", t->root);
	mkdir(p, 0755);
	put(t->root, "d/b.wav", "bb");
	put(t->root, "d/a.wav", "a");
	put(t->root, "d/sub/c.wav", "ccc");
	put(t->root, "top.wav", "top");
	snprintf(p, sizeof p, "%s/d/link.wav", t->root);
	symlink("a.wav", p);
	snprintf(p, sizeof p, "%s/d/fifo", t->root);
	mkfifo(p, 0644);
	snprintf(p, sizeof p, "%s/dangling", t->root);
	symlink("nowhere", p);
	snprintf(p, sizeof p, "%s/dlink", t->root);
	symlink("d", p);
	return 0;
}

struct seen {
	char line[32][PATH_MAX + 64];
	int n;
	const char *root;
};

static int record(const struct input *in, void *ctx)
{
	struct seen *s = ctx;
	const char *rel = strncmp(in->path, s->root, strlen(s->root)) == 0 ? in->path + strlen(s->root) : in->path;
	if (in->skip) /* counted in the stats; tests/unit/test_input_filter.c has them */
		return 0;
	if (in->error)
		snprintf(s->line[s->n++], sizeof s->line[0], "E %s: %s", rel, in->error);
	else
		snprintf(s->line[s->n++], sizeof s->line[0], "F %s %lld", rel, (long long)in->size);
	return 0;
}

static void collect(struct tk_tree *t, const char *rel, bool recursive, struct seen *s,
		    struct inputs_stats *st)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", t->root, rel);
	struct inputs_opts o = { .recursive = recursive };
	assert_int_equal(inputs_collect_path(p, &o, record, s, st), 0);
}

static void test_walk_sorted_files_only(void **state)
{
	struct tk_tree *t = *state;
	struct seen s = { .n = 0, .root = t->root };
	struct inputs_stats st = { 0 };
	collect(t, "d", true, &s, &st);
	/* Byte order of names, depth first; the link and the FIFO are skipped. */
	assert_int_equal(s.n, 3);
	assert_string_equal(s.line[0], "F /d/a.wav 1");
	assert_string_equal(s.line[1], "F /d/b.wav 2");
	assert_string_equal(s.line[2], "F /d/sub/c.wav 3");
	assert_int_equal(st.files, 3);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.skipped, 2);
}

static void test_named_inputs(void **state)
{
	struct tk_tree *t = *state;
	struct seen s = { .n = 0, .root = t->root };
	struct inputs_stats st = { 0 };
	collect(t, "top.wav", false, &s, &st);
	collect(t, "d", false, &s, &st);
	collect(t, "d/link.wav", false, &s, &st);
	collect(t, "dangling", false, &s, &st);
	collect(t, "missing.wav", false, &s, &st);
	collect(t, "d/fifo", false, &s, &st); /* must not block */
	collect(t, "dlink/a.wav", false, &s, &st);
	collect(t, "dlink", true, &s, &st);
	assert_int_equal(s.n, 8);
	assert_string_equal(s.line[0], "F /top.wav 3");
	assert_string_equal(s.line[1], "E /d: is a directory (use -r to analyze the files in it)");
	assert_non_null(strstr(s.line[2], "E /d/link.wav: is a symbolic link"));
	assert_non_null(strstr(s.line[3], "E /dangling: is a symbolic link"));
	assert_string_equal(s.line[4], "E /missing.wav: no such file or directory");
	assert_string_equal(s.line[5], "E /d/fifo: is a FIFO, not a regular file");
	/* A link in the directory part, in a directory others can write (the
	 * test tree is under /tmp): not followed, since its owner could swap
	 * it at the instant it is resolved (inputs_resolve_path). */
	assert_non_null(strstr(s.line[6], "E /dlink/a.wav: a symbolic link on its path"));
	/* A named link is never followed, not even a link to a directory. */
	assert_non_null(strstr(s.line[7], "E /dlink: is a symbolic link"));
	assert_int_equal(st.files, 1);
	assert_int_equal(st.errors, 7);
}

static void test_relative_name_resolves(void **state)
{
	struct tk_tree *t = *state;
	char cwd[PATH_MAX], want[PATH_MAX + 16];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(t->root), 0);
	struct seen s = { .n = 0, .root = "" };
	struct inputs_stats st = { 0 };
	struct inputs_opts o = { .recursive = false };
	assert_int_equal(inputs_collect_path("./d/../top.wav", &o, record, &s, &st), 0);
	assert_int_equal(inputs_collect_path("gone/x.wav", &o, record, &s, &st), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof want, "F %s/top.wav 3", t->root);
	assert_string_equal(s.line[0], want);
	/* No directory to resolve: the lexical absolute path names the error. */
	snprintf(want, sizeof want, "E %s/gone/x.wav: no such file or directory", t->root);
	assert_string_equal(s.line[1], want);
}

static void test_open_file(void **state)
{
	struct tk_tree *t = *state;
	char p[PATH_MAX];
	struct stat st, host;
	snprintf(p, sizeof p, "%s/d/b.wav", t->root);
	int bind_fd = -1;
	int fd = inputs_open_file(p, &bind_fd, &st);
	/* open_tree needs CAP_SYS_ADMIN: only the error cases below run
	 * without it (they fail before the copy is made). */
	tk_skip_unless(fd != -EPERM, "inputs_open_file needs CAP_SYS_ADMIN (open_tree)");
	assert_true(fd > 2);
	assert_int_equal(st.st_size, 2);
	assert_true(st.st_mtim.tv_sec > 0);
	assert_int_equal(stat(p, &host), 0);
	assert_true(st.st_ino == host.st_ino && st.st_dev == host.st_dev);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0); /* blocking for the job */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* On a read-only copy of the directory's mount: a reopen through
	 * /proc cannot write, and the descriptor does not name the host path. */
	char self[64], target[PATH_MAX];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(open(self, O_WRONLY | O_CLOEXEC), -1);
	assert_int_equal(errno, EROFS);
	ssize_t n = readlink(self, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "/b.wav");
	/* The bind descriptor: the same inode, O_PATH, above stdio. */
	struct stat bs;
	assert_true(bind_fd > 2);
	assert_int_equal(fstat(bind_fd, &bs), 0);
	assert_true(bs.st_ino == st.st_ino && bs.st_dev == st.st_dev);
	assert_true(fcntl(bind_fd, F_GETFL) & O_PATH);
	close(bind_fd);
	close(fd);
	/* Without {}: no bind descriptor. */
	fd = inputs_open_file(p, NULL, NULL);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof p, "%s/d/link.wav", t->root);
	assert_int_equal(inputs_open_file(p, NULL, NULL), -ELOOP);
	/* A link anywhere on the way is refused too: stored paths are real. */
	snprintf(p, sizeof p, "%s/dlink/a.wav", t->root);
	assert_int_equal(inputs_open_file(p, NULL, NULL), -ELOOP);
	snprintf(p, sizeof p, "%s/d/fifo", t->root);
	assert_int_equal(inputs_open_file(p, NULL, NULL), -EINVAL);
	snprintf(p, sizeof p, "%s/d", t->root);
	assert_int_equal(inputs_open_file(p, NULL, NULL), -EINVAL);
	snprintf(p, sizeof p, "%s/nothing", t->root);
	assert_int_equal(inputs_open_file(p, NULL, NULL), -ENOENT);
}

static int count_path(const char *path, void *ctx)
{
	(*(int *)ctx)++;
	return strcmp(path, "stop") == 0 ? -ECANCELED : 0;
}

static void test_read_list(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	const char list[] = "one\ntwo\n\nthree";
	assert_int_equal(write(fds[1], list, sizeof list - 1), (ssize_t)(sizeof list - 1));
	close(fds[1]);
	int n = 0;
	assert_int_equal(inputs_read_list(fds[0], false, count_path, &n), 0);
	close(fds[0]);
	assert_int_equal(n, 3);
	/* The callback's error stops the reading and is returned. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "a\0stop\0b\0", 9), 9);
	close(fds[1]);
	n = 0;
	assert_int_equal(inputs_read_list(fds[0], true, count_path, &n), -ECANCELED);
	close(fds[0]);
	assert_int_equal(n, 2);
}

/* ---- the resumable feed ------------------------------------------------- */

static int record_pause(const struct input *in, void *ctx)
{
	record(in, ctx);
	return 1; /* pause after every input */
}

/* PATH arguments, then a --files-from list: a feed paused after every
 * input hands out exactly what an uninterrupted one does, in order. */
static void test_feed_pauses_and_resumes(void **state)
{
	struct tk_tree *t = *state;
	char top[PATH_MAX], d[PATH_MAX], missing[PATH_MAX], list[2 * PATH_MAX + 64];
	snprintf(top, sizeof top, "%s/top.wav", t->root);
	snprintf(d, sizeof d, "%s/d", t->root);
	snprintf(missing, sizeof missing, "%s/missing.wav", t->root);
	/* The second entry names a file of the first's directory with "..":
	 * the directory cache must not make it a different item. */
	snprintf(list, sizeof list, "%s/d/sub/c.wav\n\n%s/d/sub/../a.wav\n%s/d/b.wav", t->root, t->root, t->root);
	const char *args[] = { top, d, missing };
	struct seen whole = { .root = t->root }, paused = { .root = t->root };
	struct inputs_stats st1 = { 0 }, st2 = { 0 };
	for (int pass = 0; pass < 2; pass++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		assert_int_equal(write(fds[1], list, strlen(list)), (ssize_t)strlen(list));
		close(fds[1]);
		struct inputs_feed *f;
		struct inputs_feed_opts o = { .paths = args, .npaths = 3, .list_fd = fds[0], .recursive = true };
		assert_int_equal(inputs_feed_new(&o, &f), 0);
		int r, calls = 0;
		if (pass == 0) {
			r = inputs_feed_next(f, record, &whole, &st1);
		} else {
			while ((r = inputs_feed_next(f, record_pause, &paused, &st2)) == 1)
				calls++;
			/* one input (or skipped entry: the link and the FIFO) per call */
			assert_int_equal(calls, paused.n + 2);
		}
		assert_int_equal(r, 0);
		inputs_feed_free(f);
		close(fds[0]);
	}
	assert_int_equal(whole.n, 8);
	assert_string_equal(whole.line[0], "F /top.wav 3");
	assert_string_equal(whole.line[1], "F /d/a.wav 1");
	assert_string_equal(whole.line[2], "F /d/b.wav 2");
	assert_string_equal(whole.line[3], "F /d/sub/c.wav 3");
	assert_string_equal(whole.line[4], "E /missing.wav: no such file or directory");
	assert_string_equal(whole.line[5], "F /d/sub/c.wav 3");
	assert_string_equal(whole.line[6], "F /d/a.wav 1");
	assert_string_equal(whole.line[7], "F /d/b.wav 2");
	assert_int_equal(paused.n, whole.n);
	for (int i = 0; i < whole.n; i++)
		assert_string_equal(paused.line[i], whole.line[i]);
	assert_int_equal(st1.files, 7);
	assert_int_equal(st1.errors, 1);
	assert_int_equal(st1.skipped, 2);
	assert_int_equal(st2.files, st1.files);
	assert_int_equal(st2.errors, st1.errors);
	assert_int_equal(st2.skipped, st1.skipped);
}

/* A list on a pipe whose writer is slow: -EAGAIN instead of blocking, and
 * an entry cut in two by the wait is put together again. */
static void test_feed_waits_for_a_pipe(void **state)
{
	struct tk_tree *t = *state;
	char head[PATH_MAX + 64], tail[] = "b.wav\n";
	snprintf(head, sizeof head, "%s/top.wav\n%s/d/", t->root, t->root);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct inputs_feed *f;
	struct inputs_feed_opts o = { .npaths = 0, .list_fd = fds[0], .list_poll = true };
	assert_int_equal(inputs_feed_new(&o, &f), 0);
	struct seen s = { .root = t->root };
	struct inputs_stats st = { 0 };
	assert_int_equal(inputs_feed_next(f, record, &s, &st), -EAGAIN);
	assert_int_equal(s.n, 0);
	assert_int_equal(write(fds[1], head, strlen(head)), (ssize_t)strlen(head));
	assert_int_equal(inputs_feed_next(f, record, &s, &st), -EAGAIN);
	assert_int_equal(s.n, 1);
	assert_int_equal(write(fds[1], tail, strlen(tail)), (ssize_t)strlen(tail));
	close(fds[1]);
	assert_int_equal(inputs_feed_next(f, record, &s, &st), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[0], "F /top.wav 3");
	assert_string_equal(s.line[1], "F /d/b.wav 2");
	inputs_feed_free(f);
	close(fds[0]);
	/* A NUL byte in a newline-separated list is refused from the feed too. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "a\0b\n", 4), 4);
	close(fds[1]);
	o.list_fd = fds[0];
	assert_int_equal(inputs_feed_new(&o, &f), 0);
	assert_int_equal(inputs_feed_next(f, record, &s, &st), -EILSEQ);
	inputs_feed_free(f);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_split_newlines_any_chunking),
		cmocka_unit_test(test_split_nul),
		cmocka_unit_test(test_split_refuses_nul_in_lines_and_huge_entries),
		cmocka_unit_test(test_read_list),
		cmocka_unit_test_setup_teardown(test_walk_sorted_files_only, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_named_inputs, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_relative_name_resolves, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_open_file, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_feed_pauses_and_resumes, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_feed_waits_for_a_pipe, tree_setup, tk_tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
