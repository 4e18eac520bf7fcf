/* bench/mkfiles.c — make N input files fast, for the batch and scale rows.
 *
 *   mkfiles DIR N [TEMPLATE] [SUFFIX]
 *
 * Creates DIR (if needed) and DIR/f000000SUFFIX ... with TEMPLATE's bytes
 * (empty files without a template), in one process: making 100,000 files
 * with one cp each would cost more than the runs being measured. Files that
 * already exist with the right size are left alone, so a second call is
 * cheap. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: mkfiles DIR N [TEMPLATE] [SUFFIX]\n");
		return 2;
	}
	const char *dir = argv[1];
	long n = strtol(argv[2], NULL, 10);
	const char *suffix = argc > 4 ? argv[4] : "";
	char *buf = NULL;
	size_t len = 0;
	if (argc > 3 && argv[3][0]) {
		FILE *f = fopen(argv[3], "rb");
		if (!f) {
			fprintf(stderr, "mkfiles: %s: %s\n", argv[3], strerror(errno));
			return 1;
		}
		fseek(f, 0, SEEK_END);
		len = (size_t)ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(len ? len : 1);
		if (!buf || fread(buf, 1, len, f) != len) {
			fprintf(stderr, "mkfiles: cannot read %s\n", argv[3]);
			return 1;
		}
		fclose(f);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkfiles: mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "mkfiles: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof name, "f%06ld%s", i, suffix);
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    (size_t)st.st_size == len)
			continue;
		int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len)) {
			fprintf(stderr, "mkfiles: %s/%s: %s\n", dir, name, strerror(errno));
			return 1;
		}
		close(fd);
	}
	free(buf);
	return 0;
}
