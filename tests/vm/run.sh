#!/bin/bash
# tests/vm/run.sh BUILD_DIR [SUITE] — run a test suite on a pure cgroup v2
# kernel: a Debian kernel booted under QEMU/TCG with an initramfs holding
# busybox, the build tree, the repo's policies/ and tests/, and every
# shared library they need, all at their host paths. Prints the guest's TAP.
#
#   SUITE   a POSIX sh script taking BUILD_DIR and printing TAP; default
#           tests/suites/sandbox.sh, or tests/vm/selftest.sh while that
#           does not exist.
#
# Environment (see docs/testing-vm.md):
#   SANDRUN_VM_CACHE    kernel cache and logs      (default <repo>/build/vm)
#   SANDRUN_VM_TIMEOUT  hard limit on QEMU, in s   (default 900)
#   SANDRUN_VM_MEM      guest RAM in MiB           (default 1024)
#   SANDRUN_VM_SHELL=1  interactive guest shell on this terminal, no suite
#   SANDRUN_VM_VERBOSE=1  stream the guest console to stderr
#   SANDRUN_VM_TOOLS    host programs to copy into the guest (default sqlite3)
#   SANDRUN_VM_EXTRA    more host files/dirs to copy, at the same paths
#   SANDRUN_VM_KEEP=1   keep the work dir (initrd, staging trees)
#   SANDRUN_VM_CGROUP   run the suite in this leaf cgroup (e.g.
#                       test.slice/suite.scope), not in the root cgroup
#
# Exit status: 0 when the guest suite passed; otherwise 1, after a
# "not ok - vm: <reason>" line. tests/run.sh counts the TAP lines.
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)

