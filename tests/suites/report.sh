#!/bin/bash
# tests/suites/report.sh BUILD_DIR — `sandrun report` end to end, in a real
# browser. A small store is made by the real `sandrun run` (WAV, FLAC, a
# silent file, a clipping one, garbage for bad_input, hostile file names),
# then given hostile stderr, errors and results through sqlite3; a
# 100,000-item store is seeded with tests/report/seed-100k.sql. Each report
# is checked as written (self-contained, escaped, capped) and as headless
# Chromium loads it (no console message, the charts' elements there, no
# injected element or handler, load time), and screenshotted. Prints TAP.
# Needs: sox, sqlite3 (with its math functions), python3, jq, chromium; no
# network. SANDRUN_REPORT_KEEP=DIR keeps the pages and screenshots there.
set -u
B=$(realpath "${1:-build/test}")
cd "$(dirname "$0")/../.."
ROOT=$PWD
SANDRUN=$B/sandrun
work=$(mktemp -d /tmp/report-suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SANDRUN_DB_BUSY_TIMEOUT_MS=2000

. "$ROOT/tests/lib/tap.sh"
now_ms() { date +%s%3N; }
# facts FILE JQ-EXPR [--text ID]... : one fact of tests/report/check_dom.py
facts() {
	local file=$1 expr=$2
	shift 2
	python3 "$ROOT/tests/report/check_dom.py" "$@" "$file" | jq -r "$expr"
}

if [ ! -x "$SANDRUN" ]; then
	echo "1..1"
	echo "not ok 1 - $SANDRUN is not built"
	exit 1
fi

# ---- the command under test ------------------------------------------------
if ! "$SANDRUN" report --help 2>/dev/null | grep -q '^Usage: sandrun report'; then
	echo "1..1"
	echo "not ok 1 - $SANDRUN has no report subcommand"
	exit 1
fi
REPORT=("$SANDRUN" report)

have_chromium=1
command -v chromium >/dev/null 2>&1 || have_chromium=0
# chrome ARGS... URL: headless Chromium with a fresh profile; its log on stderr.
chrome() {
	local prof
	prof=$(mktemp -d "$work/profile.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --disable-quic \
		--disable-dev-shm-usage --user-data-dir="$prof" --enable-logging=stderr --v=0 "$@"
	local rc=$?
	rm -rf "$prof"
	return $rc
}
# load HTML NAME: --dump-dom into NAME.dom, the browser's log into NAME.log
load() {
	chrome --dump-dom "file://$1" >"$2.dom" 2>"$2.log"
}
# Console messages of the page (the report logs nothing: any is an error),
# uncaught exceptions, refused resources (CSP).
console_errors() { grep -E 'CONSOLE|Uncaught|Refused to' "$1" | head -5; }

# ---- a small store made by the real runner ---------------------------------
mkdir -p in '<script>alert(1)<'
sox -q -n -r 48000 -c 2 -b 16 in/tone.wav synth 3 sine 1000 vol 0.5
sox -q -n -r 44100 -c 1 -b 16 in/noise.flac synth 6 pinknoise vol 0.3
sox -q -n -r 48000 -c 1 -b 16 in/quiet.wav trim 0 4
sox -q -n -r 44100 -c 1 -b 16 in/clip.wav synth 2 sine 440 vol 2 2>/dev/null
head -c 4096 /dev/urandom >in/garbage.wav
# A path that reads as markup, and one with an escape sequence, a byte that
# is not UTF-8 and a right-to-left override.
head -c 4096 /dev/urandom >'<script>alert(1)</script>.wav'
head -c 4096 /dev/urandom >"in/$(printf 'esc\033[31m\377\342\200\256vaw.wav')"
"$SANDRUN" run --db "$work/small.db" --mem 512M --timeout 30 -j 2 in \
	"$work/<script>alert(1)</script>.wav" -r >run.out 2>run.err
rc=$?
if [ "$rc" -eq 1 ] && [ -s small.db ]; then
	ok "sandrun run made the small store (exit 1: some files failed, as they should)"
else
	not_ok "sandrun run made the small store (exit $rc)"
	sed 's/^/# /' run.err | tail -n 20
fi
count() { sqlite3 small.db "$1"; }
# Where the analyzer cannot run in the sandbox on this build (it ended every
# file otherwise), record what it says run directly, through sqlite3 in the
# store's own columns, so the report is still tested on real reports.
if [ "$(count "SELECT count(*) FROM items WHERE last_outcome IN ('ok', 'bad_input')")" != 7 ]; then
	diag "sandrun run ended the files as: $(count "SELECT group_concat(last_outcome) FROM items")"
	diag "recording the analyzer's own results (run outside the sandbox) with sqlite3"
	for id in $(count "SELECT id FROM items"); do
		path=$(count "SELECT path FROM items WHERE id = $id")
		"$B/sandrun-analyze" "$path" >res.json 2>res.err
		rc=$?
		if [ "$rc" -eq 0 ]; then
			sqlite3 small.db "UPDATE attempts SET outcome = 'ok', exit_code = 0, signal = NULL,
			  syscall = NULL, error = NULL, stderr_tail = NULL
			  WHERE id = (SELECT last_attempt FROM items WHERE id = $id);
			UPDATE items SET status = 'done', last_outcome = 'ok', last_error = NULL WHERE id = $id;
			INSERT INTO results (item_id, attempt_id, kind, value, stored_at)
			  SELECT id, last_attempt, 'json', CAST(readfile('res.json') AS TEXT), updated_at
			  FROM items WHERE id = $id;"
		else
			sqlite3 small.db "UPDATE attempts SET outcome = 'bad_input', exit_code = $rc,
			  signal = NULL, syscall = NULL, error = json_extract(readfile('res.json'), '\$.error'),
			  stderr_tail = readfile('res.err')
			  WHERE id = (SELECT last_attempt FROM items WHERE id = $id);
			UPDATE items SET status = 'failed', last_outcome = 'bad_input',
			  last_error = json_extract(readfile('res.json'), '\$.error') WHERE id = $id;"
		fi
	done
fi
check "the small store holds 7 items: 4 done, 3 bad_input" \
	[ "$(count "SELECT count(*), sum(status='done'), sum(last_outcome='bad_input') FROM items")" = "7|4|3" ]

# Hostile stderr, error, result and host name, written as a job or a
# damaged store could write them (the runner stores stderr as bytes).
printf '%s\n' 'decoder: starting' \
	'<script>document.body.setAttribute("data-pwned","stderr")</script>' \
	'<img src=x onerror="document.body.setAttribute(`data-pwned`,`img`)">' \
	'</pre></details></li></ol><script>document.title="PWNED"</script>' >hostile.txt
printf 'esc \033[31mred\033[0m, not UTF-8 \377\376, RLO \342\200\256txt.exe, C1 \302\233\n' >>hostile.txt
sqlite3 small.db >/dev/null <<'EOF' || not_ok "hostile data written into the small store"
UPDATE attempts SET stderr_tail = readfile('hostile.txt')
 WHERE id = (SELECT last_attempt FROM items WHERE path LIKE '%/in/garbage.wav');
UPDATE items SET last_error = 'Format not recognised.</span><script>document.title="PWNED"</script>'
 WHERE path LIKE '%/in/garbage.wav';
UPDATE results SET value = json_set(value, '$.damage.damaged', json('true'),
 '$.damage.decoder_error', '</li><script>document.body.dataset.pwned="result"</script>')
 WHERE item_id = (SELECT id FROM items WHERE path LIKE '%/in/tone.wav');
UPDATE runs SET hostname = '<svg onload="document.title=1">';
PRAGMA wal_checkpoint(TRUNCATE);
EOF
sum_before=$(cat small.db small.db-wal 2>/dev/null | sha256sum)

# ---- the small report as written ---------------------------------------------
"${REPORT[@]}" --db small.db -o small.html >report.out 2>report.err
rc=$?
check "report writes the page (exit 0)" [ "$rc" -eq 0 ] && [ -s small.html ]
[ "$rc" -eq 0 ] || sed 's/^/# /' report.err
check "the store is not written (same bytes before and after)" \
	[ "$(cat small.db small.db-wal 2>/dev/null | sha256sum)" = "$sum_before" ]
check "the page is valid UTF-8" iconv -f UTF-8 -t UTF-8 small.html -o /dev/null
check "one <script> element, its own, allowed by hash in the Content-Security-Policy" \
	[ "$(facts small.html .scripts)" = 1 ] && grep -q "script-src 'sha256-" small.html &&
	grep -q "default-src 'none'" small.html
check "self-contained: no external reference (src/href only to #fragments), no http(s)" \
	[ "$(facts small.html '.external | length')" = 0 ] && ! grep -qiE 'https?:|url\(' small.html
check "hostile markup is escaped, not parsed: no <img>, no handler, no injected element" \
	[ "$(facts small.html '[(.tags.img // 0), (.handlers | length)] | add')" = 0 ]
check "the markup-like path is shown as text" \
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;.wav' small.html
check "escape sequence, non-UTF-8 byte and RLO in a path are shown as \\xNN / \\u{202e}" \
	grep -qF 'esc\x1b[31m\xff\u{202e}vaw.wav' small.html
check "the hostile stderr tail is shown, escaped, in its <pre>" \
	grep -qF '&lt;script&gt;document.body.setAttribute(&quot;data-pwned&quot;' small.html &&
	grep -qF 'not UTF-8 \xff\xfe, RLO \u{202e}txt.exe, C1 \xc2\x9b' small.html
check "outcome bars: ok 4, bad_input 3" \
	[ "$(facts small.html '.text["chart-outcomes"]' --text chart-outcomes | tr -d '\n')" = "okok: 44bad_inputbad_input: 33" ]
check "bad_input lists its three files" [ "$(facts small.html '.lists["fail-bad_input-list"]')" = 3 ]
# Both are far beyond these jobs (a few ms, a few MiB): drawn as off-scale
# markers at the edge, the charts' width left to the data.
check "the limits recorded by the run are drawn, off scale: --mem 512 MiB ↑, --timeout 30 s →" \
	grep -qF -- '--mem 512 MiB ↑</text>' small.html && grep -qF -- '--timeout 30 s →</text>' small.html
check "clip.wav is flagged as clipping, quiet.wav as mostly silent, tone.wav as damaged" \
	[ "$(facts small.html '[.lists["clipping-list"], .lists["silent-list"], .lists["damaged-list"]] | @tsv' \
		--text clipping-list)" = "$(printf '1\t1\t1')" ] &&
	grep -A2 'id="clipping-list"' small.html | grep -q '/in/clip.wav' &&
	grep -A2 'id="silent-list"' small.html | grep -q '/in/quiet.wav'
check "the run is listed with its limits" \
	grep -q '<tr><td>#1</td>' small.html && grep -qF -- '<td class="lim">--mem 512 MiB<br>--timeout 30 s</td>' small.html

# ---- the small report in Chromium --------------------------------------------
if [ "$have_chromium" = 0 ]; then
	skip "Chromium: not installed (packaging/deps/test.txt)"
else
	load "$work/small.html" small
	rc=$?
	check "Chromium loads the page (exit $rc)" [ "$rc" -eq 0 ] && [ -s small.dom ]
	errs=$(console_errors small.log)
	if [ -z "$errs" ]; then ok "no console message, no uncaught error, nothing refused"
	else not_ok "console messages:"; echo "$errs" | sed 's/^/#   /'; fi
	missing=""
	for id in summary chart-outcomes chart-wall chart-scatter resource-stats chart-lufs \
		chart-truepeak chart-duration clipping silent damaged runs-table failures \
		fail-bad_input-list render-ms; do
		facts small.dom '.ids[]' | grep -qx "$id" || missing="$missing $id"
	done
	check "the loaded page has its charts and lists:${missing:- all there}" [ -z "$missing" ]
	check "the charts are drawn: bars, histogram bars, scatter points, limit lines" \
		[ "$(facts small.dom '.tags.rect')" -ge 8 ] && [ "$(facts small.dom '.scatter')" -ge 4 ] &&
		[ "$(grep -c 'class="mark' small.dom)" -ge 4 ]
	check "nothing hostile ran: one script, no <img>, no handler, body untouched, title intact" \
		[ "$(facts small.dom '[.scripts, (.tags.img // 0), (.handlers | length), (.body | length)] | @tsv')" = \
		"$(printf '1\t0\t0\t0')" ] && [ "$(facts small.dom .title)" != PWNED ] &&
		! grep -q 'data-pwned' small.dom
	check "the load-time marker ran (the page's own script is allowed)" \
		[ -n "$(facts small.dom '.render["data-load-ms"] // empty')" ]
	# The layout as rendered (tests/report/layout.html frames the page and
	# measures it): limit labels, the data's share of the width, the runs.
	cp "$ROOT/tests/report/layout.html" "$work/layout.html"
	layout() { # PAGE.html OUT.json
		chrome --allow-file-access-from-files --virtual-time-budget=10000 --dump-dom \
			"file://$work/layout.html?$1" 2>/dev/null |
			sed -n 's/.*<pre id="layout">\(.*\)<\/pre>.*/\1/p' |
			python3 -c 'import html, sys; print(html.unescape(sys.stdin.read()))' >"$2"
	}
	layout small.html small.layout
	jqe() { jq -e "$@" >/dev/null; }
	check "layout measured in Chromium (tests/report/layout.html)" jqe '.charts["chart-scatter"]' small.layout
	check "no two limit labels overlap and none leaves its chart (every chart)" \
		[ "$(jq '[.charts[] | (.overlaps + .outside)[]] | length' small.layout)" = 0 ]
	check "limits far beyond the data are off-scale markers: the data use over 90% of the wall-time and scatter width" \
		jqe '.charts["chart-wall"] as $w | .charts["chart-scatter"] as $s
			| ($w.offscale == ["--timeout 30 s →"]) and ($s.offscale | sort == ["--mem 512 MiB ↑", "--timeout 30 s →"])
			and $w.data_width > 0.9 and $s.data_width > 0.9' small.layout
	check "the limits column does not wrap: each limit is one line" \
		jqe '.limits_cells | length >= 1 and all(.rects_per_part | all(. == 1))' small.layout
	# Limits just above the data: both lines inside the scatter, near its
	# top-right corner, where the --timeout and --mem labels used to collide.
	cp small.db near.db
	sqlite3 near.db "UPDATE runs SET spec = json_set(spec,
		'\$.limits.mem_bytes', (SELECT CAST(max(peak_memory_bytes) * 1.15 AS INTEGER) FROM attempts),
		'\$.limits.timeout_ms', (SELECT CAST(max(wall_ms) * 1.15 + 1 AS INTEGER) FROM attempts))"
	"${REPORT[@]}" --db near.db -o near.html >/dev/null 2>&1
	layout near.html near.layout
	check "limits near the data: both lines drawn in the scatter, their labels apart and inside" \
		jqe '.charts["chart-scatter"] | (.labels | length) == 2 and .offscale == [] and .overlaps == [] and .outside == []' \
		near.layout
	# Runs without any attempt (a rerun with nothing to do) are folded away.
	cp small.db reruns.db
	for _ in 1 2 3; do
		"$SANDRUN" run --db "$work/reruns.db" --mem 512M --timeout 30 -j 2 in \
			"$work/<script>alert(1)</script>.wav" -r >/dev/null 2>&1
	done
	"${REPORT[@]}" --db reruns.db -o reruns.html >/dev/null 2>&1
	layout reruns.html reruns.layout
	check "0-attempt runs are folded away: 1 run shown, 3 in a closed <details>" \
		jqe '.runs == {"shown": 1, "folded": 3, "folded_open": false}' reruns.layout
	chrome --screenshot="$work/small.png" --window-size=1280,2000 "file://$work/small.html" \
		>/dev/null 2>shot.log
	size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print(*struct.unpack(">II", d[16:24]))' small.png 2>/dev/null)
	check "screenshot taken: 1280x2000 PNG ($(stat -c %s small.png 2>/dev/null) bytes)" \
		[ "$size" = "1280 2000" ] && [ "$(stat -c %s small.png)" -gt 20000 ]
fi

# ---- refusals and exit codes --------------------------------------------------
"${REPORT[@]}" --help >help.out 2>&1
check "--help: exit 0, usage on stdout" [ $? -eq 0 ] && grep -q '^Usage: sandrun report' help.out
"${REPORT[@]}" --db small.db --bogus >/dev/null 2>&1
check "an unknown option: exit 2" [ $? -eq 2 ]
"${REPORT[@]}" --db small.db extra >/dev/null 2>&1
check "an extra argument: exit 2" [ $? -eq 2 ]
"${REPORT[@]}" --db missing.db -o missing.html >/dev/null 2>err.txt
check "a missing store: exit 4, nothing written, nothing created" \
	[ $? -eq 4 ] && [ ! -e missing.html ] && [ ! -e missing.db ] && grep -q 'does not exist' err.txt
head -c 8192 /dev/urandom >garbage.db
"${REPORT[@]}" --db garbage.db -o garbage.html >/dev/null 2>err.txt
check "a garbage file as the store: exit 4, no page" [ $? -eq 4 ] && [ ! -e garbage.html ]
sqlite3 other.db 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
"${REPORT[@]}" --db other.db -o other.html >/dev/null 2>err.txt
check "another program's SQLite file: exit 4" [ $? -eq 4 ] && grep -q 'not a sandrun store' err.txt
cp small.html keep.html
"${REPORT[@]}" --db small.db -o "$work/no/such/dir/r.html" >/dev/null 2>err.txt
check "an output that cannot be created: exit 1, a message" [ $? -eq 1 ] && grep -q 'cannot create' err.txt
"${REPORT[@]}" --db small.db >/dev/null 2>&1
check "-o defaults to report.html" [ -s report.html ]

# ---- results that are not analyzer reports (a --cmd job) ----------------------
cp small.db cmd.db
sqlite3 cmd.db "UPDATE results SET kind = 'text', value = 'line of text <b>';"
"${REPORT[@]}" --db cmd.db -o cmd.html >/dev/null 2>err.txt
rc=$?
check "text results: the page is written (exit $rc) and says there is no analyzer report" \
	[ "$rc" -eq 0 ] && [ "$(facts cmd.html '[.ids[] | select(. == "analyzer-none" or . == "chart-lufs")] | join(",")')" = analyzer-none ]
cp small.db json.db
# Of the four results: an array, JSON of another shape, and a report with
# strings and out-of-range numbers where numbers belong; one stays real.
sqlite3 json.db "UPDATE results SET value = '[1,2,3]'
  WHERE item_id = (SELECT item_id FROM results ORDER BY item_id LIMIT 1 OFFSET 0);
UPDATE results SET value = json_object('levels', json_object('true_peak_dbtp', 'loud'), 'format', 7)
  WHERE item_id = (SELECT item_id FROM results ORDER BY item_id LIMIT 1 OFFSET 1);
UPDATE results SET value = '{\"levels\":{\"true_peak_dbtp\":1e999,\"clipped_samples\":\"many\"},
  \"format\":{\"duration_s\":-1e300},\"loudness\":{\"integrated_lufs\":1e200},
  \"silence\":{\"ratio\":{\"x\":1}},\"damage\":{\"damaged\":\"<b>yes</b>\"}}'
  WHERE item_id = (SELECT item_id FROM results ORDER BY item_id LIMIT 1 OFFSET 2);"
"${REPORT[@]}" --db json.db -o json.html >/dev/null 2>err.txt
rc=$?
check "JSON results of other shapes and hostile numbers: exit $rc, the 2 report-shaped ones charted" \
	[ "$rc" -eq 0 ] && grep -qF '>2 analyzer reports of done files; 2 other results are not analyzer reports' json.html &&
	[ "$(facts json.html '[.ids[] | select(. == "chart-lufs")] | length')" = 1 ] &&
	! grep -qiE '="-?(nan|inf)' json.html
if [ "$have_chromium" = 1 ]; then
	load "$work/cmd.html" cmd
	check "the page without analyzer charts loads without a console message" \
		[ -s cmd.dom ] && [ -z "$(console_errors cmd.log)" ]
	load "$work/json.html" json
	check "the page with hostile numbers loads without a console message" \
		[ -s json.dom ] && [ -z "$(console_errors json.log)" ]
fi

# ---- 100,000 items ------------------------------------------------------------
mkdir big-in
sox -q -n -r 48000 -c 1 -b 16 big-in/one.wav synth 1 sine 440 vol 0.5
"$SANDRUN" run --db "$work/big.db" -r big-in >/dev/null 2>&1
t0=$(now_ms)
sqlite3 big.db <"$ROOT/tests/report/seed-100k.sql" >/dev/null 2>seed.err
rc=$?
t1=$(now_ms)
check "100,000 items seeded through sqlite3 in $((t1 - t0)) ms ($(($(stat -c %s big.db) / 1048576)) MiB)" \
	[ "$rc" -eq 0 ] && [ "$(sqlite3 big.db 'SELECT count(*) FROM items')" -ge 100000 ]
[ "$rc" -eq 0 ] || sed 's/^/# /' seed.err
t0=$(now_ms)
"${REPORT[@]}" --db big.db -o big.html >/dev/null 2>big.err
rc=$?
t1=$(now_ms)
gen_ms=$((t1 - t0))
size=$(stat -c %s big.html 2>/dev/null || echo 0)
diag "100k report: generated in $gen_ms ms, $size bytes, $(facts big.html .tags.total) elements"
# Speed is measured in bench/; here only a hang or a quadratic walk fails
# (the goal is a few seconds; a host slow at syscalls gets 20x slack).
check "100k report written (exit $rc), no hang: under 120 s (took $gen_ms ms)" [ "$rc" -eq 0 ] && [ "$gen_ms" -lt 120000 ]
check "100k report is small: under 3 MB ($size bytes) and under 20,000 elements" \
	[ "$size" -lt 3000000 ] && [ "$(facts big.html .tags.total)" -lt 20000 ]
check "failed files capped at 200 per outcome, with the count of the rest" \
	[ "$(facts big.html '[.lists | to_entries[] | select(.key | startswith("fail-")) | .value] | max')" = 200 ] &&
	grep -qF '… and 2,800 more: <code>sandrun list --status failed --outcome timeout</code>' big.html
check "scatter sampled to at most 2,000 points (has $(facts big.html .scatter))" \
	[ "$(facts big.html .scatter)" -le 2000 ] && [ "$(facts big.html .scatter)" -ge 1000 ]
check "histograms aggregate every item: the bars of the loudness chart add up to the files with a loudness" \
	[ "$(grep -A200 'id="chart-lufs"' big.html | sed -n '/<\/svg>/q;p' | grep -o '<title>[^<]*: [0-9,]* files' |
		sed 's/.*: \([0-9,]*\) files/\1/' | tr -d , | awk '{ s += $1 } END { print s }')" = \
	"$(sqlite3 big.db "SELECT count(*) FROM items i JOIN results r ON r.item_id = i.id WHERE i.status = 'done' AND json_type(r.value, '\$.loudness.integrated_lufs') IN ('integer', 'real')")" ]
check "both --mem limits of the runs are drawn (1 GiB, 512 MiB)" \
	grep -qE -- '--mem 1 GiB( ↑)?</text>' big.html && grep -qE -- '--mem 512 MiB( ↑)?</text>' big.html
if [ "$have_chromium" = 1 ]; then
	times=""
	for i in 1 2 3; do
		load "$work/big.html" big
		times="$times $(facts big.dom '.render["data-load-ms"] // "-1"')"
	done
	best=$(echo "$times" | tr ' ' '\n' | grep -v '^$' | sort -n | head -1)
	diag "100k report: Chromium load event at$times ms (best $best ms)"
	errs=$(console_errors big.log)
	check "100k report loads in Chromium without a console message" [ -s big.dom ] && [ -z "$errs" ]
	check "100k report opens in under a second (load event at $best ms, best of 3)" \
		awk -v t="$best" 'BEGIN { exit !(t > 0 && t < 1000) }'
	chrome --screenshot="$work/big.png" --window-size=1280,2000 "file://$work/big.html" >/dev/null 2>&1
	check "100k screenshot taken" [ -s big.png ]
fi

if [ -n "${SANDRUN_REPORT_KEEP:-}" ]; then
	mkdir -p "$SANDRUN_REPORT_KEEP"
	cp -f small.html big.html cmd.html small.png big.png "$SANDRUN_REPORT_KEEP"/ 2>/dev/null
	diag "kept the pages and screenshots in $SANDRUN_REPORT_KEEP"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
