# plan: 1
# Issue 12 item 1 in the sandbox suite, so it also runs in the cgroup v2
# guest (the bash version with more cases is cmd-input-swap.sh). A tree
# owner (uid 4242) swaps the input directory up/a with up/b, a link to a
# directory of "evil twins" (links to / and to a root-only file), in a
# tight RENAME_EXCHANGE loop, while 2 x 30 {} jobs start. No job may see
# the secret or a directory at /input; each saw its real file or ended
# input_error.
# Its own directory, searchable by the tree owner ($T is 0700).
_IS=${TMPDIR:-/tmp}/sandrun-iswap-$UNIQ
mkdir -p "$_IS"
chmod 755 "$_IS"
mkdir -p "$_IS/up/a" "$_IS/evil" "$_IS/ro"
echo "TOPSECRET-$TOKEN" >"$_IS/ro/s"
chmod 644 "$_IS/ro/s"
chmod 700 "$_IS/ro"
_i=1
while [ "$_i" -le 30 ]; do
	echo "real-$_i" >"$_IS/up/a/f$_i"
	if [ $((_i % 2)) = 0 ]; then ln -s / "$_IS/evil/f$_i"; else ln -s "$_IS/ro/s" "$_IS/evil/f$_i"; fi
	_i=$((_i + 1))
done
ln -s "$_IS/evil" "$_IS/up/b"
chmod 755 "$_IS" "$_IS/up" "$_IS/up/a" "$_IS/evil"
chmod 644 "$_IS"/up/a/f*
chown -h -R 4242:4242 "$_IS/up" "$_IS/evil"
# the store: the runner's (with SANDRUN_AS an unprivileged runner's own dir)
mkdir -p "$_IS/st"
[ -n "$AS" ] && chown "$SANDRUN_AS_UID" "$_IS/st"
_files=$(_i=1; while [ "$_i" -le 30 ]; do printf '%s ' "$_IS/up/a/f$_i"; _i=$((_i + 1)); done)
"$P/flipper" 4242 "$_IS/up" a b 120 >"$_IS/flipper.out" 2>&1 &
_fl=$!
_ok=0 _ie=0
for _round in 1 2; do
	# shellcheck disable=SC2086 # a list of paths
	# The marker is built when the job runs (the command text is stored).
	$TO $AS "$SANDRUN" run --db "$_IS/st/db" --force --json --output text -j 2 \
		--cmd '/bin/sh -c "cat {}; [ -d {} ] && printf IS%sDIR X; exit 0"' $_files \
		>"$_IS/run$_round.out" 2>"$_IS/run$_round.err"
	_ok=$((_ok + $(grep '"event":"finished"' "$_IS/run$_round.out" | grep -c '"outcome":"ok"')))
	_ie=$((_ie + $(grep -c '"outcome":"input_error"' "$_IS/run$_round.out")))
done
kill "$_fl" 2>/dev/null
wait "$_fl" 2>/dev/null
diag "$(cat "$_IS/flipper.out"); ok $_ok, input_error $_ie"
if grep -a -q "TOPSECRET-$TOKEN" "$_IS"/st/db* "$_IS"/run*; then
	fail "a job read the root-only secret through {}"
fi
grep -a -q ISXDIR "$_IS"/st/db* "$_IS"/run*.out && fail "a job saw a directory at /input"
[ $((_ok + _ie)) -ge 60 ] || fail "expected 60 outcomes (ok or input_error), got ok $_ok, input_error $_ie: $(tail -n 3 "$_IS/run2.err")"
rm -rf "$_IS"
OUT=/dev/null ERR=/dev/null JSON="" RC=""
result "input swapped for links by its directory's owner during 60 {} job starts: the real file or input_error, never the secret or /"
