/* runner/inputs_follow.c — --follow-symlinks: following one link of an
 * untrusted tree without letting its owner choose what the runner (root)
 * opens. See inputs.h (inputs_follow_link) and docs/security.md. */
#include "runner/inputs.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTSIDE "its target is outside the tree"

/* root_path joined with rel ("" is the root itself; root "" or "/" is /). */
static int join(const char *root_path, const char *rel, char *out, size_t outlen)
{
	bool slash_root = !root_path[0] || strcmp(root_path, "/") == 0;
	int n = snprintf(out, outlen, "%s/%s", slash_root ? "" : root_path, rel);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* rel (in place, "a/b" without slashes at the ends) with the target's
 * components applied: '..' pops one of rel's, only before the first name. */
static int apply_target(char *rel, size_t cap, const char *target, const char **why)
{
	char copy[PATH_MAX];
	size_t o = strlen(rel);
	bool named = false;
	snprintf(copy, sizeof copy, "%s", target);
	for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0) {
			if (named) {
				/* "x/../y": what x is decides where it leads. */
				*why = "its target has a '..' after a name";
				return -EINVAL;
			}
			if (o == 0) {
				*why = OUTSIDE;
				return -EXDEV;
			}
			while (o > 0 && rel[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			rel[o] = '\0';
			continue;
		}
		named = true;
		size_t tl = strlen(t);
		if (o + 1 + tl + 1 > cap) {
			*why = "its target's path is too long";
			return -ENAMETOOLONG;
		}
		if (o > 0)
			rel[o++] = '/';
		memcpy(rel + o, t, tl + 1);
		o += tl;
	}
	if (o == 0) {
		*why = "its target is the tree's root";
		return -EISDIR;
	}
	return 0;
}

static const char *open_error(int e)
{
	switch (e) {
	case ELOOP: return "its target is a link, or is reached through one";
	case ENOENT: return "its target does not exist";
	case EXDEV: return OUTSIDE;
	case ENOTDIR: return "a component of its target is not a directory";
	case EACCES:
	case EPERM: return "its target cannot be opened: permission denied";
	default: return "its target cannot be opened";
	}
}

static int regular(int *fd, struct stat *st, const char **why)
{
	if (fstat(*fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode)) {
		*why = S_ISDIR(st->st_mode) ? "its target is a directory (links to directories are not followed)"
					    : "its target is not a regular file";
		sr_closep(fd);
		return -EINVAL;
	}
	return 0;
}

/* A target inside the tree: beneath root_fd, no link on the way. */
static int follow_in_tree(int root_fd, const char *root_path, const char *dir_path, const char *target,
			  char *out, size_t outlen, int *fd, struct stat *st, const char **why)
{
	char rel[PATH_MAX];
	size_t rl = strlen(root_path);
	bool slash_root = rl == 0 || strcmp(root_path, "/") == 0;
	if (slash_root)
		rl = 0;
	const char *rest = target;
	if (target[0] == '/') {
		/* Absolute: only a target under the root's real path. */
		if (!slash_root && (strncmp(target, root_path, rl) != 0 || (target[rl] != '/' && target[rl])))
			return *why = OUTSIDE, -EXDEV;
		rel[0] = '\0';
		rest = target + rl;
	} else {
		const char *d = dir_path + rl; /* the link's directory, relative to the root */
		while (*d == '/')
			d++;
		if (snprintf(rel, sizeof rel, "%s", d) >= (int)sizeof rel)
			return *why = "its path is too long", -ENAMETOOLONG;
	}
	int r = apply_target(rel, sizeof rel, rest, why);
	if (r < 0)
		return r;
	*fd = sr_openat2(root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (*fd < 0)
		return r = *fd, *fd = -1, *why = open_error(-r), r;
	if ((r = regular(fd, st, why)) < 0)
		return r;
	if ((r = join(root_path, rel, out, outlen)) < 0) {
		sr_closep(fd);
		*why = "its path is too long";
	}
	return r;
}

int inputs_follow_link(enum input_follow mode, int root_fd, const char *root_path, int dirfd,
		       const char *dir_path, const char *name, char *out,
		       size_t outlen, int *fd, struct stat *st, const char **why)
{
	char target[PATH_MAX];
	*fd = -1;
	*why = "not followed";
	if (mode == INPUT_FOLLOW_NONE)
		return -ELOOP;
	ssize_t tl = readlinkat(dirfd, name, target, sizeof target - 1);
	if (tl < 0) { /* swapped for something else since its lstat */
		*why = "it changed while it was being followed";
		return -errno;
	}
	if ((size_t)tl >= sizeof target - 1)
		return *why = "its target's path is too long", -ENAMETOOLONG;
	target[tl] = '\0';
	if (!target[0])
		return *why = "its target is empty", -ENOENT;
	return follow_in_tree(root_fd, root_path, dir_path, target, out, outlen, fd, st, why);
}
