/* store/pg_lib.c — libpq loaded on first use (store/pg_lib.h says why). */
#define PG_LIB_IMPL
#include "store/pg_lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

struct pg_lib pg_lib;

int pg_lib_load(char *err, size_t errlen)
{
	static bool loaded;
	if (loaded)
		return 0;
	/* The soname, not "libpq.so": that link exists only with libpq-dev. */
	void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "the PostgreSQL client library is missing (%s): install libpq5",
			 dlerror());
		return -ENOENT;
	}
#define PG_LIB_RESOLVE(f)                                                                  \
	if (!(pg_lib.f = (__typeof__(&f))dlsym(h, #f))) {                                 \
		snprintf(err, errlen, "libpq.so.5 has no %s: a libpq older than sandrun needs", #f); \
		dlclose(h);                                                                  \
		return -ENOENT;                                                              \
	}
	PG_LIB_FUNCS(PG_LIB_RESOLVE)
#undef PG_LIB_RESOLVE
	loaded = true; /* kept open for the process's life */
	return 0;
}
