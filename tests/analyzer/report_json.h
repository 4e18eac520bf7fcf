/* tests/analyzer/report_json.h — the analyzer's unit tests read its
 * report as JSON (jansson): analyze a buffer (analyze.h), pick one number or string,
 * and write a canonical PCM WAV header whose every field is as given.
 * Include after cmocka.h.
 */
#ifndef SANDRUN_TESTS_ANALYZER_REPORT_JSON_H
#define SANDRUN_TESTS_ANALYZER_REPORT_JSON_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "analyzer/decode.h"
#include "analyzer/input.h"
#include "tests/analyzer/analyze.h"

static inline void put_le(uint8_t *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A canonical 44-byte PCM WAV header; every field as given, lies too. */
static inline void wav_header(uint8_t h[44], uint16_t channels, uint32_t rate, uint16_t bits,
		       uint32_t data_bytes)
{
	memcpy(h, "RIFF", 4);
	put_le(h + 4, 36 + data_bytes, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);
	put_le(h + 20, 1, 2);
	put_le(h + 22, channels, 2);
	put_le(h + 24, rate, 4);
	put_le(h + 28, rate * channels * (bits / 8u), 4);
	put_le(h + 32, (uint32_t)channels * (bits / 8u), 2);
	put_le(h + 34, bits, 2);
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data_bytes, 4);
}

static inline double num(json_t *root, const char *obj, const char *key)
{
	json_t *v = json_object_get(json_object_get(root, obj), key);
	if (!json_is_number(v))
		fail_msg("%s.%s is not a number", obj, key);
	return json_number_value(v);
}

static inline const char *str(json_t *root, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(root, obj), key));
}

#endif
