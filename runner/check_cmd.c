/* runner/check_cmd.c — `sandrun check`: what this host can enforce. */
#include "runner/common.h"
#include "lib/fd.h"

#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char check_usage[] =
	"Usage: sandrun check [--json]\n"
	"Report which isolation this host can enforce. Exits 0 when the default\n"
	"isolation is complete, 3 when something is missing.\n\n"
	"      --json  one JSON object: a boolean per check (running_as_root, clone3,\n"
	"              pid_namespace, ..., policies, analyzer), the cgroup mode and\n"
	"              parent, the paths found, \"missing\" (an array) and \"complete\"\n"
	"  -h, --help  show this help\n";

/* A row's name as a JSON key: "pid namespace" -> "pid_namespace",
 * "CLONE_INTO_CGROUP" -> "clone_into_cgroup". */
static const char *json_key(const char *name, char *key, size_t len)
{
	size_t i = 0;
	for (; name[i] && i + 1 < len; i++)
		key[i] = name[i] == ' ' ? '_' : (char)tolower((unsigned char)name[i]);
	key[i] = '\0';
	return key;
}

/* What is missing, one string per thing: the probe's comma-separated list
 * and the policies. */
static json_t *missing_array(const char *missing, bool policies_ok)
{
	json_t *a = json_array();
	for (const char *p = missing; *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(a, json_stringn(p, n));
		p += n;
		p += strspn(p, ", ");
	}
	if (!policies_ok)
		json_array_append_new(a, json_string("policies"));
	return a;
}

/* What was probed: the host's report, the policies and analyzer found,
 * the hard-link protection, and one yes/no row per check. */
#define CHECK_ROWS 18
#define ROW_INTO_CGROUP 14
struct check {
	struct sbx_host_report r;
	bool policies_ok, analyzer_ok, complete, hl_known;
	uint64_t hardlinks;
	struct { const char *name; bool ok; } rows[CHECK_ROWS];
};

static void check_probe(struct check *c)
{
	struct sbx_host_report *r = &c->r;
	sbx_host_probe(r);
	struct sbx_policy *pol = NULL;
	c->policies_ok = sbx_policy_load("default", sr_policy_dir(), &pol, NULL) == 0;
	sbx_policy_free(pol);
	c->analyzer_ok = access(sr_analyzer_path(), X_OK) == 0;
	c->complete = !r->missing[0] && c->policies_ok;
	/* A tree owner can place hard links to files they could not read
	 * unless the kernel refuses that (docs/security.md, "What remains"). */
	c->hl_known = sr_read_u64_at(AT_FDCWD, "/proc/sys/fs/protected_hardlinks", &c->hardlinks) == 0;
	const struct { const char *name; bool ok; } rows[CHECK_ROWS] = {
		{ "running as root", r->user_root },
		{ "clone3", r->clone3 },
		{ "pidfd", r->pidfd },
		{ "seccomp", r->seccomp },
		{ "pid namespace", r->ns_pid },
		{ "mount namespace", r->ns_mnt },
		{ "network namespace", r->ns_net },
		{ "ipc namespace", r->ns_ipc },
		{ "uts namespace", r->ns_uts },
		{ "cgroup namespace", r->ns_cgroup },
		{ "memory controller", r->ctl_memory },
		{ "cpu controller", r->ctl_cpu },
		{ "pids controller", r->ctl_pids },
		{ "freezer", r->ctl_freezer || r->cgroup_mode == SBX_CG_V2 },
		[ROW_INTO_CGROUP] = { "CLONE_INTO_CGROUP", r->into_cgroup },
		{ "policies", c->policies_ok },
		{ "analyzer", c->analyzer_ok },
		{ "job uid range free", r->uid_range_free },
	};
	memcpy(c->rows, rows, sizeof rows);
}

