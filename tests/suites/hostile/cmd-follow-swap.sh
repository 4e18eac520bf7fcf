# plan: 2
# --follow-symlinks follows a link on descriptors only (runner/inputs_follow.c,
# docs/security.md): inside the tree beneath the -r root with no further
# link; never outside it (=any was withdrawn), never a named link. A tree
# owner (uid 4244) swaps a real directory d with a link l to a root-only
# directory holding a file named like d's (owned by 4244 too, so only the
# path rules stand between it and the job), in a tight loop, while runs
# follow links into d: a.wav -> d/song (the -r root is the tree) and
# w/e.wav -> ../d/song (the -r root is w, so d is outside it). The secret
# must never be analyzed, and no item may be stored under the root-only
# directory.
_FS=$T/fswap
mkdir -p "$_FS/tree/d" "$_FS/tree/w" "$_FS/ro"
echo benign >"$_FS/tree/d/song"
echo "TOPSECRET-$TOKEN" >"$_FS/ro/song"
chmod 644 "$_FS/tree/d/song" "$_FS/ro/song"
chmod 700 "$_FS/ro"
chmod 755 "$_FS" "$_FS/tree" "$_FS/tree/d" "$_FS/tree/w"
ln -s "$_FS/ro" "$_FS/tree/l"
ln -s d/song "$_FS/tree/a.wav"
ln -s ../d/song "$_FS/tree/w/e.wav"
chown -h -R 4244:4244 "$_FS/tree"
chown 4244:4244 "$_FS/ro/song" # the owner's own file, where they cannot reach it
"$P/flipper" 4244 "$_FS/tree" d l 300 >"$_FS/flipper.out" 2>&1 &
_fl=$!
for _i in $(seq 1 25); do
	run --db "$_FS/t$_i.db" --output text --cmd cat -r "$_FS/tree" --follow-symlinks
	run --db "$_FS/a$_i.db" --output text --cmd cat -r "$_FS/tree/w" --follow-symlinks
done
kill "$_fl" 2>/dev/null
wait "$_fl" 2>/dev/null
diag "$(cat "$_FS/flipper.out")"
_ok=0 _bad=""
for _db in "$_FS"/[ta]*.db; do
	_bad="$_bad$(leaks "$_db" "$_FS/ro")"
	_ok=$((_ok + $(q "$_db" "SELECT count(*) FROM items WHERE last_outcome='ok'")))
done
[ -z "$_bad" ] || fail "the secret or its path reached a run:$_bad"
# How many links won the race is a diagnostic: all refused is safe too.
diag "followed under the swap: ok $_ok"
result "tree owner swaps a directory for a link while --follow-symlinks follows links into it: never the secret"

# Not racing, the same rules one by one: a link into the tree is followed to
# its target's path; a link out of it is refused; a link through a link is
# refused; =any is a usage error; a named link is never followed.
# (A tree of its own: the flipper may have left d and l either way round.)
mkdir -p "$_FS/t2/d" "$_FS/ro2"
echo benign >"$_FS/t2/d/song"
echo "TOPSECRET-$TOKEN" >"$_FS/ro2/secret"
chmod 644 "$_FS/t2/d/song" && chmod 600 "$_FS/ro2/secret" && chmod 700 "$_FS/ro2" && chmod 755 "$_FS/t2" "$_FS/t2/d"
ln -s d/song "$_FS/t2/good.wav"
ln -s "$_FS/ro2/secret" "$_FS/t2/x.wav"
ln -s "$_FS/ro2" "$_FS/t2/l"
ln -s l/secret "$_FS/t2/y.wav"
chown -h -R 4244:4244 "$_FS/t2"
for _mode in tree; do
	run --db "$_FS/s-$_mode.db" --output text --cmd cat -r "$_FS/t2" --follow-symlinks=$_mode
	[ "$RC" = 0 ] || fail "--follow-symlinks=$_mode: exit $RC: $(tail -n 3 "$T/err")"
	expect_item "$_FS/s-$_mode.db" "$_FS/t2/d/song" "ok|done|0|"
	[ "$(q "$_FS/s-$_mode.db" "SELECT count(*) FROM items")" = 1 ] ||
		fail "=$_mode: $(q "$_FS/s-$_mode.db" "SELECT path FROM items")"
	grep -q "skipped $_FS/t2/y.wav: symbolic link not followed (its target is a link, or is reached through one)" "$T/err" ||
		fail "=$_mode: y.wav: $(grep y.wav "$T/err")"
	_why="its target is outside the tree"
	grep -q "skipped $_FS/t2/x.wav: symbolic link not followed ($_why" "$T/err" ||
		fail "=$_mode: x.wav: $(grep x.wav "$T/err")"
done
run --db "$_FS/any.db" --output text --cmd cat -r "$_FS/t2" --follow-symlinks=any
[ "$RC" = 2 ] || fail "--follow-symlinks=any: exit $RC, expected 2 (withdrawn)"
run --db "$_FS/named.db" --output text --cmd cat --follow-symlinks "$_FS/t2/x.wav"
expect_item "$_FS/named.db" "$_FS/t2/x.wav" "input_error|failed|*"
[ "$(q "$_FS/named.db" "SELECT count(*) FROM results WHERE value LIKE '%TOPSECRET%'")" = 0 ] || fail "named x.wav leaked"
result "--follow-symlinks: a link into the tree is followed; out of it, through a link, or named: refused"
