/* tests/unit/test_input_filter.c — what a -r walk hands out: --include/
 * --exclude patterns and the "not audio" default (runner/input_filter.c),
 * and --follow-symlinks (runner/inputs_follow.c), on a scratch tree in a
 * temporary directory (no root needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner/input_filter.h"
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

/* ---- patterns ------------------------------------------------------------ */

static const char *decide(const struct input_filter *f, const char *rel, bool is_dir)
{
	const struct input_pattern *p = input_filter_match(f, rel, is_dir);
	return !p ? "default" : p->include ? "include" : "exclude";
}

static void test_patterns(void **state)
{
	struct input_filter f = { 0 };
	assert_int_equal(input_filter_add(&f, "keep.jpg", true), 0);
	assert_int_equal(input_filter_add(&f, "*.jpg", false), 0);
	assert_int_equal(input_filter_add(&f, "Artwork/", false), 0);
	assert_int_equal(input_filter_add(&f, "/Scans/*.wav", false), 0);
	assert_int_equal(input_filter_add(&f, "", false), -EINVAL);
	assert_int_equal(input_filter_add(&f, "//", false), -EINVAL);
	/* The first match decides; a name pattern matches at any depth. */
	assert_string_equal(decide(&f, "a/keep.jpg", false), "include");
	assert_string_equal(decide(&f, "a/b/cover.jpg", false), "exclude");
	assert_string_equal(decide(&f, "a/song.flac", false), "default");
	/* "DIR/" matches directories only. */
	assert_string_equal(decide(&f, "x/Artwork", true), "exclude");
	assert_string_equal(decide(&f, "x/Artwork", false), "default");
	/* With a '/': the path below the root; '*' does not cross a '/'. */
	assert_string_equal(decide(&f, "Scans/a.wav", false), "exclude");
	assert_string_equal(decide(&f, "Scans/deep/a.wav", false), "default");
	assert_string_equal(decide(&f, "x/Scans/a.wav", false), "default");
	assert_string_equal(decide(NULL, "a.wav", false), "default");
	/* A leading dot is an ordinary character: '*' matches .DS_Store. */
	struct input_filter all = { 0 };
	input_filter_add(&all, "*", false);
	assert_string_equal(decide(&all, "d/.DS_Store", false), "exclude");
}

/* ---- not audio ------------------------------------------------------------ */

static void test_not_audio_by_name(void **state)
{
	assert_string_equal(input_filter_not_audio_name("cover.jpg"), "by name: .jpg");
	assert_string_equal(input_filter_not_audio_name("COVER.JPG"), "by name: .jpg");
	assert_string_equal(input_filter_not_audio_name("album.cue"), "by name: .cue");
	assert_string_equal(input_filter_not_audio_name(".DS_Store"), "by name");
	assert_string_equal(input_filter_not_audio_name("Thumbs.db"), "by name");
	assert_null(input_filter_not_audio_name("song.flac"));
	assert_null(input_filter_not_audio_name("song.wav"));
	assert_null(input_filter_not_audio_name("README"));
	assert_null(input_filter_not_audio_name(".jpg")); /* a dot file, no extension */
	assert_null(input_filter_not_audio_name("take.jpg.wav"));
}

static void test_not_audio_by_bytes(void **state)
{
#define B(s) (const unsigned char *)(s), sizeof(s) - 1
	assert_string_equal(input_filter_not_audio_bytes(B("\xff\xd8\xff\xe0\0\x10JFIF")), "JPEG image");
	assert_string_equal(input_filter_not_audio_bytes(B("\x89PNG\r\n\x1a\n\0\0")), "PNG image");
	assert_string_equal(input_filter_not_audio_bytes(B("RIFF\x10\0\0\0WEBPVP8 ")), "WebP image");
	assert_string_equal(input_filter_not_audio_bytes(B("\0\x05\x16\x07\0\x02\0\0")), "AppleDouble metadata");
	assert_string_equal(input_filter_not_audio_bytes(B("%PDF-1.7\n")), "PDF document");
	assert_string_equal(input_filter_not_audio_bytes(B("FILE \"a.wav\" WAVE\n  TRACK 01 AUDIO\n")), "text");
	assert_string_equal(input_filter_not_audio_bytes(B("Größe: 3 Stück\n")), "text");
	/* Audio, and what is not clearly anything, goes to the analyzer. */
	assert_null(input_filter_not_audio_bytes(B("RIFF\x24\0\0\0WAVEfmt ")));
	assert_null(input_filter_not_audio_bytes(B("fLaC\0\0\0\x22")));
	assert_null(input_filter_not_audio_bytes(B("ID3\x03\0\0\0\0")));
	assert_null(input_filter_not_audio_bytes(B("OggS\0\x02")));
	assert_null(input_filter_not_audio_bytes(B("\0\0\0\x20" "ftypM4A ")));
	assert_null(input_filter_not_audio_bytes(B("\xff\xfb\x90\x64")));
	assert_null(input_filter_not_audio_bytes(B("")));
	assert_null(input_filter_not_audio_bytes(B("text with a \x1b[31m escape")));
#undef B
}

