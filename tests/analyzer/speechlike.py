#!/usr/bin/python3
"""tests/analyzer/speechlike.py OUT.wav [SECONDS] [SEED] — a deterministic
speech-like test signal for the loudness range: "words" of amplitude-
modulated, low-passed noise (syllables at ~4 Hz), each word at its own
level over a 24 dB spread, separated by pauses of 0.2-2.5 s that are
either digital silence or a -75 dBFS room tone. 48 kHz stereo 16-bit.
Pauses are what made a 1 s short-term hop (Tech 3342, 2011) differ from
the 10 Hz one (2016): the 3 s windows straddling a pause sample it
differently."""
import sys
import wave

import numpy as np

out = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
rate = 48000
total = int(seconds * rate)
x = np.zeros(total)
t = 0
while t < total:
    # a word: 0.3-1.8 s of noise, syllable envelope, its own level
    n = int(rng.uniform(0.3, 1.8) * rate)
    noise = rng.standard_normal(n)
    # a one-pole low-pass around 1.5 kHz (its impulse response cut at
    # 64 taps): a voice-like spectral tilt
    a = np.exp(-2 * np.pi * 1500 / rate)
    y = np.convolve(noise, (1 - a) * a ** np.arange(64))[:n]
    tt = np.arange(n) / rate
    syll = 0.5 * (1 - np.cos(2 * np.pi * rng.uniform(3.0, 5.0) * tt))
    fade = np.minimum(1.0, np.minimum(tt, tt[::-1]) / 0.02)
    level_db = rng.uniform(-38.0, -14.0)
    y *= syll * fade * 10 ** (level_db / 20) / max(np.sqrt(np.mean(y ** 2)), 1e-12)
    end = min(total, t + n)
    x[t:end] = y[: end - t]
    t = end
    # a pause: silence or room tone
    p = int(rng.uniform(0.2, 2.5) * rate)
    end = min(total, t + p)
    if rng.random() < 0.5:
        x[t:end] = rng.standard_normal(end - t) * 10 ** (-75 / 20)
    t = end
x = np.clip(x, -1.0, 32767 / 32768)
pcm = np.round(x * 32767).astype("<i2")
stereo = np.repeat(pcm[:, None], 2, axis=1)
with wave.open(out, "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(stereo.tobytes())
