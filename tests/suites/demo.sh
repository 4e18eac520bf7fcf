#!/bin/bash
# tests/suites/demo.sh BUILD_DIR — `make demo`'s story (tests/demo.sh) runs
# to its end, prints the summary and the failures, writes the report, and
# headless Chromium loads that report with its charts and no console error.
set -u
B=$(realpath "$1")
cd "$(dirname "$0")/../.."
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }
echo "1..8"

out=$(mktemp -d "$B/demo-suite.XXXXXX")
tests/demo.sh "$B" >"$out/demo.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "tests/demo.sh ran to its end" ||
	{ not_ok "tests/demo.sh ran to its end (exit $rc)"; tail -n 30 "$out/demo.log" | sed 's/^/# /'; }

# Killed after a known number of finished files (its --json events), not
# after a fixed sleep: at least 6, and not all 40 (it was mid-batch).
killed=$(sed -n 's/^killed with SIGKILL after \([0-9]*\) finished files (of 40)$/\1/p' "$out/demo.log")
[ "${killed:-0}" -ge 6 ] && [ "$killed" -lt 40 ] &&
	grep -qE '^items +40: [0-9]+ pending, [0-9]+ running.*, '"$killed"' done' "$out/demo.log" &&
	grep -qE '^items +[0-9]+: 0 pending, 0 running' "$out/demo.log" &&
	ok "the batch was killed after $killed finished files, resumed, and ended with nothing pending or running" ||
	not_ok "the batch was killed after a known number of finished files (${killed:-none}), resumed, and ended with nothing pending or running"

# The story names each hostile file, how it was made and what became of it,
# the damaged-but-decodable one included.
story=$(sed -n '/the hostile files: what each one is/,/== the failures/p' "$out/demo.log")
missing=""
for f in empty.wav random.flac zero-channels.wav fake-magic.flac truncated.wav; do
	printf '%s\n' "$story" | grep -A1 "^  $f " | grep -qE -- '-> (failed|done) [a-z_]+' || missing="$missing $f"
done
[ -z "$missing" ] && printf '%s\n' "$story" | grep -q 'decodable but damaged: truncated' &&
	printf '%s\n' "$story" | grep -q -- '-> failed bad_input: corrupt WAV' &&
	ok "the story says what became of each hostile file and why, the damaged-but-decodable truncated.wav included" ||
	not_ok "the story says what became of each hostile file and why (missing:${missing:- none})"

grep -qE '^sandrun: [0-9]+ files: [0-9]+ ok, ([0-9]+ damaged \([^)]*\), )?[0-9]+ failed' "$out/demo.log" &&
	ok "the resumed run printed its summary" || not_ok "the resumed run printed its summary"

fails=$(grep -cE '^failed +bad_input' "$out/demo.log")
[ "$fails" -ge 4 ] && ok "the hostile samples are listed as failed bad_input ($fails)" ||
	not_ok "the hostile samples are listed as failed bad_input ($fails)"

grep -qE '^done +damaged .*hostile/truncated\.wav' "$out/demo.log" &&
	ok "the truncated sample is listed as done, damaged" ||
	not_ok "the truncated sample is listed as done, damaged"

report=$B/demo/report.html
[ -s "$report" ] && ok "the report was written ($(stat -c %s "$report") bytes)" ||
	not_ok "the report was written"

if ! command -v chromium >/dev/null; then
	not_ok "Chromium loads the demo's report (chromium is not installed)"
else
	prof=$(mktemp -d "$out/profile.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --disable-quic \
		--disable-dev-shm-usage --user-data-dir="$prof" --enable-logging=stderr --v=0 \
		--dump-dom "file://$report" >"$out/dom" 2>"$out/log"
	missing=""
	for id in chart-outcomes chart-wall chart-scatter chart-lufs chart-truepeak chart-duration runs-table; do
		grep -q "id=\"$id\"" "$out/dom" || missing="$missing $id"
	done
	errors=$(grep -E 'CONSOLE|Uncaught|Refused to' "$out/log" | head -3)
	if [ -z "$missing" ] && [ -z "$errors" ] && grep -q 'data-load-ms=' "$out/dom"; then
		ok "Chromium loads the demo's report: every chart is there, no console error, its script ran"
	else
		not_ok "Chromium loads the demo's report (missing:${missing:- none}; errors: ${errors:-none})"
	fi
fi
rm -rf "$out"
exit $failed
