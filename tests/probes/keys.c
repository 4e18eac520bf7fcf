/* keys — the kernel keyrings, with raw syscalls (no libkeyutils).
 *
 *   keys with-key DESC DATA FILE CMD...   HARNESS HELPER (outside the
 *       sandbox): join a new anonymous session keyring (so the caller's
 *       own is untouched), add a "user" key DESC=DATA to it, write its
 *       serial to FILE, exec CMD (e.g. sandrun): the runner's session
 *       keyring then holds a key of root.
 *   keys probe DESC SERIAL                PROBE (inside the sandbox, under
 *       a policy that allows keyctl): search the session keyring for DESC,
 *       read SERIAL, read the user keyring → none may yield the key.
 *       Prints the session keyring it has; exits 0 if nothing was read. */
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long kc(int op, unsigned long a, unsigned long b, unsigned long c, unsigned long d)
{
	return syscall(SYS_keyctl, op, a, b, c, d);
}

static const char *en(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "?";
}

static int with_key(const char *desc, const char *data, const char *file, char **cmd)
{
	if (kc(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0) {
		perror("keys: join session keyring");
		return 125;
	}
	long k = syscall(SYS_add_key, "user", desc, data, strlen(data), KEY_SPEC_SESSION_KEYRING);
	if (k < 0) {
		perror("keys: add_key");
		return 125;
	}
	FILE *f = fopen(file, "w");
	if (!f || fprintf(f, "%ld\n", k) < 0 || fclose(f) != 0) {
		perror(file);
		return 125;
	}
	execvp(cmd[0], cmd);
	perror(cmd[0]);
	return 127;
}

static int probe(const char *desc, long serial)
{
	int bad = 0;
	char buf[256];
	long r = kc(KEYCTL_DESCRIBE, (unsigned long)KEY_SPEC_SESSION_KEYRING, (unsigned long)buf, sizeof buf - 1, 0);
	if (r > 0) {
		buf[r < (long)sizeof buf ? r : (long)sizeof buf - 1] = '\0';
		printf("session keyring: %s\n", buf);
	} else {
		printf("session keyring: %s\n", en(errno));
	}
	r = kc(KEYCTL_SEARCH, (unsigned long)KEY_SPEC_SESSION_KEYRING, (unsigned long)"user", (unsigned long)desc, 0);
	printf("search @s for %s: %s\n", desc, r >= 0 ? "FOUND BAD" : en(errno));
	bad |= r >= 0;
	memset(buf, 0, sizeof buf);
	r = kc(KEYCTL_READ, (unsigned long)serial, (unsigned long)buf, sizeof buf - 1, 0);
	printf("read key %ld: %s%s\n", serial, r >= 0 ? "READ BAD: " : en(errno), r >= 0 ? buf : "");
	bad |= r >= 0;
	r = kc(KEYCTL_SEARCH, (unsigned long)KEY_SPEC_USER_KEYRING, (unsigned long)"user", (unsigned long)desc, 0);
	printf("search @u for %s: %s\n", desc, r >= 0 ? "FOUND BAD" : en(errno));
	bad |= r >= 0;
	return bad;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 6 && !strcmp(argv[1], "with-key"))
		return with_key(argv[2], argv[3], argv[4], argv + 5);
	if (argc == 4 && !strcmp(argv[1], "probe"))
		return probe(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: keys with-key DESC DATA FILE CMD... | keys probe DESC SERIAL\n");
	return 64;
}
