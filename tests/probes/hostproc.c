/* hostproc PID — try to reach a host process (the suite passes the host pid
 * of a `sleep` it started outside the sandbox): kill(PID, 0),
 * kill(PID, SIGTERM), ptrace(PTRACE_ATTACH), pidfd_open(), open
 * /proc/PID/status. All must fail (ESRCH/ENOENT: the pid does not exist in
 * the job's pid namespace; EPERM from seccomp for ptrace is fine too).
 * Exits 1 if any attempt succeeded, 3 (touching nothing) if PID happens to
 * name a process of the sandbox itself, else 0. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int bad;
static void report(const char *what, long rc)
{
	if (rc < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
	} else {
		printf("%s: SUCCEEDED (should not reach a host process)\n", what);
		bad = 1;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hostproc PID\n");
		return 64;
	}
	pid_t pid = (pid_t)atoi(argv[1]);
	if (pid <= 1) {
		fprintf(stderr, "hostproc: refusing pid %d\n", (int)pid);
		return 64;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || pid == getpid()) {
		char comm[64] = "?";
		if (fd >= 0) {
			ssize_t n = read(fd, comm, sizeof comm - 1);
			comm[n > 0 ? n : 0] = 0;
			close(fd);
		}
		printf("pid %d exists in the sandbox's own pid namespace (comm %s): "
		       "collision, not touching it\n", (int)pid, strtok(comm, "\n") ? comm : "?");
		return 3;
	}
	printf("in-sandbox %s: %s\n", path, strerrorname_np(errno));
	report("kill(pid, 0)", kill(pid, 0));
	report("kill(pid, SIGTERM)", kill(pid, SIGTERM));
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	report("ptrace(PTRACE_ATTACH)", r);
	if (r == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	long pfd = syscall(SYS_pidfd_open, pid, 0);
	report("pidfd_open", pfd);
	if (pfd >= 0)
		close((int)pfd);
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	report("open /proc/PID/status", fd);
	if (fd >= 0)
		close(fd);
	fflush(stdout);
	return bad;
}
