#!/bin/sh
# tests/suites/package.sh BUILD_DIR — packaging and installation. Speaks TAP.
#
#   - builds the Debian package with packaging/build-deb.sh (the `make deb`
#     script) into a scratch directory, unpacks it with `dpkg -x` into a
#     scratch root, and runs the unpacked sandrun from there: --version,
#     `check --json` (it must find the scratch root's policies and analyzer,
#     not the build tree's), a sandboxed command and a one-file `run` with
#     the unpacked analyzer; checks the contents, the dependencies, the
#     version, the systemd unit, and that lintian reports no error;
#   - `make install DESTDIR=scratch PREFIX=/usr/local`, the same checks on
#     the installed copy, then `make uninstall` with the same variables must
#     leave no file behind; the same with a custom BINDIR/LIBEXECDIR/DATADIR;
#   - BUILD_DIR/sandrun run from another directory finds the build tree's
#     policies and analyzer;
#   - the package's sandrun@.service, with all its hardening, runs a queue
#     under a real systemd: PID 1 of a nested pid, mount and cgroup
#     namespace (skipped when systemd cannot boot there).
#
# Runs as root inside the outer test namespace (tests/lib/outer-ns.sh).
# Environment:
#   SANDRUN_SKIP_DEB=1   do not build the package; test the newest
#                        build/deb/sandrun_*.deb if there is one, else skip
#   SANDRUN_SUITE_VERBOSE=1   print the diagnostics of passing tests too
#   SANDRUN_SKIP_SYSTEMD=1    skip the test under systemd
set -u
export LC_ALL=C
unset SANDRUN_POLICY_DIR SANDRUN_ANALYZER

B=${1:-}
if [ -z "$B" ] || [ ! -d "$B" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
B=$(cd "$B" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERBOSE=${SANDRUN_SUITE_VERBOSE:-0}
T=$(mktemp -d "${TMPDIR:-/tmp}/sandrun-package.XXXXXX") || exit 2
SDPID=""
trap '[ -n "$SDPID" ] && kill -9 "$SDPID" 2>/dev/null; rm -rf "$T"' EXIT
PLAN=15
N=0 FAILED=0 WHY="" LOG=/dev/null

# ---- TAP -----------------------------------------------------------------

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
fail() { if [ -z "$WHY" ]; then WHY=$*; else WHY="$WHY
$*"; fi; }
result() { # description
	N=$((N + 1))
	if [ -z "$WHY" ]; then
		echo "ok $N - $1"
		[ "$VERBOSE" = 1 ] && [ -s "$LOG" ] && tail -n 20 "$LOG" | sed 's/^/#   /'
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $1"
		printf '%s\n' "$WHY" | sed 's/^/#   FAIL: /'
		if [ -s "$LOG" ]; then
			echo "# last lines of $LOG:"
			tail -n 30 "$LOG" | sed 's/^/#   /'
		fi
	fi
	WHY="" LOG=/dev/null
}
skip() { N=$((N + 1)); echo "ok $N - $1 # SKIP $2"; WHY="" LOG=/dev/null; }

# ---- helpers -------------------------------------------------------------

json_str() { # key file — a string field of a compact JSON object
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"
}
json_bool() { # key file
	sed -n "s/.*\"$1\":\\(true\\|false\\).*/\\1/p" "$2"
}

# The Makefile's VERSION: what --version must print.
# shellcheck disable=SC2016
UPSTREAM=$(make -s --no-print-directory -C "$ROOT" B="$T/probe" \
	--eval 'sr-print-version: ; @echo $(VERSION)' sr-print-version 2>/dev/null)

# check_finds SANDRUN POLICY_DIR ANALYZER — `sandrun check --json`, run from
# /, reports policies and analyzer present, at these paths.
check_finds() {
	out="$T/check.$N.json"
	(cd / && "$1" check --json) >"$out" 2>"$out.err"
	rc=$?
	LOG=$out
	case $rc in 0 | 3) ;; *) fail "sandrun check exited $rc: $(head -c 300 "$out.err")" ;; esac
	[ "$(json_bool policies "$out")" = true ] || fail "check: policies not found"
	[ "$(json_bool analyzer "$out")" = true ] || fail "check: analyzer not found"
	pd=$(json_str policy_dir "$out") ap=$(json_str analyzer_path "$out")
	[ "$(readlink -f "$pd")" = "$(readlink -f "$2")" ] ||
		fail "check: policy_dir is '$pd', expected $2"
	[ "$(readlink -f "$ap")" = "$(readlink -f "$3")" ] ||
		fail "check: analyzer_path is '$ap', expected $3"
	[ "$rc" = 3 ] && diag "note: check says isolation is incomplete here: $(sed -n 's/.*"missing":\[\([^]]*\)\].*/\1/p' "$out")"
	return 0
}

# works SANDRUN — a sandboxed command with the default policy, and a
# one-file `run` with the analyzer next to this sandrun (strict policy).
works() {
	log="$T/works.$N.log"
	LOG=$log
	(cd / && "$1" exec --json -- /bin/true) >"$log" 2>&1
	grep -q '"outcome":"ok"' "$log" || fail "sandrun exec -- /bin/true did not end ok"
	d="$T/run.$N"
	mkdir -p "$d/in"
	python3 -c '
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(8000)))
w.close()' "$d/in/tone.wav" || { fail "could not write a test WAV"; return 0; }
	(cd "$d" && "$1" run --db "$d/s.db" "$d/in/tone.wav") >>"$log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || fail "sandrun run on one WAV exited $rc"
	(cd "$d" && "$1" list --db "$d/s.db") >>"$log" 2>&1
	grep -q 'done.*ok.*tone.wav' "$log" || fail "the WAV is not 'done ok' in sandrun list"
	return 0
}

