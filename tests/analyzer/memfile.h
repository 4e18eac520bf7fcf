/* tests/analyzer/memfile.h — audio files built in memory for the
 * analyzer's unit tests: libsndfile writes them through virtual I/O into
 * a growable buffer, so a test can make a FLAC, Ogg or MP3 file without
 * any tool or temporary file, and then corrupt it byte by byte.
 */
#ifndef SANDRUN_TESTS_ANALYZER_MEMFILE_H
#define SANDRUN_TESTS_ANALYZER_MEMFILE_H

#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memfile {
	uint8_t *data;
	sf_count_t len, cap, pos;
};

static sf_count_t mf_len(void *u)
{
	return ((struct memfile *)u)->len;
}

static sf_count_t mf_seek(sf_count_t off, int whence, void *u)
{
	struct memfile *m = u;
	sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;

	if (base + off < 0)
		return -1;
	m->pos = base + off;
	return m->pos;
}

static sf_count_t mf_read(void *p, sf_count_t n, void *u)
{
	struct memfile *m = u;

	if (m->pos >= m->len)
		return 0;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(p, m->data + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mf_write(const void *p, sf_count_t n, void *u)
{
	struct memfile *m = u;

	if (m->pos + n > m->cap) {
		sf_count_t cap = m->cap ? m->cap : 65536;
		while (cap < m->pos + n)
			cap *= 2;
		uint8_t *d = realloc(m->data, (size_t)cap);
		if (!d)
			return 0;
		m->data = d;
		m->cap = cap;
	}
	if (m->pos > m->len)
		memset(m->data + m->len, 0, (size_t)(m->pos - m->len));
	memcpy(m->data + m->pos, p, (size_t)n);
	m->pos += n;
	if (m->pos > m->len)
		m->len = m->pos;
	return n;
}

static sf_count_t mf_tell(void *u)
{
	return ((struct memfile *)u)->pos;
}

/* A sine of `hz` at `dbfs` per channel peak, `seconds` long, written in
 * `format` (SF_FORMAT_WAV | SF_FORMAT_PCM_16, ...). Returns 0 or -1. */
static inline int memfile_sine(struct memfile *m, int format, unsigned channels, int rate,
			       double hz, double dbfs, double seconds)
{
	SF_VIRTUAL_IO vio = { mf_len, mf_seek, mf_read, mf_write, mf_tell };
	SF_INFO info = { .samplerate = rate, .channels = (int)channels, .format = format };
	double amp = pow(10.0, dbfs / 20.0);
	sf_count_t frames = (sf_count_t)llround(seconds * rate);
	float block[1024 * 8];
	sf_count_t done = 0;

	memset(m, 0, sizeof(*m));
	if (channels == 0 || channels > 8)
		return -1;
	SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &info, m);
	if (!sf) {
		fprintf(stderr, "memfile: %s\n", sf_strerror(NULL));
		return -1;
	}
	while (done < frames) {
		sf_count_t n = frames - done < 1024 ? frames - done : 1024;
		for (sf_count_t i = 0; i < n; i++) {
			double t = (double)((done + i) % rate) / rate;
			float v = (float)(amp * sin(2.0 * M_PI * hz * t));
			for (unsigned c = 0; c < channels; c++)
				block[i * channels + c] = v;
		}
		if (sf_writef_float(sf, block, n) != n) {
			sf_close(sf);
			return -1;
		}
		done += n;
	}
	return sf_close(sf) == 0 ? 0 : -1;
}

static inline void memfile_free(struct memfile *m)
{
	free(m->data);
	memset(m, 0, sizeof(*m));
}

#endif
