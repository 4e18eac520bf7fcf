/* bigout [MIB] — write MIB MiB (default 1024, i.e. 1 GiB) of zero bytes to
 * stdout in 1 MiB writes. Not hostile to the host, hostile to the runner:
 * sandrun must pass the output through without buffering it (its own
 * memory stays small) and the outcome is ok. After the zeros it writes the
 * trailer line "bigout-end N" (N = bytes of zeros) to stdout, so a reader
 * that keeps only the last bytes can tell the stream arrived whole at its
 * end. Reports "bigout: wrote N bytes" on stderr; exits 0, or 1 if a write
 * failed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	long mib = argc > 1 ? atol(argv[1]) : 1024;
	static char buf[CHUNK];
	unsigned long long total = 0;
	for (long i = 0; i < mib; i++) {
		size_t done = 0;
		while (done < CHUNK) {
			ssize_t n = write(1, buf + done, CHUNK - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fprintf(stderr, "bigout: write failed after %llu bytes: %s\n",
					total, n < 0 ? strerrorname_np(errno) : "0");
				return 1;
			}
			done += (size_t)n;
			total += (unsigned long long)n;
		}
	}
	char trailer[64];
	int tn = snprintf(trailer, sizeof trailer, "\nbigout-end %llu\n", total);
	if (write(1, trailer, (size_t)tn) != tn) {
		fprintf(stderr, "bigout: trailer write failed: %s\n", strerrorname_np(errno));
		return 1;
	}
	fprintf(stderr, "bigout: wrote %llu bytes\n", total);
	return 0;
}
