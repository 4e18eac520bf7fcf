/* tests/probes/sockfam.c — the socket families and protocols a job may not
 * reach (issue 12 item 5). Each refused call must fail with EPERM, the
 * filter's answer: any other error means the kernel's family or protocol
 * code ran (and, on a distribution kernel, may have autoloaded its module).
 * The allowed calls must still work. Prints one line per call; exits 0
 * when everything was as expected, 1 otherwise ("GOT THROUGH" names it). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int bad;

static void refused(const char *what, int r)
{
	if (r >= 0) {
		printf("GOT THROUGH %s\n", what);
		close(r);
		bad = 1;
	} else if (errno != EPERM) {
		printf("GOT THROUGH %s: %s (not the filter's EPERM: the kernel's code ran)\n", what, strerror(errno));
		bad = 1;
	} else {
		printf("refused %s: EPERM\n", what);
	}
}

static void allowed(const char *what, int r)
{
	if (r < 0) {
		printf("BROKEN %s: %s\n", what, strerror(errno));
		bad = 1;
	} else {
		printf("allowed %s\n", what);
		close(r);
	}
}

int main(void)
{
	int sv[2];
	refused("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	refused("socketpair(AF_INET6)", socketpair(AF_INET6, SOCK_DGRAM, 0, sv));
	refused("socketpair(AF_TIPC)", socketpair(30, SOCK_RDM, 0, sv));
	refused("socket(AF_INET, STREAM, SCTP)", socket(AF_INET, SOCK_STREAM, 132));
	refused("socket(AF_INET6, SEQPACKET, SCTP)", socket(AF_INET6, SOCK_SEQPACKET, 132));
	refused("socket(AF_INET, STREAM, MPTCP)", socket(AF_INET, SOCK_STREAM, 262));
	refused("socket(AF_INET, DCCP, DCCP)", socket(AF_INET, 6 /* SOCK_DCCP */, 33));
	refused("socket(AF_INET, DGRAM, UDPLITE)", socket(AF_INET, SOCK_DGRAM, 136));
	refused("socket(AF_INET, RAW, ICMP)", socket(AF_INET, SOCK_RAW, 1));
	refused("socket(AF_TIPC)", socket(30, SOCK_RDM, 0));
	refused("socket(AF_RDS)", socket(21, SOCK_SEQPACKET, 0));
	int u = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	if (u == 0)
		close(sv[1]);
	allowed("socketpair(AF_UNIX)", u == 0 ? sv[0] : -1);
	allowed("socket(AF_INET, STREAM|CLOEXEC, 0)", socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	allowed("socket(AF_INET6, STREAM, TCP)", socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP));
	allowed("socket(AF_INET, DGRAM, UDP)", socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP));
	return bad;
}
