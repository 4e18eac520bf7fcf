/* mem_memfd — shmem (tmpfs) memory bomb without a file system: grow a
 * memfd 1 MiB at a time, alternately with write() and with ftruncate() +
 * mmap() + touching every page. The pages belong to the memfd, not to the
 * process's anonymous memory, but they are charged to its memory cgroup.
 * Expected under --mem 64M: outcome oom. Safety net: stops at 256 MiB and
 * exits 1 ("limit not enforced"); an error from write/ftruncate/mmap
 * (refused without an OOM kill) exits 2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define CAP_MIB 256

int main(void)
{
	int fd = memfd_create("sandrun-probe-bomb", MFD_CLOEXEC);
	if (fd < 0) {
		printf("mem_memfd: memfd_create: %s\n", strerrorname_np(errno));
		return 2;
	}
	static char buf[CHUNK];
	memset(buf, 0x5a, sizeof buf);
	for (unsigned mib = 1; mib <= CAP_MIB; mib++) {
		off_t off = (off_t)(mib - 1) * CHUNK;
		if (mib % 2) {
			ssize_t n = pwrite(fd, buf, CHUNK, off);
			if (n != (ssize_t)CHUNK) {
				printf("mem_memfd: write refused after %u MiB: %s\n",
				       mib - 1, n < 0 ? strerrorname_np(errno) : "short");
				return 2;
			}
		} else {
			if (ftruncate(fd, off + CHUNK) < 0) {
				printf("mem_memfd: ftruncate refused after %u MiB: %s\n",
				       mib - 1, strerrorname_np(errno));
				return 2;
			}
			char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, off);
			if (p == MAP_FAILED) {
				printf("mem_memfd: mmap refused after %u MiB: %s\n",
				       mib - 1, strerrorname_np(errno));
				return 2;
			}
			memset(p, 0xa5, CHUNK);
			munmap(p, CHUNK);
		}
		if (mib % 16 == 0) {
			printf("mem_memfd: %u MiB in the memfd\n", mib);
			fflush(stdout);
		}
	}
	printf("mem_memfd: LIMIT NOT ENFORCED: %u MiB in the memfd\n", CAP_MIB);
	return 1;
}
