/* analyzer/input.c — see input.h. */
#include "analyzer/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static sf_count_t read_fd(struct an_input *in, uint8_t *buf, size_t len);
static sf_count_t pread_fd(struct an_input *in, uint8_t *buf, size_t len, sf_count_t off);
static void file_hash_more(struct an_input *in, const uint8_t *buf, sf_count_t off, sf_count_t n);

int an_input_from_fd(struct an_input *in, int fd)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->sniff = (struct an_sniff){ .kind = AN_SNIFF_UNKNOWN, .name = "" };
	in->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	int r = an_sha256x2_init(&in->hash);
	if (r < 0)
		return r;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		in->kind = AN_INPUT_FILE;
		in->length = st.st_size;
		/* A block device reports st_size 0; ask it instead. */
		if (S_ISBLK(st.st_mode)) {
			off_t end = lseek(fd, 0, SEEK_END);
			in->length = end < 0 ? 0 : end;
		}
		uint8_t magic[AN_SNIFF_BYTES];
		sf_count_t n = pread_fd(in, magic, sizeof(magic), 0);
		file_hash_more(in, magic, 0, n);
		an_sniff_bytes(magic, (size_t)n, &in->sniff);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Reads will fail with EISDIR; see input.h. */
		in->kind = AN_INPUT_FILE;
		in->length = 0;
		return 0;
	}
	in->kind = AN_INPUT_STREAM;
	in->length = -1;
	in->head = malloc(AN_PIPE_HEAD_BYTES);
	if (!in->head) {
		an_sha256x2_free(&in->hash);
		return -ENOMEM;
	}
	sf_count_t n = read_fd(in, in->head, AN_PIPE_HEAD_BYTES);
	in->head_len = (size_t)n;
	an_sha256x2_update(&in->hash, AN_HASH_INPUT, in->head, (size_t)n);
	in->consumed = n;
	an_sniff_bytes(in->head, (size_t)n, &in->sniff);
	if (in->eof) {
		/* All of it: from here on it is a buffer of known length. */
		in->kind = AN_INPUT_MEMORY;
		in->mem = in->head;
		in->length = n;
	}
	return 0;
}

void an_input_from_memory(struct an_input *in, const void *data, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->sniff = (struct an_sniff){ .kind = AN_SNIFF_UNKNOWN, .name = "" };
	in->kind = AN_INPUT_MEMORY;
	in->fd = -1;
	in->mem = data;
	in->length = (sf_count_t)len;
	an_sniff_bytes(data, len, &in->sniff);
}

void an_input_release(struct an_input *in)
{
	free(in->head);
	in->head = NULL;
	if (in->hash.ready)
		an_sha256x2_free(&in->hash);
	in->mem = NULL;
}

static void note_read_error(struct an_input *in, int err)
{
	if (!in->io_errno)
		in->io_errno = err;
	in->io_errors++;
}

/* read(2) until len bytes, EOF or an error. */
static sf_count_t read_fd(struct an_input *in, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(in->fd, buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			note_read_error(in, errno);
			break;
		}
		if (n == 0) {
			in->eof = true;
			break;
		}
		got += (size_t)n;
	}
	return (sf_count_t)got;
}

