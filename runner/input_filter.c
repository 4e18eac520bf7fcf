/* runner/input_filter.c — --include/--exclude and the "not audio" default
 * of a -r walk. See input_filter.h for the rules. Pure but for one pread. */
#include "runner/input_filter.h"
#include "lib/text.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- patterns ------------------------------------------------------------ */

int input_filter_add(struct input_filter *f, const char *glob, bool include)
{
	if (!*glob || strspn(glob, "/") == strlen(glob))
		return -EINVAL;
	if (f->npatterns == INPUT_FILTER_MAX_PATTERNS)
		return -E2BIG;
	f->patterns[f->npatterns++] = (struct input_pattern){ .glob = glob, .include = include };
	return 0;
}

static bool pattern_matches(const char *glob, const char *rel, bool is_dir)
{
	char pat[PATH_MAX];
	size_t n = strlen(glob);
	if (n >= sizeof pat)
		return false;
	memcpy(pat, glob, n + 1);
	bool dir_only = false;
	while (n > 1 && pat[n - 1] == '/') { /* "name/": directories only */
		pat[--n] = '\0';
		dir_only = true;
	}
	if (dir_only && !is_dir)
		return false;
	const char *p = pat;
	if (!strchr(p, '/')) { /* the entry's name */
		const char *slash = strrchr(rel, '/');
		return fnmatch(p, slash ? slash + 1 : rel, 0) == 0;
	}
	while (*p == '/') /* "/x": anchored at the root, which rel is relative to */
		p++;
	return fnmatch(p, rel, FNM_PATHNAME) == 0;
}

const struct input_pattern *input_filter_match(const struct input_filter *f, const char *rel, bool is_dir)
{
	for (size_t i = 0; f && i < f->npatterns; i++)
		if (pattern_matches(f->patterns[i].glob, rel, is_dir))
			return &f->patterns[i];
	return NULL;
}

/* ---- not audio, by name ---------------------------------------------------- */

const char *const input_filter_extensions[] = {
	/* images */
	"jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "heic", "ico", "svg",
	/* cue sheets, playlists, lyrics */
	"cue", "m3u", "m3u8", "pls", "lrc",
	/* text, documents, rip logs and checksums */
	"txt", "nfo", "log", "md", "pdf", "rtf", "htm", "html", "xml", "json", "sfv", "md5",
	"sha1", "sha256", "ffp", "accurip",
	/* archives */
	"zip", "rar", "7z",
	NULL,
};

const char *const input_filter_names[] = { ".DS_Store", "Thumbs.db", "desktop.ini", ".directory", NULL };

const char input_filter_help[] =
	"Not audio (skipped by default with the built-in analyzer, not with --cmd; an\n"
	"--include that matches first overrides it):\n"
	"  by name       .DS_Store Thumbs.db desktop.ini .directory and files ending in\n"
	"                .jpg .jpeg .png .gif .bmp .webp .tif .tiff .heic .ico .svg .cue\n"
	"                .m3u .m3u8 .pls .lrc .txt .nfo .log .md .pdf .rtf .htm .html\n"
	"                .xml .json .sfv .md5 .sha1 .sha256 .ffp .accurip .zip .rar .7z\n"
	"                (any case)\n"
	"  by content    JPEG, PNG, GIF, WebP, TIFF, HEIF/AVIF, PDF, ZIP, RAR, 7z, gzip,\n"
	"                AppleDouble (._*), binary plist, SQLite, OLE (Thumbs.db), ELF,\n"
	"                and plain text (the first 512 bytes)\n";

const char *input_filter_not_audio_name(const char *name)
{
	static char reason[48]; /* the runner is one thread */
	for (size_t i = 0; input_filter_names[i]; i++)
		if (strcmp(name, input_filter_names[i]) == 0)
			return "by name";
	const char *dot = strrchr(name, '.');
	if (!dot || dot == name)
		return NULL; /* no extension, or a dot file such as ".jpg" */
	for (size_t i = 0; input_filter_extensions[i]; i++)
		if (strcasecmp(dot + 1, input_filter_extensions[i]) == 0) {
			snprintf(reason, sizeof reason, "by name: .%s", input_filter_extensions[i]);
			return reason;
		}
	return NULL;
}

/* ---- not audio, by content ------------------------------------------------- */

struct magic {
	size_t at, len;
	const char *bytes;
	const char *what;
};

static const struct magic magics[] = {
	{ 0, 3, "\xff\xd8\xff", "JPEG image" },
	{ 0, 8, "\x89PNG\r\n\x1a\n", "PNG image" },
	{ 0, 4, "GIF8", "GIF image" },
	{ 8, 4, "WEBP", "WebP image" }, /* after "RIFF" and a size; a WAV says "WAVE" */
	{ 0, 4, "II*\0", "TIFF image" },
	{ 0, 4, "MM\0*", "TIFF image" },
	{ 4, 8, "ftypheic", "HEIF image" },
	{ 4, 8, "ftypheix", "HEIF image" },
	{ 4, 8, "ftypmif1", "HEIF image" },
	{ 4, 8, "ftypavif", "AVIF image" },
	{ 0, 5, "%PDF-", "PDF document" },
	{ 0, 4, "PK\3\4", "ZIP archive" },
	{ 0, 6, "Rar!\x1a\x07", "RAR archive" },
	{ 0, 6, "7z\xbc\xaf\x27\x1c", "7z archive" },
	{ 0, 2, "\x1f\x8b", "gzip data" },
	{ 0, 4, "\0\x05\x16\x07", "AppleDouble metadata" },
	{ 0, 4, "\0\x05\x16\0", "AppleSingle metadata" },
	{ 0, 6, "bplist", "binary property list" },
	{ 0, 16, "SQLite format 3\0", "SQLite database" },
	{ 0, 8, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE compound file" },
	{ 0, 4, "\x7f" "ELF", "ELF program" },
};

/* Printable text: no control but \t \n \r \f, valid UTF-8 (a sequence cut
 * by the end of the buffer is allowed). */
static bool is_text(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = buf[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		uint32_t cp;
		size_t len = sr_utf8_decode(buf + i, n - i, &cp);
		if (len == 0)
			return n - i < 4 && n == INPUT_FILTER_MAGIC_BYTES; /* cut at the end */
		if (sr_utf8_is_c1(cp))
			return false;
		i += len;
	}
	return true;
}

const char *input_filter_not_audio_bytes(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		const struct magic *m = &magics[i];
		if (n >= m->at + m->len && memcmp(buf + m->at, m->bytes, m->len) == 0)
			return m->what;
	}
	if (n > 0 && is_text(buf, n))
		return "text";
	return NULL;
}

const char *input_filter_not_audio_fd(int fd)
{
	unsigned char buf[INPUT_FILTER_MAGIC_BYTES];
	size_t n = 0;
	while (n < sizeof buf) {
		ssize_t got = pread(fd, buf + n, sizeof buf - n, (off_t)n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return NULL; /* the analyzer will say what is wrong */
		if (got == 0)
			break;
		n += (size_t)got;
	}
	return input_filter_not_audio_bytes(buf, n);
}
