# plan: 1
# Issue 12 item 3 in the sandbox suite (so on cgroup v1 and v2): a runner
# SIGKILLed while its jobs are paused (SIGUSR1 freezes them) leaves nothing
# behind: its jobs die, and the next runner starts promptly (its sweep
# thaws, kills and removes what the dead one left, within a bounded time).
_FZ=$T/frz
mkdir -p "$_FZ"
for _i in 1 2 3 4; do echo "$_i" >"$_FZ/f$_i"; done
chmod 755 "$_FZ"
[ -n "$AS" ] && chown "$SANDRUN_AS_UID" "$_FZ" # an unprivileged runner's stores
chmod 644 "$_FZ"/f*
$AS "$SANDRUN" run --db "$_FZ/db" -j 2 --timeout 90 --cmd "/bin/sh -c 'sleep 60; : frz$TOKEN'" \
	"$_FZ"/f* >"$_FZ/out" 2>"$_FZ/err" &
_rp=$!
_w=0
while [ "$_w" -lt 100 ] && [ "$(procs_like "frz$TOKEN" | grep -c .)" -lt 2 ]; do
	sleep 0.1
	_w=$((_w + 1))
done
[ "$(procs_like "frz$TOKEN" | grep -c .)" -ge 2 ] || fail "the jobs did not start: $(head -c 300 "$_FZ/err")"
kill -USR1 "$_rp"
sleep 1
kill -KILL "$_rp"
wait "$_rp" 2>/dev/null
_t0=$(date +%s)
$TO $AS "$SANDRUN" run --db "$_FZ/db2" --output text --cmd /bin/cat "$_FZ/f1" >"$_FZ/out2" 2>"$_FZ/err2" ||
	fail "the next runner failed: $(tail -n 3 "$_FZ/err2")"
_took=$(($(date +%s) - _t0))
[ "$_took" -le 8 ] || fail "the next runner took $_took s (stuck on the dead runner's frozen cgroups?)"
_w=0
while [ "$_w" -lt 50 ] && [ -n "$(procs_like "frz$TOKEN")" ]; do
	sleep 0.1
	_w=$((_w + 1))
done
_left=$(procs_like "frz$TOKEN")
[ -z "$_left" ] || fail "the paused jobs outlived their runner: $_left"
diag "next runner took $_took s; $(grep -h 'stale' "$_FZ/err2" | head -n 2)"
OUT=/dev/null ERR=/dev/null JSON="" RC=""
result "runner SIGKILLed while its jobs are paused: they die, and the next runner starts within seconds"
