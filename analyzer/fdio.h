/* analyzer/fdio.h — whole reads and writes on a descriptor, retried on
 * EINTR and short counts: the pipes between sandrun-analyze and
 * sandrun-decode (pcm.h), and the analyzer's report. */
#ifndef SANDRUN_ANALYZER_FDIO_H
#define SANDRUN_ANALYZER_FDIO_H

#include <stddef.h>

/* 0, or -errno. */
int an_write_all(int fd, const void *buf, size_t len);
/* 1: len bytes read; 0: end of file before any; -1: cut short or failed. */
int an_read_exact(int fd, void *buf, size_t len);

#endif
