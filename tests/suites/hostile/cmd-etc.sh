# plan: 1
# --etc on `sandrun run`: the entry reaches every job of the batch (it is
# part of the job spec, like the binds), and only that entry.
_extra=""
for _e in debian_version issue profile shells; do
	if [ -f "/etc/$_e" ] && [ ! -L "/etc/$_e" ]; then _extra=$_e; break; fi
done
if [ -z "$_extra" ]; then
	N=$((N + 1))
	echo "ok $N # SKIP no plain /etc entry outside the allowlist on this host"
else
	mkdir -p "$T/etcx" && chmod 755 "$T/etcx"
	for _i in 1 2 3; do echo "$_i" >"$T/etcx/f$_i"; chmod 644 "$T/etcx/f$_i"; done
	run --db "$T/etcx.db" --output text -j 2 --etc "$_extra" \
		--cmd "sh -c 'cmp -s /etc/$_extra - </etc/$_extra && echo same; [ -e /etc/environment ] && echo HAS-ENVIRONMENT; exit 0'" \
		"$T"/etcx/f*
	[ "$RC" = 0 ] || fail "run --etc $_extra: exit $RC: $(tail -n 2 "$T/err")"
	[ "$(q "$T/etcx.db" "SELECT count(*) FROM results WHERE value = 'same' || char(10)")" = 3 ] ||
		fail "not every job saw the host's /etc/$_extra: $(q "$T/etcx.db" "SELECT value FROM results" | tr '\n' ' ')"
	[ "$(q "$T/etcx.db" "SELECT count(*) FROM results WHERE value LIKE '%HAS-ENVIRONMENT%'")" = 0 ] ||
		fail "--etc let another /etc entry through"
	result "run --etc $_extra: every job of the batch sees that host entry, and nothing more of /etc"
fi
