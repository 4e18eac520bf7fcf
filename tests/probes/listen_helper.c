/* listen_helper SECONDS ABSTRACT_NAME UNIX_PATH — a HARNESS HELPER, not a
 * probe: the suite runs it OUTSIDE the sandbox (in the outer test
 * namespace) to place "host" services the probe inside must not reach:
 * a TCP listener on 127.0.0.1 (port chosen by the kernel), an abstract unix
 * socket and a unix socket at a path. It first connects to each of them
 * itself (proving they are reachable from the host side), prints
 *   tcp PORT / abstract NAME / unix PATH / ready
 * then accepts for SECONDS seconds, printing "accepted KIND" for every
 * connection, and exits 0. Lines for a listener it could not set up read
 * "KIND unavailable: ERRNO". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *unix_path;
static void on_term(int sig)
{
	if (unix_path)
		unlink(unix_path);
	_exit(sig == SIGALRM ? 0 : 1);
}

static int listen_on(const struct sockaddr *sa, socklen_t len, int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, sa, len) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* connect to our own listener and accept that connection */
static int self_check(int lfd, const struct sockaddr *sa, socklen_t len, int family)
{
	int c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -1;
	if (connect(c, sa, len) < 0) {
		int e = errno;
		close(c);
		errno = e;
		return -1;
	}
	int a = accept(lfd, NULL, NULL);
	close(c);
	if (a < 0)
		return -1;
	close(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: listen_helper SECONDS ABSTRACT_NAME UNIX_PATH\n");
		return 64;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGALRM, on_term);
	signal(SIGPIPE, SIG_IGN);
	int fds[3] = { -1, -1, -1 };
	const char *kind[3] = { "tcp", "abstract", "unix" };

	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fds[0] = listen_on((struct sockaddr *)&sin, sizeof sin, AF_INET);
	socklen_t sl = sizeof sin;
	if (fds[0] >= 0 && getsockname(fds[0], (struct sockaddr *)&sin, &sl) == 0 &&
	    self_check(fds[0], (struct sockaddr *)&sin, sizeof sin, AF_INET) == 0)
		printf("tcp %d\n", ntohs(sin.sin_port));
	else
		printf("tcp unavailable: %s\n", strerrorname_np(errno));

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(argv[2]);
	if (n + 1 >= sizeof sa.sun_path)
		return 64;
	memcpy(sa.sun_path + 1, argv[2], n);
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	fds[1] = listen_on((struct sockaddr *)&sa, alen, AF_UNIX);
	if (fds[1] >= 0 && self_check(fds[1], (struct sockaddr *)&sa, alen, AF_UNIX) == 0)
		printf("abstract %s\n", argv[2]);
	else
		printf("abstract unavailable: %s\n", strerrorname_np(errno));

	struct sockaddr_un su = { .sun_family = AF_UNIX };
	n = strlen(argv[3]);
	if (n >= sizeof su.sun_path)
		return 64;
	memcpy(su.sun_path, argv[3], n);
	unlink(argv[3]);
	fds[2] = listen_on((struct sockaddr *)&su, sizeof su, AF_UNIX);
	if (fds[2] >= 0) {
		unix_path = argv[3];
		if (self_check(fds[2], (struct sockaddr *)&su, sizeof su, AF_UNIX) == 0)
			printf("unix %s\n", argv[3]);
		else
			printf("unix unavailable: %s\n", strerrorname_np(errno));
	} else {
		printf("unix unavailable: %s\n", strerrorname_np(errno));
	}
	printf("ready\n");
	fflush(stdout);

	alarm((unsigned)atoi(argv[1]));
	for (;;) {
		struct pollfd p[3];
		for (int i = 0; i < 3; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 3; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			int a = accept(fds[i], NULL, NULL);
			if (a < 0)
				continue;
			printf("accepted %s\n", kind[i]);
			fflush(stdout);
			close(a);
		}
	}
	on_term(SIGALRM);
	return 0;
}
