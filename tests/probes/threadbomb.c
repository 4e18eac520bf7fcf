/* threadbomb — every thread creates threads in a loop, forever. Expected
 * under --pids 32 --timeout 2: pthread_create() fails with EAGAIN once the
 * pids limit is reached (threads count as pids), the bomb keeps trying until
 * the wall-clock timeout kills the job (outcome timeout), nothing survives.
 * Safety net: stops creating after 128 threads ("LIMIT NOT ENFORCED") and
 * exits 1 after 60 s. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CAP 128

static atomic_long made;
static atomic_int refused_reported, cap_reported;
static struct timespec t0;

static void *bomb(void *arg)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			exit(1);
		if (atomic_load(&made) >= CAP) {
			if (atomic_exchange(&cap_reported, 1) == 0) {
				printf("threadbomb: LIMIT NOT ENFORCED: %d threads created\n", CAP);
				fflush(stdout);
			}
			sleep(1);
			continue;
		}
		pthread_t th;
		int e = pthread_create(&th, &attr, bomb, NULL);
		if (e == 0) {
			atomic_fetch_add(&made, 1);
		} else if (atomic_exchange(&refused_reported, 1) == 0) {
			printf("threadbomb: pthread_create refused: %s after %ld threads\n",
			       strerrorname_np(e), atomic_load(&made));
			fflush(stdout);
		}
	}
	return arg;
}

int main(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("threadbomb: creating threads\n");
	fflush(stdout);
	bomb(NULL);
	return 0;
}
