#!/bin/bash
# tests/suites/layout.sh [BUILD_DIR] — the module rules of docs/design.md,
# checked: who may include whom, file sizes, and that the map names every
# source file. Pure greps over the tree; speaks TAP.
#
# The modules and what each may include of ours:
#   lib/       lib/
#   sandbox/   sandbox/, lib/
#   store/     store/, lib/
#   report/    report/, store/store.h, lib/
#   runner/    runner/, sandbox/sandbox.h, store/store.h, report/report.h, lib/
#   analyzer/  analyzer/ (and links nothing of ours)
# and of a module, everything outside it includes its public header only.
# Exemption: the unit tests of a module's internals (tests/unit/) may
# include its private headers (sandbox/reap.h, store_internal.h, ...).
set -u
cd "$(dirname "$0")/../.." || exit 2
N=0
FAILED=0
result() { # ok|fail description [detail]
	N=$((N + 1))
	if [ "$1" = ok ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		printf '%s\n' "$3" | sed 's/^/#   /'
		FAILED=$((FAILED + 1))
	fi
}
check() { # description offending-lines
	if [ -z "$2" ]; then result ok "$1"; else result fail "$1" "$2"; fi
}
# Tracked files matching the patterns (a git pathspec: * crosses /); from a
# tree without git, the same from find.
src() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files "$@"
	else
		for p; do find . -path "./$p" -type f -not -path './build/*' | sed 's|^\./||'; done | sort -u
	fi
}
# Our #include "..." lines (file:line:text) of the files given.
includes() { [ $# -eq 0 ] || grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" 2>/dev/null; }
# The includes of files in $1/ that name none of the allowed prefixes
# ($2...; a bare "file.h" is the folder's own header).
only() {
	local dir=$1
	shift
	local -a pat=(-e '#include "[a-z_0-9]*\.h"')
	for a; do pat+=(-e "#include \"$a"); done
	# shellcheck disable=SC2046
	includes $(src "$dir/*.[ch]") | grep -v "${pat[@]}"
}
# Includes of module $1's headers other than its public ones ($2...), in
# every file outside $1/ and outside the exempt unit tests.
outside() {
	local mod=$1
	shift
	local -a pub=()
	for h; do pub+=(-e "#include \"$h\""); done
	# shellcheck disable=SC2046
	includes $(src '*.[ch]' | grep -v -e "^$mod/" -e '^tests/unit/') |
		grep "#include \"$mod/" | grep -v "${pub[@]}"
}

MODULES="lib sandbox store report runner analyzer"
echo "1..12"

check "outside sandbox/ only sandbox/sandbox.h is included (tests/unit/ exempt)" \
	"$(outside sandbox sandbox/sandbox.h)"
check "outside store/ only store/store.h is included (tests/unit/ exempt)" \
	"$(outside store store/store.h)"
check "outside report/ only report/report.h is included (tests/unit/ exempt)" \
	"$(outside report report/report.h)"

check "lib/ includes nothing of ours but lib/" "$(only lib lib/)"
check "sandbox/ includes nothing of ours but sandbox/ and lib/" "$(only sandbox sandbox/ lib/)"
check "store/ includes nothing of ours but store/ and lib/" "$(only store store/ lib/)"
check "report/ includes nothing of ours but report/, store/store.h and lib/" \
	"$(only report report/ store/store.h lib/)"
check "runner/ includes nothing of ours but runner/, sandbox/sandbox.h, store/store.h, report/report.h, lib/" \
	"$(only runner runner/ sandbox/sandbox.h store/store.h report/report.h lib/)"
# The analyzer is a separate program that links nothing of ours.
check "analyzer/ includes nothing of ours outside analyzer/" "$(only analyzer analyzer/)"
bad=$(grep -n -e 'LIB_LIB' -e 'SANDBOX_LIB' -e 'STORE_LIB' -e 'REPORT_LIB' -e 'RUNNER_LIB' analyzer/module.mk 2>/dev/null)
check "analyzer/ links nothing of ours (analyzer/module.mk)" "$bad"

# Small files (isolate's cg.c is the model).
# shellcheck disable=SC2046
bad=$(for m in $MODULES; do src "$m/*.[ch]"; done | xargs wc -l 2>/dev/null |
	awk '$2 != "total" && $1 > 800 { print $2 ": " $1 " lines" }')
check "no source file over 800 lines" "$bad"

# docs/design.md's map names every source file of runner/ sandbox/ store/
# report/ lib/.
bad=$(for f in $(src 'runner/*.c' 'sandbox/*.c' 'store/*.c' 'report/*.c' 'lib/*.c'); do
	grep -q "$(basename "$f")" docs/design.md || echo "$f"
done)
check "docs/design.md's module map names every source file" "$bad"

[ "$FAILED" -eq 0 ]
