/* lib/outcome.c — the outcome catalog's table (see outcome.h). */
#include "lib/outcome.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	bool at_limit;
	bool succeeded;
} catalog[OUTCOME_COUNT] = {
	[OUTCOME_OK] = { "ok", false, true },
	[OUTCOME_EXIT_NONZERO] = { "exit_nonzero", false },
	[OUTCOME_SIGNALED] = { "signaled", false },
	[OUTCOME_OOM] = { "oom", true },
	[OUTCOME_TIMEOUT] = { "timeout", true },
	[OUTCOME_CPU_LIMIT] = { "cpu_limit", true },
	[OUTCOME_SECCOMP] = { "seccomp", false },
	[OUTCOME_SETUP_ERROR] = { "setup_error", false },
	[OUTCOME_OUTPUT_LIMIT] = { "output_limit", true },
	[OUTCOME_BAD_INPUT] = { "bad_input", false },
	[OUTCOME_BAD_OUTPUT] = { "bad_output", false },
	[OUTCOME_RUNNER_LOST] = { "runner_lost", false },
	[OUTCOME_INPUT_ERROR] = { "input_error", false },
	[OUTCOME_DAMAGED] = { "damaged", false, true },
};

const char *outcome_name(enum outcome o)
{
	if ((unsigned)o >= OUTCOME_COUNT)
		return NULL;
	return catalog[o].name;
}

int outcome_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < OUTCOME_COUNT; i++)
		if (strcmp(name, catalog[i].name) == 0)
			return i;
	return -EINVAL;
}

bool outcome_from_sandbox(enum outcome o)
{
	return (unsigned)o < OUTCOME_SANDBOX_COUNT;
}

bool outcome_at_limit(enum outcome o)
{
	return (unsigned)o < OUTCOME_COUNT && catalog[o].at_limit;
}

bool outcome_succeeded(enum outcome o)
{
	return (unsigned)o < OUTCOME_COUNT && catalog[o].succeeded;
}

bool outcome_name_succeeded(const char *name)
{
	int o = outcome_from_name(name);
	return o >= 0 && outcome_succeeded((enum outcome)o);
}
