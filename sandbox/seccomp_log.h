/* sandbox/seccomp_log.h — the syscall behind a seccomp kill, from the
 * kernel's audit record (see seccomp_log.c for why and when it works). */
#ifndef SANDRUN_SECCOMP_LOG_H
#define SANDRUN_SECCOMP_LOG_H

#include <stddef.h>

#define SECCOMP_LOG_RECENT 64

struct seccomp_log_entry {
	int pid, syscall_nr;
};

struct seccomp_log {
	int fd;                   /* /dev/kmsg, or -1 */
	struct seccomp_log_entry recent[SECCOMP_LOG_RECENT];
	size_t next;
};

int seccomp_log_open(struct seccomp_log *log);
void seccomp_log_close(struct seccomp_log *log);
/* The syscall the policy killed host_pid for, or -ENOENT. */
int seccomp_log_lookup(struct seccomp_log *log, int host_pid);
/* Pure, unit-tested: parse one /dev/kmsg record. */
int seccomp_log_parse(const char *rec, int *pid, int *syscall_nr);

#endif
