/* tests/unit/test_dropdir.c — the pieces of `sandrun watch` that need no
 * root: the table of files not taken yet (runner/dropdir_pending.c), the
 * writer check on a real file, and the walk's tree API that the drop
 * folders use (runner/inputs_feed.c: inputs_feed_walk_dir,
 * inputs_feed_entry, the on_dir hook). The watching itself is in
 * tests/suites/watch.sh. */
#include "runner/dropdir.h"
#include "runner/inputs.h"
#include "tests/unit/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static void test_table(void **state)
{
	struct dd_table *t = calloc(1, sizeof *t);
	assert_non_null(t);
	assert_int_equal(dd_next_due(t), UINT64_MAX);
	/* Enough entries that buckets are shared. */
	char path[64];
	for (int i = 0; i < 10000; i++) {
		struct dd_pending *p;
		snprintf(path, sizeof path, "/drop/f%d", i);
		assert_int_equal(dd_add(t, path, &p), 0);
		p->due_ms = 1000 + (uint64_t)i;
	}
	assert_int_equal(t->n, 10000);
	struct dd_pending *again;
	assert_int_equal(dd_add(t, "/drop/f42", &again), 0); /* the one there */
	assert_int_equal(again->due_ms, 1042);
	assert_int_equal(t->n, 10000);
	assert_int_equal(dd_next_due(t), 1000);
	char *due[8];
	size_t k = dd_due_paths(t, 1003, due, 8);
	assert_int_equal(k, 4);
	for (size_t i = 0; i < k; i++)
		free(due[i]);
	assert_int_equal(dd_due_paths(t, 999999, due, 8), 8); /* at most max */
	for (size_t i = 0; i < 8; i++)
		free(due[i]);
	for (int i = 0; i < 10000; i += 2) {
		snprintf(path, sizeof path, "/drop/f%d", i);
		struct dd_pending *p = dd_find(t, path);
		assert_non_null(p);
		dd_drop(t, p);
	}
	assert_int_equal(t->n, 5000);
	assert_null(dd_find(t, "/drop/f0"));
	assert_non_null(dd_find(t, "/drop/f1"));
	assert_int_equal(dd_next_due(t), 1001);
	dd_drop(t, NULL); /* nothing */
	dd_clear(t);
	assert_int_equal(t->n, 0);
	assert_null(t->head);
	assert_null(t->tail);
	free(t);
}

static int tree_setup(void **state)
{
	return tk_tree_new(state, "dropdir");
}

static void put(const char *root, const char *rel, const char *content)
{
	assert_int_equal(tk_put(root, rel, content), 0);
}

static void test_writers(void **state)
{
	struct tk_tree *t = *state;
	put(t->root, "f.wav", "data");
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/f.wav", t->root);
	int rd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(rd >= 0);
	int r = dd_writers_open(rd);
	tk_skip_unless(r >= 0, "no file leases here (fs.leases-enable=0, or a file system without them)");
	assert_int_equal(r, 0);
	int wr = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(wr >= 0);
	assert_int_equal(dd_writers_open(rd), 1);
	int rd2 = open(p, O_RDONLY | O_CLOEXEC); /* readers are no writers */
	assert_int_equal(dd_writers_open(rd2), 1);
	close(wr);
	assert_int_equal(dd_writers_open(rd), 0);
	assert_int_equal(dd_writers_open(rd2), 0);
	/* The lease was given back: a writer opens at once. */
	wr = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(wr >= 0);
	close(wr);
	close(rd2);
	close(rd);
}

struct seen {
	char dirs[16][PATH_MAX];
	int ndirs, listed_before_hook;
	char files[16][PATH_MAX];
	int nfiles, err;
	const char *root;
};

static int on_dir(int dirfd, const char *path, int depth, void *ctx)
{
	struct seen *s = ctx;
	snprintf(s->dirs[s->ndirs++], PATH_MAX, "%d %s", depth, path + strlen(s->root));
	return 0;
}

static int record(const struct input *in, void *ctx)
{
	struct seen *s = ctx;
	if (in->error) {
		s->err = in->err;
		return 0;
	}
	if (in->skip)
		return 0;
	assert_true(in->fd >= 0); /* lent for the call */
	struct stat st;
	assert_int_equal(fstat(in->fd, &st), 0);
	assert_int_equal(st.st_size, in->size);
	snprintf(s->files[s->nfiles++], PATH_MAX, "%s", in->path + strlen(s->root));
	return 0;
}

static void test_tree_api(void **state)
{
	struct tk_tree *t = *state;
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/sub", t->root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/deeper", t->root);
	mkdir(p, 0755);
	put(t->root, "a.wav", "a");
	put(t->root, "sub/b.wav", "bb");
	put(t->root, "sub/deeper/c.wav", "ccc");
	int root = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	struct seen *s = calloc(1, sizeof *s);
	assert_non_null(s);
	s->root = t->root;
	struct inputs_feed *f;
	assert_int_equal(inputs_feed_new(&(struct inputs_feed_opts){ .list_fd = -1, .recursive = true }, &f), 0);
	struct inputs_stats st = { 0 };
	/* Without a tree: refused. */
	assert_int_equal(inputs_feed_walk_dir(f, root, t->root, 0, record, s, &st), -EBUSY);
	struct inputs_tree tree = { .root_fd = root, .root_path = t->root, .on_dir = on_dir, .ctx = s };
	inputs_feed_set_tree(f, &tree);
	/* A whole walk: every directory hooked (depth first), every file. */
	assert_int_equal(inputs_feed_walk_dir(f, root, t->root, 0, record, s, &st), 0);
	assert_true(inputs_feed_walking(f));
	assert_int_equal(inputs_feed_entry(f, root, t->root, "a.wav", 0, record, s, &st), -EBUSY);
	assert_int_equal(inputs_feed_next(f, record, s, &st), 0);
	assert_false(inputs_feed_walking(f));
	assert_int_equal(s->ndirs, 3);
	assert_string_equal(s->dirs[0], "0 ");
	assert_string_equal(s->dirs[1], "1 /sub");
	assert_string_equal(s->dirs[2], "2 /sub/deeper");
	assert_int_equal(s->nfiles, 3);
	assert_string_equal(s->files[0], "/a.wav");
	assert_string_equal(s->files[1], "/sub/b.wav");
	assert_string_equal(s->files[2], "/sub/deeper/c.wav");
	/* One entry: a file at once; a directory starts its walk. */
	s->nfiles = s->ndirs = 0;
	int sub = openat(root, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof p, "%s/sub", t->root);
	assert_int_equal(inputs_feed_entry(f, sub, p, "b.wav", 1, record, s, &st), 0);
	assert_int_equal(s->nfiles, 1);
	assert_string_equal(s->files[0], "/sub/b.wav");
	assert_int_equal(inputs_feed_entry(f, sub, p, "deeper", 1, record, s, &st), 0);
	assert_int_equal(s->ndirs, 1);
	assert_string_equal(s->dirs[0], "2 /sub/deeper");
	assert_int_equal(inputs_feed_next(f, record, s, &st), 0);
	assert_int_equal(s->nfiles, 2);
	assert_string_equal(s->files[1], "/sub/deeper/c.wav");
	/* Gone: an input error that says ENOENT. */
	assert_int_equal(inputs_feed_entry(f, sub, p, "gone.wav", 1, record, s, &st), 0);
	assert_int_equal(s->err, -ENOENT);
	inputs_feed_free(f);
	close(sub);
	close(root);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_writers, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_tree_api, tree_setup, tk_tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
