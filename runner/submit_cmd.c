/* runner/submit_cmd.c — `sandrun submit`: the shell's client of `sandrun
 * serve` (docs/serve.md). It opens each FILE itself, with the caller's
 * own rights, and hands the server the open descriptor (SCM_RIGHTS): the
 * server never opens a path a client names. --status, --cancel and
 * --stats send the other requests. */
#include "runner/common.h"
#include "runner/run.h"
#include "lib/fd.h"
#include "lib/text.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SUBMIT_DEFAULT_SOCKET "/run/sandrun/sandrun.sock"
#define ANSWER_MAX (64u << 20)

/* Exit statuses (sandrun(1), SUBMIT). */
enum {
	SUBMIT_EXIT_FAILED = 1,       /* --wait: some file ended failed */
	SUBMIT_EXIT_REFUSED = 65,     /* a file was refused (not regular, too large, ...) */
	SUBMIT_EXIT_UNAVAILABLE = 69, /* no server at the socket, or it went away */
	SUBMIT_EXIT_BUSY = 75,        /* the queue is full: retry later */
	SUBMIT_EXIT_FORBIDDEN = 77,   /* this uid may not use the server */
};

static const char submit_usage[] =
	"Usage: sandrun submit [--socket PATH] [--wait] [--json] FILE...\n"
	"       sandrun submit [--socket PATH] --status ID | --cancel ID | --stats\n"
	"Hand files to a running 'sandrun serve'. Each FILE is opened here, with your\n"
	"rights, and its open descriptor is passed over the socket: the server never\n"
	"opens a path you name, and keeps its own copy before it answers.\n\n"
	"      --socket PATH   the server's socket (default $SANDRUN_SOCKET, else\n"
	"                      " SUBMIT_DEFAULT_SOCKET ")\n"
	"  -w, --wait          wait for each file's outcome (else: its id at once)\n"
	"      --name NAME     a label stored with the item (default: FILE's name)\n"
	"      --json          the server's answers as JSON Lines on stdout\n"
	"      --status ID     the state of item ID (and its result once done)\n"
	"      --cancel ID     cancel item ID: pending ones never run, a running one\n"
	"                      is stopped (not counted)\n"
	"      --stats         the server's queue, running jobs and outcomes\n"
	"  -h, --help          show this help\n\n"
	"Exit status: 0 every file acknowledged (--wait: every one ok), 1 --wait: some\n"
	"file failed, 2 usage, 65 a file was refused, 69 no server, 75 busy or over\n"
	"the uid's quota (retry later), 77 not allowed.\n";

enum { OPT_SOCKET = 0x100, OPT_NAME, OPT_STATUS, OPT_CANCEL, OPT_STATS, OPT_SJSON };