say() { echo "# vm: $*"; }
warn() { echo "vm: $*" >&2; }
die() { # reason
	echo "not ok - vm: $*"
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BUILD_DIR [SUITE]" >&2
	exit 2
fi
B=$(realpath -e "$1" 2>/dev/null) || die "no build dir $1"
if [ $# -ge 2 ]; then
	suite=$(realpath -e "$2" 2>/dev/null) || die "no suite $2"
elif [ -f "$repo/tests/suites/sandbox.sh" ]; then
	suite=$repo/tests/suites/sandbox.sh
else
	suite=$repo/tests/vm/selftest.sh
	say "tests/suites/sandbox.sh does not exist yet: running the harness self-test"
fi

cache=${SANDRUN_VM_CACHE:-$repo/build/vm}
timeout_s=${SANDRUN_VM_TIMEOUT:-900}
mem=${SANDRUN_VM_MEM:-1024}
mode=suite
[ "${SANDRUN_VM_SHELL:-0}" = 1 ] && mode=shell

for tool in qemu-system-x86_64 busybox cpio gzip xz dpkg-deb apt-get apt-cache ldd gcc flock timeout; do
	command -v "$tool" >/dev/null ||
		die "missing $tool (packaging/deps/test.txt: qemu-system-x86 busybox-static xz-utils cpio)"
done
mkdir -p "$cache" || die "cannot create $cache"

# ---- 1. the kernel ---------------------------------------------------------
# Cached as $cache/kernel/<package>/vmlinux (or vmlinuz when it cannot be
# decompressed). The package is resolved from linux-image-amd64 every run,
# so a new Debian ABI is fetched once; a cached kernel serves when offline.

apt_opts=(-o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root -q)

resolve_kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# vmlinuz -> vmlinux: the payload is an XZ stream somewhere inside the
# bzImage; decompress from its magic. Booting vmlinux is ~2x faster on TCG.
extract_vmlinux() { # vmlinuz out
	local off
	off=$(grep -obUaP '\xfd7zXZ\x00' "$1" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +"$((off + 1))" "$1" | xz -dc --single-stream >"$2.tmp" 2>/dev/null
	# The stream ends before the file does; only the ELF header matters.
	[ "$(head -c 4 "$2.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] || { rm -f "$2.tmp"; return 1; }
	mv "$2.tmp" "$2"
}

fetch_kernel() { # sets $kernel
	local kdir=$cache/kernel pkg dir tmp deb
	mkdir -p "$kdir"
	exec 8>"$kdir/.lock"
	flock -w 900 8 || { warn "kernel cache lock timed out"; return 1; }
	rm -rf "$kdir"/fetch.*   # left by a killed run; we hold the lock
	pkg=$(resolve_kernel_pkg)
	if [ -z "$pkg" ]; then
		warn "apt-cache knows no linux-image-amd64: apt-get update"
		apt-get "${apt_opts[@]}" update >&2
		pkg=$(resolve_kernel_pkg)
	fi
	dir=$kdir/$pkg
	if [ -n "$pkg" ] && ! { [ -s "$dir/vmlinux" ] || [ -s "$dir/vmlinuz" ]; }; then
		tmp=$(mktemp -d "$kdir/fetch.XXXXXX")
		chmod 755 "$tmp"
		if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download "$pkg") >&2; then
			warn "apt-get download $pkg failed: apt-get update and retry"
			apt-get "${apt_opts[@]}" update >&2
			(cd "$tmp" && apt-get "${apt_opts[@]}" download "$pkg") >&2
		fi
		deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)
		if [ -n "$deb" ] &&
			dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './boot/vmlinuz-*' >"$tmp/vmlinuz" &&
			[ -s "$tmp/vmlinuz" ]; then
			rm -f "$deb"
			extract_vmlinux "$tmp/vmlinuz" "$tmp/vmlinux" ||
				warn "cannot decompress vmlinuz; booting it compressed (~2x slower)"
			echo "$pkg" >"$tmp/package"
			rm -rf "$dir" && mv "$tmp" "$dir"
			# Older ABIs are dead weight now (~10 MB each).
			for old in "$kdir"/linux-image-*; do
				[ "$old" = "$dir" ] || rm -rf "$old"
			done
		else
			rm -rf "$tmp"
			warn "could not fetch $pkg"
		fi
	fi
	if ! { [ -s "$dir/vmlinux" ] || [ -s "$dir/vmlinuz" ]; }; then
		# Offline, or apt broken: any cached kernel will do.
		dir=$(find "$kdir" -mindepth 1 -maxdepth 1 -name 'linux-image-*' | sort -V | tail -n 1)
		[ -n "$dir" ] || return 1
		warn "using the cached $(basename "$dir")"
	fi
	if [ -s "$dir/vmlinux" ]; then kernel=$dir/vmlinux; else kernel=$dir/vmlinuz; fi
	exec 8>&-
}

t0=$(now)
kernel=
fetch_kernel || die "cannot fetch a Debian kernel (linux-image-amd64); see stderr"
t_kernel=$(since "$t0")
say "kernel $(basename "$(dirname "$kernel")") ($(basename "$kernel"))"

# ---- 2. the initramfs ------------------------------------------------------
t0=$(now)
# Work dirs of killed runs (the EXIT trap never ran) go after two hours.
find "$cache" -maxdepth 1 -name 'run.*' -mmin +120 -exec rm -rf {} + 2>/dev/null
work=$(mktemp -d "$cache/run.XXXXXX") || die "cannot create a work dir in $cache"
cleanup() { # shellcheck disable=SC2317 # the EXIT trap calls it
	if [ "${SANDRUN_VM_KEEP:-0}" = 1 ]; then warn "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
base=$work/base
payload=$work/payload
mkdir -p "$base" "$payload"

# The guest mirrors the host's top-level layout: merged /usr symlinks
# (/bin -> usr/bin ...) where the host has them, real directories otherwise.
toplinks=()
for d in bin sbin lib lib64 lib32 libx32; do
	if [ -L "/$d" ]; then
		toplinks+=("$d")
		ln -s "$(readlink "/$d")" "$base/$d"
		ln -s "$(readlink "/$d")" "$payload/$d"
	elif [ -d "/$d" ]; then
		mkdir -p "$base/$d" "$payload/$d"
	fi
done

# A host path with its directories resolved (/lib/x/libc.so.6 ->
# /usr/lib/x/libc.so.6), so nothing in the archive crosses a symlink.
canon_dir() { # path
	local d
	d=$(realpath -e "$(dirname "$1")") || return 1
	[ "$d" = / ] && d=
	echo "$d/$(basename "$1")"
}

# Copy one host file into tree $1 at its host path, reproducing a symlink
# chain link by link (ld.so is reached through /lib64 -> /lib/...).
install_path() { # tree path
	local tree=$1 p t
	p=$(canon_dir "$2") || { warn "no such file: $2"; return 1; }
	[ -e "$tree$p" ] || [ -L "$tree$p" ] && return 0
	mkdir -p "$tree$(dirname "$p")"
	if [ -L "$p" ]; then
		t=$(readlink "$p")
		ln -s "$t" "$tree$p"
		case $t in
		/*) install_path "$tree" "$t" ;;
		*) install_path "$tree" "$(dirname "$p")/$t" ;;
		esac
	elif [ -d "$p" ]; then
		cp -a "$p" "$tree$p"
	else
		cp -p "$p" "$tree$p"
	fi
}

is_elf() { [ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# --- base: busybox, its applet links, /init, /etc ---
bb=$(command -v busybox)
if ! is_elf "$bb" || ldd "$bb" >/dev/null 2>&1; then
	die "$bb is not a static busybox (install busybox-static)"
fi
mkdir -p "$base"/{usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,var/tmp,run,root,newroot}
chmod 1777 "$base/tmp" "$base/var/tmp"
cp "$bb" "$base/usr/bin/busybox"
while read -r applet; do
	[ "$applet" = linuxrc ] && continue
	top=${applet%%/*}
	for l in "${toplinks[@]}"; do
		[ "$top" = "$l" ] && applet=$(readlink "/$l")/${applet#*/}
	done
	mkdir -p "$base/$(dirname "$applet")"
	[ -e "$base/$applet" ] || ln -s /usr/bin/busybox "$base/$applet"
done < <("$bb" --list-full)
cp "$here/init.sh" "$base/init"
chmod 755 "$base/init"
[ -e "$base/dev/console" ] || mknod -m 600 "$base/dev/console" c 5 1 2>/dev/null || true
cat >"$base/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$base/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$base/etc/nsswitch.conf"
printf '127.0.0.1 localhost sandrun-vm\n::1 localhost\n' >"$base/etc/hosts"
echo sandrun-vm >"$base/etc/hostname"
: >"$base/etc/fstab"

# --- payload: the build tree, the repo's policies/ and tests/, libraries ---
elves=()
add() { # host path (file or dir) to copy at the same path; ELFs get their libs
	local p=$1 f
	install_path "$payload" "$p" || return 1
	if [ -d "$p" ]; then
		while IFS= read -r -d '' f; do is_elf "$f" && elves+=("$f"); done \
			< <(find "$p" -type f -print0)
	elif is_elf "$p"; then
		elves+=("$(canon_dir "$p")")
	fi
}

for prog in sandrun sandrun-analyze; do
	[ -e "$B/$prog" ] && add "$B/$prog"
done
if [ -d "$B/probes" ]; then
	mkdir -p "$payload$B/probes"
	while IFS= read -r -d '' f; do add "$f"; done \
		< <(find "$B/probes" -mindepth 1 -maxdepth 1 ! -name '*.o' ! -name '*.d' -print0)
fi
add "$repo/policies"
add "$repo/tests"
[ -d "$repo/examples" ] && add "$repo/examples"
# $B/policies -> /abs/repo/policies (Makefile): same link, same target.
if [ -L "$B/policies" ]; then
	ptarget=$(readlink "$B/policies")
	mkdir -p "$payload$B"
	ln -sfn "$ptarget" "$payload$B/policies"
	case $ptarget in
	/*) [ -e "$payload$ptarget" ] || { mkdir -p "$payload$(dirname "$ptarget")"
		cp -a "$repo/policies" "$payload$ptarget"; } ;;
	esac
elif [ -d "$B/policies" ]; then
	add "$B/policies"
fi
case $suite in
"$repo"/tests/*) ;;
*) add "$suite" ;;
esac
for tool in ${SANDRUN_VM_TOOLS-sqlite3}; do
	if path=$(command -v "$tool"); then
		add "$path"
	else
		warn "SANDRUN_VM_TOOLS: no $tool on this host"
	fi
done
for extra in ${SANDRUN_VM_EXTRA:-}; do
	add "$extra" || die "SANDRUN_VM_EXTRA: cannot copy $extra"
done

# The self-test's allocator, static (no libs to chase).
mkdir -p "$payload/usr/local/bin"
gcc -O2 -static -o "$payload/usr/local/bin/sandrun-vm-alloc" "$here/alloc.c" ||
	die "cannot build tests/vm/alloc.c"

# Every shared library of every ELF (ldd lists the whole closure), the
# loader, and what glibc dlopens behind ldd's back (libgcc_s: unwinding,
# pthread_cancel).
declare -A libs=()
missing=()
for elf in "${elves[@]}"; do
	out=$(ldd "$elf" 2>/dev/null) || continue   # static, or not for us
	while read -r lib; do
		libs[$lib]=1
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
	while read -r name; do
		missing+=("$(basename "$elf"): $name")
	done < <(awk '$3 == "not" { print $1 }' <<<"$out")
done
[ ${#missing[@]} -eq 0 ] || die "ldd: libraries not found: ${missing[*]}"
libgcc=$(gcc -print-file-name=libgcc_s.so.1)
[ -e "$libgcc" ] && libs[$libgcc]=1
for lib in "${!libs[@]}"; do
	install_path "$payload" "$lib" || die "cannot copy $lib"
done

shq() { printf '%q' "$1"; }
mkdir -p "$payload/etc"
cat >"$payload/etc/sandrun-vm.conf" <<EOF || die "cannot write the guest config"
REPO=$(shq "$repo")
BUILD=$(shq "$B")
SUITE=$(shq "$suite")
MODE=$mode
CGROUP=$(shq "${SANDRUN_VM_CGROUP:-}")
ASAN_OPTIONS=$(shq "${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}")
UBSAN_OPTIONS=$(shq "${UBSAN_OPTIONS:-print_stacktrace=1}")
EOF
# The suite's own knobs (SANDRUN_SUITE_VERBOSE, SANDRUN_BIGOUT_MIB...) pass
# through; the harness's and the host run's do not.
while read -r var; do
	case $var in
	SANDRUN_VM_* | SANDRUN_BUILD | SANDRUN_IN_OUTER_NS | SANDRUN_SKIP_VM) continue ;;
	esac
	echo "export $var=$(shq "${!var}")" >>"$payload/etc/sandrun-vm.conf"
done < <(compgen -e | grep '^SANDRUN_')
# Under TCG the suite's 1 GiB output test takes ~20 s of its 60 s watchdog
# (and ~30 s of the run); the host run covers 1 GiB, 64 MiB proves the
# streaming here. SANDRUN_BIGOUT_MIB=1024 on the host restores it.
[ -n "${SANDRUN_BIGOUT_MIB:-}" ] ||
	echo "export SANDRUN_BIGOUT_MIB=64" >>"$payload/etc/sandrun-vm.conf"

initrd=$work/initrd
mkcpio() { (cd "$1" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet | gzip -1); }
{ mkcpio "$base" && mkcpio "$payload"; } >"$initrd" || die "cannot build the initramfs"
t_initrd=$(since "$t0")
say "initramfs $(du -m "$initrd" | cut -f1) MB gzip'd ($(du -sm "$payload" | cut -f1) MB payload," \
	"${#elves[@]} programs, ${#libs[@]} libraries)"

# ---- 3. boot ---------------------------------------------------------------
t0=$(now)
# shellcheck disable=SC2054 # the commas belong to QEMU's option syntax
qemu=(qemu-system-x86_64 -accel tcg -m "$mem" -smp 2 -nodefaults -display none -no-reboot
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 quiet loglevel=3"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04)
: >"$work/suite.out"; : >"$work/suite.err"; : >"$work/console.log"
if [ "$mode" = shell ]; then
	# Interactive: the console is this terminal (Ctrl-A X quits QEMU).
	"${qemu[@]}" -serial mon:stdio -serial "file:$work/suite.out" -serial "file:$work/suite.err"
	rc=$?
	if [ $((rc & 1)) -eq 1 ]; then
		echo "vm: the guest shell exited $((rc >> 1))" >&2
		exit $((rc >> 1))
	fi
	echo "vm: QEMU exited $rc without a guest status" >&2
	exit 1
fi
if [ "${SANDRUN_VM_VERBOSE:-0}" = 1 ]; then
	console=(-serial stdio)
else
	console=(-serial "file:$work/console.log")
fi
# --foreground: Ctrl-C reaches QEMU instead of leaving it running.
timeout --foreground --verbose -k 10 "$timeout_s" "${qemu[@]}" "${console[@]}" \
	-serial "file:$work/suite.out" -serial "file:$work/suite.err" \
	</dev/null >&2 2>"$work/qemu.err"
rc=$?
t_boot=$(since "$t0")

# ---- 4. report -------------------------------------------------------------
# The suite had ttyS1 to itself; drop CRs and any stray kernel lines anyway.
# The guest's own check ("guest runs pure cgroup v2") is one more result
# than the suite planned: the plan says so, since tests/run.sh counts
# results against it.
tr -d '\r' <"$work/suite.out" | grep -avE '^\[ *[0-9]+\.[0-9]+\] ' |
	awk '!done && /^1\.\.[0-9]+[ \t]*$/ { print "1.." substr($0, 4) + 1; done = 1; next } { print }'
tr -d '\r' <"$work/suite.err" >&2

# Keep the last run's logs for debugging.
rm -rf "$cache/last" && mkdir -p "$cache/last" &&
	cp "$work/console.log" "$work/suite.out" "$work/suite.err" "$work/qemu.err" "$cache/last/" 2>/dev/null

reason=
if grep -q '^timeout: sending signal \(TERM\|KILL\)' "$work/qemu.err"; then
	reason="timed out after $timeout_s s (SANDRUN_VM_TIMEOUT)"
elif grep -q 'terminating on signal' "$work/qemu.err"; then
	reason="qemu was interrupted: $(grep -m1 'terminating on signal' "$work/qemu.err")"
elif [ "$rc" -eq 0 ]; then
	reason="guest ended without reporting a status (panic or reboot; see console)"
elif [ $((rc & 1)) -eq 1 ]; then
	status=$((rc >> 1))
	case $status in
	0) grep -aq '^# vm: suite exited 0 ' "$work/suite.out" ||
		reason="guest passed but its TAP is truncated (serial output lost)" ;;
	120) reason="guest has no pure cgroup v2 with memory cpu pids" ;;
	121) reason="guest has no config or no $repo (see console)" ;;
	12[2-4]) reason="guest init failed to switch_root (status $status; see console)" ;;
	119) reason="suite $(basename "$suite") exited 119 or more (killed?) in the guest" ;;
	*) reason="suite $(basename "$suite") exited $status in the guest"
		# Its failing tests are already results of the plan: one more
		# "not ok" would only break the count (tests/run.sh).
		if grep -aq '^not ok ' "$work/suite.out"; then
			say "$reason"
			exit 1
		fi ;;
	esac
else
	reason="qemu failed (exit $rc): $(head -c 300 "$work/qemu.err" | tr '\n' ' ')"
fi
say "kernel fetch ${t_kernel}s, initramfs ${t_initrd}s, boot+suite ${t_boot}s"
if [ -n "$reason" ]; then
	if [ -s "$work/console.log" ]; then
		say "guest console ($cache/last/console.log): init messages, then the last lines"
		tr -d '\r' <"$work/console.log" | grep -avE '^\[ *[0-9]+\.[0-9]+\] ' | head -n 20 | sed 's/^/#   /'
		echo "#   ..."
		tr -d '\r' <"$work/console.log" | tail -n 15 | sed 's/^/#   /'
	fi
	die "$reason"
fi
exit 0
