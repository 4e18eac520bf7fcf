# plan: 3
# cmd-bidi.sh — terminal spoofing by hostile names and stderr (issue 12
# item 11). A file literally named "evil<U+202E>gpj.wav" (shows as
# "evilvaw.jpg" if the RLO reaches a terminal) and a job whose stderr has
# RLO and LRI (U+2066) and U+2028. No output of sandrun meant for a
# terminal or a log may carry them raw (bytes E2 80 AE, E2 81 A6, E2 80 A8):
# list, show and status print the escaped form \u{202e} (the text module's
# one form, lib/text.h); the stored one-line error has '?' instead; the
# progress lines (a log when piped, a terminal under pty_run -a) escape too.
_bd=$T/bidi
mkdir -p "$_bd/in"
_evil=$(printf 'evil\342\200\256gpj.wav')
head -c 2000 /dev/urandom >"$_bd/in/$_evil"
chmod -R a+rX "$_bd"
_raw_bidi() { # FILE... — succeeds (and says where) if any raw bidi/LS byte sequence is in them
	LC_ALL=C grep -n -e $'\xe2\x80\xae' -e $'\xe2\x81\xa6' -e $'\xe2\x80\xa8' "$@"
}
_spec='sh -c "printf \"decoding...\\nbad \342\200\256frame \342\201\246x\342\200\250y\\n\" >&2; exit 3" sh {}'
run --db "$_bd/s.db" --output text --timeout 10 --retries 0 --cmd "$_spec" -r "$_bd/in"
cp "$T/out" "$_bd/run.out"
cp "$T/err" "$_bd/run.err"
[ "$RC" = 1 ] || fail "sandrun run exit $RC, expected 1 (one failed item): $(head -c 300 "$_bd/run.err")"
expect_item "$_bd/s.db" "$_bd/in/$_evil" "exit_nonzero|failed|3|"
# the store keeps the name as it is (it is the file's name)
[ "$(q "$_bd/s.db" "SELECT count(*) FROM items WHERE path = '$_bd/in/$_evil'")" = 1 ] ||
	fail "the item's path is not stored byte for byte"
_l=$(_raw_bidi "$_bd/run.out" "$_bd/run.err") && fail "raw bidi bytes in sandrun run's output: $_l"
timeout 60 "$SANDRUN" list --db "$_bd/s.db" >"$_bd/list" 2>&1 || fail "sandrun list failed: $(head -c 300 "$_bd/list")"
timeout 60 "$SANDRUN" show --db "$_bd/s.db" "$_bd/in/$_evil" >"$_bd/show" 2>&1 ||
	fail "sandrun show failed: $(head -c 300 "$_bd/show")"
timeout 60 "$SANDRUN" status --db "$_bd/s.db" >"$_bd/status" 2>&1 || fail "sandrun status failed"
_l=$(_raw_bidi "$_bd/list" "$_bd/show" "$_bd/status") && fail "raw bidi bytes: $_l"
grep -qF 'evil\u{202e}gpj.wav' "$_bd/list" || fail "list lacks the escaped name: $(head -c 300 "$_bd/list")"
grep -qF 'evil\u{202e}gpj.wav' "$_bd/show" || fail "show lacks the escaped name"
grep -qF 'bad \u{202e}frame \u{2066}x\u{2028}y' "$_bd/show" ||
	fail "show's stderr tail lacks the escaped controls: $(grep -F 'frame' "$_bd/show")"
grep -qF 'bad ?frame ?x?y' "$_bd/list" || fail "list's error line is not the '?' form: $(head -c 300 "$_bd/list")"
diag "list: $(head -n 1 "$_bd/list" | sed "s|$_bd/||")"
result "bidi: list, show, status print a U+202E file name and bidi stderr escaped (\\u{202e}), never raw"

# The same batch under a terminal: the progress lines, one per failure.
if [ -x "$P/pty_run" ]; then
	rm -f "$_bd/s2.db"
	timeout -k 5 $HANG "$P/pty_run" -a "$SANDRUN" run --db "$_bd/s2.db" --output text --timeout 10 \
		--retries 0 --cmd "$_spec" -r "$_bd/in" </dev/null >"$_bd/tty.out" 2>"$_bd/tty.err"
	_rc=$?
	if [ "$_rc" = 125 ] && grep -q 'pty_run: no pty' "$_bd/tty.err"; then
		result "bidi: the progress lines on a terminal # SKIP no pty"
	else
		_l=$(_raw_bidi "$_bd/tty.out") && fail "raw bidi bytes on the terminal: $_l"
		grep -qF 'evil\u{202e}gpj.wav: exit_nonzero' "$_bd/tty.out" ||
			fail "no escaped failure line on the terminal: $(tr -d '\r' <"$_bd/tty.out" | grep -a 'sandrun:' | head -n 5)"
		grep -qF 'bad ?frame ?x?y' "$_bd/tty.out" || fail "the error on the terminal is not the '?' form"
		result "bidi: the progress lines on a terminal escape the name (\\u{202e}) and the error ('?')"
	fi
else
	result "bidi: the progress lines on a terminal # SKIP no $P/pty_run"
fi

# The JSON Lines events are for programs: valid UTF-8, the name exact.
rm -f "$_bd/s3.db"
run --db "$_bd/s3.db" --json --output text --timeout 10 --retries 0 --cmd "$_spec" -r "$_bd/in"
_l=$(_raw_bidi "$T/err") && fail "raw bidi bytes in the log on stderr: $_l"
grep -q '"path"' "$T/out" || fail "no JSON events on stdout"
$PY -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"):
    json.loads(l)' "$T/out" || fail "the JSON events are not valid UTF-8 JSON"
result "bidi: with --json the log on stderr stays escaped; the events are valid JSON"