struct submit_opts {
	const char *socket, *name;
	bool wait, json, stats;
	const char *status_id, *cancel_id;
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* Our open files go to whoever listens there: in a directory others
	 * can write, that may be anyone. The server must be root, us, or the
	 * owner of the socket's directory (/run/sandrun: root, or the
	 * rootless unit's user). */
	struct ucred peer;
	socklen_t plen = sizeof peer;
	char dir[sizeof sa.sun_path];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
	struct stat ds;
	bool dir_ok = stat(slash ? dir : ".", &ds) == 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 ||
	    !(peer.uid == 0 || peer.uid == geteuid() || (dir_ok && peer.uid == ds.st_uid))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* One request line, with file_fd (>= 0) as its SCM_RIGHTS descriptor. */
static int send_line(int sock, json_t *req, int file_fd)
{
	char *text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	text[len] = '\n';
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl = { 0 };
	struct iovec iov = { text, len + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (file_fd >= 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof ctl.buf;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &file_fd, sizeof(int));
	}
	/* The descriptor goes with the first byte; the rest, if the socket
	 * takes it in parts, follows without one. */
	ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	int r = n < 0 ? -errno : sr_write_all(sock, text + n, len + 1 - (size_t)n);
	free(text);
	return r < 0 ? r : 0;
}

/* Answers arrive one per line. */
struct reader {
	int fd;
	char *buf;
	size_t len, cap;
};

static json_t *read_answer(struct reader *rd)
{
	for (;;) {
		char *nl = rd->buf ? memchr(rd->buf, '\n', rd->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - rd->buf);
			json_t *a = json_loadb(rd->buf, n, 0, NULL);
			memmove(rd->buf, nl + 1, rd->len - n - 1);
			rd->len -= n + 1;
			return a ? a : json_pack("{s:b, s:s, s:s}", "ok", 0, "error", "bad_answer", "message",
						  "the server's answer is not JSON");
		}
		if (rd->len == rd->cap) {
			size_t cap = rd->cap ? rd->cap * 2 : 65536;
			char *p = cap <= ANSWER_MAX ? realloc(rd->buf, cap) : NULL;
			if (!p)
				return NULL;
			rd->buf = p;
			rd->cap = cap;
		}
		ssize_t n = read(rd->fd, rd->buf + rd->len, rd->cap - rd->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		rd->len += (size_t)n;
	}
}

static int exit_for_error(const char *code)
{
	if (!code)
		return SUBMIT_EXIT_UNAVAILABLE;
	if (strcmp(code, "busy") == 0 || strcmp(code, "quota") == 0)
		return SUBMIT_EXIT_BUSY;
	if (strcmp(code, "forbidden") == 0)
		return SUBMIT_EXIT_FORBIDDEN;
	if (strcmp(code, "bad_file") == 0 || strcmp(code, "too_large") == 0 || strcmp(code, "no_fd") == 0 ||
	    strcmp(code, "spool_timeout") == 0)
		return SUBMIT_EXIT_REFUSED;
	if (strcmp(code, "not_found") == 0 || strcmp(code, "finished") == 0 || strcmp(code, "bad_request") == 0 ||
	    strcmp(code, "path_refused") == 0)
		return SR_EXIT_USAGE;
	return SR_EXIT_STORE;
}

static const char *str(json_t *a, const char *key)
{
	return json_string_value(json_object_get(a, key));
}

/* One answer, shown: JSON as it came (with "file"), or one line for a
 * terminal with every server- and job-supplied text escaped. Returns the
 * exit status it means. */
static int show_answer(const struct submit_opts *o, json_t *a, const char *file)
{
	char f[512], m[1024];
	sr_text_escape_name(file ? file : "", file ? strlen(file) : 0, f, sizeof f);
	if (o->json) {
		if (file)
			json_object_set_new(a, "file", json_string(file));
		char *t = json_dumps(a, JSON_COMPACT);
		if (t)
			printf("%s\n", t);
		free(t);
	}
	if (!json_is_true(json_object_get(a, "ok"))) {
		const char *msg = str(a, "message");
		sr_text_escape_line(msg ? msg : "", msg ? strlen(msg) : 0, m, sizeof m);
		/* Every field of the answer is the server's text: escaped. */
		char code[64];
		const char *ec = str(a, "error");
		sr_text_escape_line(ec ? ec : "?", ec ? strlen(ec) : 1, code, sizeof code);
		if (!o->json)
			fprintf(stderr, "sandrun: %s%s%s (%s)\n", file ? f : "", file ? ": " : "", m, code);
		return exit_for_error(str(a, "error"));
	}
	const char *status = str(a, "status"), *outcome = str(a, "outcome");
	if (!o->json && !o->stats) {
		const char *err = str(a, "error");
		sr_text_escape_line(err ? err : "", err ? strlen(err) : 0, m, sizeof m);
		char st[32], oc[64];
		sr_text_escape_line(status ? status : "?", status ? strlen(status) : 1, st, sizeof st);
		sr_text_escape_line(outcome ? outcome : "", outcome ? strlen(outcome) : 0, oc, sizeof oc);
		printf("%lld\t%s\t%s%s%s%s%s\n", (long long)json_integer_value(json_object_get(a, "id")), st, oc,
		       file ? "\t" : "", file ? f : "", err ? "\t" : "", err ? m : "");
	}
	return status && strcmp(status, "failed") == 0 ? SUBMIT_EXIT_FAILED : SR_EXIT_OK;
}

static int worse(int a, int b)
{
	return a > b ? a : b; /* 0 < 1 < 2 < ... : the most telling wins */
}

static int submit_files(const struct submit_opts *o, int sock, char **files, int n)
{
	struct reader rd = { .fd = sock };
	int status = SR_EXIT_OK, sent = 0;
	for (int i = 0; i < n; i++) {
		_cleanup_close_ int fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			char f[512];
			sr_text_escape_name(files[i], strlen(files[i]), f, sizeof f);
			fprintf(stderr, "sandrun: %s: %s\n", f, strerror(errno));
			status = worse(status, SUBMIT_EXIT_REFUSED);
			continue;
		}
		const char *base = strrchr(files[i], '/');
		json_t *req = json_pack("{s:i, s:s, s:b, s:s, s:i}", "v", 1, "op", "submit", "wait", o->wait,
					"name", o->name ? o->name : base ? base + 1 : files[i], "tag", i);
		int r = req ? send_line(sock, req, fd) : -ENOMEM;
		json_decref(req);
		if (r < 0) {
			/* A server that refused this client (forbidden, busy)
			 * said why before it closed: show that, not EPIPE. */
			json_t *a = read_answer(&rd);
			if (a) {
				status = worse(status, show_answer(o, a, NULL));
				json_decref(a);
			} else {
				fprintf(stderr, "sandrun: the server went away: %s\n", strerror(-r));
				status = worse(status, SUBMIT_EXIT_UNAVAILABLE);
			}
			free(rd.buf);
			return status;
		}
		sent++;
		/* Without --wait, one at a time: a busy answer stops the rest. */
		if (!o->wait) {
			json_t *a = read_answer(&rd);
			if (!a) {
				fprintf(stderr, "sandrun: the server closed the connection\n");
				free(rd.buf);
				return SUBMIT_EXIT_UNAVAILABLE;
			}
			status = worse(status, show_answer(o, a, files[i]));
			json_decref(a);
			sent--;
		}
	}
	for (; sent > 0; sent--) { /* --wait: answers come as files end, each with its tag */
		json_t *a = read_answer(&rd);
		if (!a) {
			fprintf(stderr, "sandrun: the server closed the connection with %d answer%s missing\n",
				sent, sent == 1 ? "" : "s");
			status = worse(status, SUBMIT_EXIT_UNAVAILABLE);
			break;
		}
		json_int_t tag = json_integer_value(json_object_get(a, "tag"));
		status = worse(status, show_answer(o, a, tag >= 0 && tag < n ? files[tag] : NULL));
		json_decref(a);
	}
	free(rd.buf);
	return status;
}

