# plan: 1
# The input's directory renamed back and forth by its owner (uid 4242)
# while 2 x 30 {} jobs start: up/a, holding the inputs, is exchanged with
# an empty up/c in a tight loop, no link anywhere. Every input always
# exists under one of its two names. Without root the child finds the
# runner's descriptor again by its path, so a rename between reading and
# resolving that path must cost at most a retry, and at worst an
# input_error: never a setup_error (retried, and counted as the sandbox's
# fault), and never another file. Each ok job printed its own file.
_IR=${TMPDIR:-/tmp}/sandrun-iren-$UNIQ
mkdir -p "$_IR/up/a" "$_IR/up/c" "$_IR/st"
chmod 755 "$_IR" "$_IR/up" "$_IR/up/a" "$_IR/up/c"
_i=1
while [ "$_i" -le 30 ]; do
	echo "real-$_i" >"$_IR/up/a/f$_i"
	_i=$((_i + 1))
done
chmod 644 "$_IR"/up/a/f*
chown -R 4242:4242 "$_IR/up"
[ -n "$AS" ] && chown "$SANDRUN_AS_UID" "$_IR/st"
_files=$(_i=1; while [ "$_i" -le 30 ]; do printf '%s ' "$_IR/up/a/f$_i"; _i=$((_i + 1)); done)
"$P/flipper" 4242 "$_IR/up" a c 120 >"$_IR/flipper.out" 2>&1 &
_fl=$!
_ok=0 _ie=0 _se=0
for _round in 1 2; do
	# shellcheck disable=SC2086 # a list of paths
	$TO $AS "$SANDRUN" run --db "$_IR/st/db" --force --json --output text -j 2 --retries 0 \
		--cmd '/bin/sh -c "printf \"%s=\" {}; cat {}"' $_files \
		>"$_IR/run$_round.out" 2>"$_IR/run$_round.err"
	_ok=$((_ok + $(grep '"event":"finished"' "$_IR/run$_round.out" | grep -c '"outcome":"ok"')))
	_ie=$((_ie + $(grep '"event":"finished"' "$_IR/run$_round.out" | grep -c '"outcome":"input_error"')))
	_se=$((_se + $(grep -c '"outcome":"setup_error"' "$_IR/run$_round.out")))
done
kill "$_fl" 2>/dev/null
wait "$_fl" 2>/dev/null
diag "$(cat "$_IR/flipper.out"); ok $_ok, input_error $_ie, setup_error $_se"
[ "$_se" -eq 0 ] || fail "$_se jobs ended setup_error: $(grep -m1 -o '"error":"[^"]*"' "$_IR"/run*.out | head -n 1)"
[ $((_ok + _ie)) -ge 60 ] || fail "expected 60 outcomes (ok or input_error), got ok $_ok, input_error $_ie: $(tail -n 3 "$_IR/run2.err")"
# Each ok job saw its own file: "/input/fN=real-N", never another's.
_wrong=$("$SANDRUN" export --format jsonl --db "$_IR/st/db" 2>&1 | awk '
	{ p = $0; sub(/.*"path":"[^"]*\/f/, "", p); sub(/".*/, "", p)
	  r = $0; if (!sub(/.*"result":"[^"]*=real-/, "", r)) { print "no result: " $0; next }
	  sub(/[^0-9].*/, "", r); if (p != r) print }' | head -n 3)
[ -z "$_wrong" ] || fail "a job saw another file than its own: $_wrong"
rm -rf "$_IR"
OUT=/dev/null ERR=/dev/null JSON="" RC=""
result "input's directory renamed back and forth by its owner during 60 {} job starts: the job's own file or input_error, never setup_error"
