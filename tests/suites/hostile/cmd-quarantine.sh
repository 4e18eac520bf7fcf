# plan: 3
# Hostile tree vs `sandrun quarantine` (run by root): the owner of a
# directory on an input's path swaps it for a symlink to a root-only
# directory holding a file of the same name. Root must never move (or copy)
# that file: every quarantine either moves the real input or refuses with a
# clear message, and nothing outside the tree changes.
QT=$T/qt
QN=50
SEED=$B/tests/test_store
mkdir -p "$QT/tree/sub" "$QT/prot"
chmod 700 "$QT/prot"
for _i in $(seq 1 $QN); do
	echo "input $_i" >"$QT/tree/sub/x$_i"
	echo "PROTECTED $_i secret" >"$QT/prot/x$_i"
done
ln -s "$QT/prot" "$QT/tree/sublink"
chown -R 4243:4243 "$QT/tree"
_prot_sum=$(cat "$QT"/prot/* | sha256sum)
_specs=()
for _i in $(seq 1 $QN); do _specs+=("exit_nonzero=$QT/tree/sub/x$_i"); done
[ -x "$SEED" ] || fail "no $SEED (make unit-tests)"
"$SEED" seed "$QT/q.db" "${_specs[@]}" >/dev/null 2>"$T/qseed.err" || fail "seed: $(head -c 300 "$T/qseed.err")"

# 1. The race: the flipper swaps tree/sub and tree/sublink while quarantine
#    runs again and again (each run tries every input not yet moved).
"$P/flipper" 4243 "$QT/tree" sub sublink 60 >"$T/flip.out" 2>&1 &
_flip=$!
_attempts=0 _moved=0 _refused=0 _runs=0
for _r in $(seq 1 40); do
	_runs=$_r
	timeout -k 5 60 "$SANDRUN" quarantine --db "$QT/q.db" "$QT/Q" >"$T/qr.out" 2>"$T/qr.err"
	_rc=$?
	_m=$(grep -c '^moved ' "$T/qr.out")
	_f=$(grep -c '^sandrun: quarantine: failed .*: refused, nothing moved: a directory on its path is (or became) a symbolic link$' "$T/qr.err")
	_other=$(grep -v -e '^moved ' -e '^skipped .*: already quarantined$' -e ' moved, .* failed$' "$T/qr.out"; \
		grep -v -e '^sandrun: quarantine: failed .*: refused, nothing moved: a directory on its path is (or became) a symbolic link$' "$T/qr.err")
	[ -n "$_other" ] && fail "run $_r: unexpected output: $(printf '%s' "$_other" | head -c 400)"
	[ "$_f" -gt 0 ] && [ "$_rc" != 1 ] && fail "run $_r: $_f refusals but exit $_rc, expected 1"
	_attempts=$((_attempts + _m + _f))
	_moved=$((_moved + _m))
	_refused=$((_refused + _f))
	[ "$_moved" -ge $QN ] && [ "$_runs" -ge 5 ] && break
done
kill "$_flip" 2>/dev/null
wait "$_flip" 2>/dev/null
[ "$(cat "$QT"/prot/* | sha256sum)" = "$_prot_sum" ] || fail "a protected file changed"
[ "$(ls "$QT/prot" | wc -l)" = $QN ] || fail "a protected file was moved: $(ls "$QT/prot" | wc -l) left of $QN"
grep -rl PROTECTED "$QT/Q" >/dev/null 2>&1 && fail "a protected file reached the quarantine: $(grep -rl PROTECTED "$QT/Q" | head -3)"
[ "$_refused" -gt 0 ] || fail "the race never hit a swapped path ($(cat "$T/flip.out"))"
[ "$(find "$QT/Q" -type f 2>/dev/null | wc -l)" = "$_moved" ] || fail "$_moved moves reported, $(find "$QT/Q" -type f | wc -l) files in the quarantine"
[ "$_attempts" -ge 50 ] || fail "only $_attempts quarantine attempts"
diag "$_runs quarantine runs under the flipper ($(cat "$T/flip.out")): $_attempts attempts, $_moved moved, $_refused refused"
result "quarantine under a symlink-swapping tree owner: the root-only file never moves; each input moved or refused clearly"

# 2. Not racing: the input's parent replaced by a symlink to the protected
#    directory (same names there): refused, exit 1, nothing moved.
mkdir -p "$QT/t2/sub"
echo "input" >"$QT/t2/sub/x1"
"$SEED" seed "$QT/q2.db" "exit_nonzero=$QT/t2/sub/x1" >/dev/null 2>&1 || fail "seed q2"
mv "$QT/t2/sub" "$QT/t2/real"
ln -s "$QT/prot" "$QT/t2/sub"
_rc=0
"$SANDRUN" quarantine --db "$QT/q2.db" "$QT/Q2" >"$T/q2.out" 2>"$T/q2.err" || _rc=$?
[ "$_rc" = 1 ] || fail "exit $_rc, expected 1"
grep -q "failed $QT/t2/sub/x1 -> .*: refused, nothing moved: a directory on its path is (or became) a symbolic link" "$T/q2.err" ||
	fail "no clear refusal: $(head -c 300 "$T/q2.err")"
[ -f "$QT/prot/x1" ] && [ -z "$(find "$QT/Q2" -type f 2>/dev/null)" ] || fail "something moved"
result "quarantine: the input's directory replaced by a symlink -> refused with a clear message, exit 1, nothing moved"

# 3. The input itself replaced by another file (not the size/mtime the
#    store recorded): refused, nothing moved.
mkdir -p "$QT/t3"
echo "input" >"$QT/t3/x"
"$SEED" seed "$QT/q3.db" "exit_nonzero=$QT/t3/x" >/dev/null 2>&1 || fail "seed q3"
echo "something else entirely" >"$QT/t3/x.new" && mv "$QT/t3/x.new" "$QT/t3/x"
_rc=0
"$SANDRUN" quarantine --db "$QT/q3.db" "$QT/Q3" >"$T/q3.out" 2>"$T/q3.err" || _rc=$?
[ "$_rc" = 1 ] || fail "exit $_rc, expected 1"
grep -q "refused, nothing moved: it is no longer the file the store recorded" "$T/q3.err" ||
	fail "no clear refusal: $(head -c 300 "$T/q3.err")"
[ -f "$QT/t3/x" ] && [ -z "$(find "$QT/Q3" -type f 2>/dev/null)" ] || fail "something moved"
result "quarantine: an input that is no longer the recorded file (size/mtime) -> refused, nothing moved"
