#!/bin/sh
# packaging/deps.sh GROUP... — install the Debian packages listed in
# packaging/deps/GROUP.txt that are not installed yet, and nothing else.
# One package per line; '#' starts a comment.
set -eu
here=$(dirname "$0")
missing=""
for group in "$@"; do
	list="$here/deps/$group.txt"
	[ -f "$list" ] || { echo "deps.sh: no package list $list" >&2; exit 2; }
	for pkg in $(sed 's/#.*//' "$list"); do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		case "$status" in
		*"install ok installed"*) ;;
		*) missing="$missing $pkg" ;;
		esac
	done
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: not root; install these yourself:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $missing >&2
