#!/usr/bin/python3
"""tests/analyzer/librosa_ref.py FILE.wav — the analyzer's --spectral summary
computed with numpy the way librosa 0.10 computes it (librosa itself is not
packaged in Debian): a transcription of librosa.stft (center=True, zero
padding, periodic Hann), filters.mel (Slaney scale and norm), power_to_db
(top_db=None), feature.spectral_centroid / bandwidth / rolloff / flatness,
onset.onset_strength (lag 1, max_size 1, mean over bands, center padding)
and feature.mfcc (DCT-II, ortho), each averaged over frames. Reads 16-bit
PCM WAV (the wave module); mono is the mean of the channels, at the file's
rate. Prints one JSON object with the analyzer's field names."""
import json
import sys
import wave

import numpy as np

N_FFT, HOP, N_MELS, N_MFCC = 2048, 512, 128, 20


def load(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2, "16-bit PCM only"
        ch, sr = w.getnchannels(), w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    return x.reshape(-1, ch).mean(axis=1, dtype=np.float32), sr


def stft_mag(y):
    y = np.pad(y, N_FFT // 2)  # center=True, pad_mode="constant"
    n = 1 + (len(y) - N_FFT) // HOP
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    frames = np.lib.stride_tricks.as_strided(y, (N_FFT, n), (y.strides[0], HOP * y.strides[0]))
    return np.abs(np.fft.rfft(frames * win[:, None], axis=0)).astype(np.float32)


def hz_to_mel(f):
    f = np.asanyarray(f, dtype=float)
    m = f / (200.0 / 3)
    log = f >= 1000.0
    m[log] = 15.0 + np.log(f[log] / 1000.0) / (np.log(6.4) / 27.0)
    return m


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=float)
    f = (200.0 / 3) * m
    log = m >= 15.0
    f[log] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m[log] - 15.0))
    return f


def mel_filters(sr):
    fftfreqs = np.fft.rfftfreq(N_FFT, 1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(np.array([0.0]))[0], hz_to_mel(np.array([sr / 2.0]))[0], N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    w = np.zeros((N_MELS, len(fftfreqs)))
    for i in range(N_MELS):
        w[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    w *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return w.astype(np.float32)


def main():
    y, sr = load(sys.argv[1])
    S = stft_mag(y)
    freq = np.fft.rfftfreq(N_FFT, 1.0 / sr)
    tot = S.sum(axis=0)
    norm = S / np.where(tot < np.finfo(np.float32).tiny, 1.0, tot)
    centroid = (freq[:, None] * norm).sum(axis=0)
    bandwidth = np.sqrt((norm * (freq[:, None] - centroid[None, :]) ** 2).sum(axis=0))
    cum = np.cumsum(S, axis=0)
    ind = np.where(cum < 0.85 * cum[-1], np.nan, 1)
    rolloff = np.nanmin(ind * freq[:, None], axis=0)
    P = np.maximum(1e-10, S.astype(np.float64) ** 2)
    flatness = np.exp(np.log(P).mean(axis=0)) / P.mean(axis=0)
    L = 10.0 * np.log10(np.maximum(1e-10, mel_filters(sr) @ (S ** 2)))
    d = np.maximum(0.0, L[:, 1:] - L[:, :-1]).mean(axis=0)
    onset = np.pad(d, (1 + N_FFT // (2 * HOP), 0))[: S.shape[1]]
    n = np.arange(N_MELS)
    dct = np.array([2 * np.cos(np.pi * k * (2 * n + 1) / (2 * N_MELS)) for k in range(N_MFCC)])
    dct[0] *= np.sqrt(1 / (4 * N_MELS))
    dct[1:] *= np.sqrt(1 / (2 * N_MELS))
    mfcc = dct @ L
    print(json.dumps({"frames": int(S.shape[1]), "centroid_hz": float(centroid.mean()),
                      "bandwidth_hz": float(bandwidth.mean()), "rolloff_hz": float(rolloff.mean()),
                      "flatness": float(flatness.mean()), "onset_strength": float(onset.mean()),
                      "mfcc_mean": [float(v) for v in mfcc.mean(axis=1)]}))


main()