# no_files DIR — nothing but (empty) directories under DIR
no_files() {
	left=$(find "$1" ! -type d | head -n 20)
	[ -z "$left" ] || fail "left behind: $(echo "$left" | tr '\n' ' ')"
	sr=$(find "$1" -name '*sandrun*' | head -n 20)
	[ -z "$sr" ] || fail "sandrun directories left behind: $(echo "$sr" | tr '\n' ' ')"
}

echo "1..$PLAN"
[ -n "$UPSTREAM" ] || diag "warning: could not read VERSION from the Makefile"

# ==== 1-8. the Debian package ==============================================

DEB=""
if [ "${SANDRUN_SKIP_DEB:-0}" = 1 ]; then
	# shellcheck disable=SC2012
	DEB=$(ls -t "$ROOT"/build/deb/sandrun_*.deb 2>/dev/null | head -n 1)
	if [ -n "$DEB" ]; then
		skip "build the package with packaging/build-deb.sh" "SANDRUN_SKIP_DEB=1, testing $DEB"
	else
		skip "build the package with packaging/build-deb.sh" "SANDRUN_SKIP_DEB=1"
	fi
else
	t0=$(date +%s)
	LOG="$T/build-deb.log"
	if TMPDIR=$T "$ROOT/packaging/build-deb.sh" "$T/deb" >"$LOG" 2>&1; then
		# shellcheck disable=SC2012
		DEB=$(ls "$T"/deb/sandrun_*.deb 2>/dev/null | head -n 1)
		[ -n "$DEB" ] || fail "build-deb.sh succeeded but left no sandrun_*.deb"
	else
		fail "packaging/build-deb.sh failed"
	fi
	diag "package built in $(($(date +%s) - t0)) s: ${DEB##*/}"
	result "build the package with packaging/build-deb.sh (dpkg-buildpackage -us -uc -b)"
fi

if [ -z "$DEB" ]; then
	for d in "package contents" "package control fields" "unpacked sandrun --version" \
		"unpacked sandrun check" "unpacked sandrun exec and run" "package systemd unit" "lintian"; do
		skip "$d" "no package"
	done
