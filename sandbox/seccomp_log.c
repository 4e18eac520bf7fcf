/* sandbox/seccomp_log.c — which syscall did the seccomp policy kill?
 *
 * A SIGSYS wait status does not carry the syscall number. The kernel logs
 * every SECCOMP_RET_KILL_* action (kernel.seccomp.actions_logged) as an
 * audit record, type=1326, with the host pid and the syscall number; with no
 * audit daemon that record lands in the kernel log. The runner opens
 * /dev/kmsg once per run, positioned at its end, and reads the new records
 * only when a job died of SIGSYS. When the log is unavailable (no
 * /dev/kmsg, an audit daemon consuming the records, rate limiting), the
 * outcome is still `seccomp`, with the syscall unknown. */
#include "seccomp_log.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int seccomp_log_open(struct seccomp_log *log)
{
	memset(log, 0, sizeof *log);
	log->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (log->fd < 0)
		return -errno;
	lseek(log->fd, 0, SEEK_END); /* only records from now on */
	return 0;
}

void seccomp_log_close(struct seccomp_log *log)
{
	sr_closep(&log->fd);
}

/* Pure: parse one kmsg record; 0 and the pid/syscall if it is a seccomp
 * kill record, -ENOENT otherwise. */
int seccomp_log_parse(const char *rec, int *pid, int *syscall_nr)
{
	if (!strstr(rec, "type=1326"))
		return -ENOENT;
	const char *p = strstr(rec, " pid=");
	const char *s = strstr(rec, " syscall=");
	const char *c = strstr(rec, " compat=");
	if (!p || !s)
		return -ENOENT;
	if (c && strtol(c + 8, NULL, 10) != 0)
		return -ENOENT; /* a compat-ABI number would name the wrong syscall */
	*pid = (int)strtol(p + 5, NULL, 10);
	*syscall_nr = (int)strtol(s + 9, NULL, 10);
	return 0;
}

static void remember(struct seccomp_log *log, int pid, int nr)
{
	struct seccomp_log_entry *e = &log->recent[log->next++ % SECCOMP_LOG_RECENT];
	e->pid = pid;
	e->syscall_nr = nr;
}

int seccomp_log_lookup(struct seccomp_log *log, int host_pid)
{
	if (log->fd >= 0) {
		char rec[2048];
		ssize_t n;
		/* One record per read; EAGAIN at the end; EPIPE when records were
		 * overwritten before we read them (keep going). */
		while ((n = read(log->fd, rec, sizeof rec - 1)) > 0 || (n < 0 && errno == EPIPE)) {
			if (n <= 0)
				continue;
			rec[n] = '\0';
			int pid, nr;
			if (seccomp_log_parse(rec, &pid, &nr) == 0)
				remember(log, pid, nr);
		}
	}
	for (size_t i = 0; i < SECCOMP_LOG_RECENT; i++)
		if (log->recent[i].pid == host_pid && host_pid > 0)
			return log->recent[i].syscall_nr;
	return -ENOENT;
}
