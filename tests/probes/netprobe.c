/* netprobe TARGET... — try to reach host services from inside the sandbox.
 *   tcp:IPV4:PORT   TCP connect (non-blocking, 2 s limit)
 *   abstract:NAME   connect to the abstract unix socket "\0NAME"
 *   unix:PATH       connect to the unix socket at PATH
 * Every connect must fail (new network namespace: no route or refused;
 * abstract names are per network namespace; host paths are invisible).
 * Prints one line per target; exits 1 if any connect succeeded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* 0 connected, else errno */
static int try_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r = poll(&p, 1, 2000);
	if (r == 0)
		return ETIMEDOUT;
	int err = 0;
	socklen_t el = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return errno;
	return err;
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		int fd, e;
		if (strncmp(a, "tcp:", 4) == 0) {
			char host[64];
			snprintf(host, sizeof host, "%s", a + 4);
			char *colon = strrchr(host, ':');
			if (!colon) {
				fprintf(stderr, "netprobe: bad target %s\n", a);
				return 64;
			}
			*colon = 0;
			struct sockaddr_in sin = { .sin_family = AF_INET,
						   .sin_port = htons((uint16_t)atoi(colon + 1)) };
			inet_pton(AF_INET, host, &sin.sin_addr);
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				printf("%s: socket: %s\n", a, strerrorname_np(errno));
				continue;
			}
			e = try_connect(fd, (struct sockaddr *)&sin, sizeof sin);
		} else if (strncmp(a, "abstract:", 9) == 0 || strncmp(a, "unix:", 5) == 0) {
			int abstract = a[0] == 'a';
			const char *name = strchr(a, ':') + 1;
			struct sockaddr_un sun = { .sun_family = AF_UNIX };
			size_t n = strlen(name);
			if (n + 2 > sizeof sun.sun_path) {
				fprintf(stderr, "netprobe: name too long %s\n", a);
				return 64;
			}
			memcpy(sun.sun_path + abstract, name, n);
			socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + n);
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				printf("%s: socket: %s\n", a, strerrorname_np(errno));
				continue;
			}
			e = try_connect(fd, (struct sockaddr *)&sun, len);
		} else {
			fprintf(stderr, "netprobe: bad target %s\n", a);
			return 64;
		}
		if (e == 0) {
			printf("%s: CONNECTED (should be unreachable)\n", a);
			const char msg[] = "hello from inside the sandbox\n";
			if (write(fd, msg, sizeof msg - 1) < 0) { /* best effort */ }
			bad = 1;
		} else {
			printf("%s: %s\n", a, strerrorname_np(e));
		}
		close(fd);
	}
	fflush(stdout);
	return bad;
}
