# plan: 3
# Per-job identities in a batch, and the fail-closed check of the uid range
# (issue 12, items 4 and 9). The range is SBX_UID_BASE/COUNT of
# sandbox/sandbox.h.
_ib=2147418112 _ic=4096
mkdir -p "$T/ident/in"
cat >"$T/ident/job.sh" <<'EOF'
id -u
tr '\000' ' ' </proc/1/cmdline
echo
sleep 1
EOF
for _x in a b c d; do echo "$_x" >"$T/ident/in/$_x.txt"; done
chmod -R a+rX "$T/ident"

# A batch of 4 under -j 2: the jobs that run at the same time have
# different uids, every uid is in the range, and no job sees the runner's
# argv (the other inputs' paths, the database path) as its init's cmdline.
run --db "$T/ident.db" --cmd "/bin/sh $T/ident/job.sh" --bind-ro "$T/ident" --output text -j 2 \
	"$T/ident/in/a.txt" "$T/ident/in/b.txt" "$T/ident/in/c.txt" "$T/ident/in/d.txt"
[ "$RC" = 0 ] || fail "exit $RC: $(tail -n 3 "$T/err")"
_vals=$(q "$T/ident.db" "SELECT i.path || ' ' || replace(r.value, char(10), ' ') FROM results r JOIN items i ON i.id = r.item_id ORDER BY i.path")
[ "$(printf '%s\n' "$_vals" | grep -c .)" = 4 ] || fail "expected 4 results: $_vals"
_uids=$(printf '%s\n' "$_vals" | grep -o '"*[0-9]\{9,\}' | tr -d '"' | sort -u)
for _u in $_uids; do
	[ "$_u" -ge "$_ib" ] && [ "$_u" -lt $((_ib + _ic)) ] || fail "uid $_u outside the range"
done
_ua=$(printf '%s\n' "$_vals" | grep '/a.txt ' | grep -o '[0-9]\{9,\}' | head -n 1)
_ub=$(printf '%s\n' "$_vals" | grep '/b.txt ' | grep -o '[0-9]\{9,\}' | head -n 1)
[ -n "$_ua" ] && [ "$_ua" != "$_ub" ] || fail "a.txt and b.txt (started together under -j 2) ran as '$_ua' and '$_ub'"
printf '%s\n' "$_vals" | grep -q "sandrun-init" || fail "no job saw sandrun-init as pid 1: $_vals"
printf '%s\n' "$_vals" | grep -q -e "ident.db" -e "in/[a-d].txt.*in/[a-d].txt" -e "--cmd" &&
	fail "a job saw the runner's argv: $_vals"
diag "uids: $(echo $_uids)"
result "identity: concurrent --cmd jobs of a batch run as different uids of the range; pid 1 shows sandrun-init, not the runner's argv"

# Fail closed: an account, or a subordinate id range, inside the job range
# makes sandrun refuse (exit 3, naming it). Checked in a mount namespace of
# its own, so the fake files are seen by nothing else.
printf 'root:x:0:0::/root:/bin/sh\nintruder%s:x:%s:100::/:/bin/false\n' "$UNIQ" $((_ib + 7)) >"$T/ident/passwd"
printf 'someone:%s:65536\n' $((_ib - 100)) >"$T/ident/subuid"
_rc=0
unshare -m sh -c 'mount --bind "$1" /etc/passwd && exec "$2" exec -- /bin/true' sh \
	"$T/ident/passwd" "$SANDRUN" >"$T/ident/pw.out" 2>"$T/ident/pw.err" || _rc=$?
[ "$_rc" = 3 ] || fail "an account in the range: exit $_rc, expected 3"
grep -q "intruder$UNIQ" "$T/ident/pw.err" || fail "the refusal does not name the account: $(head -c 300 "$T/ident/pw.err")"
diag "$(head -n 1 "$T/ident/pw.err")"
_rc=0
unshare -m sh -c 'mount --bind "$1" /etc/subuid 2>/dev/null || { touch /etc/subuid && mount --bind "$1" /etc/subuid; } &&
	exec "$2" check' sh "$T/ident/subuid" "$SANDRUN" >"$T/ident/sub.out" 2>&1 || _rc=$?
[ "$_rc" = 3 ] || fail "a subuid range over the job range: check exits $_rc, expected 3"
grep -q "someone:$((_ib - 100)):65536" "$T/ident/sub.out" || fail "check does not name the subuid range: $(grep -i uid "$T/ident/sub.out")"
diag "$(grep '^job uids' "$T/ident/sub.out")"
result "identity: an account or a subuid range inside the job uid range makes exec and check refuse (exit 3) and name it"

# sandrun run refuses too, before any job.
_rc=0
unshare -m sh -c 'mount --bind "$1" /etc/passwd && exec "$2" run --db "$3" --cmd /bin/true --output text "$4"' sh \
	"$T/ident/passwd" "$SANDRUN" "$T/ident-refused.db" "$T/ident/in/a.txt" >"$T/ident/run.out" 2>"$T/ident/run.err" || _rc=$?
[ "$_rc" = 3 ] || fail "run with an account in the range: exit $_rc, expected 3"
grep -q "intruder$UNIQ" "$T/ident/run.err" || fail "run's refusal does not name the account: $(head -c 300 "$T/ident/run.err")"
result "identity: sandrun run refuses (exit 3) when an account is inside the job uid range"
