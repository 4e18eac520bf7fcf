/* spin — burn CPU in a tight loop. Expected to be stopped by the sandbox
 * (--timeout -> timeout, --cpu-time -> cpu_limit). Safety net: gives up by
 * itself after 30 s of wall time and exits 1 ("not stopped"). */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("spin: spinning\n");
	fflush(stdout);
	volatile unsigned long n = 0;
	for (;;) {
		for (int i = 0; i < 1000000; i++)
			n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 30) {
			printf("spin: NOT STOPPED after 30 s\n");
			return 1;
		}
	}
}
