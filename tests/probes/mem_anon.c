/* mem_anon — anonymous memory bomb: malloc 1 MiB chunks and touch every
 * page, forever. Expected under --mem 64M: killed by the OOM killer
 * (outcome oom). Safety net: stops at 256 MiB and exits 1 ("limit not
 * enforced") so a broken sandbox cannot eat the host. A NULL from malloc
 * (refused without an OOM kill) exits 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)
#define CAP_MIB 256

int main(void)
{
	for (unsigned mib = 1; mib <= CAP_MIB; mib++) {
		char *p = malloc(CHUNK);
		if (!p) {
			printf("mem_anon: malloc refused after %u MiB\n", mib - 1);
			return 2;
		}
		memset(p, 0xa5, CHUNK);
		if (mib % 16 == 0) {
			printf("mem_anon: %u MiB touched\n", mib);
			fflush(stdout);
		}
	}
	printf("mem_anon: LIMIT NOT ENFORCED: %u MiB touched\n", CAP_MIB);
	return 1;
}
