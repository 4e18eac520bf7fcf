/* runner/loop_mem.c — the loop's --memfree admission: MemAvailable from
 * /proc/meminfo (loop.h). */
#include "runner/loop.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int loop_parse_memavailable(const char *meminfo, uint64_t *bytes)
{
	const char *p = strstr(meminfo, "MemAvailable:");
	if (!p || (p != meminfo && p[-1] != '\n'))
		return -ENOENT;
	unsigned long long kb;
	if (sscanf(p, "MemAvailable: %llu kB", &kb) != 1)
		return -EINVAL;
	*bytes = (uint64_t)kb * 1024;
	return 0;
}

/* Whether --memfree lets a new job start now. Unknown counts as yes: a
 * kernel without MemAvailable must not stall the batch forever. */
bool loop_memory_allows_start(uint64_t need)
{
	char buf[4096];
	uint64_t avail;
	if (sr_read_file_at(AT_FDCWD, "/proc/meminfo", buf, sizeof buf) < 0 ||
	    loop_parse_memavailable(buf, &avail) < 0)
		return true;
	return avail >= need;
}
