#!/bin/bash
# tests/suites/layout.sh [BUILD_DIR] — the module rules of docs/design.md,
# checked: who may include whom, file sizes, and that the map names every
# source file. Pure greps over the tree; speaks TAP.
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
src() { git ls-files "$@" 2>/dev/null || find "$@" -type f; }

echo "1..6"

# sandbox.h is the sandbox's whole contract.
bad=$(grep -n '#include "sandbox/' $(src 'runner/*.[ch]' 'lib/*.[ch]' 'analyzer/*.[ch]') 2>/dev/null |
	grep -v '#include "sandbox/sandbox.h"')
check "outside sandbox/ (and its tests) only sandbox/sandbox.h is included" "$bad"

# lib/ is pure: libc and packaged libraries, and itself.
bad=$(grep -n '#include "' $(src 'lib/*.[ch]') 2>/dev/null | grep -v '#include "lib/')
check "lib/ includes nothing of ours but lib/" "$bad"

# The analyzer is a separate program that links nothing of ours.
bad=$(grep -n '#include "' $(src 'analyzer/*.[ch]') 2>/dev/null |
	grep -v -e '#include "analyzer/' -e '#include "[a-z_]*\.h"')
check "analyzer/ includes nothing of ours outside analyzer/" "$bad"

# The sandbox knows nothing of the runner.
bad=$(grep -n '#include "runner/' $(src 'sandbox/*.[ch]') 2>/dev/null)
check "sandbox/ includes nothing of runner/" "$bad"

# Small files (isolate's cg.c is the model).
bad=$(wc -l $(src 'runner/*.[ch]' 'sandbox/*.[ch]' 'lib/*.[ch]' 'analyzer/*.[ch]') |
	awk '$2 != "total" && $1 > 800 { print $2 ": " $1 " lines" }')
check "no source file over 800 lines" "$bad"

# docs/design.md's map names every source file of runner/, sandbox/, lib/.
bad=$(for f in $(src 'runner/*.c' 'sandbox/*.c' 'lib/*.c'); do
	grep -q "$(basename "$f")" docs/design.md || echo "$f"
done)
check "docs/design.md's module map names every source file" "$bad"

[ "$FAILED" -eq 0 ]
