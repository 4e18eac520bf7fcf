/* fdscan — list every open descriptor of the job (/proc/self/fd). The
 * suite opens extra descriptors (a file, a directory) before starting
 * sandrun; none may reach the job. Prints "fd N: TYPE -> TARGET" for each
 * fd, marking fds above 2 "LEAK" when they are a regular file, directory or
 * socket, and "EXTRA" for any other kind (pipe, eventfd, pidfd, ...: the
 * contract says only 0, 1, 2 are open). Exits 1 if there is a LEAK, 2 if
 * there are only EXTRA fds, 0 if nothing but 0, 1, 2 is open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		printf("fdscan: /proc/self/fd: %s\n", strerrorname_np(errno));
		return 3;
	}
	int self = dirfd(d), leak = 0, extra = 0, n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd == self)
			continue;
		n++;
		char link[64], target[512];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t len = readlink(link, target, sizeof target - 1);
		target[len > 0 ? len : 0] = 0;
		struct stat st;
		const char *type = "?";
		int serious = 0;
		if (fstat(fd, &st) == 0) {
			switch (st.st_mode & S_IFMT) {
			case S_IFREG: type = "file"; serious = 1; break;
			case S_IFDIR: type = "directory"; serious = 1; break;
			case S_IFSOCK: type = "socket"; serious = 1; break;
			case S_IFIFO: type = "pipe"; break;
			case S_IFCHR: type = "chardev"; break;
			case S_IFBLK: type = "blockdev"; serious = 1; break;
			default: type = "anon"; break;
			}
		}
		const char *mark = "";
		if (fd > 2) {
			mark = serious ? " LEAK" : " EXTRA";
			leak |= serious;
			extra = 1;
		}
		printf("fd %d: %s -> %s%s\n", fd, type, target, mark);
	}
	closedir(d);
	printf("fdscan: %d fds, %s\n", n,
	       leak ? "LEAKED file/directory/socket" : extra ? "extra fds" : "only 0, 1, 2");
	fflush(stdout);
	return leak ? 1 : extra ? 2 : 0;
}
