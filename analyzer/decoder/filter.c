/* analyzer/decoder/filter.c — see filter.h. */
#include "analyzer/decoder/filter.h"

#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool action_of(const char *name, json_t *errno_ret, uint32_t *out)
{
	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0 && json_is_integer(errno_ret) &&
		 json_integer_value(errno_ret) > 0 && json_integer_value(errno_ret) < 4096)
		*out = SCMP_ACT_ERRNO((uint32_t)json_integer_value(errno_ret));
	else
		return false;
	return true;
}

/* Every key of o must be one of keys (NULL-terminated). */
static const char *unknown_key(json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			known = known || strcmp(k, *p) == 0;
		if (!known)
			return k;
	}
	return NULL;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t def, json_t *rule, size_t i, char *err, size_t errlen)
{
	static const char *const keys[] = { "names", "name", "action", "errnoRet", "comment", NULL };
	const char *bad = json_is_object(rule) ? unknown_key(rule, keys) : "(not an object)";
	uint32_t action;

	if (bad) {
		snprintf(err, errlen, "syscalls[%zu]: %s is not accepted here", i, bad);
		return -EINVAL;
	}
	const char *an = json_string_value(json_object_get(rule, "action"));
	if (!an || !action_of(an, json_object_get(rule, "errnoRet"), &action)) {
		snprintf(err, errlen, "syscalls[%zu]: action %s", i, an ? an : "missing");
		return -EINVAL;
	}
	json_t *names = json_object_get(rule, "names");
	json_t *one = json_object_get(rule, "name");
	if ((!json_is_array(names) && !json_is_string(one)) || (names && one)) {
		snprintf(err, errlen, "syscalls[%zu]: names", i);
		return -EINVAL;
	}
	size_t count = names ? json_array_size(names) : 1;
	for (size_t k = 0; k < count; k++) {
		const char *name = json_string_value(names ? json_array_get(names, k) : one);
		if (!name) {
			snprintf(err, errlen, "syscalls[%zu].names[%zu]: not a string", i, k);
			return -EINVAL;
		}
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR || action == def)
			continue; /* not a syscall here (as Docker); or the default anyway */
		int r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0) {
			snprintf(err, errlen, "syscalls[%zu]: %s: %s", i, name, strerror(-r));
			return r;
		}
	}
	return 0;
}

int ffdec_filter_install(const char *text, char *err, size_t errlen)
{
	static const char *const keys[] = { "comment", "defaultAction", "defaultErrnoRet", "archMap",
					    "syscalls", NULL };
	json_error_t je;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	scmp_filter_ctx ctx = NULL;
	uint32_t def;
	int r = -EINVAL;

	if (!root) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	const char *bad = json_is_object(root) ? unknown_key(root, keys) : "(not an object)";
	const char *dn = json_string_value(json_object_get(root, "defaultAction"));
	json_t *rules = json_object_get(root, "syscalls");
	if (bad) {
		snprintf(err, errlen, "%s is not accepted here", bad);
		goto out;
	}
	if (!dn || !action_of(dn, json_object_get(root, "defaultErrnoRet"), &def) || !json_is_array(rules)) {
		snprintf(err, errlen, "defaultAction or syscalls");
		goto out;
	}
	ctx = seccomp_init(def);
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; r == 0 && i < json_array_size(rules); i++)
		r = add_rule(ctx, def, json_array_get(rules, i), i, err, errlen);
	if (r == 0) {
		r = seccomp_load(ctx);
		if (r < 0)
			snprintf(err, errlen, "seccomp_load: %s", strerror(-r));
	}
out:
	seccomp_release(ctx);
	json_decref(root);
	return r;
}
