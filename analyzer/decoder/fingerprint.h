/* analyzer/decoder/fingerprint.h — `sandrun-decode --fingerprint`: the
 * acoustic fingerprint of PCM the analyzer sends (pcm.h, "fingerprint
 * pipes"), computed by Debian's libchromaprint. It runs here, in the
 * FFmpeg fallback's program, because Debian's libchromaprint links
 * libavcodec (its FFT): the analyzer itself stays free of FFmpeg's
 * libraries and of GPL code (docs/analyzer.md, "Licensing").
 *
 * Called after the seccomp filter is installed: it reads fd 0, writes
 * fd 1 and fd 2, allocates. Returns the exit status: 0 the fingerprint
 * was written (or nothing came: no header, the analyzer had no audio),
 * 2 a bad header or truncated frames, 65 Chromaprint refused the stream,
 * 66 too short for one fingerprint item, 74 fd 1 could not be written. */
#ifndef SANDRUN_ANALYZER_DECODER_FINGERPRINT_H
#define SANDRUN_ANALYZER_DECODER_FINGERPRINT_H

int fp_main(void);

#endif
