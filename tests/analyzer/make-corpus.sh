#!/bin/sh
# tests/analyzer/make-corpus.sh DIR — small seed files for the fuzz
# target: the same short tone in every container and codec the analyzer
# decodes, made with sox and ffmpeg, kept tiny (a few KiB) so mutations
# reach the headers and the first frames quickly.
#   make-corpus.sh DIR fallback   the containers of the FFmpeg fallback
#                                 instead (for fuzz-decode)
set -eu
dir=${1:?usage: make-corpus.sh DIR [fallback]}
mkdir -p "$dir"
cd "$dir"
q="-loglevel error -y"
if [ "${2:-}" = fallback ]; then
	sox -q -n -r 16000 -c 1 -b 16 tone.wav synth 0.2 sine 440 vol 0.5
	ffmpeg $q -i tone.wav -c:a aac -b:a 24k tone.m4a
	ffmpeg $q -i tone.wav -c:a aac -b:a 24k -movflags +faststart tone-faststart.mp4
	ffmpeg $q -i tone.wav -c:a alac tone-alac.m4a
	ffmpeg $q -i tone.wav -c:a alac tone-alac.caf
	ffmpeg $q -i tone.wav -c:a libopus -b:a 16k tone.webm
	ffmpeg $q -i tone.wav -c:a flac tone.mkv
	ffmpeg $q -i tone.wav -c:a ac3 -b:a 64k tone.ac3
	ffmpeg $q -i tone.wav -c:a eac3 -b:a 64k tone.eac3
	ffmpeg $q -i tone.wav -c:a wmav2 -b:a 32k tone.wma
	ffmpeg $q -i tone.wav -c:a pcm_s16be -f mov tone.mov
	rm -f tone.wav
	head -c 300 tone.m4a > cut.m4a
	head -c 400 tone.webm > cut.webm
	exit 0
fi
sox -q -n -r 8000 -c 1 -b 16 tone.wav synth 0.05 sine 440 vol 0.5
sox -q -n -r 8000 -c 2 -b 24 tone24.wav synth 0.05 sine 440 sine 660 vol 0.5
sox -q -n -r 8000 -c 1 -e floating-point -b 32 float.wav synth 0.03 sine 440
sox -q tone.wav tone.aiff
sox -q tone.wav tone.flac
sox -q tone.wav tone.caf
sox -q tone.wav tone.w64
sox -q tone.wav -e u-law tone-ulaw.wav
sox -q tone.wav -e ima-adpcm tone-ima.wav
sox -q -n -r 16000 -c 1 tone16k.wav synth 0.3 sine 440 vol 0.5
sox -q tone16k.wav -C 0 tone.ogg
sox -q tone16k.wav -C 32 tone.mp3
ffmpeg $q -i tone.wav -rf64 always tone-rf64.wav
ffmpeg $q -i tone16k.wav -c:a libopus -b:a 16k tone.opus
ffmpeg $q -i tone16k.wav -c:a mp2 -b:a 32k tone.mp2
# MP3s whose first frame carries a Xing/Info and a LAME tag (analyzer/mpeg.c)
ffmpeg $q -i tone16k.wav -c:a libmp3lame -b:a 32k tone-info.mp3
ffmpeg $q -i tone16k.wav -c:a libmp3lame -q:a 6 tone-xing.mp3
rm -f tone16k.wav
# a few already-broken seeds
head -c 30 tone.wav > short-header.wav
head -c 200 tone.flac > cut.flac
printf 'RIFF\377\377\377\377WAVEfmt ' > lying-riff.wav
