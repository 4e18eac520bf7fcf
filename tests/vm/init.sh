#!/bin/sh
# tests/vm/init.sh — /init (PID 1, busybox sh) of the test VM that
# tests/vm/run.sh boots. Not meant to run on a host.
#
# Serial ports (set up by run.sh):
#   ttyS0  kernel console and these init messages  -> console.log
#   ttyS1  the suite's stdout (TAP), nothing else   -> suite.out
#   ttyS2  the suite's stderr                       -> suite.err
# The result leaves through QEMU's isa-debug-exit device: one byte written
# to I/O port 0xf4 makes QEMU exit with (byte << 1) | 1, truncated to 8
# bits, so statuses are 0..127: the suite's is capped at 119, and 120..124
# are this script's own failures (see run.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

say() { echo "sandrun-vm: $*"; }

# The guest result: exit QEMU with status $1 (0 = pass). Never returns.
vm_exit() {
	say "exit status $1"
	sync
	[ -c /dev/port ] || mount -t devtmpfs devtmpfs /dev 2>/dev/null  # stage 1
	# shellcheck disable=SC2059 # the format is the byte, as an octal escape
	printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	# Only reached without the isa-debug-exit device: QEMU then exits 0,
	# which run.sh counts as a failure.
	reboot -f
	sleep 10
}

# Stage 1: the initramfs is the kernel's rootfs, and pivot_root(2) refuses
# to move rootfs. The sandbox pivots into each job's root, so copy the tree
# to a tmpfs and switch_root onto it (switch_root frees the old copy).
if [ "$$" = 1 ] && [ "${SANDRUN_VM_STAGE:-1}" = 1 ]; then
	mount -t proc proc /proc && say "stage 1 at $(cut -d' ' -f1 /proc/uptime) s" && umount /proc
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 sandrun-vm-root /newroot || vm_exit 122
	for f in /* /.[!.]*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		case $f in
		/newroot) ;;
		/proc|/sys|/dev) mkdir -p "/newroot$f" ;;
		*) cp -a "$f" /newroot/ || vm_exit 123 ;;
		esac
	done
	export SANDRUN_VM_STAGE=2
	# shellcheck disable=SC2093 # exec fails only when switch_root does
	exec switch_root /newroot /init
	vm_exit 124
fi

# Stage 2: a normal root on a tmpfs.
unset SANDRUN_VM_STAGE
mount -t proc proc /proc
say "stage 2 at $(cut -d' ' -f1 /proc/uptime) s"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 run /run
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
# /tmp and /var/tmp become tmpfs mounts that keep what the initramfs put
# there (a build dir or suite under /tmp on the host).
for d in /tmp /var/tmp; do
	mkdir -p /run/t "$d"
	mount -t tmpfs -o mode=1777 "tmpfs${d%/*}${d##*/}" /run/t &&
		cp -a "$d/." /run/t/ && mount --move /run/t "$d"
	rm -rf /run/t
done
# Kernel chatter (OOM reports...) must not interleave with our messages.
dmesg -n 1 2>/dev/null
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || say "cannot mount cgroup2"
echo "+memory +cpu +pids" >/sys/fs/cgroup/cgroup.subtree_control ||
	say "cannot enable controllers"
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
hostname sandrun-vm

# Written by run.sh: REPO, BUILD, SUITE, MODE, CGROUP, ASAN_OPTIONS,
# UBSAN_OPTIONS.
[ -r /etc/sandrun-vm.conf ] || { say "no /etc/sandrun-vm.conf"; vm_exit 121; }
# shellcheck disable=SC1091 # written by run.sh
. /etc/sandrun-vm.conf
export ASAN_OPTIONS UBSAN_OPTIONS
export SANDRUN_BUILD="$BUILD" SANDRUN_IN_VM=1

if [ "$MODE" = shell ]; then
	say "interactive shell; the suite would run as:"
	say "  cd $REPO && sh $SUITE $BUILD"
	say "exit the shell to power off (its status becomes QEMU's)"
	cd "$REPO" || cd /
	setsid cttyhack sh -l
	rc=$?
	[ "$rc" -ge 120 ] && rc=119
	vm_exit "$rc"
fi

if [ -c /dev/ttyS1 ] && [ -c /dev/ttyS2 ]; then
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	stty -F /dev/ttyS2 raw -echo 2>/dev/null
	exec 3>/dev/ttyS1 4>/dev/ttyS2
else
	say "no /dev/ttyS1 or /dev/ttyS2: the suite's output goes to the console"
	exec 3>&1 4>&2
fi

# The harness's own test: without a pure v2 hierarchy the run is meaningless.
# busybox stat names cgroup2fs "UNKNOWN": test the magic, 0x63677270.
fstype=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)
magic=$(stat -f -c %t /sys/fs/cgroup 2>/dev/null)
ctrls=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)
v2=yes
[ "$magic" = 63677270 ] || v2=no
for c in memory cpu pids; do
	case " $ctrls " in *" $c "*) ;; *) v2=no ;; esac
	case " $subtree " in *" $c "*) ;; *) v2=no ;; esac
done
{
	echo "# vm: guest kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"
	echo "# vm: /sys/fs/cgroup is $fstype (magic 0x$magic); cgroup.controllers: $ctrls"
	echo "# vm: cgroup.subtree_control: $subtree"
	if [ "$v2" = yes ]; then
		echo "ok - guest runs pure cgroup v2 with memory cpu pids"
	else
		echo "not ok - guest runs pure cgroup v2 with memory cpu pids"
	fi
	echo "# vm: suite: cd $REPO && sh $SUITE $BUILD"
} >&3
[ "$v2" = yes ] || { exec 3>&- 4>&-; vm_exit 120; }

cd "$REPO" || { say "cannot cd $REPO"; vm_exit 121; }
# CGROUP (SANDRUN_VM_CGROUP) puts the suite in a leaf cgroup below the root,
# as systemd would, with the controllers enabled on every level above it.
cgdir=/sys/fs/cgroup
if [ -n "${CGROUP:-}" ]; then
	for part in $(echo "$CGROUP" | tr / ' '); do
		echo "+memory +cpu +pids" >"$cgdir/cgroup.subtree_control" || vm_exit 121
		cgdir=$cgdir/$part
		mkdir -p "$cgdir" || vm_exit 121
	done
	echo "# vm: the suite runs in cgroup /$CGROUP" >&3
fi
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' in-cgroup "$cgdir" \
	sh "$SUITE" "$BUILD" </dev/null >&3 2>&4
rc=$?
# Whatever the suite left running goes (kill -1 spares PID 1), so that the
# line below is the last; run.sh fails a "pass" whose output lacks it.
kill -KILL -1 2>/dev/null
sleep 0.1
echo "# vm: suite exited $rc after $(cut -d' ' -f1 /proc/uptime) s of guest uptime" >&3
# Closing a tty waits until its output has left the UART, and stty's
# tcsetattr(TCSADRAIN) too: nothing is lost when QEMU exits right after.
exec 3>&- 4>&-
stty -F /dev/ttyS1 raw 2>/dev/null
stty -F /dev/ttyS2 raw 2>/dev/null
[ "$rc" -ge 120 ] && rc=119  # QEMU keeps 7 bits; 120+ are the harness's own
vm_exit "$rc"
