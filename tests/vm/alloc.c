/* tests/vm/alloc.c — allocate and touch N MiB (default 200), then report.
 * The VM self-test (tests/vm/selftest.sh) runs it inside a cgroup with
 * memory.max=64M and expects the kernel's OOM killer to end it (SIGKILL).
 * Built static by tests/vm/run.sh; installed in the guest as
 * /usr/local/bin/sandrun-vm-alloc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	const size_t chunk = (size_t)1 << 20;

	for (long i = 0; i < mib; i++) {
		char *p = malloc(chunk);
		if (!p) {
			perror("sandrun-vm-alloc: malloc");
			return 2;
		}
		memset(p, 0xa5, chunk); /* touch every page: charge it */
	}
	printf("allocated %ld MiB\n", mib);
	return 0;
}
