#!/bin/sh
# tests/lib/outer-ns.sh CMD [ARG...] — run CMD inside an outer throwaway
# namespace: new mount, pid, net, ipc and uts namespaces, its own /proc,
# a private tmpfs on /tmp and /var/tmp. A hostile probe that escapes its
# sandbox still only mounts, kills or writes inside this one.
# SANDRUN_CACHE_DIR defaults to /tmp/sandrun-cache there (that private /tmp),
# so no test writes the host's /var/cache/sandrun.
# The loopback device is brought up so tests can place a "host" listener.
# When the checkout itself lives under /tmp or /var/tmp (a CI clone), it is
# bound back at the same path on top of the private tmpfs, so the tests still
# see the tree they are testing — and nothing else of the host's /tmp.
set -eu
if [ "${SANDRUN_IN_OUTER_NS:-0}" = 1 ]; then exec "$@"; fi
repo=$(cd "$(dirname "$0")/../.." && pwd -P)
exec unshare --mount --pid --fork --net --ipc --uts --mount-proc \
	env SANDRUN_IN_OUTER_NS=1 SANDRUN_REPO="$repo" sh -c '
	exec 9<"$SANDRUN_REPO"
	for dir in /tmp /var/tmp; do
		size=512m; [ "$dir" = /var/tmp ] && size=64m
		mount -t tmpfs -o size=$size,mode=1777 sandrun-test-tmp "$dir"
		case "$SANDRUN_REPO/" in
		"$dir"/*) mkdir -p "$SANDRUN_REPO" && mount --no-canonicalize --bind /proc/self/fd/9 "$SANDRUN_REPO" ;;
		esac
	done
	exec 9<&-
	# Compiled policies go to the private /tmp above, never to the host
	# /var/cache/sandrun (docs/policy.md, "The compiled-policy cache").
	export SANDRUN_CACHE_DIR="${SANDRUN_CACHE_DIR:-/tmp/sandrun-cache}"
	ip link set lo up 2>/dev/null || true
	hostname sandrun-test
	exec "$@"' outer-ns "$@"
