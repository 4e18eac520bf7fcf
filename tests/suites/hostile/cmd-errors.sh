# plan: 1
# Error details: no stale message can reach the store. One runner process
# meets two different failures: job starts that fail for want of
# descriptors (prlimit --nofile=N; EMFILE is transient, so each is stored
# as a setup_error attempt "start: <what>: <EMFILE>" and retried), and jobs
# that start but whose init cannot fork the command (--pids 1: "fork
# command", a step that fails with errno alone, no message of its own).
# The child is a copy of the runner's memory: with the old global
# last-error buffer, a fork failure cloned after a failed start reported
# that start's text ("fork command: pipe2: Too many open files"). Each
# attempt's stored error must name its own cause and nothing else. N is
# raised until one run has both kinds, with a fork failure cloned after a
# start failure (a larger attempt id: claim and start come in turn).
mkdir -p "$T/errs/in" && chmod 755 "$T/errs" "$T/errs/in"
for _i in $(seq 1 12); do echo "$_i" >"$T/errs/in/f$_i"; done
chmod 644 "$T"/errs/in/*
_eagain=$($PY -c 'import errno, os; print(os.strerror(errno.EAGAIN))')
_emfile=$($PY -c 'import errno, os; print(os.strerror(errno.EMFILE))')
_db="" _found=""
for _n in $(seq 60 10 200); do
	_db=$T/errs/n$_n.db
	prlimit --nofile="$_n" timeout -k 5 $HANG "$SANDRUN" run --db "$_db" --cmd '/bin/true {}' \
		--pids 1 --nofile 64 --jobs 6 --retries 3 "$T"/errs/in/f* >"$T/errs/out" 2>"$T/errs/err"
	[ -e "$_db" ] || continue
	# the first start failure, and a fork failure after it
	_first_start=$(q "$_db" "SELECT min(id) FROM attempts WHERE error LIKE '%set up: start: %'")
	[ -n "$_first_start" ] || continue
	_late_fork=$(q "$_db" "SELECT count(*) FROM attempts WHERE id > $_first_start
	                       AND error LIKE '%set up: fork command%'")
	if [ "${_late_fork:-0}" -gt 0 ]; then
		_found=$_n
		break
	fi
done
if [ -z "$_found" ]; then
	fail "no descriptor limit from 60 to 200 gave both a failed start and a later fork failure (last: $(head -c 300 "$T/errs/err"))"
else
	_starts=0 _forks=0 _others=0
	while IFS='|' read -r _id _outcome _error; do
		_detail=${_error#*could not be set up: }
		[ "$_outcome" = setup_error ] || fail "attempt $_id: outcome $_outcome, expected setup_error ($_error)"
		case $_detail in
		"start: "*)
			_starts=$((_starts + 1))
			# its own cause: what failed in the runner, and EMFILE
			case $_detail in
			"start: "*": $_emfile") ;;
			*) fail "attempt $_id: a failed start does not end in its own cause '$_emfile': $_error" ;;
			esac
			case $_detail in
			*"fork command"* | *"$_eagain"*) fail "attempt $_id: a failed start carries the fork failure's text: $_error" ;;
			esac
			;;
		"fork command"*)
			_forks=$((_forks + 1))
			# errno alone: its own strerror, nothing of a start's text
			[ "$_detail" = "fork command: $_eagain" ] ||
				fail "attempt $_id: expected exactly 'fork command: $_eagain', got: $_error"
			;;
		*)
			# another step of the child (mounts, descriptors: EMFILE in
			# the child, whose limit is the runner's until its rlimits)
			_others=$((_others + 1))
			case $_detail in
			*"start: "* | *"fork command"*) fail "attempt $_id: a child step carries another failure's text: $_error" ;;
			esac
			case $_detail in
			*": $_emfile" | *": $_eagain") ;;
			*) fail "attempt $_id: a child step's error does not end in its own errno: $_error" ;;
			esac
			;;
		esac
		# one cause per error: never a strerror followed by more text
		case $_detail in
		*"$_emfile"*": "* | *"$_eagain"*": "*) fail "attempt $_id: two causes in one error: $_error" ;;
		esac
	done < <(q "$_db" "SELECT id, outcome, error FROM attempts ORDER BY id")
	[ "$_starts" -gt 0 ] && [ "$_forks" -gt 0 ] || fail "expected both kinds, got $_starts starts and $_forks forks"
	diag "with $_found descriptors: $_starts failed starts, $_forks fork failures ($_late_fork after the first failed start), $_others other child steps"
fi
result "error details: each stored setup_error names its own cause (failed start vs. the init's fork), never another failure's text"
