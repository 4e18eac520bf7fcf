/* blocked_syscall — call socket(AF_INET, SOCK_STREAM) under a policy that
 * does not allow it (the suite uses --policy strict, whose violations kill
 * the process). Prints "blocked_syscall: calling socket()" first, so the
 * suite knows the program got that far. Expected: killed by SIGSYS before
 * socket() returns (outcome seccomp, syscall "socket"). If socket()
 * returns at all, prints the result and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	printf("blocked_syscall: calling socket()\n");
	fflush(stdout);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	printf("blocked_syscall: NOT KILLED: socket() returned %d (%s)\n", fd,
	       fd < 0 ? strerrorname_np(errno) : "a socket");
	fflush(stdout);
	return 1;
}
