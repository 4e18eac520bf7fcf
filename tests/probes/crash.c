/* crash MODE — end in a chosen way so the suite can check the outcome
 * classification: "segv" (SIGSEGV), "abort" (SIGABRT), "exit N" (exit code
 * N; "exit 0" is the clean run). Prints what it is about to do. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "segv") == 0) {
		printf("crash: dereferencing NULL\n");
		fflush(stdout);
		signal(SIGSEGV, SIG_DFL);
		volatile int *p = NULL;
		*p = 1;
		return 99; /* not reached */
	}
	if (argc >= 2 && strcmp(argv[1], "abort") == 0) {
		printf("crash: abort()\n");
		fflush(stdout);
		abort();
	}
	if (argc >= 3 && strcmp(argv[1], "exit") == 0) {
		int code = atoi(argv[2]);
		printf("crash: exit %d\n", code);
		fflush(stdout);
		exit(code);
	}
	fprintf(stderr, "usage: crash segv|abort|exit N\n");
	return 64;
}
