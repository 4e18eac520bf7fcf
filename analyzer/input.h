/* analyzer/input.h — byte sources that libsndfile reads through
 * sf_open_virtual().
 *
 * Why virtual I/O rather than sf_open_fd(): with our own callbacks
 * libsndfile can never open a second file (SD2 resource forks, for one),
 * the regular-file path costs one pread64 per read and no lseek at all,
 * and the same decoding code runs on a descriptor, on a pipe and on a
 * memory buffer (unit tests and the fuzz target).
 *
 * Three backends:
 *   - a seekable descriptor (a regular file): pread() at our own offset;
 *   - a non-seekable descriptor (a pipe, a socket, a tty). Up to
 *     AN_PIPE_HEAD_BYTES are read at once. A stream that ends within them
 *     is then simply a memory buffer of known length, and its report is
 *     the same as the file's. A longer one is read forward-only with
 *     those first bytes kept, so that the format probe's seeks back to
 *     the start still work. libsndfile cannot be told that virtual I/O
 *     is not seekable (sf.seekable is always true there), so its WAV,
 *     W64 and RF64 parsers skip past the data chunk to look for chunks
 *     after it, then come back: satisfying that peek would consume, and
 *     lose, the data chunk. So a read ahead of what the stream has
 *     delivered is answered as end of file (counted in end_probes), as is
 *     a seek from the end: once past the head, decoding only ever reads
 *     on from where it is. (The price: a stream whose headers and tags
 *     before the audio exceed the head cannot be read from a pipe.) A
 *     read behind the stream and outside the kept head fails
 *     (failed_seeks). Memory stays bounded by the head;
 *   - a memory buffer.
 */
#ifndef SANDRUN_ANALYZER_INPUT_H
#define SANDRUN_ANALYZER_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sndfile.h>

#include "analyzer/identity.h"
#include "analyzer/sniff.h"

#define AN_PIPE_HEAD_BYTES (8u << 20)

enum an_input_kind {
	AN_INPUT_FILE,   /* seekable descriptor */
	AN_INPUT_STREAM, /* pipe or other non-seekable descriptor */
	AN_INPUT_MEMORY, /* a buffer, or a short stream read whole */
};

struct an_input {
	enum an_input_kind kind;
	int fd;                 /* not owned: the caller closes it */
	const uint8_t *mem;     /* AN_INPUT_MEMORY */
	sf_count_t length;      /* bytes; for a stream, -1 until EOF is seen */
	sf_count_t pos;         /* the offset libsndfile believes it is at */
	/* AN_INPUT_STREAM only */
	uint8_t *head;          /* first head_len bytes of the stream */
	size_t head_len;
	sf_count_t consumed;    /* bytes taken from the descriptor so far */
	bool eof;
	/* Stream AN_HASH_INPUT: for a stream, every byte taken from it, in
	 * order; for a file, bytes 0 .. file_hashed as libsndfile read them
	 * (it reads most files front to back once). Stream AN_HASH_AUDIO is
	 * the decoders' to share (an_audio_hash_share). Set up for a
	 * descriptor only (hash.ready). */
	struct an_sha256x2 hash;
	sf_count_t file_hashed;
	/* What went wrong underneath libsndfile, for the damage report. */
	int io_errno;           /* first read error (positive errno), 0 if none */
	uint64_t io_errors;     /* how many read calls failed */
	uint64_t failed_seeks;  /* reads behind a stream, lost for good */
	uint64_t end_probes;    /* peeks past a stream's reach, answered EOF */
	/* What the first AN_SNIFF_BYTES say it is (sniff.h), set up front. */
	struct an_sniff sniff;
};

/* Set up a source on fd. Decides the backend from fstat(): regular files
 * and block devices are seekable, everything else is a stream (and is
 * read up to AN_PIPE_HEAD_BYTES here). A directory is accepted on
 * purpose: its reads fail with EISDIR, and libsndfile then gives its own
 * verdict, which is what the report must carry. Returns 0 or -errno
 * (fstat failed, out of memory). */
int an_input_from_fd(struct an_input *in, int fd);
void an_input_from_memory(struct an_input *in, const void *data, size_t len);
void an_input_release(struct an_input *in);

/* SHA-256 of the input's bytes, from offset 0 to its end: a file was
 * hashed as far as libsndfile read it without a gap from offset 0, and
 * the rest is read with pread after decoding (so a file is read once
 * when it is decoded front to back, and a gap costs a second read of
 * what follows it, never a wrong digest); a memory buffer hashed as
 * it is (a short stream read whole: as it arrived), and a stream was
 * hashed as it arrived and is now read to its
 * end (libsndfile may stop before trailing chunks). Returns true with out
 * and *bytes set, or false when the bytes cannot all be had: a read
 * failed, a directory, or a stream whose rest went to the FFmpeg fallback
 * (handed_on). Called again, it gives the same (a file's bytes hashed
 * stay hashed). Memory: one fixed buffer. */
bool an_input_sha256(struct an_input *in, bool handed_on, char out[AN_SHA256_HEX], uint64_t *bytes);

/* The callbacks to hand to sf_open_virtual() with &in as user data. */
extern SF_VIRTUAL_IO an_input_vio;

#endif
