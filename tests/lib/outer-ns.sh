#!/bin/sh
# tests/lib/outer-ns.sh CMD [ARG...] — run CMD inside an outer throwaway
# namespace: new mount, pid, net, ipc and uts namespaces, its own /proc,
# a private tmpfs on /tmp and /var/tmp. A hostile probe that escapes its
# sandbox still only mounts, kills or writes inside this one.
# The loopback device is brought up so tests can place a "host" listener.
set -eu
if [ "${SANDRUN_IN_OUTER_NS:-0}" = 1 ]; then exec "$@"; fi
exec unshare --mount --pid --fork --net --ipc --uts --mount-proc \
	env SANDRUN_IN_OUTER_NS=1 sh -c '
	mount -t tmpfs -o size=512m,mode=1777 sandrun-test-tmp /tmp
	mount -t tmpfs -o size=64m,mode=1777 sandrun-test-vartmp /var/tmp
	ip link set lo up 2>/dev/null || true
	hostname sandrun-test
	exec "$@"' outer-ns "$@"
