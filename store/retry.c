/* store/retry.c — the retry decision over the outcome catalog (see store.h). */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void retry_format_outcomes(unsigned mask, char *buf, size_t len)
{
	size_t used = 0;
	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < OUTCOME_COUNT; i++) {
		if (!(mask & RETRY_BIT(i)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
				 outcome_name(i));
		if (n < 0 || (size_t)n >= len - used)
			return; /* truncated, still NUL-terminated */
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "none");
}

/* Trim spaces at both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

static bool word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

int retry_parse_outcomes(const char *csv, unsigned *mask, char *err, size_t errlen)
{
	char valid[256];
	retry_format_outcomes(RETRY_ALLOWED_MASK, valid, sizeof valid);
	if (!csv) {
		snprintf(err, errlen, "--retry-on needs a list of outcomes (%s)", valid);
		return -EINVAL;
	}
	unsigned m = 0;
	bool any = false;
	const char *p = csv;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *s = p, *e = comma ? comma : p + strlen(p);
		trim(&s, &e);
		size_t n = (size_t)(e - s);
		if (n == 0) {
			snprintf(err, errlen,
				 "--retry-on '%s': empty outcome name; give a comma-separated "
				 "list of %s, or default, all, none",
				 csv, valid);
			return -EINVAL;
		}
		if (word_is(s, n, "default")) {
			m |= RETRY_DEFAULT_MASK;
		} else if (word_is(s, n, "all")) {
			m |= RETRY_ALLOWED_MASK;
		} else if (word_is(s, n, "none")) {
			/* adds nothing; "none" alone gives an empty mask */
		} else {
			int o = -1;
			for (int i = 0; i < OUTCOME_COUNT; i++)
				if (word_is(s, n, outcome_name(i)))
					o = i;
			if (o < 0 || !(RETRY_ALLOWED_MASK & RETRY_BIT(o))) {
				const char *why = o == OUTCOME_OK ? " (ok is not a failure)"
						  : o == OUTCOME_DAMAGED
							  ? " (damaged is a result: the same bytes decode the same way)"
						  : o == OUTCOME_INPUT_ERROR
							  ? " (an input error is re-checked by the next run, not retried)"
							  : "";
				snprintf(err, errlen,
					 "--retry-on: '%.*s' cannot be retried%s; valid outcomes: %s, "
					 "or default, all, none",
					 (int)n, s, why, valid);
				return -EINVAL;
			}
			m |= RETRY_BIT(o);
		}
		any = true;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!any)
		return -EINVAL;
	*mask = m;
	return 0;
}

bool retry_decide(const char *outcome, int attempt_no, int max_retries, unsigned retry_on_mask)
{
	int o = outcome_from_name(outcome);
	if (o < 0 || !(RETRY_ALLOWED_MASK & RETRY_BIT(o)) || !(retry_on_mask & RETRY_BIT(o)))
		return false;
	/* attempt_no counts attempts already spent including this one; the
	 * budget is 1 + max_retries attempts. */
	return attempt_no >= 1 && attempt_no <= max_retries;
}

int retry_max_attempts(const char *outcome, int max_retries, unsigned retry_on_mask)
{
	int o = outcome_from_name(outcome);
	if (max_retries < 0)
		max_retries = 0;
	if (o < 0 || !(RETRY_ALLOWED_MASK & RETRY_BIT(o)) || !(retry_on_mask & RETRY_BIT(o)))
		return 1;
	return max_retries + 1;
}

int64_t retry_delay_for(int64_t base_ms, int attempt_no)
{
	if (base_ms <= 0)
		return 0;
	int64_t d = base_ms < RETRY_DELAY_MAX_MS ? base_ms : RETRY_DELAY_MAX_MS;
	/* Doubling past the cap stops there: no overflow however many attempts. */
	for (int i = 1; i < attempt_no && d < RETRY_DELAY_MAX_MS; i++)
		d *= 2;
	return d < RETRY_DELAY_MAX_MS ? d : RETRY_DELAY_MAX_MS;
}

int64_t retry_backoff_ms(int64_t base_ms, int64_t cap_ms, int attempt, uint32_t rnd)
{
	if (base_ms < 1)
		base_ms = 1;
	if (cap_ms < base_ms)
		cap_ms = base_ms;
	int64_t d = base_ms;
	for (int i = 1; i < attempt && d < cap_ms; i++)
		d = d <= cap_ms / 2 ? d * 2 : cap_ms; /* no overflow, however many tries */
	int64_t half = d / 2;
	return d - half + (int64_t)(rnd % (uint64_t)(half + 1));
}
