# plan: 1
# Fail closed: a job whose deadline cannot be armed is refused, never run
# without it. The runner is started with fewer and fewer descriptors
# (prlimit --nofile=N) until its start fails exactly at the deadline's
# timerfd; that job must not have run (it would have left a file in a
# writable bind) and sandrun must say so and exit 3.
mkdir -p "$T/fc" && chmod 777 "$T/fc"
_found=""
for _n in $(seq 4 64); do
	rm -f "$T/fc/ran"
	_rc=0
	prlimit --nofile="$_n" timeout -k 5 60 "$SANDRUN" exec --timeout 30 --bind "$T/fc" -- \
		/bin/sh -c "touch $T/fc/ran" >"$T/fc.out" 2>"$T/fc.err" || _rc=$?
	if grep -q 'timerfd for the deadline' "$T/fc.err"; then
		_found=$_n
		[ "$_rc" = 3 ] || fail "exit $_rc with $_n descriptors, expected 3: $(head -c 300 "$T/fc.err")"
		[ -e "$T/fc/ran" ] && fail "the job ran although its deadline could not be armed"
		break
	fi
	[ "$_rc" = 0 ] && break # enough descriptors for everything: it ran
done
[ -n "$_found" ] || fail "no descriptor limit made the deadline's timerfd fail (last: exit $_rc, $(head -c 200 "$T/fc.err"))"
diag "with $_found descriptors: $(head -c 200 "$T/fc.err")"
result "fail closed: a job whose deadline cannot be armed (EMFILE) is refused (exit 3) and never runs"
