# plan: 2
# sbx-tty.sh — the user's terminal (issue 12 item 8; docs/security.md).
# sandrun exec started from an interactive shell: the terminal is stdin,
# stdout and stderr (one read-write open file) and the user has typed ahead.
# pty_run -a -i gives exactly that and reports what is left of the typed
# text in the terminal's input queue and whether its modes changed.
# Without --stdin the job gets /dev/null as stdin and write-only stdout and
# stderr: it cannot read the typed text from any of them, and the echo it
# turns off is turned back on by sandrun. With --stdin the job reads the
# terminal (the user asked for it), but TIOCSETD is still refused.
_typed="typed-ahead-$TOKEN"
if [ ! -x "$P/ttyread" ]; then
	skip "terminal: without --stdin the job cannot read what the user typed" "no $P/ttyread (make programs)"
	skip "terminal: with --stdin the job still cannot change the line discipline" "no $P/ttyread"
else
	for _mode in default stdin; do
		_opt=""
		[ $_mode = stdin ] && _opt=--stdin
		OUT=$T/tty-$_mode.out ERR=$T/tty-$_mode.err
		# (with SANDRUN_AS, the terminal is the user's own, as in a login)
		# shellcheck disable=SC2086
		$TO $AS "$P/pty_run" -a -i "$_typed" "$SANDRUN" exec $_opt --json --bind-ro "$P" \
			--timeout 10 -- "$P/ttyread" </dev/null >"$OUT" 2>"$ERR"
		RC=$?
		parse_json "$OUT"
		if [ "$RC" = 125 ] && grep -q 'pty_run: no pty' "$ERR"; then
			skip "terminal ($_mode): the job and the user's terminal" "no pty: $(grep 'no pty' "$ERR")"
			continue
		fi
		expect_outcome ok
		expect_rc 0
		_o=$(tr -d '\r\000' <"$OUT")
		printf '%s\n' "$_o" | grep -q 'TIOCSETD: SUCCEEDED' &&
			fail "the job changed the terminal's line discipline: $(printf '%s\n' "$_o" | grep TIOCSETD)"
		printf '%s\n' "$_o" | grep -q '^fd1: TIOCSETD: EPERM$' ||
			fail "no TIOCSETD refusal on the terminal as stdout: $(printf '%s\n' "$_o" | grep 'fd1:')"
		grep -q '^pty_run: modes same$' "$ERR" ||
			fail "the terminal's modes were left changed after the job: $(grep 'pty_run: modes' "$ERR")"
		if [ $_mode = default ]; then
			printf '%s\n' "$_o" | grep -q '^fd0: /dev/null$' ||
				fail "stdin is not /dev/null: $(printf '%s\n' "$_o" | grep '^fd0:')"
			printf '%s\n' "$_o" | grep -q 'READ' &&
				fail "the job read what the user typed: $(printf '%s\n' "$_o" | grep READ)"
			grep -q "^pty_run: injected ${#_typed}\$" "$ERR" ||
				fail "the typed text did not stay in the terminal's queue: $(grep 'pty_run: injected' "$ERR")"
			result "terminal: without --stdin the job gets /dev/null, cannot read what the user typed (fds 0-2), its echo-off is undone"
		else
			printf '%s\n' "$_o" | grep -q '^fd0: terminal$' ||
				fail "--stdin did not give the job the terminal: $(printf '%s\n' "$_o" | grep '^fd0:')"
			printf '%s\n' "$_o" | grep -q '^fd0: TIOCSETD: EPERM$' ||
				fail "TIOCSETD on stdin not refused: $(printf '%s\n' "$_o" | grep 'fd0: TIOCSETD')"
			result "terminal: with --stdin the job reads the terminal but TIOCSETD is refused"
		fi
	done
fi
