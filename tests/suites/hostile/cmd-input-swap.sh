# plan: 2
# tests/suites/hostile/cmd-input-swap.sh — issue 12 item 1: the input is
# bound by the file the runner checked, never by path.
#
# The owner of a directory on an input's path (uid 4242 here, an uploader)
# swaps a directory of real files with a symlink to a directory of "evil
# twins" (links to / and to a secret in a root-only directory) in a tight
# loop (build/t/probes/flipper) while 50 {} jobs start on the real files.
# Before, the child re-resolved the input's path as root, following links:
# a job could get / or the secret bound at /input/NAME. Each job here tries
# to read the secrets through {}, to list /input/NAME as a directory and to
# reach a host unix socket through it. Every job must have got its own real
# file (result "real NN") or ended input_error (a link on the path refused).
# Sourced by tests/suites/cmd.sh (helpers: run, q, item, fail, result,
# diag, $T, $P, $SANDRUN, $TOKEN).

_sw=$T/swap
_n=50
mkdir -p "$_sw/vault" "$_sw/outside" "$_sw/jobbin" "$_sw/sock" "$_sw/up/a" "$_sw/up/evil"
chmod 755 "$_sw" "$_sw/outside" "$_sw/jobbin" "$_sw/up"
chmod 700 "$_sw/vault"
chmod 1777 "$_sw/sock"
echo "vault-$TOKEN" >"$_sw/vault/secret"        # root-only directory, 0644 file
echo "outside-$TOKEN" >"$_sw/outside/public"    # world-readable, just never bound
chmod 644 "$_sw/vault/secret" "$_sw/outside/public"
for _i in $(seq -w 0 $((_n - 1))); do
	echo "real $_i" >"$_sw/up/a/f$_i"
	# the evil twins: every other one a link to /, the rest to the secret
	if [ $((10#$_i % 2)) = 0 ]; then
		ln -s / "$_sw/up/evil/f$_i"
	else
		ln -s "$_sw/vault/secret" "$_sw/up/evil/f$_i"
	fi
done
chmod 644 "$_sw"/up/a/*
ln -s "$_sw/up/evil" "$_sw/up/b"
chown -R -h 4242:4242 "$_sw/up"
chmod 755 "$_sw/up/a" "$_sw/up/evil"

# A "host" unix socket that a job could reach only through a bound /.
"$P/listen_helper" 120 "sbxswap$TOKEN" "$_sw/sock/host.sock" >"$_sw/listen.out" 2>&1 &
_lpid=$!
for _w in $(seq 50); do grep -q '^ready' "$_sw/listen.out" 2>/dev/null && break; sleep 0.1; done
chmod 666 "$_sw/sock/host.sock" 2>/dev/null

cat >"$_sw/jobbin/job.sh" <<EOF
f=\$1
[ -d "\$f" ] && { echo ISDIR; ls "\$f" | head -3; }
cat "\$f" 2>/dev/null | head -c 200
for s in "\$f$_sw/outside/public" "\$f$_sw/vault/secret" "$_sw/outside/public"; do
	cat "\$s" 2>/dev/null
done
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print("SOCKOK")' "\$f$_sw/sock/host.sock" 2>/dev/null
exit 0
EOF
chmod 755 "$_sw/jobbin/job.sh"

# The batch walks the tree (-r): the walk itself never follows a link, so
# the 50 real files are queued as up/a/fNN (b, the link, and the evil
# twins are skipped). Once they are queued, the owner starts swapping a and
# b (build/t/probes/flipper, as uid 4242): every claim and every bind from
# then on races it.
_db=$_sw/swap.db
RC=0
timeout -k 5 $HANG "$SANDRUN" run --db "$_db" -j 2 --output text --policy default \
	--bind-ro "$_sw/jobbin" --cmd "sh $_sw/jobbin/job.sh {}" -r "$_sw/up" >"$_sw/out" 2>"$_sw/err" &
_rpid=$!
for _w in $(seq 200); do
	[ "$(q "$_db" "SELECT count(*) FROM items" 2>/dev/null)" = "$_n" ] && break
	sleep 0.05
done
"$P/flipper" 4242 "$_sw/up" a b 90 >"$_sw/flipper.out" 2>&1 &
_fpid=$!
wait "$_rpid" || RC=$?
kill "$_fpid" 2>/dev/null
wait "$_fpid" 2>/dev/null
_ok=0 _ierr=0 _other=0
while IFS='|' read -r _p _st; do
	_i=${_p##*/f}
	_val=$(q "$_db" "SELECT r.value FROM results r JOIN items i ON i.id=r.item_id WHERE i.path='$_p'")
	case $_st in
	ok)
		_ok=$((_ok + 1))
		[ "$_val" = "real $_i" ] || fail "$_p: the job saw '$(printf %s "$_val" | head -c 200 | tr '\n' ' ')', not its real file"
		;;
	input_error) _ierr=$((_ierr + 1)) ;;
	*) _other=$((_other + 1)); fail "$_p: outcome '$_st' (expected ok or input_error)" ;;
	esac
done < <(q "$_db" "SELECT path || '|' || IFNULL(last_outcome,'') FROM items")
[ $((_ok + _ierr + _other)) -ge "$_n" ] || fail "only $((_ok + _ierr + _other)) items of $_n (run exit $RC: $(tail -n 3 "$_sw/err"))"
_leak=$(q "$_db" "SELECT count(*) FROM results WHERE CAST(value AS TEXT) LIKE '%$TOKEN%' OR CAST(value AS TEXT) LIKE '%ISDIR%' OR CAST(value AS TEXT) LIKE '%SOCKOK%'")
[ "$_leak" = 0 ] || fail "$_leak results show a secret, a directory or the host socket"
_sleak=$(q "$_db" "SELECT count(*) FROM attempts WHERE CAST(stderr_tail AS TEXT) LIKE '%$TOKEN%'")
[ "$_sleak" = 0 ] || fail "$_sleak stderr tails show a secret"
grep -q '^accepted unix' "$_sw/listen.out" && fail "a job reached the host unix socket"
[ "$_ok" -gt 0 ] || fail "no job ran on its real file (the test proves nothing)"
grep -q 'swaps' "$_sw/flipper.out" || fail "the flipper did not run: $(cat "$_sw/flipper.out")"
_msgs=$(q "$_db" "SELECT DISTINCT last_error FROM items WHERE last_outcome='input_error'" | tr '\n' ';')
diag "$(cat "$_sw/flipper.out"); $_n items: ok $_ok, input_error $_ierr, other $_other"
diag "input errors: $_msgs"
result "input swapped by its directory's owner during $_n job starts: each job saw its real file or ended input_error; no secret, directory or host socket"

# No race: a named input that is itself a link to the secret.
ln -s "$_sw/vault/secret" "$_sw/up/direct"
run --db "$_sw/direct.db" --output text --policy default --bind-ro "$_sw/jobbin" \
	--cmd "sh $_sw/jobbin/job.sh {}" "$_sw/up/direct"
expect_item "$_sw/direct.db" "$_sw/up/direct" "input_error|failed||"
q "$_sw/direct.db" "SELECT last_error FROM items" | grep -q 'symbolic link' ||
	fail "no clear message: $(q "$_sw/direct.db" "SELECT last_error FROM items")"
[ "$(q "$_sw/direct.db" "SELECT count(*) FROM results")" = 0 ] || fail "a job ran on the link"
result "a named input that is a symlink to a secret: input_error, 'is a symbolic link'"
kill "$_lpid" 2>/dev/null
wait "$_lpid" 2>/dev/null