else
	# 2. contents
	LOG="$T/contents"
	dpkg -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$LOG"
	for f in /usr/bin/sandrun /usr/libexec/sandrun/sandrun-analyze \
		/usr/share/sandrun/policies/default.json /usr/share/sandrun/policies/strict.json \
		/lib/systemd/system/sandrun@.service /lib/systemd/system/sandrun-watch@.service \
		/lib/systemd/system/sandrun-rootless@.service /etc/apparmor.d/sandrun /usr/lib/sysusers.d/sandrun.conf \
		/usr/share/doc/sandrun/copyright; do
		grep -qx "$f" "$LOG" || fail "missing $f"
	done
	grep -Eqx '/usr/share/doc/sandrun/deployment.md(.gz)?' "$LOG" || fail "missing deployment.md"
	for m in "$ROOT"/docs/*.[1-8]; do
		[ -f "$m" ] || continue
		s=${m##*.}
		grep -qx "/usr/share/man/man$s/${m##*/}.gz" "$LOG" || fail "missing man page ${m##*/}"
	done
	# the unprivileged user and its subordinate ids are made by the postinst
	dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./postinst 2>/dev/null |
		grep -q 'usermod --add-subuids' || fail "no postinst giving the sandrun user subordinate ids"
	result "package contents: sandrun, analyzer in /usr/libexec/sandrun, policies, man pages, units, AppArmor profile, sandrun user"

	# 3. control fields
	LOG="$T/control"
	dpkg-deb -f "$DEB" >"$LOG"
	dep=$(dpkg-deb -f "$DEB" Depends)
	ver=$(dpkg-deb -f "$DEB" Version)
	# shellcheck disable=SC2016
	case $dep in *'${'*) fail "unsubstituted variable in Depends: $dep" ;; esac
	for lib in libc6 libseccomp2 libsqlite3-0 libjansson4 libsndfile1; do
		case $dep in *"$lib"*) ;; *) fail "Depends lacks $lib: $dep" ;; esac
	done
	u=${UPSTREAM#v}
	case $u in
	*-dirty) case $ver in *+dirty) ;; *) fail "tree is dirty ($UPSTREAM) but the version is $ver" ;; esac
		u=${u%-dirty} ;;
	esac
	if [ "${SANDRUN_SKIP_DEB:-0}" = 1 ]; then
		diag "note: prebuilt package, version $ver (tree: $UPSTREAM) not compared"
	else
		case $u in
		*-g*) h=${u##*-g} ;;
		*) h=$u ;;
		esac
		case $ver in *"$h"*) ;; *) fail "package version $ver does not carry '$h' of $UPSTREAM" ;; esac
	fi
	dpkg-deb -I "$DEB" postrm 2>/dev/null | grep -q 'rm -rf /var/cache/sandrun' ||
		fail "postrm does not remove /var/cache/sandrun on purge"
	diag "Version: $ver; Depends: $dep"
	result "package control: \${shlibs:Depends} resolved, version $ver from $UPSTREAM, postrm purges the cache"

	# 4. unpack, --version
	R="$T/root"
	mkdir -p "$R"
	dpkg -x "$DEB" "$R"
	LOG="$T/version"
	"$R/usr/bin/sandrun" --version >"$LOG" 2>&1 || fail "sandrun --version exited $?"
	got=$(cat "$LOG")
	if [ "${SANDRUN_SKIP_DEB:-0}" != 1 ] && [ "$got" != "sandrun $UPSTREAM" ]; then
		fail "--version says '$got', the Makefile's VERSION is '$UPSTREAM'"
	fi
	result "unpacked (dpkg -x) sandrun --version: $got"

	# 5. check finds the scratch root's policies and analyzer
	check_finds "$R/usr/bin/sandrun" "$R/usr/share/sandrun/policies" "$R/usr/libexec/sandrun/sandrun-analyze"
	result "unpacked sandrun check --json finds the scratch root's policies and analyzer"

	# 6. it works from there
	works "$R/usr/bin/sandrun"
	result "unpacked sandrun: exec with the default policy, run with its analyzer (strict policy)"

	# 7. the systemd unit
	U="$R/lib/systemd/system/sandrun@.service"
	LOG="$T/unit"
	grep -q '^ExecStart=/usr/bin/sandrun run ' "$U" || fail "ExecStart is not /usr/bin/sandrun run ..."
	grep -q '^Delegate=yes' "$U" || fail "no Delegate=yes"
	grep -q '^CacheDirectory=sandrun$' "$U" || fail "no CacheDirectory=sandrun (the policy cache)"
	grep -q '@BINDIR@' "$U" && fail "@BINDIR@ not substituted"
	W="$R/lib/systemd/system/sandrun-watch@.service"
	grep -q '^ExecStart=/usr/bin/sandrun watch ' "$W" || fail "the watch unit's ExecStart is not /usr/bin/sandrun watch ..."
	grep -q '^Restart=on-failure' "$W" || fail "the watch unit does not restart"
	# The same hardening as the one-shot unit, plus CAP_LEASE (the writer check).
	for u in "$U" "$W"; do
		sed -n '/^# --- Privileges/,$p' "$u" | grep -v '^#' | sed 's/ CAP_LEASE$//' >"$T/hardening.${u##*/}"
	done
	diff "$T/hardening.${U##*/}" "$T/hardening.${W##*/}" >"$LOG" ||
		fail "the watch unit's hardening differs from sandrun@.service's: $(head -5 "$LOG")"
	if command -v systemd-analyze >/dev/null; then
		mkdir -p "$T/units"
		sed "s|/usr/bin/sandrun|$R/usr/bin/sandrun|" "$U" >"$T/units/sandrun@pkgtest.service"
		sed "s|/usr/bin/sandrun|$R/usr/bin/sandrun|" "$W" >"$T/units/sandrun-watch@pkgtest.service"
		systemd-analyze verify --man=no "$T/units/sandrun@pkgtest.service" \
			"$T/units/sandrun-watch@pkgtest.service" >"$LOG" 2>&1 ||
			fail "systemd-analyze verify failed"
		[ -s "$LOG" ] && fail "systemd-analyze verify complained: $(head -5 "$LOG")"
	else
		diag "note: no systemd-analyze, the unit's syntax is not verified"
	fi
	# the unprivileged variant (docs/deployment.md, "Without root")
	U2="$R/lib/systemd/system/sandrun-rootless@.service"
	grep -q '^User=sandrun$' "$U2" || fail "sandrun-rootless@.service: no User=sandrun"
	grep -q '^Delegate=yes$' "$U2" || fail "sandrun-rootless@.service: no Delegate=yes"
	grep -q '^CapabilityBoundingSet=CAP_SETUID CAP_SETGID$' "$U2" ||
		fail "sandrun-rootless@.service: the bounding set is not exactly newuidmap's CAP_SETUID CAP_SETGID"
	grep -q '^ExecStart=/usr/bin/sandrun run ' "$U2" || fail "sandrun-rootless@.service: ExecStart"
	# the job-uid locks: ~sandrun/.sandrun-locks, made the user's by systemd
	grep -q '^StateDirectory=sandrun-rootless/.sandrun-locks$' "$U2" ||
		fail "sandrun-rootless@.service: no StateDirectory for the job-uid locks in sandrun's home"
	if command -v systemd-analyze >/dev/null; then
		sed "s|/usr/bin/sandrun|$R/usr/bin/sandrun|" "$U2" >"$T/units/sandrun-rootless@pkgtest.service"
		systemd-analyze verify --man=no "$T/units/sandrun-rootless@pkgtest.service" >"$LOG" 2>&1 ||
			fail "systemd-analyze verify of sandrun-rootless@ failed: $(head -c 300 "$LOG")"
		[ -s "$LOG" ] && fail "systemd-analyze verify complained about sandrun-rootless@: $(head -c 300 "$LOG")"
	fi
	result "package systemd units (sandrun@, sandrun-watch@, sandrun-rootless@): ExecStart in /usr/bin, Delegate=yes, the same hardening, the rootless one User=sandrun, systemd-analyze verify clean"

	# 8. lintian
	if command -v lintian >/dev/null; then
		LOG="$T/lintian"
		lintian --pedantic --tag-display-limit 0 "$DEB" >"$LOG" 2>&1
		grep -v '^running with root privileges' "$LOG" | sed 's/^/lintian: /' | while read -r l; do diag "$l"; done
		grep -q '^E: ' "$LOG" && fail "lintian reports errors"
		result "lintian: no errors ($(grep -c '^W: ' "$LOG") warnings)"
	else
		skip "lintian" "lintian is not installed (packaging/deps.sh build deb)"
	fi
