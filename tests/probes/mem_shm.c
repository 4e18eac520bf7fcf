/* mem_shm — tmpfs memory bomb through the file system: write 1 MiB chunks
 * to a file in /dev/shm (DIR argument to use another directory). Expected
 * under --mem 64M: either the OOM killer (outcome oom) or a clean ENOSPC
 * from the size-limited /dev/shm (or EFBIG from RLIMIT_FSIZE; SIGXFSZ is
 * ignored so it shows as an error), reported and exit 0. Safety net: stops
 * at 256 MiB and exits 1 ("limit not enforced"); any other error exits 2. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define CAP_MIB 256

int main(int argc, char **argv)
{
	signal(SIGXFSZ, SIG_IGN);
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	char path[4096];
	snprintf(path, sizeof path, "%s/sandrun-probe-bomb.%d", dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		printf("mem_shm: open %s: %s\n", path, strerrorname_np(errno));
		return 2;
	}
	static char buf[CHUNK];
	memset(buf, 0x5a, sizeof buf);
	for (unsigned mib = 1; mib <= CAP_MIB; mib++) {
		size_t done = 0;
		while (done < CHUNK) {
			ssize_t n = write(fd, buf + done, CHUNK - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				int e = n < 0 ? errno : ENOSPC;
				printf("mem_shm: %s after %u MiB + %zu bytes in %s\n",
				       strerrorname_np(e), mib - 1, done, path);
				unlink(path);
				if (e == ENOSPC || e == EFBIG) {
					printf("mem_shm: refused cleanly\n");
					return 0;
				}
				return 2;
			}
			done += (size_t)n;
		}
		if (mib % 16 == 0) {
			printf("mem_shm: %u MiB written\n", mib);
			fflush(stdout);
		}
	}
	unlink(path);
	printf("mem_shm: LIMIT NOT ENFORCED: %u MiB written to %s\n", CAP_MIB, path);
	return 1;
}
