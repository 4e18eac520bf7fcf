# plan: 2
# sbx-rootless.sh — what only the unprivileged runner of tests/vm/rootless.sh
# (SANDRUN_AS) can show (docs/security.md, "Without root"): each job runs as
# an id of the runner user's subordinate range, never the runner's own and
# never an account's; so a job that got out of its mount namespace, or that
# was even handed the runner's state directory, cannot write the runner's
# database. As root the same is sbx-ident.sh's uid range: skipped here.
if [ -z "$AS" ]; then
	skip "without root: the job's host uid is a subordinate id, not the runner's nor an account's" "sandrun runs as root here (SANDRUN_AS unset)"
	skip "without root: a job given the runner's state directory cannot write the runner's database" "sandrun runs as root here"
else
	_sub=${SANDRUN_ROOTLESS_SUBUID:?tests/vm/rootless.sh sets it}
	# ---- the job's uid, seen from the host ---------------------------
	_mark=rl$TOKEN
	$TO $AS "$SANDRUN" exec --bind-ro "$P" -- /bin/sh -c "exec \"$P/sleeper\" $_mark" \
		</dev/null >"$T/rl1.out" 2>&1 &
	_pa=$!
	_pid="" _n=0
	while [ -z "$_pid" ] && [ $_n -lt 100 ]; do
		_pid=$(procs_like "$_mark" | awk -v p="$P/sleeper" '$2 == p { print $1; exit }')
		[ -n "$_pid" ] || nap
		_n=$((_n + 1))
	done
	_ids=""
	[ -n "$_pid" ] && _ids=$(awk '/^Uid:|^Gid:/ { print $1, $2, $3, $4, $5 }' "/proc/$_pid/status" 2>/dev/null)
	kill "$_pid" 2>/dev/null
	wait "$_pa" 2>/dev/null
	_uid=$(printf '%s\n' "$_ids" | awk '$1 == "Uid:" { print $2 }')
	_gid=$(printf '%s\n' "$_ids" | awk '$1 == "Gid:" { print $2 }')
	diag "the job's host ids: $(printf '%s' "$_ids" | tr '\n' ';') (runner uid $SANDRUN_AS_UID, subordinate range from $_sub)"
	if [ -z "$_uid" ]; then
		fail "could not find the job's process ($(head -c 300 "$T/rl1.out"))"
	else
		for _v in $(printf '%s\n' "$_ids" | awk '{ print $2, $3, $4, $5 }'); do
			{ [ "$_v" -ge "$_sub" ] && [ "$_v" -lt $((_sub + 65536)) ]; } ||
				fail "host id $_v is outside the subordinate range $_sub+65536"
		done
		[ "$_uid" = "$SANDRUN_AS_UID" ] && fail "the job runs as the runner's uid"
		awk -F: -v u="$_uid" '$3 == u { found = 1 } END { exit !found }' /etc/passwd &&
			fail "the job's uid $_uid is an account's"
		awk -F: -v g="$_gid" '$3 == g { found = 1 } END { exit !found }' /etc/group &&
			fail "the job's gid $_gid is a group's"
	fi
	result "without root: the job's host uid is a subordinate id, not the runner's nor an account's"

	# ---- the runner's database, handed to a job ----------------------
	_st=$T/rlstate
	mkdir -p "$_st" && echo data >"$T/rl-in" && chmod 644 "$T/rl-in"
	chown "$SANDRUN_AS_UID" "$_st" && chmod 0755 "$_st"
	$TO $AS "$SANDRUN" run --db "$_st/db" --output text --cmd /bin/true "$T/rl-in" >"$T/rl2.out" 2>&1
	_before=$(md5sum "$_st/db" 2>/dev/null)
	sbx rlwrite --bind "$_st" --timeout 20 -- /bin/sh -c "
		id; ls -ln \"$_st\"
		if echo x >>\"$_st/db\" 2>/dev/null; then echo WROTE-DB; else echo 'db: refused'; fi
		if touch \"$_st/planted\" 2>/dev/null; then echo PLANTED; else echo 'plant: refused'; fi
		if mv \"$_st/db\" \"$_st/db.x\" 2>/dev/null; then echo RENAMED; else echo 'rename: refused'; fi"
	expect_outcome ok
	expect_out '^db: refused'
	expect_out '^plant: refused'
	expect_out '^rename: refused'
	expect_no_out 'WROTE-DB\|PLANTED\|RENAMED'
	[ -n "$_before" ] || fail "the runner made no database: $(head -c 300 "$T/rl2.out")"
	[ "$(md5sum "$_st/db" 2>/dev/null)" = "$_before" ] || fail "the runner's database changed"
	[ -e "$_st/planted" ] && fail "a file was planted next to the database"
	diag "the job saw: $(tr '\n' ';' <"$OUT" | head -c 400)"
	result "without root: a job given the runner's state directory cannot write the runner's database"
fi