fi

# ==== 9-12. make install / uninstall =========================================

D="$T/destdir"
IB="$T/install-build"
LOG="$T/install.log"
make -C "$ROOT" -j"$(nproc)" B="$IB" DESTDIR="$D" PREFIX=/usr/local install >"$LOG" 2>&1 ||
	fail "make install failed"
P="$D/usr/local"
for f in bin/sandrun libexec/sandrun/sandrun-analyze share/sandrun/policies/default.json \
	share/sandrun/policies/strict.json lib/systemd/system/sandrun@.service \
	lib/systemd/system/sandrun-watch@.service lib/systemd/system/sandrun-rootless@.service; do
	[ -f "$P/$f" ] || fail "missing \$DESTDIR/usr/local/$f"
done
for m in "$ROOT"/docs/*.[1-8]; do
	[ -f "$m" ] || continue
	[ -f "$P/share/man/man${m##*.}/${m##*/}" ] || fail "missing man page ${m##*/}"
done
grep -q '^ExecStart=/usr/local/bin/sandrun run ' "$P/lib/systemd/system/sandrun@.service" 2>/dev/null ||
	fail "the unit's ExecStart is not /usr/local/bin/sandrun"
result "make install DESTDIR=... PREFIX=/usr/local: binary, analyzer, policies, man pages, unit"

check_finds "$P/bin/sandrun" "$P/share/sandrun/policies" "$P/libexec/sandrun/sandrun-analyze"
works "$P/bin/sandrun"
result "installed sandrun finds \$DESTDIR/usr/local's policies and analyzer, and works"

LOG="$T/uninstall.log"
make -C "$ROOT" B="$IB" DESTDIR="$D" PREFIX=/usr/local uninstall >"$LOG" 2>&1 ||
	fail "make uninstall failed"
no_files "$D"
result "make uninstall with the same variables leaves no file behind"

# A custom layout: the relative paths are recompiled (.buildinfo) and found.
D2="$T/destdir2"
VARS="PREFIX=/opt/sr BINDIR=/opt/sr/sbin LIBEXECDIR=/opt/sr/lib/helpers DATADIR=/opt/sr/data MANDIR=/opt/sr/man SYSTEMDUNITDIR="
LOG="$T/install2.log"
# shellcheck disable=SC2086
make -C "$ROOT" -j"$(nproc)" B="$IB" DESTDIR="$D2" $VARS install >"$LOG" 2>&1 ||
	fail "make install $VARS failed"
[ -d "$D2/opt/sr/lib/systemd" ] && fail "SYSTEMDUNITDIR= (empty) still installed a unit"
check_finds "$D2/opt/sr/sbin/sandrun" "$D2/opt/sr/data/policies" "$D2/opt/sr/lib/helpers/sandrun-analyze"
LOG="$T/uninstall2.log"
# shellcheck disable=SC2086
make -C "$ROOT" B="$IB" DESTDIR="$D2" $VARS uninstall >"$LOG" 2>&1 || fail "make uninstall failed"
no_files "$D2"
result "custom BINDIR/LIBEXECDIR/DATADIR/MANDIR: found after install, nothing left after uninstall"

# ==== 13. the build tree ======================================================

check_finds "$B/sandrun" "$ROOT/policies" "$B/sandrun-analyze"
result "build tree: $B/sandrun run from / finds the tree's policies and analyzer"

# ==== 14. the unit under a real systemd ======================================

# boot_systemd ROOT — start systemd as PID 1 of new pid, mount and cgroup
# namespaces, with the unpacked package's unit; sets SDPID.
boot_systemd() {
	cat >"$T/boot.sh" <<'EOF'
#!/bin/sh
# PID 1 of a new pid, mount and cgroup namespace: remount cgroupfs rooted
# at this cgroup namespace, as a container runtime would, then systemd.
set -e
R=$1 INBOX=$2
mount --make-rprivate /
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
	umount -l /sys/fs/cgroup
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
	awk '$3 == "cgroup" || $3 == "cgroup2" { print $2, $3, $4 }' /proc/self/mounts >"$INBOX/../sd-cgroups"
	umount -l /sys/fs/cgroup
	mount -t tmpfs -o mode=755 cgroup-root /sys/fs/cgroup
	while read -r mp fs opts; do
		keep=$(echo "$opts" | tr ',' '\n' | grep -Ev '^(rw|ro|relatime|nosuid|nodev|noexec|seclabel)$' | paste -sd, -)
		mkdir -p "$mp"
		if [ "$fs" = cgroup2 ]; then mount -t cgroup2 cgroup2 "$mp"; else mount -t cgroup -o "$keep" cgroup "$mp"; fi
	done <"$INBOX/../sd-cgroups"
fi
mount -t tmpfs sd-run /run
mount -t tmpfs sd-varlib /var/lib
# The unit's CacheDirectory= (compiled policies) must not land in the
# host's /var/cache.
mount -t tmpfs -o mode=755 sd-varcache /var/cache
mkdir -p /run/systemd/system/sandrun@.service.d /var/lib/sandrun/pkgtest/inbox
printf '[Unit]\nDescription=sandrun package test\n' >/run/systemd/system/sr-test.target
cp -a "$R" /run/sr-root
sed "s|/usr/bin/sandrun|/run/sr-root/usr/bin/sandrun|" "$R/lib/systemd/system/sandrun@.service" \
	>/run/systemd/system/sandrun@.service
printf '[Service]\nStandardOutput=append:/run/sr.log\nStandardError=append:/run/sr.log\n' \
	>/run/systemd/system/sandrun@.service.d/log.conf
sed "s|/usr/bin/sandrun|/run/sr-root/usr/bin/sandrun|" "$R/lib/systemd/system/sandrun-watch@.service" \
	>/run/systemd/system/sandrun-watch@.service
mkdir -p /run/systemd/system/sandrun-watch@.service.d
printf '[Service]\nStandardOutput=append:/run/srw.log\nStandardError=append:/run/srw.log\n' \
	>/run/systemd/system/sandrun-watch@.service.d/log.conf
cp "$INBOX"/* /var/lib/sandrun/pkgtest/inbox/
# A /tmp of its own: a systemd booted like this empties the /tmp it finds
# when it starts its first unit, and that one is the suite's.
mount -t tmpfs sd-tmp /tmp
mount -t tmpfs sd-vartmp /var/tmp
exec env container=sandrun-test /lib/systemd/systemd --unit=sr-test.target \
	--log-target=console --log-level=notice
EOF
	mkdir -p "$T/sd/inbox"
	python3 -c '
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(8000)))
w.close()' "$T/sd/inbox/tone.wav"
	# not audio (a broken RIFF header), and not plain text: the analyzer's to refuse
	printf 'RIFF\004\000\000\000WAVEnot audio' >"$T/sd/inbox/bad.wav"
	unshare --mount --pid --fork --cgroup --mount-proc sh "$T/boot.sh" "$1" "$T/sd/inbox" >"$T/systemd.log" 2>&1 &
	u=$!
	i=0
	while [ $i -lt 50 ] && [ -z "$SDPID" ]; do
		SDPID=$(pgrep -P "$u" 2>/dev/null | head -n 1)
		sleep 0.1; i=$((i + 1))
	done
}
sd() { nsenter -t "$SDPID" -m -p -C "$@"; }

if [ "${SANDRUN_SKIP_SYSTEMD:-0}" = 1 ]; then
	skip "package's sandrun@.service under a real systemd" "SANDRUN_SKIP_SYSTEMD=1"
	skip "package's sandrun-watch@.service under a real systemd" "SANDRUN_SKIP_SYSTEMD=1"
elif [ -z "$DEB" ] || [ ! -x /lib/systemd/systemd ] || ! command -v nsenter >/dev/null; then
	skip "package's sandrun@.service under a real systemd" "no package, systemd or nsenter"
	skip "package's sandrun-watch@.service under a real systemd" "no package, systemd or nsenter"
else
	boot_systemd "$R"
	state=""
	i=0
	while [ -n "$SDPID" ] && [ $i -lt 100 ]; do
		state=$(sd systemctl is-system-running 2>/dev/null)
		case $state in running | degraded) break ;; esac
		sleep 0.2; i=$((i + 1))
	done
	case $state in
	running | degraded)
		LOG="$T/systemd-unit.log"
		sd systemctl start sandrun@pkgtest >"$LOG" 2>&1 || fail "systemctl start failed"
		i=0
		while [ $i -lt 150 ]; do
			a=$(sd systemctl is-active sandrun@pkgtest 2>/dev/null)
			case $a in active | activating | deactivating) sleep 0.2 ;; *) break ;; esac
			i=$((i + 1))
		done
		{
			sd systemctl status --no-pager sandrun@pkgtest
			sd cat /run/sr.log
			sd sh -c "cd /var/lib/sandrun/pkgtest && /run/sr-root/usr/bin/sandrun list"
		} >>"$LOG" 2>&1
		res=$(sd systemctl show -p Result --value sandrun@pkgtest 2>/dev/null)
		[ "$res" = success ] || fail "unit result is '$res', expected success (exit 1 = some files failed)"
		grep -q 'done *ok .*tone.wav' "$LOG" || fail "tone.wav is not done ok"
		grep -q 'failed *bad_input .*bad.wav' "$LOG" || fail "bad.wav is not failed bad_input"
		sd sh -c 'ls /var/cache/sandrun/policy' 2>/dev/null | grep -q '\.bpf$' ||
			fail "no compiled policy in /var/cache/sandrun/policy (CacheDirectory= under ProtectSystem=strict)"
		left=$(sd find /sys/fs/cgroup -name 'sandrun-[0-9]*' -path '*sandrun@pkgtest*' 2>/dev/null | head -n 3)
		[ -z "$left" ] || fail "cgroups left behind: $left"
		result "package's sandrun@.service (all its hardening) runs a queue under systemd: 1 ok, 1 bad_input, policy cached"
		# The watch unit on the same queue: the first walk analyzes
		# nothing again; a file copied into the inbox is analyzed; a
		# stop is a success. (Its hardening must leave inotify, the
		# /proc/self/fd watches and the lease check working.)
		LOG="$T/systemd-watch.log"
		sd systemctl start sandrun-watch@pkgtest >"$LOG" 2>&1 || fail "systemctl start sandrun-watch@pkgtest failed"
		i=0
		until sd grep -q 'watching ' /run/srw.log 2>/dev/null || [ $i -ge 100 ]; do sleep 0.2; i=$((i + 1)); done
		sd cp /var/lib/sandrun/pkgtest/inbox/tone.wav /var/lib/sandrun/pkgtest/tone2.tmp
		sd mv /var/lib/sandrun/pkgtest/tone2.tmp /var/lib/sandrun/pkgtest/inbox/tone2.wav
		i=0
		until sd sh -c "cd /var/lib/sandrun/pkgtest && /run/sr-root/usr/bin/sandrun list" 2>/dev/null |
			grep -q 'done *ok .*tone2.wav' || [ $i -ge 150 ]; do sleep 0.2; i=$((i + 1)); done
		sd systemctl stop sandrun-watch@pkgtest >>"$LOG" 2>&1
		{
			sd systemctl status --no-pager sandrun-watch@pkgtest
			sd cat /run/srw.log
			sd sh -c "cd /var/lib/sandrun/pkgtest && /run/sr-root/usr/bin/sandrun list"
		} >>"$LOG" 2>&1
		res=$(sd systemctl show -p Result --value sandrun-watch@pkgtest 2>/dev/null)
		[ "$res" = success ] || fail "watch unit result is '$res', expected success (stopped: exit 0)"
		grep -q 'done *ok .*tone2.wav' "$LOG" || fail "tone2.wav (renamed into the inbox) is not done ok"
		grep -q 'stopped by SIGTERM' "$LOG" || fail "watch did not say it was stopped by SIGTERM"
		# tone.wav and bad.wav by the one-shot unit, tone2.wav by watch: one attempt each
		n=$(sd sqlite3 /var/lib/sandrun/pkgtest/sandrun.db 'SELECT count(*) FROM attempts' 2>>"$LOG")
		[ "$n" = 3 ] || fail "$n attempts in the store, expected 3 (a file analyzed again?)"
		result "package's sandrun-watch@.service (the same hardening) analyzes a file renamed into the inbox, nothing again, stops with success"
		;;
	*)
		LOG="$T/systemd.log"
		[ "$VERBOSE" = 1 ] && tail -n 20 "$LOG" | sed 's/^/#   /'
		skip "package's sandrun@.service under a real systemd" "systemd did not boot in a nested namespace here (state '${state:-none}')"
		skip "package's sandrun-watch@.service under a real systemd" "systemd did not boot here"
		;;
	esac
	kill -9 "$SDPID" 2>/dev/null
	SDPID=""
fi

[ "$N" = "$PLAN" ] || echo "# planned $PLAN tests, ran $N"
[ "$FAILED" = 0 ]
