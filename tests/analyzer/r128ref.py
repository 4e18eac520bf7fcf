#!/usr/bin/python3
"""tests/analyzer/r128ref.py FILE.wav — integrated loudness (BS.1770-4) and
loudness range (EBU Tech 3342 v4, 2016) of a 48 kHz 16-bit WAV, computed
directly from the standards with numpy and no histogram: the K-weighting
filter with the coefficients BS.1770-4 tabulates for 48 kHz, 400 ms blocks
and 3 s short-term windows both every 100 ms, the gates, and the range as
the 10th to 95th percentile (linear interpolation between ranks) of every
short-term value. Prints "I LRA". An independent reference for the
analyzer, which bins its values and gates them in libebur128's filter."""
import sys
import wave

import numpy as np


def biquad(x, b, a):
    # direct form II transposed; a plain loop over float64, fast enough for
    # a minute of audio
    y = np.empty_like(x)
    z1 = z2 = 0.0
    b0, b1, b2 = b
    _, a1, a2 = a
    for i, v in enumerate(x.tolist()):
        o = b0 * v + z1
        z1 = b1 * v - a1 * o + z2
        z2 = b2 * v - a2 * o
        y[i] = o
    return y


with wave.open(sys.argv[1], "rb") as w:
    assert w.getframerate() == 48000 and w.getsampwidth() == 2
    nch = w.getnchannels()
    pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, nch)
x = pcm.astype(np.float64) / 32768.0
stage1 = ([1.53512485958697, -2.69169618940638, 1.19839281085285],
          [1.0, -1.69065929318241, 0.73248077421585])
stage2 = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])
sub = 4800  # 100 ms
nsub = x.shape[0] // sub
energy = np.zeros(nsub)
filtered = {}
for c in range(nch):  # mono or stereo: every channel weighs 1.0
    key = x[:, c].tobytes()  # identical channels filter identically
    if key not in filtered:
        filtered[key] = biquad(biquad(x[:, c], *stage1), *stage2)
    y = filtered[key]
    energy += (y[: nsub * sub] ** 2).reshape(nsub, sub).mean(axis=1)


def lufs(e):
    return 10 * np.log10(e) - 0.691


def windows(k):
    c = np.concatenate(([0.0], np.cumsum(energy)))
    return (c[k:] - c[:-k]) / k


blocks = windows(4)
blocks = blocks[lufs(np.maximum(blocks, 1e-300)) >= -70]
blocks = blocks[blocks >= blocks.mean() * 0.1]
integrated = lufs(blocks.mean())
st = windows(30)
st = st[lufs(np.maximum(st, 1e-300)) >= -70]
st = st[st >= st.mean() * 0.01]
lo, hi = np.percentile(lufs(st), [10, 95])
print("%.4f %.4f" % (integrated, hi - lo))
