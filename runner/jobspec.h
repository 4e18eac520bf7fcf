/* runner/jobspec.h — what the runner runs for one item, and how the end of
 * that run becomes the item's stored outcome.
 *
 * A job spec is plain data: the program (bound read-only into the sandbox)
 * and its argv, the seccomp policy, the limits, the cap on its output, the
 * exit status that means "this input is bad", and how its stdout is stored.
 * The runner's loop knows nothing about the analyzer: it asks the spec for
 * a struct sbx_spec per item (jobspec_sbx_spec) and for the verdict on a
 * finished job (jobspec_verdict). The built-in analyzer is one spec; the
 * --cmd of a later issue is another constructor filling the same fields
 * (its own argv, no bad-input status, text results).
 *
 * The spec key names the spec in the store: the SHA-256 of a canonical JSON
 * description of everything that can change a result (program bytes, argv,
 * policy text, --etc, bad-input status, result kind; for --cmd its command,
 * environment, binds, ok codes and input mode) and of nothing else: limits
 * and the output cap are not in it. An item analyzed under another key is
 * analyzed again (once the runner's spec guard lets it: runner/spec_guard.h).
 */
#ifndef SANDRUN_JOBSPEC_H
#define SANDRUN_JOBSPEC_H

#include "store/store.h"
#include "sandbox/sandbox.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOBSPEC_DEFAULT_MAX_OUTPUT (16ull << 20)
/* The part of a job's stderr that is kept (the end of it). */
#define JOBSPEC_STDERR_TAIL STORE_STDERR_TAIL_MAX
/* Where the analyzer binary appears inside the sandbox. */
#define JOBSPEC_ANALYZER_DST "/opt/sandrun/sandrun-analyze"
/* Its FFmpeg fallback, when installed next to it (docs/analyzer.md): bound
 * beside it, where the analyzer looks for it. */
#define JOBSPEC_DECODER_NAME "sandrun-decode"
#define JOBSPEC_DECODER_DST "/opt/sandrun/sandrun-decode"
/* sandrun-analyze's "the input is not audio it can read" (EX_DATAERR). */
#define JOBSPEC_ANALYZER_BAD_INPUT_EXIT 65

/* Binds of one spec (--bind-ro/--bind), leaving room for the input's. */
#define JOBSPEC_MAX_BINDS 62
#define JOBSPEC_MAX_OK_CODES 64

enum jobspec_kind { JOBSPEC_ANALYZER, JOBSPEC_COMMAND };
struct cmd_job;

struct jobspec_opts {
	const char *policy;         /* NULL: the kind's default ("analyzer" for the built-in analyzer: strict plus the FFmpeg fallback's hand-off) */
	const char *policy_dir;     /* where bare policy names are looked up */
	const char *program;        /* host path of the program (analyzer: sr_analyzer_path()) */
	struct sbx_limits limits;
	uint64_t max_output;        /* 0: JOBSPEC_DEFAULT_MAX_OUTPUT */
	const char *const *etc_extra; /* --etc: more of the host's /etc (checked) */
	size_t netc_extra;
	bool fingerprint;           /* analyzer: --fingerprint (its argv, so the key) */
	bool spectral;              /* analyzer: --spectral (likewise) */
};

struct jobspec {
	enum jobspec_kind kind;
	char *program;              /* real host path, bound read-only (by path: the
				       admin's, made real at startup; see sbx_bind) */
	char program_sha256[65];
	char *decoder;              /* analyzer: sandrun-decode beside it, or NULL */
	char decoder_sha256[65];    /* "" without one */
	char **argv;                /* as the job sees it, NULL-terminated */
	struct sbx_bind binds[JOBSPEC_MAX_BINDS]; /* --cmd: src_fd owned, opened at startup */
	size_t nbinds;
	/* --cmd only (kind JOBSPEC_COMMAND; see cmdspec.h) */
	char *command;              /* the --cmd string as given */
	char **envp;                /* the job's whole environment */
	int ok_codes[JOBSPEC_MAX_OK_CODES]; /* exit statuses besides 0 that are ok */
	size_t nok_codes;
	bool input_arg;             /* argv holds {}: the input is bound at /input */
	struct cmd_job *job;        /* per-job scratch of jobspec_sbx_spec */
	char *policy_arg;           /* as given (name or file) */
	char policy_sha256[65];     /* of the policy file's text ("" if unreadable) */
	struct sbx_policy *policy;  /* compiled; NULL in unit tests */
	struct sbx_limits limits;
	const char *const *etc_extra; /* --etc (the options' strings, not owned) */
	size_t netc_extra;
	uint64_t max_output;
	int bad_input_exit;         /* exit status meaning bad_input; -1: none */
	enum store_result_kind result_kind;
	char *description;          /* canonical JSON that the key hashes */
	char *run_description;      /* ... plus "limits" and "max_output", which are
				       not in the key: what a run records (runs.spec) */
	char key[72];               /* "sha256:<64 hex>" */
};