static sf_count_t pread_fd(struct an_input *in, uint8_t *buf, size_t len, sf_count_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(in->fd, buf + got, len - got, (off_t)off + (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			note_read_error(in, errno);
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (sf_count_t)got;
}

/* Take up to len more bytes from the stream. The head is complete by
 * now (an_input_from_fd() filled it), so nothing more is kept. */
static sf_count_t stream_pull(struct an_input *in, uint8_t *buf, size_t len)
{
	if (in->eof)
		return 0;
	sf_count_t n = read_fd(in, buf, len);
	an_sha256x2_update(&in->hash, AN_HASH_INPUT, buf, (size_t)n);
	in->consumed += n;
	if (in->eof)
		in->length = in->consumed;
	return n;
}

static sf_count_t stream_read(struct an_input *in, uint8_t *buf, size_t len)
{
	size_t got = 0;

	/* Whatever lies inside the kept head comes from memory. */
	if (in->pos < (sf_count_t)in->head_len) {
		size_t avail = in->head_len - (size_t)in->pos;
		size_t n = avail < len ? avail : len;
		memcpy(buf, in->head + in->pos, n);
		got = n;
		in->pos += (sf_count_t)n;
	}
	if (got == len)
		return (sf_count_t)got;
	/* Past the head: only possible where the stream itself is. Ahead
	 * of it is a peek (see input.h): honouring it would throw away the
	 * bytes in between, which libsndfile comes back for. */
	if (in->pos > in->consumed) {
		in->end_probes++;
		return (sf_count_t)got;
	}
	if (in->pos < in->consumed) {
		/* Behind the stream and outside the head: lost for good. */
		in->failed_seeks++;
		return (sf_count_t)got;
	}
	sf_count_t n = stream_pull(in, buf + got, len - got);
	if (n > 0) {
		got += (size_t)n;
		in->pos += n;
	}
	return (sf_count_t)got;
}

/* Bytes [off, off + n) were just read from the file: hash those past
 * file_hashed if they join on without a gap. */
static void file_hash_more(struct an_input *in, const uint8_t *buf, sf_count_t off, sf_count_t n)
{
	if (n <= 0 || off > in->file_hashed || off + n <= in->file_hashed)
		return;
	sf_count_t skip = in->file_hashed - off;
	an_sha256x2_update(&in->hash, AN_HASH_INPUT, buf + skip, (size_t)(n - skip));
	in->file_hashed = off + n;
}

static sf_count_t vio_get_filelen(void *user)
{
	struct an_input *in = user;

	/* A stream's length is unknown until its end: claim the largest
	 * length libsndfile accepts, so that headers are taken at their word
	 * and reading simply stops at the real end. */
	if (in->kind == AN_INPUT_STREAM && in->length < 0)
		return SF_COUNT_MAX;
	return in->length;
}

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
	struct an_input *in = user;
	sf_count_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = in->pos;
		break;
	case SEEK_END:
		if (in->kind == AN_INPUT_STREAM && in->length < 0) {
			/* The end of a stream is not known before it is read, and
			 * reading to it would lose everything before it. */
			in->end_probes++;
			return -1;
		}
		base = in->length;
		break;
	default:
		return -1;
	}
	if ((offset > 0 && base > SF_COUNT_MAX - offset) || base + offset < 0)
		return -1;
	sf_count_t target = base + offset;
	if (in->kind == AN_INPUT_STREAM && target < in->consumed &&
	    target >= (sf_count_t)in->head_len) {
		/* Behind the stream and outside the head: gone. */
		in->failed_seeks++;
		return -1;
	}
	in->pos = target;
	return in->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *user)
{
	struct an_input *in = user;
	sf_count_t n = 0;

	if (count <= 0)
		return 0;
	switch (in->kind) {
	case AN_INPUT_MEMORY:
		if (in->pos < in->length) {
			n = in->length - in->pos;
			if (n > count)
				n = count;
			memcpy(ptr, in->mem + in->pos, (size_t)n);
		}
		break;
	case AN_INPUT_FILE:
		/* A hostile header can send libsndfile to offset 2^62: past
		 * the end there is nothing to read, and no offset arithmetic
		 * near the top of the range. (At the end itself the read is
		 * still made, so that a directory reports EISDIR.) */
		if (in->pos > in->length)
			break;
		n = pread_fd(in, ptr, (size_t)count, in->pos);
		file_hash_more(in, ptr, in->pos, n);
		break;
	case AN_INPUT_STREAM:
		return stream_read(in, ptr, (size_t)count);
	}
	in->pos += n;
	return n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user)
{
	/* Read-only: libsndfile never writes in SFM_READ. */
	return 0;
}

static sf_count_t vio_tell(void *user)
{
	const struct an_input *in = user;

	return in->pos;
}

#define HASH_CHUNK (256u << 10)

bool an_input_sha256(struct an_input *in, bool handed_on, char out[AN_SHA256_HEX], uint64_t *bytes)
{
	uint8_t digest[AN_SHA256_LEN];
	uint64_t errors = in->io_errors;
	uint8_t *buf = NULL;

	switch (in->kind) {
	case AN_INPUT_MEMORY:
		if (in->hash.ready) {
			/* a short stream, hashed whole as it arrived */
			an_sha256x2_digest(&in->hash, AN_HASH_INPUT, digest);
		} else {
			struct sha256_ctx ctx;
			sha256_init(&ctx);
			sha256_update(&ctx, (size_t)in->length, in->mem);
			sha256_digest(&ctx, AN_SHA256_LEN, digest);
		}
		*bytes = (uint64_t)in->length;
		break;
	case AN_INPUT_STREAM:
		/* The fallback's decoder read the rest itself. */
		if (handed_on || in->io_errors)
			return false;
		buf = malloc(HASH_CHUNK);
		if (!buf)
			return false;
		while (!in->eof && in->io_errors == errors)
			stream_pull(in, buf, HASH_CHUNK);
		an_sha256x2_digest(&in->hash, AN_HASH_INPUT, digest);
		*bytes = (uint64_t)in->consumed;
		break;
	case AN_INPUT_FILE: {
		buf = malloc(HASH_CHUNK);
		if (!buf)
			return false;
		sf_count_t n;
		while ((n = pread_fd(in, buf, HASH_CHUNK, in->file_hashed)) > 0)
			file_hash_more(in, buf, in->file_hashed, n);
		an_sha256x2_digest(&in->hash, AN_HASH_INPUT, digest);
		*bytes = (uint64_t)in->file_hashed;
		break;
	}
	}
	free(buf);
	/* A failed read (a directory: EISDIR) leaves a hash of some bytes,
	 * which is no identity at all. Counted as damage as any other. */
	if (in->io_errors != errors)
		return false;
	an_sha256_hex(digest, out);
	return true;
}

SF_VIRTUAL_IO an_input_vio = {
	.get_filelen = vio_get_filelen,
	.seek = vio_seek,
	.read = vio_read,
	.write = vio_write,
	.tell = vio_tell,
};