static void test_help_names_every_entry(void **state)
{
	char want[64];
	for (size_t i = 0; input_filter_extensions[i]; i++) {
		snprintf(want, sizeof want, ".%s ", input_filter_extensions[i]);
		char alt[64];
		snprintf(alt, sizeof alt, ".%s\n", input_filter_extensions[i]);
		if (!strstr(input_filter_help, want) && !strstr(input_filter_help, alt))
			fail_msg("--help does not list .%s", input_filter_extensions[i]);
	}
	for (size_t i = 0; input_filter_names[i]; i++)
		assert_non_null(strstr(input_filter_help, input_filter_names[i]));
}

/* ---- the walk -------------------------------------------------------------- */

static void put(const char *root, const char *rel, const void *content, size_t n)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fwrite(content, 1, n, f);
	fclose(f);
}

static void dir(const char *root, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void link_at(const char *root, const char *rel, const char *target)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static const char wav[] = "RIFF\x24\0\0\0WAVEfmt ";

static int tree_setup(void **state)
{
	if (tk_tree_new(state, "filter") < 0)
		return -1;
	struct tk_tree *t = *state;
	dir(t->root, "lib");
	dir(t->root, "lib/Artwork");
	dir(t->root, "lib/sub");
	put(t->root, "lib/a.wav", wav, sizeof wav - 1);
	put(t->root, "lib/sub/b.wav", wav, sizeof wav - 1);
	put(t->root, "lib/Artwork/c.wav", wav, sizeof wav - 1);
	put(t->root, "lib/cover.jpg", "\xff\xd8\xff", 3);
	put(t->root, "lib/album.cue", "FILE\n", 5);
	put(t->root, "lib/notes", "ripped in 2009\n", 15);
	put(t->root, "lib/disguised.wav", "\xff\xd8\xff\xe0", 4);
	put(t->root, "outside.wav", wav, sizeof wav - 1);
	link_at(t->root, "lib/in.wav", "a.wav");
	link_at(t->root, "lib/sub/up.wav", "../a.wav");
	link_at(t->root, "lib/out.wav", "../outside.wav");
	link_at(t->root, "lib/abs.wav", "/etc/hostname");
	link_at(t->root, "lib/twisty.wav", "sub/../a.wav");
	link_at(t->root, "lib/l2l.wav", "in.wav");
	link_at(t->root, "lib/todir.wav", "sub");
	return 0;
}

struct seen {
	char text[8192];
	const char *root;
};

static int record(const struct input *in, void *ctx)
{
	struct seen *s = ctx;
	size_t rl = strlen(s->root);
	const char *rel = strncmp(in->path, s->root, rl) == 0 ? in->path + rl + 1 : in->path;
	size_t at = strlen(s->text);
	if (in->skip)
		snprintf(s->text + at, sizeof s->text - at, "S %s: %s (%s)\n", rel, inputs_skip_name(in->skip),
			 in->skip_detail);
	else if (in->error)
		snprintf(s->text + at, sizeof s->text - at, "E %s: %s\n", rel, in->error);
	else
		snprintf(s->text + at, sizeof s->text - at, "F %s\n", rel);
	return 0;
}

static void walk(struct tk_tree *t, const struct input_filter *f, enum input_follow follow, struct seen *s,
		 struct inputs_stats *st)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/lib", t->root);
	s->root = t->root;
	struct inputs_opts o = { .recursive = true, .filter = f, .follow = follow };
	assert_int_equal(inputs_collect_path(p, &o, record, s, st), 0);
}