static int one_request(const struct submit_opts *o, int sock)
{
	json_t *req;
	const char *idarg = o->status_id ? o->status_id : o->cancel_id;
	if (o->stats) {
		req = json_pack("{s:i, s:s}", "v", 1, "op", "stats");
	} else {
		int id;
		if (sr_parse_int(idarg, 1, INT32_MAX, &id) < 0)
			return sr_usage_error("submit ", "invalid id '%s': expected the number a submit answered", idarg);
		req = json_pack("{s:i, s:s, s:I}", "v", 1, "op", o->status_id ? "status" : "cancel", "id",
				(json_int_t)id);
	}
	int r = req ? send_line(sock, req, -1) : -ENOMEM;
	json_decref(req);
	struct reader rd = { .fd = sock };
	json_t *a = r == 0 ? read_answer(&rd) : NULL;
	free(rd.buf);
	if (!a)
		return fprintf(stderr, "sandrun: no answer from the server\n"), SUBMIT_EXIT_UNAVAILABLE;
	if (o->stats && !o->json) { /* numbers only: nothing untrusted */
		char *t = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
		if (t)
			printf("%s\n", t);
		free(t);
	}
	r = show_answer(o, a, NULL);
	json_decref(a);
	/* a cancelled item ends failed: that is the cancel's success */
	return o->cancel_id && r == SUBMIT_EXIT_FAILED ? SR_EXIT_OK : r;
}

int cmd_submit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET }, { "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, OPT_SJSON },          { "name", required_argument, NULL, OPT_NAME },
		{ "status", required_argument, NULL, OPT_STATUS }, { "cancel", required_argument, NULL, OPT_CANCEL },
		{ "stats", no_argument, NULL, OPT_STATS },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("SANDRUN_SOCKET");
	struct submit_opts o = { .socket = env && *env ? env : SUBMIT_DEFAULT_SOCKET };
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hw", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(submit_usage, stdout); return SR_EXIT_OK;
		case 'w': o.wait = true; break;
		case OPT_SJSON: o.json = true; break;
		case OPT_SOCKET: o.socket = optarg; break;
		case OPT_NAME: o.name = optarg; break;
		case OPT_STATUS: o.status_id = optarg; break;
		case OPT_CANCEL: o.cancel_id = optarg; break;
		case OPT_STATS: o.stats = true; break;
		case ':': return sr_usage_error("submit ", "option '%s' needs a value", argv[optind - 1]);
		default: return sr_usage_error("submit ", "invalid option '%s'", argv[optind - 1]);
		}
	}
	int modes = (o.status_id != NULL) + (o.cancel_id != NULL) + o.stats;
	if (modes > 1 || (modes && optind < argc))
		return sr_usage_error("submit ", "give FILEs, or one of --status, --cancel, --stats");
	if (!modes && optind >= argc)
		return sr_usage_error("submit ", "no files given");
	_cleanup_close_ int sock = connect_to(o.socket);
	if (sock < 0) {
		char s[512];
		sr_text_escape_name(o.socket, strlen(o.socket), s, sizeof s);
		if (sock == -EPERM)
			fprintf(stderr, "sandrun: the server at %s runs as a user that is neither root, you, nor the "
				"owner of its directory: not sending it any file\n", s);
		else
			fprintf(stderr, "sandrun: cannot reach the server at %s: %s (is 'sandrun serve --socket %s' running?)\n",
				s, strerror(-sock), s);
		return SUBMIT_EXIT_UNAVAILABLE;
	}
	return modes ? one_request(&o, sock) : submit_files(&o, sock, argv + optind, argc - optind);
}
