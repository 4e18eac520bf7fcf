# plan: 4
# How much of the host a job sees (docs/security.md, "What the job sees of
# the host"): /etc is an allowlist with generated passwd, group, hostname
# and hosts; the host-wide files of /proc are masked. The outer test
# namespace shares the host's /etc, so the entries checked are ones that
# exist on this host and are not on the allowlist (sandbox/hostview.c).

# 1. Not-allowlisted host /etc entries are absent; passwd has no host users.
_absent=""
for _e in environment debian_version pip.conf npmrc chromium.d chromium gitconfig wgetrc \
	machine-id shadow gshadow sudoers ssh resolv.conf fstab login.defs subuid profile \
	os-release mtab; do
	[ -e "/etc/$_e" ] || [ -L "/etc/$_e" ] && _absent="$_absent $_e"
done
# shellcheck disable=SC2016 # expanded by the job's shell
sbx etcview --timeout 10 -- /bin/sh -c 'for e in '"$_absent"'; do [ -e /etc/$e ] || [ -L /etc/$e ] && echo "PRESENT $e"; done
	[ -s /etc/ld.so.cache ] && echo "has ld.so.cache"
	echo "passwd-lines $(wc -l </etc/passwd)"
	cut -d: -f1 /etc/passwd | sed "s/^/user /"'
expect_outcome ok
expect_no_out '^PRESENT'
# (the cgroup v2 guest's busybox userland has no ld.so.cache to allow)
if [ -s /etc/ld.so.cache ]; then expect_out '^has ld.so.cache$'; fi
expect_out '^passwd-lines 3$'
expect_out '^user sandrun$' # the job's own uid, so getpwuid() answers
_host_users=$(cut -d: -f1 /etc/passwd | grep -v -x -e root -e nobody -e sandrun | head -n 3)
for _u in $_host_users; do expect_no_out "^user $_u\$"; done
diag "checked absent in the job:$_absent"
result "host view: /etc is an allowlist (no environment, pip.conf, npmrc, machine-id, ...); passwd holds only root, nobody and the job's own user"

# 2. The host's name is nowhere in the job's /etc.
_hn=$(head -n 1 /etc/hostname 2>/dev/null)
sbx etcname --timeout 10 -- /bin/sh -c 'echo "hostname-file $(cat /etc/hostname)"; cat /etc/hosts; echo "uname $(uname -n)"'
expect_outcome ok
expect_out '^hostname-file sandrun$'
expect_out '^uname sandrun$'
[ -n "$_hn" ] && [ "$_hn" != sandrun ] && expect_no_out "$_hn"
result "host view: /etc/hostname and /etc/hosts name the job 'sandrun', never the host ($_hn)"

# 3. /proc's host-wide files say nothing.
_boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
# shellcheck disable=SC2016
sbx procview --timeout 10 -- /bin/sh -c 'for f in cmdline config.gz keys key-users interrupts softirqs stat \
	loadavg kallsyms modules timer_list sys/kernel/random/boot_id; do
	[ -e /proc/$f ] && echo "bytes $f $(cat /proc/$f 2>/dev/null | wc -c)"; done
	echo "pressure $(ls -A /proc/pressure 2>/dev/null | wc -l)"
	echo "boot_id $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
	echo "cpuinfo $(grep -c ^processor /proc/cpuinfo)"'
expect_outcome ok
_leak=$(tr -d '\000' <"$OUT" | grep '^bytes ' | grep -v ' 0$')
[ -z "$_leak" ] || fail "host-wide /proc files readable: $_leak"
expect_out '^bytes cmdline 0$'
expect_out '^bytes stat 0$'
expect_out '^pressure 0$'
[ -n "$_boot" ] && expect_no_out "$_boot"
expect_out '^cpuinfo [1-9]'
result "host view: /proc/cmdline, config.gz, keys, key-users, interrupts, softirqs, stat, pressure/*, boot_id give nothing (cpuinfo stays)"

# 4. --etc NAME adds one host entry (read-only); a secret is refused before
# any job (exit 2). The entry: one the host has that is not allowlisted.
_extra=""
for _e in debian_version issue profile shells; do
	if [ -f "/etc/$_e" ] && [ ! -L "/etc/$_e" ]; then _extra=$_e; break; fi
done
if [ -z "$_extra" ]; then
	skip "host view: --etc NAME adds one host entry read-only; --etc shadow is refused" \
		"no plain /etc entry outside the allowlist on this host"
else
	sbx etcextra --timeout 10 --etc "$_extra" -- /bin/sh -c "cat /etc/$_extra >/dev/null && echo has-extra;
		echo x >>/etc/$_extra 2>/dev/null && echo WROTE; [ -e /etc/environment ] && echo HAS-ENVIRONMENT; exit 0"
	expect_outcome ok
	expect_out '^has-extra$'
	expect_no_out '^WROTE$'
	expect_no_out '^HAS-ENVIRONMENT$'
	_rc=0
	$TO $AS "$SANDRUN" exec --etc shadow -- /bin/true >"$T/etcbad.out" 2>"$T/etcbad.err" || _rc=$?
	[ "$_rc" = 2 ] || fail "--etc shadow: exit $_rc, expected 2 (usage): $(head -c 200 "$T/etcbad.err")"
	result "host view: --etc $_extra adds that host entry read-only (nothing else); --etc shadow is refused (exit 2)"
fi
