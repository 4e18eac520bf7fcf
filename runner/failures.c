/* runner/failures.c — --halt's threshold. See failures.h. */
#include "runner/failures.h"

bool failures_halt(int halt_fails, int halt_percent, int64_t failed, int64_t finished)
{
	if (halt_fails)
		return failed >= halt_fails;
	return halt_percent && finished >= FAILURES_HALT_MIN_FINISHED && failed * 100 >= (int64_t)halt_percent * finished;
}
