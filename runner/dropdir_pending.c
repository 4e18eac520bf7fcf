/* runner/dropdir_pending.c — `sandrun watch`: the files seen but not
 * taken yet (waiting for --settle, or for their last writer to go), and
 * the check for a writer. See dropdir.h. */
#include "runner/dropdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static size_t bucket_of(const char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % DD_BUCKETS;
}

struct dd_pending *dd_find(struct dd_table *t, const char *path)
{
	for (struct dd_pending *p = t->bucket[bucket_of(path)]; p; p = p->hnext)
		if (strcmp(p->path, path) == 0)
			return p;
	return NULL;
}

int dd_add(struct dd_table *t, const char *path, struct dd_pending **out)
{
	struct dd_pending *p = dd_find(t, path);
	if (p) {
		*out = p;
		return 0;
	}
	if (!(p = calloc(1, sizeof *p)) || !(p->path = strdup(path))) {
		free(p);
		return -ENOMEM;
	}
	size_t b = bucket_of(path);
	p->hnext = t->bucket[b];
	t->bucket[b] = p;
	p->prev = t->tail;
	if (t->tail)
		t->tail->next = p;
	else
		t->head = p;
	t->tail = p;
	t->n++;
	*out = p;
	return 0;
}

void dd_drop(struct dd_table *t, struct dd_pending *p)
{
	if (!p)
		return;
	struct dd_pending **pp = &t->bucket[bucket_of(p->path)];
	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		t->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		t->tail = p->prev;
	t->n--;
	free(p->path);
	free(p);
}

void dd_clear(struct dd_table *t)
{
	while (t->head)
		dd_drop(t, t->head);
}

uint64_t dd_next_due(const struct dd_table *t)
{
	uint64_t due = UINT64_MAX;
	for (const struct dd_pending *p = t->head; p; p = p->next)
		if (p->due_ms < due)
			due = p->due_ms;
	return due;
}

size_t dd_due_paths(const struct dd_table *t, uint64_t now, char **paths, size_t max)
{
	size_t k = 0;
	for (const struct dd_pending *p = t->head; p && k < max; p = p->next)
		if (p->due_ms <= now && (paths[k] = strdup(p->path)))
			k++;
	return k;
}

int dd_writers_open(int fd)
{
	/* The kernel refuses a read lease while the inode is open for
	 * writing by anyone. The lease is ours for a few instructions: a
	 * writer opening meanwhile waits until F_UNLCK (a non-blocking one
	 * gets EWOULDBLOCK), and the lease-break SIGIO sent to us is
	 * blocked (runner/run_cmd.c), never delivered. Root has CAP_LEASE;
	 * other runners may only lease their own files. */
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
		return errno == EAGAIN ? 1 : -errno;
	fcntl(fd, F_SETLEASE, F_UNLCK);
	return 0;
}
