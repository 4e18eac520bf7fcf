#!/bin/sh
# bench/compare-reports.sh BASE_ANALYZER NEW_ANALYZER FILE... — the
# reports of two sandrun-analyze builds on the same inputs, field by field
# (split at commas), the version string left out. Prints every field that
# differs, prefixed with its file, and "N of M reports identical" last.
# Exit 0 when all are identical, 1 otherwise. Used to show that a speed
# change leaves the output alone (docs/analyzer.md, issue 16 §4).
set -eu
[ $# -ge 3 ] || { echo "usage: $0 BASE_ANALYZER NEW_ANALYZER FILE..." >&2; exit 2; }
base=$1 new=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
same=0 total=0
for f in "$@"; do
	total=$((total + 1))
	for side in base new; do
		if [ "$side" = base ]; then bin=$base; else bin=$new; fi
		rc=0
		"$bin" < "$f" > "$tmp/$side.json" 2> "$tmp/$side.err" || rc=$?
		{
			echo "exit $rc"
			sed -E 's/"analyzer":"sandrun-analyze [^"]*"//' "$tmp/$side.json" | tr ',' '\n'
			sed 's/^/stderr: /' "$tmp/$side.err"
		} > "$tmp/$side.txt"
	done
	if cmp -s "$tmp/base.txt" "$tmp/new.txt"; then
		same=$((same + 1))
	else
		diff "$tmp/base.txt" "$tmp/new.txt" | grep '^[<>]' | sed "s|^|$f: |" || true
	fi
done
echo "$same of $total reports identical"
[ "$same" -eq "$total" ]
