#!/bin/sh
# packaging/build-deb.sh [OUTDIR] — build the sandrun Debian package (what
# `make deb` runs) and put the .deb files in OUTDIR (default build/deb/).
#
#  1. The version is the Makefile's own VERSION (git describe, else the
#     VERSION file), asked from make itself so there is one definition.
#  2. The tree (tracked and untracked files, not what .gitignore ignores) is
#     copied to a scratch directory; packaging/debian becomes ./debian there.
#  3. In the copy, VERSION is overwritten with that version, so the build
#     (debian/rules passes VERSION from the file) compiles in exactly the
#     string of `make`, and debian/changelog gets a top entry with its Debian
#     form (below) unless packaging/debian/changelog already has it.
#  4. dpkg-buildpackage -us -uc -b; the .deb files are moved to OUTDIR.
#
# Version mapping (upstream -> Debian, native package, no revision):
#   v1.2.0 / 1.2.0                -> 1.2.0
#   v1.2.0-5-gabc1234             -> 1.2.0+git5.abc1234
#   abc1234 (no tag yet)          -> <VERSION file>+git<commit count>.abc1234
#   any of these with -dirty      -> ...+dirty
#
# Environment: TMPDIR (scratch parent, default /var/tmp), DEB_BUILD_OPTIONS,
# SANDRUN_DEB_KEEP=1 keeps the scratch directory.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh rsync; do
	command -v "$tool" >/dev/null || {
		echo "build-deb.sh: $tool is missing: run packaging/deps.sh build deb" >&2
		exit 1
	}
done

work=$(mktemp -d "${TMPDIR:-/var/tmp}/sandrun-deb.XXXXXX")
cleanup() { [ "${SANDRUN_DEB_KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The version, from the Makefile (B points make's side effects at the
# scratch directory, away from the tree's build/).
# shellcheck disable=SC2016
upstream=$(make -s --no-print-directory -C "$root" B="$work/probe" \
	--eval 'sr-print-version: ; @echo $(VERSION)' sr-print-version)
[ -n "$upstream" ] || { echo "build-deb.sh: make printed no VERSION" >&2; exit 1; }

in_git() { git -C "$root" rev-parse --git-dir >/dev/null 2>&1; }

debver() { # upstream version -> Debian version
	v=${1#v} suffix=""
	case $v in *-dirty) v=${v%-dirty} suffix="+dirty" ;; esac
	if printf '%s\n' "$v" | grep -Eq '^[0-9][0-9A-Za-z.~]*-[0-9]+-g[0-9a-f]+$'; then
		base=${v%-*-g*} rest=${v#"$base"-}
		v="$base+git${rest%%-g*}.${rest#*-g}"
	elif printf '%s\n' "$v" | grep -Eq '^[0-9a-f]{7,40}$' && ! printf '%s\n' "$v" | grep -q '\.'; then
		base=$(sed -n '1{s/^v//;p;}' "$root/VERSION" 2>/dev/null || true)
		count=$(git -C "$root" rev-list --count HEAD 2>/dev/null || echo 0)
		v="${base:-0.0.0}+git$count.$v"
	fi
	v="$v$suffix"
	printf '%s\n' "$v" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$' || {
		echo "build-deb.sh: cannot make a Debian version of '$1' (got '$v')" >&2
		exit 1
	}
	printf '%s\n' "$v"
}
deb_version=$(debver "$upstream")

# 2. The copy of the tree.
src="$work/sandrun-$deb_version"
mkdir -p "$src"
if in_git; then
	(cd "$root" && git ls-files -z -co --exclude-standard) |
		rsync -a --from0 --files-from=- --ignore-missing-args "$root/" "$src/"
else
	(cd "$root" && tar --exclude=./build --exclude=./.git -cf - .) | tar -xf - -C "$src"
fi
rm -rf "$src/debian" "$src/build"
cp -a "$root/packaging/debian" "$src/debian"

# 3. One version for the binary and the package.
printf '%s\n' "$upstream" >"$src/VERSION"
top=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
if [ "$top" != "$deb_version" ]; then
	maint=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Maintainer)
	date=$(git -C "$root" log -1 --format=%aD 2>/dev/null || date -R)
	{
		printf 'sandrun (%s) unstable; urgency=medium\n\n' "$deb_version"
		printf '  * Build of sandrun %s (git describe), made by\n' "$upstream"
		printf '    packaging/build-deb.sh.\n\n'
		printf ' -- %s  %s\n\n' "$maint" "$date"
		cat "$root/packaging/debian/changelog"
	} >"$src/debian/changelog"
fi

# 4. Build.
jobs=$(nproc 2>/dev/null || echo 1)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$jobs}"
echo "build-deb.sh: building sandrun $deb_version (upstream $upstream) in $src" >&2
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	echo "build-deb.sh: dpkg-buildpackage failed; the last lines of its log:" >&2
	tail -n 40 "$work/build.log" >&2
	exit 1
}
rm -f "$out"/sandrun_*.deb "$out"/sandrun-dbgsym_*.deb "$out"/sandrun_*.changes "$out"/sandrun_*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
cp "$work/build.log" "$out/build.log"
ls "$out"/sandrun_"$deb_version"_*.deb
