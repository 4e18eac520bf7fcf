/* tests/unit/hostcaps.c — print this host's capabilities once, as
 * SANDRUN_HOST_CAPS wants them ("ia32=0 x32=0 landlock=7 kmsg=1"):
 * tests/run.sh exports the line to every suite, so each capability is
 * probed once per run and every test sees the same answer. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/testkit.h"

int main(void)
{
	/* Probe for real: the line exported by an outer run (or a wrapper
	 * such as tests/lib/no-ia32) must not answer for this host. */
	unsetenv("SANDRUN_HOST_CAPS");
	printf("ia32=%d x32=%d landlock=%d kmsg=%d\n", tk_have_ia32(), tk_have_x32(),
	       tk_landlock_abi(), tk_have_kmsg());
	return 0;
}
