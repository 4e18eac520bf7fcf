/* ident — the job's identity and what it can reach of other jobs and of
 * its own init. One subcommand per run; one line per check; BAD marks a
 * failure; exits 0 when everything was as it must be, 1 otherwise.
 *
 *   ids BASE COUNT        uid == gid, within [BASE, BASE+COUNT), neither 0
 *                         nor 65534, no supplementary group
 *   inotify-hog FILE SECS take inotify instances until refused, write
 *                         "ready N ERRNO" to FILE, hold them SECS seconds
 *   inotify-one           one inotify_init1() must succeed
 *   peer PID              kill(PID, 0), /proc/PID/status, /proc/PID/environ
 *                         of another job's process (a host pid): all fail
 *   kill-init             kill(1, 0): refused (Landlock signal scope)
 *   abstract NAME SECS    connect to the abstract unix socket NAME until
 *                         something answers other than "no listener":
 *                         EPERM (Landlock scope) is ok, connected is BAD;
 *                         exit 2 if no listener was ever seen
 *   init TOKEN            the init (pid 1): /proc/1/cmdline is
 *                         "sandrun-init" and lacks TOKEN, /proc/1/environ
 *                         and /proc/1/mem cannot be opened, Seccomp 2 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int bad;

static const char *en(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "?";
}

static int cmd_ids(unsigned long base, unsigned long count)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	int ok = r == e && e == s && gr == ge && ge == gs && r == gr;
	ok = ok && r != 0 && r != 65534 && r >= base && r - base < count;
	printf("ids: uid %u/%u/%u gid %u/%u/%u%s\n", r, e, s, gr, ge, gs, ok ? "" : " BAD");
	gid_t g[8];
	int n = getgroups(8, g);
	printf("groups: %d%s\n", n, n == 0 ? "" : " BAD");
	return ok && n == 0 ? 0 : 1;
}

static int cmd_inotify_hog(const char *file, int secs)
{
	int n = 0, e = 0;
	for (; n < 100000; n++)
		if (inotify_init1(IN_CLOEXEC) < 0) {
			e = errno;
			break;
		}
	printf("inotify-hog: %d instances, then %s\n", n, en(e));
	fflush(stdout);
	FILE *f = fopen(file, "w");
	if (f) {
		fprintf(f, "ready %d %s\n", n, en(e));
		fclose(f);
	}
	sleep((unsigned)secs);
	return 0;
}

static int cmd_inotify_one(void)
{
	int fd = inotify_init1(IN_CLOEXEC);
	printf("inotify: %s\n", fd >= 0 ? "ok" : en(errno));
	return fd >= 0 ? 0 : 1;
}

static void must_fail(const char *what, int r)
{
	int e = errno;
	printf("%s: %s\n", what, r < 0 ? en(e) : "SUCCEEDED");
	bad |= r >= 0;
}

static int cmd_peer(int pid)
{
	char p[64];
	must_fail("kill(peer, 0)", kill(pid, 0));
	snprintf(p, sizeof p, "/proc/%d/status", pid);
	must_fail("open /proc/peer/status", open(p, O_RDONLY));
	snprintf(p, sizeof p, "/proc/%d/environ", pid);
	must_fail("open /proc/peer/environ", open(p, O_RDONLY));
	return bad;
}

static int cmd_kill_init(void)
{
	must_fail("kill(1, 0)", kill(1, 0));
	return bad;
}

static int cmd_abstract(const char *name, int secs)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	if (len + 1 >= sizeof a.sun_path)
		return 2;
	memcpy(a.sun_path + 1, name, len);
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	for (int i = 0; i < secs * 20; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			printf("socket: %s\n", en(errno));
			return 2;
		}
		int r = connect(s, (struct sockaddr *)&a, alen);
		int e = errno;
		close(s);
		if (r == 0) {
			printf("abstract %s: connected SUCCEEDED\n", name);
			return 1;
		}
		if (e != ECONNREFUSED && e != ENOENT) {
			printf("abstract %s: %s\n", name, en(e));
			return e == EPERM ? 0 : 1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	}
	printf("abstract %s: no listener seen\n", name);
	return 2;
}

static int cmd_init(const char *token)
{
	char buf[4096];
	int fd = open("/proc/1/cmdline", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	int leak = memmem(buf, (size_t)n, token, strlen(token)) != NULL;
	int named = strcmp(buf, "sandrun-init ") == 0;
	printf("cmdline of pid 1: '%s'%s%s\n", buf, leak ? " BAD (the runner's argv)" : "",
	       named ? "" : " BAD (not sandrun-init)");
	bad |= leak || !named;
	must_fail("open /proc/1/environ", open("/proc/1/environ", O_RDONLY));
	must_fail("open /proc/1/mem", open("/proc/1/mem", O_RDONLY));
	/* The init installs its filter once the command has exec'd (a
	 * vforked command would inherit it otherwise), so right at the
	 * command's start it may still be coming: wait up to 2 s for it. */
	int seccomp = -1;
	for (int tries = 0; tries < 200 && seccomp != 2; tries++) {
		if (tries)
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		FILE *f = fopen("/proc/1/status", "re");
		while (f && fgets(buf, sizeof buf, f))
			sscanf(buf, "Seccomp: %d", &seccomp);
		if (f)
			fclose(f);
	}
	printf("Seccomp of pid 1: %d%s\n", seccomp, seccomp == 2 ? "" : " BAD");
	bad |= seccomp != 2;
	return bad;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "ids") && argc == 4)
		return cmd_ids(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	if (!strcmp(c, "inotify-hog") && argc == 4)
		return cmd_inotify_hog(argv[2], atoi(argv[3]));
	if (!strcmp(c, "inotify-one"))
		return cmd_inotify_one();
	if (!strcmp(c, "peer") && argc == 3)
		return cmd_peer(atoi(argv[2]));
	if (!strcmp(c, "kill-init"))
		return cmd_kill_init();
	if (!strcmp(c, "abstract") && argc == 4)
		return cmd_abstract(argv[2], atoi(argv[3]));
	if (!strcmp(c, "init") && argc == 3)
		return cmd_init(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of tests/probes/ident.c\n");
	return 64;
}