static void check_print_json(const struct check *c)
{
	const struct sbx_host_report *r = &c->r;
	json_t *o = json_object();
	json_object_set_new(o, "protected_hardlinks", c->hl_known ? json_boolean(c->hardlinks != 0) : json_null());
	for (size_t i = 0; i < CHECK_ROWS; i++) {
		char key[64];
		json_object_set_new(o, json_key(c->rows[i].name, key, sizeof key), json_boolean(c->rows[i].ok));
	}
	json_object_set_new(o, "cgroup_mode", json_string(sbx_cgroup_mode_name(r->cgroup_mode)));
	json_object_set_new(o, "cgroup_parent", json_string(r->cgroup_parent));
	json_object_set_new(o, "policy_dir", json_string(sr_policy_dir()));
	json_object_set_new(o, "analyzer_path", json_string(sr_analyzer_path()));
	json_object_set_new(o, "landlock_abi", json_integer(r->landlock_abi));
	json_object_set_new(o, "uid_range", json_pack("[I,I]", (json_int_t)SBX_UID_BASE,
						      (json_int_t)(SBX_UID_BASE + SBX_UID_COUNT - 1)));
	/* Without root: the user-namespace mode's requirements, each with
	 * its reason and fix (empty as root). */
	json_object_set_new(o, "rootless", json_boolean(r->rootless));
	json_t *rl = json_array();
	for (int i = 0; r->rootless && i < SBX_RL_CHECKS; i++)
		json_array_append_new(rl, json_pack("{s:s,s:b,s:s}", "name", r->rl[i].name, "ok", r->rl[i].ok,
						    "why", r->rl[i].why));
	json_object_set_new(o, "rootless_checks", rl);
	json_object_set_new(o, "missing", missing_array(r->missing, c->policies_ok));
	json_object_set_new(o, "complete", json_boolean(c->complete));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(o);
}

static void check_print_text(const struct check *c)
{
	const struct sbx_host_report *r = &c->r;
	for (size_t i = 0; i < CHECK_ROWS; i++) {
		const char *note = "";
		if (i == ROW_INTO_CGROUP && !c->rows[i].ok && r->cgroup_mode != SBX_CG_V2)
			note = " (v2 only; on v1 the child joins its cgroup before it runs anything)";
		if (i == 0 && r->rootless)
			note = " (each job gets a user namespace: the checks \"without root\" below)";
		printf("%-20s %s%s\n", c->rows[i].name, c->rows[i].ok ? "yes" : "NO", note);
	}
	for (int i = 0; r->rootless && i < SBX_RL_CHECKS; i++) {
		printf("%-20s %s\n", r->rl[i].name, r->rl[i].ok ? "yes" : "NO");
		if (!r->rl[i].ok)
			printf("  why: %s\n", r->rl[i].why);
	}
	printf("%-20s %s\n", "cgroup mode", sbx_cgroup_mode_name(r->cgroup_mode));
	if (r->cgroup_parent[0] == '/')
		printf("%-20s %s/sandrun-<pid>-<start>/job-<n>\n", "cgroups go to", r->cgroup_parent);
	else
		printf("%-20s %s\n", "cgroups go to", r->cgroup_parent);
	if (r->rootless)
		printf("%-20s %u-%u inside each job's user namespace, each one id of the user's "
		       "subordinate range outside (one per running job, locked in ~/.sandrun-locks/uid, "
		       "the home of the password database)%s%s\n", "job uids", SBX_UID_BASE,
		       SBX_UID_BASE + SBX_UID_COUNT - 1, r->uid_range_free ? "" : ": ", r->uid_range_error);
	else
		printf("%-20s %u-%u (one per running job, locked in /run/sandrun/uid)%s%s\n", "job uids",
		       SBX_UID_BASE, SBX_UID_BASE + SBX_UID_COUNT - 1, r->uid_range_free ? "" : ": ",
		       r->uid_range_error);
	if (r->landlock_abi > 0)
		printf("%-20s ABI %d\n", "landlock", r->landlock_abi);
	else
		printf("%-20s no (best effort: every other layer still applies)\n", "landlock");
	printf("%-20s %s\n", "protected hardlinks",
	       !c->hl_known ? "unknown (no /proc/sys/fs/protected_hardlinks)"
	       : c->hardlinks ? "yes (a tree owner can link only files they could read and write)"
			      : "NO: a tree owner can hard-link files they cannot read into an input tree;"
				" set fs.protected_hardlinks=1");
	printf("%-20s %s\n", "policy directory", sr_policy_dir());
	printf("%-20s %s\n", "analyzer", sr_analyzer_path());
	if (c->complete)
		printf("sandrun can enforce its default isolation on this host.\n");
	else
		printf("MISSING: %s%s\n", r->missing,
		       c->policies_ok ? "" : (r->missing[0] ? ", policies" : "policies"));
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == OPT_JSON)
			json = true;
		else if (opt == 'h')
			return fputs(check_usage, stdout), 0;
		else
			return sr_usage_error("check ", "invalid option");
	}
	if (optind < argc)
		return sr_usage_error("check ", "unexpected argument '%s'", argv[optind]);
	struct check c;
	check_probe(&c);
	if (json)
		check_print_json(&c);
	else
		check_print_text(&c);
	return c.complete ? SR_EXIT_OK : SR_EXIT_ISOLATION;
}