/* The built-in analyzer. Resolves and hashes the program, reads and loads
 * the policy. On failure returns -errno and a message in err:
 * -ENOENT/-EACCES program or policy missing, -EINVAL bad policy, else the
 * policy could not be compiled on this host. */
int jobspec_open_analyzer(const struct jobspec_opts *opts, struct jobspec **out, char *err,
			  size_t errlen);
void jobspec_free(struct jobspec *js);

/* Fill description and key from the other fields (pure: no file access;
 * the hashes of program and policy must already be set). */
#define JOBSPEC_KEY_FORMAT 2
int jobspec_compute_key(struct jobspec *js);
/* A spec an earlier run recorded (runs.spec: format 1, the description
 * itself, limits and output cap in it; format 2, run_description), as the
 * description this version would hash: without the limits and the output
 * cap. NULL if it is not one this version understands. */
json_t *jobspec_description_now(const char *text);
/* For runs.spec text: old_key, the key that run's items carry (format 1:
 * the hash of the text itself), and key, the one this version gives the
 * same spec. -EINVAL: not a spec this version understands. */
int jobspec_keys_of_run_spec(const char *text, char old_key[72], char key[72]);

/* One job's input, as the runner opened it (inputs_open_file). */
struct jobspec_input {
	const char *path;     /* the item's path: its last component names /input/NAME */
	int fd;               /* read-only, on a read-only mount: the job's stdin */
	int bind_fd;          /* O_PATH of the same inode, for {} (-1 without {}) */
};

/* The sandbox spec of one job of this spec: the input as stdin, the two
 * pipes as stdout and stderr. Valid as long as js is, and until the next
 * call (a --cmd spec's argv and binds are per input). */
void jobspec_sbx_spec(const struct jobspec *js, const struct jobspec_input *in, int out_fd, int err_fd,
		      struct sbx_spec *out);

/* ---- a finished job ---------------------------------------------------- */

/* What the runner collected from a job. */
struct job_capture {
	const char *out;            /* stdout, at most max_output bytes */
	size_t out_len;
	bool out_overflow;          /* it wrote more; the runner killed it */
	const char *err_tail;       /* the last JOBSPEC_STDERR_TAIL bytes of stderr */
	size_t err_len;
};

struct job_verdict {
	enum outcome outcome;
	int exit_code;              /* -1 unless the program exited */
	int signal;                 /* 0 unless a signal ended it */
	char syscall[32];
	char error[512];            /* printable, for the user and the store; "" for ok */
	bool store_result;          /* keep stdout as the item's result */
};

/* Map the sandbox's result and the capture to the stored outcome (pure).
 * result_valid: stdout was checked and is acceptable as the spec's result
 * kind (the store's json_valid for JSON); only consulted for a clean exit. */
void jobspec_verdict(const struct jobspec *js, const struct sbx_result *res,
		     const struct job_capture *cap, bool result_valid, struct job_verdict *v);

/* ---- pure helpers ------------------------------------------------------ */

/* Copy untrusted bytes for a one-line message that is stored (an item's
 * error): newlines become a space, every character the text module calls
 * unsafe (lib/text.h: controls, bidi controls, U+2028/9) and invalid
 * UTF-8 a '?', cut at a character boundary to fit. Lossy; what reaches a
 * terminal goes through the text module's escapers as well. Returns out. */
char *jobspec_printable(const char *in, size_t len, char *out, size_t outlen);

/* Valid UTF-8 of in (NUL-terminated), with each byte that is not part of a
 * valid sequence replaced by '?'; for JSON text, which must be UTF-8 while
 * paths are bytes. Returns out. */
char *jobspec_utf8_lossy(const char *in, char *out, size_t outlen);

/* stdout capture with a hard cap: append returns 1 once more than `limit`
 * bytes were offered (only `limit` are kept), 0 otherwise, -ENOMEM. */
struct out_capture {
	char *buf;
	size_t len, cap, limit;
	bool overflow;
};
int out_capture_append(struct out_capture *c, const void *data, size_t n);
void out_capture_free(struct out_capture *c);

/* The last `size` bytes of a stream. */
struct tail_capture {
	char *buf;
	size_t len, size;
};
int tail_capture_append(struct tail_capture *t, const void *data, size_t n);
void tail_capture_free(struct tail_capture *t);

/* SHA-256 of a buffer as 64 lowercase hex digits. */
void jobspec_sha256_hex(const void *data, size_t len, char out[65]);
/* Of a file's bytes; at most max_bytes (0: no cap, else -EFBIG). */
int jobspec_sha256_file(const char *path, size_t max_bytes, char out[65]);
/* The last step of opening a spec, either kind: hash the policy's text,
 * load (compile) it, compute the key. 0, or -errno with err written. */
int jobspec_finish(struct jobspec *js, const char *policy_dir, char *err, size_t errlen);

#endif
