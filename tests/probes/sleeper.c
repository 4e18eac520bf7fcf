/* sleeper — sleep (blocked, no CPU) until stopped. Expected outcome:
 * timeout. Safety net: exits 1 after 60 s ("not stopped"). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("sleeper: sleeping\n");
	fflush(stdout);
	for (int i = 0; i < 60; i++)
		sleep(1);
	printf("sleeper: NOT STOPPED after 60 s\n");
	return 1;
}
