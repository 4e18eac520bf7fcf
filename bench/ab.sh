#!/bin/bash
# bench/ab.sh NAME=BUILD_DIR... — the same three measurements for several
# sandrun builds, interleaved (rep 1 of every build, then rep 2, ...), so
# the cost or gain of one change is read from one run on one machine:
#
#   exec      median µs of `sandrun exec --mem 256M --pids 64 -- /bin/true`
#             (jobloop, 40 sequential jobs, one warm-up first)
#   marginal  (time of 450 `--cmd '/bin/true {}' -j 1` jobs − time of 50) / 400
#   batch     wall µs per file of `--cmd '/bin/true {}' -j 2` over 1,000 files
#
# Each cell: the median of AB_REPS (3) reps, min–max in brackets. Used for
# the "what each change bought" table of docs/performance.md, with one
# build per commit:
#   git archive COMMIT | tar -x -C /tmp/ab/COMMIT && make -C /tmp/ab/COMMIT B=build programs
#   bench/ab.sh before=/tmp/ab/OLD/build after=/tmp/ab/NEW/build
# Runs inside tests/lib/outer-ns.sh (the jobs are real sandboxes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${SANDRUN_IN_OUTER_NS:-0}" != 1 ]; then
	exec "$ROOT/tests/lib/outer-ns.sh" "$0" "$@"
fi
[ $# -ge 1 ] || { echo "usage: $0 NAME=BUILD_DIR..." >&2; exit 2; }
REPS=${AB_REPS:-3}
W=$(mktemp -d "${AB_WORK:-/var/tmp}/sandrun-ab.XXXXXX")
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"
gcc -O2 -o "$W/jobloop" "$ROOT/bench/jobloop.c"
gcc -O2 -o "$W/mkfiles" "$ROOT/bench/mkfiles.c"
printf 'RIFF' >"$W/tiny"
"$W/mkfiles" "$W/m450" 450 "$W/tiny" .in >/dev/null
"$W/mkfiles" "$W/m50" 50 "$W/tiny" .in >/dev/null
"$W/mkfiles" "$W/b1000" 1000 "$W/tiny" .in >/dev/null
chmod -R a+rX "$W"

now_us() { echo $(($(date +%s%N) / 1000)); }
batch_us() { # SANDRUN JOBS DIR -> µs for the whole run
	local db=$W/db.$RANDOM t0 t1
	t0=$(now_us)
	"$1" run --cmd '/bin/true {}' --output text -j "$2" --db "$db" -r "$3" >/dev/null 2>&1 || true
	t1=$(now_us)
	rm -f "$db"*
	echo $((t1 - t0))
}
declare -A R
for ((rep = 1; rep <= REPS; rep++)); do
	for nb in "$@"; do
		name=${nb%%=*} S=${nb#*=}/sandrun
		"$S" exec -- /bin/true >/dev/null 2>&1 || true # warm the policy cache
		e=$("$W/jobloop" -n 40 -- "$S" exec --mem 256M --pids 64 -- /bin/true 2>/dev/null |
			sed -n 's/.*us_per_job=\([0-9]*\).*/\1/p')
		big=$(batch_us "$S" 1 "$W/m450") small=$(batch_us "$S" 1 "$W/m50")
		b=$(batch_us "$S" 2 "$W/b1000")
		R[$name,exec]+="$e " R[$name,marg]+="$(((big - small) / 400)) " R[$name,batch]+="$((b / 1000)) "
	done
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {printf "%d (%d–%d)", v[int((NR+1)/2)], v[1], v[NR]}'; }
echo "| build | exec µs | marginal µs/job (-j 1) | batch µs/file (-j 2) |"
echo "|---|---:|---:|---:|"
for nb in "$@"; do
	name=${nb%%=*}
	echo "| $name | $(echo "${R[$name,exec]}" | med) | $(echo "${R[$name,marg]}" | med) | $(echo "${R[$name,batch]}" | med) |"
done
echo
echo "$REPS reps, interleaved; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs, $(uname -r)"
