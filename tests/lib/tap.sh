# tests/lib/tap.sh — sourced by the shell suites that count their own TAP
# results (analyzer.sh, formats.sh, report.sh): n and failed, and the one
# way to print a result. The suite prints its plan and ends with
# [ "$failed" -eq 0 ].
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP"; }
diag() { echo "# $*"; }
# check DESCRIPTION CMD... : one result from a command's status
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# near A B TOLERANCE: |A - B| <= TOLERANCE
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
