/* analyzer/decoder/filter.h — sandrun-decode's own seccomp filter, from
 * policies/decode.json (compiled into the program at build time: inside
 * the sandbox it cannot read a file).
 *
 * The file is in the format of the files in policies/ (docs/policy.md), of which
 * this reader takes the part the policy uses and refuses the rest, so
 * nothing in the file is silently ignored: a default action, then rules of
 * names and an action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO with errnoRet,
 * SCMP_ACT_KILL_PROCESS); "comment" anywhere; "archMap" is accepted but
 * the filter is built for the native ABI only, and any other ABI kills.
 * No argument conditions: a rule with "args" is an error.
 *
 * Installed after the program and its libraries are loaded and before a
 * byte of the input is read; it stacks under the job's policy (strict).
 */
#ifndef SANDRUN_ANALYZER_DECODER_FILTER_H
#define SANDRUN_ANALYZER_DECODER_FILTER_H

#include <stddef.h>

extern const char an_decode_policy_text[]; /* generated from policies/decode.json */

/* Parse text and load the filter. Returns 0, or -errno with a message in
 * err (-EINVAL: the policy text is not what this reader accepts). */
int ffdec_filter_install(const char *text, char *err, size_t errlen);

#endif
