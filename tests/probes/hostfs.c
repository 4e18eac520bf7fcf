/* hostfs OP:PATH... — try to reach host files from inside the sandbox.
 *   r:PATH  open and read PATH          — must fail, or read nothing (a
 *           secret masked by an empty file)
 *   l:PATH  list directory PATH         — must fail or show an empty dir
 *   w:PATH  create PATH (O_EXCL), write — reported only: the suite checks
 *           afterwards that nothing appeared on the host side
 *   W:PATH  create PATH                 — must fail (read-only bind)
 * Prints one line per attempt ("r /etc/shadow: EACCES"); exits 1 if any
 * must-fail attempt succeeded, else 0. Never prints file contents. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strlen(a) < 3 || a[1] != ':') {
			fprintf(stderr, "hostfs: bad argument %s\n", a);
			return 64;
		}
		const char *path = a + 2;
		switch (a[0]) {
		case 'r': {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				printf("r %s: %s\n", path, strerrorname_np(errno));
				break;
			}
			char buf[256];
			ssize_t n = read(fd, buf, sizeof buf);
			if (n < 0) {
				printf("r %s: opened, read: %s\n", path, strerrorname_np(errno));
			} else if (n == 0) {
				printf("r %s: opened, empty (masked)\n", path);
			} else {
				printf("r %s: READ %zd BYTES (should be invisible)\n", path, n);
				bad = 1;
			}
			close(fd);
			break;
		}
		case 'l': {
			DIR *d = opendir(path);
			if (!d) {
				printf("l %s: %s\n", path, strerrorname_np(errno));
				break;
			}
			int entries = 0;
			struct dirent *e;
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
					entries++;
			closedir(d);
			if (entries) {
				printf("l %s: LISTED %d ENTRIES (should be invisible)\n", path, entries);
				bad = 1;
			} else {
				printf("l %s: empty directory (host content invisible)\n", path);
			}
			break;
		}
		case 'w':
		case 'W': {
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0) {
				printf("%c %s: %s\n", a[0], path, strerrorname_np(errno));
				break;
			}
			ssize_t n = write(fd, "sandrun-probe\n", 14);
			close(fd);
			if (a[0] == 'W') {
				printf("W %s: CREATED (wrote %zd bytes; should be read-only)\n", path, n);
				bad = 1;
			} else {
				printf("w %s: created inside the sandbox (wrote %zd bytes)\n", path, n);
			}
			break;
		}
		default:
			fprintf(stderr, "hostfs: bad op %c\n", a[0]);
			return 64;
		}
	}
	fflush(stdout);
	return bad;
}