static void test_walk_default_and_patterns(void **state)
{
	struct tk_tree *t = *state;
	struct input_filter f = { .not_audio_default = true };
	input_filter_add(&f, "notes", true);  /* --include overrides the default */
	input_filter_add(&f, "Artwork/", false);
	struct seen s = { .text = "" };
	struct inputs_stats st = { 0 };
	walk(t, &f, INPUT_FOLLOW_NONE, &s, &st);
	assert_string_equal(s.text,
			    "S lib/Artwork: excluded (--exclude Artwork/)\n" /* byte order */
			    "F lib/a.wav\n"
			    "S lib/abs.wav: symbolic link (not followed without --follow-symlinks)\n"
			    "S lib/album.cue: not audio (by name: .cue)\n"
			    "S lib/cover.jpg: not audio (by name: .jpg)\n"
			    "S lib/disguised.wav: not audio (JPEG image)\n"
			    "S lib/in.wav: symbolic link (not followed without --follow-symlinks)\n"
			    "S lib/l2l.wav: symbolic link (not followed without --follow-symlinks)\n"
			    "F lib/notes\n"
			    "S lib/out.wav: symbolic link (not followed without --follow-symlinks)\n"
			    "F lib/sub/b.wav\n"
			    "S lib/sub/up.wav: symbolic link (not followed without --follow-symlinks)\n"
			    "S lib/todir.wav: symbolic link (not followed without --follow-symlinks)\n"
			    "S lib/twisty.wav: symbolic link (not followed without --follow-symlinks)\n");
	assert_int_equal(st.files, 3);
	assert_int_equal(st.skipped, 11);
	assert_int_equal(st.skipped_by[INPUT_SKIP_NOT_AUDIO], 3);
	assert_int_equal(st.skipped_by[INPUT_SKIP_EXCLUDED], 1);
	assert_int_equal(st.skipped_by[INPUT_SKIP_SYMLINK], 7);

	/* Without the default (--cmd) everything regular is handed out. */
	struct seen s2 = { .text = "" };
	struct inputs_stats st2 = { 0 };
	walk(t, NULL, INPUT_FOLLOW_NONE, &s2, &st2);
	assert_int_equal(st2.files, 7);
	assert_int_equal(st2.skipped, 7);
}

static void test_walk_follow_tree(void **state)
{
	struct tk_tree *t = *state;
	struct seen s = { .text = "" };
	struct inputs_stats st = { 0 };
	walk(t, NULL, INPUT_FOLLOW_TREE, &s, &st);
	/* Followed links are their targets' real paths. */
	assert_non_null(strstr(s.text, "F lib/a.wav\nS lib/abs.wav: symbolic link not followed (its target is "
				       "outside the tree)\n"));
	assert_non_null(strstr(s.text, "\nF lib/a.wav\nS lib/l2l.wav: symbolic link not followed (its target is a "
				       "link, or is reached through one)\n"));
	assert_non_null(strstr(s.text, "S lib/out.wav: symbolic link not followed (its target is outside"));
	assert_non_null(strstr(s.text, "F lib/sub/b.wav\nF lib/a.wav\n")); /* sub/up.wav -> ../a.wav */
	assert_non_null(strstr(s.text, "S lib/todir.wav: symbolic link not followed (its target is a directory"));
	assert_non_null(strstr(s.text, "S lib/twisty.wav: symbolic link not followed (its target has a '..' after a name)"));
	assert_int_equal(st.skipped_by[INPUT_SKIP_LINK_REFUSED], 5);
	assert_int_equal(st.skipped_by[INPUT_SKIP_SYMLINK], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_not_audio_by_name),
		cmocka_unit_test(test_not_audio_by_bytes),
		cmocka_unit_test(test_help_names_every_entry),
		cmocka_unit_test_setup_teardown(test_walk_default_and_patterns, tree_setup, tk_tree_teardown),
		cmocka_unit_test_setup_teardown(test_walk_follow_tree, tree_setup, tk_tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
