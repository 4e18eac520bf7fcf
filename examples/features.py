#!/usr/bin/env python3
"""features.py [FILE] — a small audio feature extractor for sandrun --cmd.

Reads FILE (or the audio on stdin when no FILE is given) with soundfile,
mixes it to mono and prints one JSON object on stdout:

  {"file": ..., "sample_rate": ..., "channels": ..., "frames": ...,
   "duration_s": ..., "rms": ..., "rms_dbfs": ..., "peak": ...,
   "peak_dbfs": ..., "spectral_centroid_hz": ...}

A file soundfile cannot decode prints {"error": ...} and exits 65
(EX_DATAERR), so a batch can tell bad inputs from crashes:

  sandrun run --cmd 'python3 /opt/ex/features.py {}' --bind-ro /opt/ex \
      --ok-codes 65 -r ~/podcasts      # or keep 65 as a failure
"""
import io
import json
import math
import sys

import numpy as np
import soundfile as sf

BLOCK = 1 << 16  # frames per read: memory stays flat for long files


def dbfs(x):
    return round(20 * math.log10(x), 2) if x > 0 else None


def analyze(src, name):
    sumsq = 0.0
    peak = 0.0
    frames = 0
    # spectral centroid: magnitude-weighted mean frequency over 4096-point
    # frames, averaged with each frame's magnitude sum as its weight
    n_fft = 4096
    cen_num = 0.0
    cen_den = 0.0
    with sf.SoundFile(src) as f:
        rate, channels = f.samplerate, f.channels
        freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
        window = np.hanning(n_fft)
        for block in f.blocks(blocksize=BLOCK, dtype="float64", always_2d=True):
            mono = block.mean(axis=1)
            frames += len(mono)
            sumsq += float(np.dot(mono, mono))
            if len(mono):
                peak = max(peak, float(np.max(np.abs(block))))
            for i in range(0, len(mono) - n_fft + 1, n_fft):
                mag = np.abs(np.fft.rfft(mono[i:i + n_fft] * window))
                s = float(mag.sum())
                if s > 0:
                    cen_num += float(np.dot(freqs, mag))
                    cen_den += s
    rms = math.sqrt(sumsq / frames) if frames else 0.0
    return {
        "file": name,
        "sample_rate": rate,
        "channels": channels,
        "frames": frames,
        "duration_s": round(frames / rate, 3) if rate else 0,
        "rms": round(rms, 6),
        "rms_dbfs": dbfs(rms),
        "peak": round(peak, 6),
        "peak_dbfs": dbfs(peak),
        "spectral_centroid_hz": round(cen_num / cen_den, 1) if cen_den else None,
    }


def main():
    if len(sys.argv) > 1:
        src, name = sys.argv[1], sys.argv[1]
    else:
        src, name = io.BytesIO(sys.stdin.buffer.read()), "-"
    try:
        out = analyze(src, name)
    except RuntimeError as e:  # soundfile's decode errors (LibsndfileError too)
        print(json.dumps({"error": f"cannot decode {name}: {e}"}))
        return 65
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
