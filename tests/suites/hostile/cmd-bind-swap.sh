# plan: 2
# tests/suites/hostile/cmd-bind-swap.sh — issue 12 item 1: --bind-ro
# sources are opened once, by the runner, refusing links, and every job
# binds that descriptor.
#
# The owner of a tree (uid 4242) swaps tree/a (a real directory) with
# tree/b (a link to a readable directory inside a root-only one, holding a
# file of the same name)
# in a tight loop while runs start with --bind-ro tree/a. Before, the child
# resolved the path for each job as root, following links: a job could see
# the root-only file. Now a run either refuses the source at startup (exit
# 2, "symbolic link") or binds the real directory to every job.
# Sourced by tests/suites/cmd.sh.

_bs=$T/bindswap
mkdir -p "$_bs/tree/a" "$_bs/vault/inner" "$_bs/in"
chmod 755 "$_bs" "$_bs/in" "$_bs/vault/inner"
chmod 700 "$_bs/vault"
echo "real-bind" >"$_bs/tree/a/pub"
echo "bindsecret-$TOKEN" >"$_bs/vault/inner/pub"
chmod 644 "$_bs/tree/a/pub" "$_bs/vault/inner/pub"
ln -s "$_bs/vault/inner" "$_bs/tree/b"
chown -R -h 4242:4242 "$_bs/tree"
chmod 755 "$_bs/tree" "$_bs/tree/a"
for _i in $(seq -w 1 10); do echo "$_i" >"$_bs/in/x$_i"; done
chmod 644 "$_bs"/in/*

"$P/flipper" 4242 "$_bs/tree" a b 120 >"$_bs/flipper.out" 2>&1 &
_fpid=$!
_refused=0 _ran=0 _jobs=0
for _r in $(seq 6); do
	run --db "$_bs/r$_r.db" -j 2 --output text --policy default --bind-ro "$_bs/tree/a" \
		--cmd "sh -c 'cat $_bs/tree/a/pub; cat $_bs/vault/inner/pub 2>/dev/null; true'" "$_bs"/in/x*
	if [ "$RC" = 2 ]; then
		_refused=$((_refused + 1))
		grep -q 'symbolic link' "$T/err" || fail "run $_r: exit 2 without a clear message: $(head -c 300 "$T/err")"
		[ -e "$_bs/r$_r.db" ] && [ "$(q "$_bs/r$_r.db" "SELECT count(*) FROM attempts")" != 0 ] &&
			fail "run $_r: refused, but jobs ran"
		continue
	fi
	_ran=$((_ran + 1))
	[ "$RC" = 0 ] || fail "run $_r: exit $RC: $(tail -n 2 "$T/err")"
	_jobs=$((_jobs + $(q "$_bs/r$_r.db" "SELECT count(*) FROM attempts")))
	_bad=$(q "$_bs/r$_r.db" "SELECT count(*) FROM results WHERE CAST(value AS TEXT) <> 'real-bind' || char(10)")
	[ "$_bad" = 0 ] || fail "run $_r: $_bad jobs saw something else than the real directory: $(q "$_bs/r$_r.db" "SELECT DISTINCT replace(CAST(value AS TEXT), char(10), ' ') FROM results" | head -3 | tr '\n' '|')"
	[ "$(q "$_bs/r$_r.db" "SELECT count(*) FROM items WHERE status='done'")" = 10 ] || fail "run $_r: not all done"
done
kill "$_fpid" 2>/dev/null
wait "$_fpid" 2>/dev/null
grep -q 'swaps' "$_bs/flipper.out" || fail "the flipper did not run: $(cat "$_bs/flipper.out")"
diag "$(cat "$_bs/flipper.out"); 6 runs: $_ran ran ($_jobs jobs), $_refused refused at startup"
result "--bind-ro of a directory swapped by its owner: each run bound the real directory to every job or refused the link; no job saw the link target"

# No race: a link named as a bind source, or a path through one.
_msgs=""
_lnk=$_bs/tree/b
[ -L "$_lnk" ] || _lnk=$_bs/tree/a # where the flipper left the link
for _src in "$_lnk" "$_lnk/pub"; do
	run --db "$_bs/link.db" --output text --policy default --bind-ro "$_src" --cmd "cat $_src" "$_bs/in/x01"
	[ "$RC" = 2 ] || fail "--bind-ro $_src: exit $RC, expected 2"
	grep -q 'symbolic link' "$T/err" || fail "--bind-ro $_src: no clear message: $(head -c 300 "$T/err")"
	_msgs="$_msgs$(head -n 1 "$T/err") / "
done
RC=0
timeout -k 5 $HANG "$SANDRUN" exec --bind-ro "$_lnk" -- cat "$_lnk/pub" >"$T/out" 2>"$T/err" || RC=$?
[ "$RC" = 2 ] || fail "exec --bind-ro of a link: exit $RC, expected 2"
grep -q 'symbolic link' "$T/err" || fail "exec: no clear message: $(head -c 300 "$T/err")"
grep -q "$TOKEN" "$T/out" && fail "exec showed the link target"
diag "${_msgs% / }"
result "--bind-ro of a symlink or a path through one: refused before any job (run and exec), with a clear message"
