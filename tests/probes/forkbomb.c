/* forkbomb — every process forks in a loop, forever. Expected under
 * --pids 32 --timeout 2: fork() fails with EAGAIN once the pids limit is
 * reached, the bomb keeps trying until the wall-clock timeout kills the
 * whole job (outcome timeout) and no process of it survives.
 * Safety net: a counter shared by all the bomb's processes stops the bomb
 * after 128 successful forks ("LIMIT NOT ENFORCED"; the processes then idle
 * and exit 1 after 60 s), so a broken pids limit cannot exhaust the host. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CAP 128

struct shared {
	atomic_long made;
	atomic_int refused_reported, cap_reported;
};

int main(void)
{
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("forkbomb: mmap");
		return 2;
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("forkbomb: forking\n");
	fflush(stdout);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			_exit(1);
		if (atomic_load(&sh->made) >= CAP) {
			if (atomic_exchange(&sh->cap_reported, 1) == 0) {
				printf("forkbomb: LIMIT NOT ENFORCED: %d processes created\n", CAP);
				fflush(stdout);
			}
			sleep(1);
			continue;
		}
		pid_t p = fork();
		if (p == 0)
			continue; /* the child joins the bomb */
		if (p > 0) {
			atomic_fetch_add(&sh->made, 1);
		} else if (atomic_exchange(&sh->refused_reported, 1) == 0) {
			int e = errno;
			printf("forkbomb: fork refused: %s after %ld processes\n",
			       strerrorname_np(e), atomic_load(&sh->made));
			fflush(stdout);
		}
	}
}
