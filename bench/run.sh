#!/bin/bash
# bench/run.sh [BUILD_DIR] — `make bench`: sandrun's measurement harness.
#
# Prints markdown tables on stdout and writes the same text to
# bench/RESULTS.md. Every row is the median and the min–max of REPS
# interleaved repetitions (rep 1 of every row of a table, then rep 2 of
# every row, ...), and its ratio to the row's baseline measured in the same
# run. docs/performance.md explains each row.
#
# Everything runs inside tests/lib/outer-ns.sh (its own mount, pid, net,
# ipc and uts namespaces, private /tmp) and, on a v1/hybrid host, in a
# cgroup of its own; the work files live under BUILD_DIR/bench-data (the
# outer namespace's /tmp is a small private tmpfs).
#
# Knobs (environment), defaults chosen to finish in well under 10 minutes
# on 2 cores:
#   BENCH_REPS=3           repetitions of the batch, scale and lever tables
#   BENCH_REPS1=5          repetitions of the per-job table
#   BENCH_N_SANDRUN=40     sandrun exec jobs per rep (per-job table)
#   BENCH_N_PLAIN=300      plain fork+exec and unshare-lever jobs per rep
#   BENCH_N_WRAP=100       unshare / bwrap / --version jobs per rep (per-job)
#   BENCH_BATCH_N=1000     files per batch row (the issue asks 10,000: 1–2
#                          minutes per row and rep here, 15–25 in all)
#   BENCH_SCALE="1000 10000 100000"  queue sizes of the scale table
#   BENCH_ANALYZER_MINUTES=2  audio length for bench/analyzer.sh
#   BENCH_SKIP="..."       sections to leave out: batch analyzer scale levers pg
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=$(realpath -m "${1:-build}")

if [ "${SANDRUN_IN_OUTER_NS:-0}" != 1 ]; then
	packaging/deps.sh bench
	[ -x "$B/sandrun" ] && [ -x "$B/sandrun-analyze" ] ||
		{ echo "bench/run.sh: build first: make B=${1:-build} programs" >&2; exit 2; }
	for t in jobloop mkfiles cgbench; do
		${CC:-gcc} -O2 -Wall -Wextra -o "$B/$t" "bench/$t.c"
	done
	export BENCH_T0=$EPOCHREALTIME
	exec tests/lib/outer-ns.sh bash "$0" "$@"
fi

# ---- inside the outer namespace -------------------------------------------

S=$B/sandrun
A=$B/sandrun-analyze
JL=$B/jobloop
DATA=$B/bench-data
RAW=$DATA/raw
OUT=$DATA/RESULTS.md
REPS=${BENCH_REPS:-3}
REPS1=${BENCH_REPS1:-5}
N_SB=${BENCH_N_SANDRUN:-40}
N_PLAIN=${BENCH_N_PLAIN:-300}
N_WRAP=${BENCH_N_WRAP:-100}
N_BATCH=${BENCH_BATCH_N:-1000}
SCALE=${BENCH_SCALE:-1000 10000 100000}
AN_MIN=${BENCH_ANALYZER_MINUTES:-2}
SKIP=" ${BENCH_SKIP:-} "
BENCH_T0=${BENCH_T0:-$EPOCHREALTIME}

mkdir -p "$DATA"
rm -rf "$RAW" "$DATA"/*.db "$DATA"/*.db-wal "$DATA"/*.db-shm
mkdir -p "$RAW"
: >"$OUT"

log() { printf 'bench: %s\n' "$*" >&2; }
md() { printf '%s\n' "$*" | tee -a "$OUT"; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
skipped() { [[ $SKIP == *" $1 "* ]]; }

check_json=$("$S" check --json 2>/dev/null || true)
cg_mode=$(printf '%s' "$check_json" | sed -n 's/.*"cgroup_mode":"\([^"]*\)".*/\1/p')
complete=$(printf '%s' "$check_json" | sed -n 's/.*"complete":\(true\|false\).*/\1/p')
if [ "$complete" != true ]; then
	echo "bench/run.sh: sandrun check reports missing isolation; the numbers would mean nothing:" >&2
	"$S" check >&2 || true
	exit 3
fi

# ---- a cgroup of our own (v1/hybrid): bench/cgroup.sh ----------------------
. "$ROOT/bench/cgroup.sh"
trap leave_bench_cgroup EXIT
enter_bench_cgroup

# ---- rows, repetitions, statistics ------------------------------------------
declare -A LABEL BASE
# row ID LABEL BASELINE_ID — r_ID prints one value per call
row() { LABEL[$1]=$2; BASE[$1]=$3; }

# interleave REPS ID... — rep 1 of every row, then rep 2, ...
interleave() {
	local reps=$1 rep id v
	shift
	for rep in $(seq 1 "$reps"); do
		for id in "$@"; do
			v=$("r_$id" "$rep") || { log "row $id rep $rep failed"; v=""; }
			[ -n "$v" ] && echo "$v" >>"$RAW/$id"
		done
		log "  rep $rep/$reps done ($(elapsed) s so far)"
	done
}
elapsed() { awk -v a="$BENCH_T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

# stats FILE -> "median min max n p25 p75"
stats() {
	[ -s "$1" ] || { echo "- - - 0 - -"; return; }
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		n = NR; m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		p25 = v[int((n - 1) * 0.25) + 1]; p75 = v[int((n - 1) * 0.75) + 1]
		print m, v[1], v[n], n, p25, p75 }'
}
med() { stats "$1" | cut -d' ' -f1; }
# fmt NUMBER DECIMALS
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { if (x == "-" || x == "") print "–"; else printf "%.*f", d, x }'; }
ratio() { # ID
	local b=${BASE[$1]}
	[ "$b" = "$1" ] && { echo "1.00 (baseline)"; return; }
	awk -v a="$(med "$RAW/$1")" -v b="$(med "$RAW/$b")" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "–"; else printf "%.2f", a / b }'
}
fails() { [ -s "$RAW/$1.fail" ] && echo " ⚠ $(paste -sd' ' "$RAW/$1.fail")" || true; }
# table_row ID DECIMALS [EXTRA_CELL_FN]
table_row() {
	local id=$1 d=${2:-0} m lo hi n
	read -r m lo hi n _ <<<"$(stats "$RAW/$id")"
	local extra=""
	[ -n "${3:-}" ] && extra=" $("$3" "$id" "$m") |"
	md "| ${LABEL[$id]}$(fails "$id") | $(fmt "$m" "$d") | $(fmt "$lo" "$d")–$(fmt "$hi" "$d") |$extra $(ratio "$id") | $n |"
}

# jobloop → "us_per_job"; failures noted in RAW/ID.fail
jl() { # ID JOBLOOP-ARGS...
	local id=$1 line
	shift
	line=$("$JL" -e "$@" 2>>"$RAW/$id.err" || true)
	local f=${line##*failed=}
	[ "${f:-0}" != 0 ] && echo "rep: $f failed ($(tail -n 1 "$RAW/$id.err" 2>/dev/null))" >>"$RAW/$id.fail"
	line=${line##*us_per_job=}
	echo "${line%% *}"
}

# sandrun's --cmd, once the batch runner has it
has_cmd=0
"$S" run --help 2>/dev/null | grep -q -- '--cmd' && has_cmd=1
has_bwrap=0
command -v bwrap >/dev/null && bwrap --unshare-all --ro-bind / / /bin/true 2>/dev/null && has_bwrap=1

# ---- header -----------------------------------------------------------------
version=$("$S" --version | awk '{ print $2 }')
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
md "# sandrun benchmarks"
md ""
md "Generated by \`make bench\` (bench/run.sh); what each row measures: docs/performance.md."
md ""
md "| | |"
md "|---|---|"
md "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
md "| sandrun | $version ($B, -O2, not sanitized) |"
md "| nproc | $(nproc) ($cpu) |"
md "| kernel | $(uname -r) |"
md "| cgroup mode | $cg_mode |"
md "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
md "| isolation of the bench | tests/lib/outer-ns.sh (own mount/pid/net/ipc/uts namespaces)$([ ${#CG_DIRS[@]} -gt 0 ] && echo ", own cgroup $CG_NAME") |"
md ""
md "Each row: median and min–max over the repetitions (n), interleaved: rep 1 of every row of a table, then rep 2, ..."
md "Ratio: the row's median over its baseline's median from the same run."
md ""

# ---- 1. per-job cost ----------------------------------------------------------
SB_EXEC=("$S" exec --json --timing --mem 256M --pids 64 --timeout 10 -- /bin/true)
section1() {
	log "1. per-job cost ($REPS1 reps)"
	row p1 "plain fork+exec+wait \`/bin/true\`" p1
	row v1 "\`sandrun --version\` (process start only, no sandbox)" p1
	row s1 "\`sandrun exec --mem 256M --pids 64 --timeout 10 -- /bin/true\`" p1
	row u1 "\`unshare --pid --fork --mount --net --ipc --uts /bin/true\`" p1
	row w1 "\`bwrap --unshare-all --ro-bind / / /bin/true\`" p1
	row p2 "plain fork+exec+wait \`/bin/true\`" p2
	row s2 "\`sandrun exec --mem 256M --pids 64 --timeout 10 -- /bin/true\`" p2
	row u2 "\`unshare --pid --fork --mount --net --ipc --uts /bin/true\`" p2
	row w2 "\`bwrap --unshare-all --ro-bind / / /bin/true\`" p2
	r_p1() { jl p1 -n "$N_PLAIN" -- /bin/true; }
	r_v1() { jl v1 -n "$N_WRAP" -- "$S" --version; }
	r_s1() { jl s1 -n "$N_SB" -o "$RAW/timing1.jsonl" -t "$RAW/total1" -- "${SB_EXEC[@]}"; }
	r_u1() { jl u1 -n "$N_WRAP" -- unshare --pid --fork --mount --net --ipc --uts /bin/true; }
	r_w1() { jl w1 -n "$N_WRAP" -- bwrap --unshare-all --ro-bind / / /bin/true; }
	r_p2() { jl p2 -n "$N_PLAIN" -j 2 -- /bin/true; }
	r_s2() { jl s2 -n "$N_SB" -j 2 -o "$RAW/timing2.jsonl" -t "$RAW/total2" -- "${SB_EXEC[@]}"; }
	r_u2() { jl u2 -n "$N_WRAP" -j 2 -- unshare --pid --fork --mount --net --ipc --uts /bin/true; }
	r_w2() { jl w2 -n "$N_WRAP" -j 2 -- bwrap --unshare-all --ro-bind / / /bin/true; }
	r_st() { strace_split "$1"; }
	local ids=(p1 v1 s1 u1) ids2=(p2 s2 u2)
	[ $has_bwrap = 1 ] && ids+=(w1) && ids2+=(w2)
	local dostrace=()
	command -v strace >/dev/null && dostrace=(st)
	interleave "$REPS1" "${ids[@]}" "${ids2[@]}" "${dostrace[@]}"

	md "## 1. Per-job cost"
	md ""
	md "One job = fork + exec + waitpid of the command by bench/jobloop.c, which runs it N times (sequential: one at a time; -j 2: two slots kept busy). µs per job = wall time / N: with two slots that is the throughput cost, not the latency. Per rep: $N_PLAIN plain jobs, $N_SB sandrun jobs, $N_WRAP unshare/bwrap/--version jobs. sandrun runs with \`--json --timing\` (output to a file) for the breakdown below; full default isolation (new pid, mount, net, ipc, uts, cgroup namespaces, tmpfs root, no capabilities, default seccomp policy) plus the limits shown."
	md ""
	md "### Sequential"
	md ""
	md "| command | µs/job (median) | min–max | ratio | n |"
	md "|---|---:|---:|---:|---:|"
	for id in "${ids[@]}"; do table_row "$id" 0; done
	md ""
	md "### -j 2"
	md ""
	md "| command | µs/job (median) | min–max | ratio | n |"
	md "|---|---:|---:|---:|---:|"
	for id in "${ids2[@]}"; do table_row "$id" 0; done
	if [ $has_bwrap != 1 ]; then md ""; md "(bubblewrap rows left out: bwrap is missing or cannot run here.)"; fi
	md ""
	breakdown_table
	[ ${#dostrace[@]} -gt 0 ] && strace_table
}

# Median per step over every sandrun job of the section, from --timing.
STEPS="cgroup clone mounts privileges seccomp exec run reap cleanup"
breakdown_table() {
	local j k
	for j in 1 2; do
		[ -s "$RAW/timing$j.jsonl" ] || continue
		local notok
		notok=$(grep -vc '"outcome":"ok"' "$RAW/timing$j.jsonl" || true)
		[ "$notok" != 0 ] && echo "$notok of $(wc -l <"$RAW/timing$j.jsonl") jobs not ok" >>"$RAW/steps$j.note"
		sed -n 's/.*"timing_us":{\([^}]*\)}.*/\1/p' "$RAW/timing$j.jsonl" | tr -d '"' |
			awk -F'[,:]' -v dir="$RAW" -v j="$j" '{ sum = 0
				for (i = 1; i < NF; i += 2) { print $(i + 1) > (dir "/step" j "_" $i); sum += $(i + 1) }
				print sum > (dir "/step" j "_sum") }'
	done
	md "### Where a sandrun job's time goes (\`--timing\`)"
	md ""
	md "Median µs per step over every sandrun job above (p25–p75 in brackets); share = step median / job total median. \"job total\" is each job's fork-to-reap time in jobloop; \"process overhead\" = job total − sum of steps (medians): the \`sandrun\` process itself — exec and dynamic loading, loading and compiling the seccomp policy, opening and closing the run's cgroups, printing the JSON, exiting."
	md ""
	md "| step | sequential µs | share | -j 2 µs | share |"
	md "|---|---:|---:|---:|---:|"
	local tot1 tot2
	tot1=$(med "$RAW/total1")
	tot2=$(med "$RAW/total2")
	cell() { # FILE TOTAL
		local m n p25 p75
		read -r m _ _ n p25 p75 <<<"$(stats "$1")"
		[ "$n" = 0 ] && { echo "– | –"; return; }
		printf '%s (%s–%s) | %s' "$(fmt "$m")" "$(fmt "$p25")" "$(fmt "$p75")" \
			"$(awk -v a="$m" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f%%", 100 * a / t; else print "–" }')"
	}
	for k in $STEPS sum; do
		local label=$k
		[ "$k" = sum ] && label="**sum of steps**"
		md "| $label | $(cell "$RAW/step1_$k" "$tot1") | $(cell "$RAW/step2_$k" "$tot2") |"
	done
	md "| **job total** (jobloop, fork→reap) | $(cell "$RAW/total1" "$tot1") | $(cell "$RAW/total2" "$tot2") |"
	local o1 o2
	o1=$(awk -v t="$tot1" -v s="$(med "$RAW/step1_sum")" 'BEGIN { if (t != "-" && s != "-") printf "%.0f", t - s; else print "–" }')
	o2=$(awk -v t="$tot2" -v s="$(med "$RAW/step2_sum")" 'BEGIN { if (t != "-" && s != "-") printf "%.0f", t - s; else print "–" }')
	pct() { awk -v a="$1" -v t="$2" 'BEGIN { if (a != "–" && t > 0) printf "%.0f%%", 100 * a / t; else print "–" }'; }
	md "| **process overhead** (total − sum) | $o1 | $(pct "$o1" "$tot1") | $o2 | $(pct "$o2" "$tot2") |"
	for j in 1 2; do [ -s "$RAW/steps$j.note" ] && md "" && md "⚠ $([ $j = 1 ] && echo sequential || echo -j 2): $(cat "$RAW/steps$j.note")"; done
	md ""
}

# One `sandrun exec` under strace, tracing only marker syscalls (seccomp-bpf
# filtered, so untraced calls run at full speed): exec+loading, policy,
# run cgroups, the job, teardown. Values in RAW/split_*.
strace_split() {
	local k f
	for k in 1 2 3 4; do
		f=$RAW/strace.$1.$k
		strace -qq --seccomp-bpf -ttt -e trace=execve,openat,statfs,mkdirat,unlinkat,exit_group \
			-o "$f" "${SB_EXEC[@]}" >/dev/null 2>&1 || true
		# without -f: only the sandrun process, no pid column
		awk -v dir="$RAW" '
			/execve\(/ && !te { te = $1 }
			/openat\(.*\/policies\// && !tp { tp = $1 }
			/statfs\("\/sys\/fs\/cgroup"/ && !tc { tc = $1 }
			/mkdirat\(.*"job-/ && !tj { tj = $1 }
			/unlinkat\(.*"job-/ { tu = $1 }
			/exit_group\(/ { tx = $1 }
			END { if (te && tp && tc && tj && tu && tx) {
				printf "%.0f\n", (tp - te) * 1e6 >> (dir "/split_load")
				printf "%.0f\n", (tc - tp) * 1e6 >> (dir "/split_policy")
				printf "%.0f\n", (tj - tc) * 1e6 >> (dir "/split_runopen")
				printf "%.0f\n", (tu - tj) * 1e6 >> (dir "/split_job")
				printf "%.0f\n", (tx - tu) * 1e6 >> (dir "/split_teardown")
				printf "%.0f\n", (tx - te) * 1e6 >> (dir "/split_total") } }' "$f"
	done
	echo 0
}
strace_table() {
	md "### Where the process overhead goes (strace markers)"
	md ""
	md "\`sandrun exec\` run under \`strace --seccomp-bpf\` tracing only marker syscalls (execve, openat, statfs, mkdirat, unlinkat, exit_group), 4 runs per rep; median µs (p25–p75). Tracing inflates each marker a little; the split, not the absolute sum, is the point."
	md ""
	md "| phase (between markers) | µs | p25–p75 | n |"
	md "|---|---:|---:|---:|"
	local k label m n p25 p75
	for k in load policy runopen job teardown total; do
		case $k in
		load) label="execve → policy file opened (dynamic loading, libc/libseccomp/libsqlite3/... init)" ;;
		policy) label="policy file → first cgroup statfs (the compiled-policy cache: key, verify, load; a miss compiles)" ;;
		runopen) label="run cgroups: sweep, mkdir the run directory in each hierarchy" ;;
		job) label="first job mkdir → last job rmdir (the job: the steps above)" ;;
		teardown) label="job rmdir → exit_group (JSON, run cgroup rmdir, exit)" ;;
		total) label="**execve → exit_group**" ;;
		esac
		read -r m _ _ n p25 p75 <<<"$(stats "$RAW/split_$k")"
		md "| $label | $(fmt "$m") | $(fmt "$p25")–$(fmt "$p75") | $n |"
	done
	md ""
}

# ---- 2. batch throughput --------------------------------------------------------
# /bin/true prints nothing: store its (empty) output as text, not JSON.
TRUE_CMD_ARGS=(--cmd '/bin/true {}' --output text)
section2() {
	log "2. batch throughput ($N_BATCH files, $REPS reps)"
	sox -q -n -r 8000 -c 1 -b 16 "$DATA/tiny.wav" synth 0.05 sine 440
	"$B/mkfiles" "$DATA/batch$N_BATCH" "$N_BATCH" "$DATA/tiny.wav" .wav
	find "$DATA/batch$N_BATCH" -type f | sort >"$DATA/batch.list"
	local M=450 m=50
	"$B/mkfiles" "$DATA/marg$M" "$M" "$DATA/tiny.wav" .wav
	"$B/mkfiles" "$DATA/marg$m" "$m" "$DATA/tiny.wav" .wav

	row bx_t "\`xargs -P 2 -n 1 /bin/true\`" bx_t
	row bp_t "GNU \`parallel -j 2 --joblog F --timeout 10 /bin/true {}\`" bx_t
	row bs_t "\`sandrun --cmd '/bin/true {}' -j 2\` (database, full isolation)" bx_t
	row bx_a "\`xargs -P 2 -n 1 sandrun-analyze\` (no isolation)" bx_a
	row bp_a "GNU \`parallel -j 2 --joblog F --timeout 10 sandrun-analyze {}\`" bx_a
	row bs_a "\`sandrun -r -j 2\` (built-in analyzer, database, full isolation)" bx_a
	timed() { # ID CMD... -> µs per file, whole command's wall time
		local id=$1 t0 t1 rc=0
		shift
		t0=$(now_us)
		"$@" >/dev/null 2>"$RAW/$id.err" || rc=$?
		t1=$(now_us)
		[ $rc = 0 ] || echo "rep: exit $rc ($(tail -n 1 "$RAW/$id.err"))" >>"$RAW/$id.fail"
		awk -v a="$t0" -v b="$t1" -v n="$N_BATCH" 'BEGIN { printf "%.1f\n", (b - a) / n }'
	}
	fresh_db() { rm -f "$DATA/$1.db" "$DATA/$1.db-wal" "$DATA/$1.db-shm"; }
	r_bx_t() { timed bx_t xargs -P 2 -n 1 /bin/true <"$DATA/batch.list"; }
	r_bp_t() { rm -f "$RAW/joblog"; timed bp_t parallel -j 2 --joblog "$RAW/joblog" --timeout 10 /bin/true '{}' :::: "$DATA/batch.list"; }
	r_bs_t() { fresh_db bs_t; timed bs_t "$S" run "${TRUE_CMD_ARGS[@]}" -j 2 --db "$DATA/bs_t.db" -r "$DATA/batch$N_BATCH"; }
	r_bx_a() { timed bx_a xargs -P 2 -n 1 "$A" <"$DATA/batch.list"; }
	r_bp_a() { rm -f "$RAW/joblog"; timed bp_a parallel -j 2 --joblog "$RAW/joblog" --timeout 10 "$A" '{}' :::: "$DATA/batch.list"; }
	r_bs_a() { fresh_db bs_a; timed bs_a "$S" run -j 2 --db "$DATA/bs_a.db" -r "$DATA/batch$N_BATCH"; }

	# marginal cost per job: (T(450) − T(50)) / 400
	row mp "plain fork+exec+wait \`/bin/true\` (jobloop)" mp
	row ms "\`sandrun --cmd '/bin/true {}' -j 1\`" mp
	row ma "\`sandrun -j 1\` (built-in analyzer)" mp
	r_mp() {
		local a b
		a=$("$JL" -n "$M" -- /bin/true | sed 's/.*total_us=\([0-9]*\).*/\1/')
		b=$("$JL" -n "$m" -- /bin/true | sed 's/.*total_us=\([0-9]*\).*/\1/')
		awk -v a="$a" -v b="$b" -v d=$((M - m)) 'BEGIN { printf "%.1f\n", (a - b) / d }'
	}
	marg() { # ID ARGS...
		local id=$1 t0 t1 t2 t3 rc=0
		shift
		fresh_db "$id"
		t0=$(now_us); "$S" run "$@" -j 1 --db "$DATA/$id.db" -r "$DATA/marg$M" >/dev/null 2>"$RAW/$id.err" || rc=$?; t1=$(now_us)
		fresh_db "$id"
		t2=$(now_us); "$S" run "$@" -j 1 --db "$DATA/$id.db" -r "$DATA/marg$m" >/dev/null 2>>"$RAW/$id.err" || rc=$?; t3=$(now_us)
		[ $rc = 0 ] || echo "rep: exit $rc" >>"$RAW/$id.fail"
		awk -v a=$((t1 - t0)) -v b=$((t3 - t2)) -v d=$((M - m)) 'BEGIN { printf "%.1f\n", (a - b) / d }'
	}
	r_ms() { marg ms "${TRUE_CMD_ARGS[@]}"; }
	r_ma() { marg ma; }

	local ids=(bx_t bp_t) ids_a=(bx_a bp_a bs_a) mids=(mp)
	if [ $has_cmd = 1 ]; then ids+=(bs_t); mids+=(ms); else mids+=(ma); fi
	interleave "$REPS" "${ids[@]}" "${ids_a[@]}" "${mids[@]}"

	md "## 2. Batch throughput"
	md ""
	md "$N_BATCH tiny files (0.05 s mono 8 kHz WAV, $(stat -c %s "$DATA/tiny.wav") bytes) end to end, -j 2 / -P 2: wall time of the whole command / $N_BATCH. sandrun rows include queueing into a fresh SQLite database, leases, one attempt row and one result per file. $([ "$N_BATCH" -lt 10000 ] && echo "**$N_BATCH files, not the issue's 10,000**: 10,000 files take about 10× as long per row and rep and do not fit the 10-minute budget with $REPS reps; \`BENCH_BATCH_N=10000 make bench\` runs it.")"
	md ""
	md "| command | µs/file (median) | min–max | files/s | ratio | n |"
	md "|---|---:|---:|---:|---:|---:|"
	rate() { awk -v m="$2" 'BEGIN { if (m > 0) printf "%.0f", 1e6 / m; else print "–" }'; }
	for id in "${ids[@]}"; do table_row "$id" 0 rate; done
	for id in "${ids_a[@]}"; do table_row "$id" 0 rate; done
	[ $has_cmd = 1 ] || md "| \`sandrun --cmd '/bin/true {}' -j 2\` | not yet: this build's \`sandrun run\` has no --cmd | | | | |"
	md ""
	md "### Marginal cost per job (the issue's definition)"
	md ""
	md "(time of $M jobs − time of $m jobs) / $((M - m)), one at a time: start-up, queueing and teardown cancel out."
	md ""
	md "| command | µs/job (median) | min–max | ratio | n |"
	md "|---|---:|---:|---:|---:|"
	for id in "${mids[@]}"; do table_row "$id" 0; done
	[ $has_cmd = 1 ] || md "| \`sandrun --cmd '/bin/true {}' -j 1\` | not yet: no --cmd in this build; the analyzer row stands in | | | |"
	md ""
}

# ---- 3. analyzer speed ------------------------------------------------------------
section3() {
	md "## 3. Analyzer speed"
	md ""
	if [ ! -x bench/analyzer.sh ]; then
		md "bench/analyzer.sh is not there yet."
		md ""
		return
	fi
	log "3. analyzer speed (bench/analyzer.sh, $AN_MIN min of audio)"
	md "From \`bench/analyzer.sh $B $AN_MIN\` (its own method: best of 3 by CPU time)."
	md ""
	mkdir -p "$DATA/analyzer"
	# its work files are large: not in the outer namespace's small /var/tmp
	TMPDIR=$DATA/analyzer bench/analyzer.sh "$B" "$AN_MIN" | sed 's/^### /#### /' | tee -a "$OUT" ||
		md "(bench/analyzer.sh failed: exit $?)"
	md ""
}

# ---- 4. scale -----------------------------------------------------------------------
# A run over N files, killed (SIGKILL) at its 20th finished job, or later
# once it has read its whole list and its store holds all N items (the
# runner queues the list while its first jobs run, so a kill at the 20th
# job alone would leave a store of a few thousand items for the resume, and
# a peak RSS before most of the queueing): seconds from exec to the first
# "started" event, and the runner's VmHWM just before the kill.
queued_all() { # DB N -> true once `sandrun status` counts N items
	local j
	j=$("$S" status --json --db "$1" 2>/dev/null) || return 1
	j=${j#*'"items":{"total":'}
	[ "${j%%[!0-9]*}" = "$2" ]
}
list_read() { # PID LIST -> true once PID has read LIST to its end (or closed it)
	local fd pos
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$2" ] || continue
		pos=$(awk '/^pos:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null)
		[ "$pos" = "$(stat -c %s "$2")" ]
		return
	done
	return 0
}
scale_run() { # DB LIST N -> "seconds_to_first_start hwm_kib"
	local db=$1 list=$2 want=$3 fifo=$DATA/events.fifo t0 t1="" hwm="" line n=0 pid next=0 now
	rm -f "$fifo"
	mkfifo "$fifo"
	t0=$(now_us)
	"$S" run "${SCALE_JOB[@]}" -j 2 --db "$db" --json --files-from "$list" >"$fifo" 2>>"$RAW/scale.err" &
	pid=$!
	while IFS= read -r line; do
		case $line in
		*'"event":"started"'*) [ -n "$t1" ] || t1=$(now_us) ;;
		*'"event":"finished"'*)
			n=$((n + 1))
			[ $n -ge 20 ] || continue
			# Keep reading events (a full pipe would stall the runner);
			# look at the store at most every 0.2 s.
			now=$(now_us)
			[ "$now" -ge "$next" ] || continue
			next=$((now + 200000))
			if list_read "$pid" "$list" && queued_all "$db" "$want"; then
				hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
				kill -9 "$pid" 2>/dev/null || true
				break
			fi ;;
		esac
	done <"$fifo"
	[ -n "$hwm" ] || { hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true); kill -9 "$pid" 2>/dev/null || true; }
	wait "$pid" 2>/dev/null || true
	rm -f "$fifo"
	[ -n "$t1" ] || { echo "- -"; return; }
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }') ${hwm:--}"
}
status_ms() { # DB -> median of 3 `sandrun status` wall times, ms
	local t0 t1 f=$RAW/status.tmp
	: >"$f"
	for _ in 1 2 3; do
		t0=$(now_us)
		"$S" status --db "$1" >/dev/null 2>&1 || true
		t1=$(now_us)
		echo $((t1 - t0)) >>"$f"
	done
	awk -v m="$(med "$f")" 'BEGIN { printf "%.1f\n", m / 1000 }'
}
section4() {
	local max=0 n
	for n in $SCALE; do [ "$n" -gt $max ] && max=$n; done
	log "4. scale ($SCALE queued items, $REPS reps)"
	"$B/mkfiles" "$DATA/scale" "$max"
	for n in $SCALE; do
		awk -v d="$DATA/scale" -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "%s/f%06d\n", d, i }' >"$DATA/scale$n.list"
	done
	if [ $has_cmd = 1 ]; then SCALE_JOB=("${TRUE_CMD_ARGS[@]}"); else SCALE_JOB=(); fi
	local first=${SCALE%% *}
	for n in $SCALE; do
		row "q$n" "queue $(printf "%'d" "$n") files → first job start (s)" "q$first"
		row "h$n" "runner peak RSS (VmHWM), $(printf "%'d" "$n") queued (MiB)" "h$first"
		row "t$n" "\`sandrun status\` with $(printf "%'d" "$n") items (ms)" "t$first"
	done
	row "rs" "resume after SIGKILL, $(printf "%'d" "$max") items: start → first job start (s)" "q$max"
	row "rh" "resumed runner peak RSS, $(printf "%'d" "$max") items (MiB)" "h$max"
	local rep
	for rep in $(seq 1 "$REPS"); do
		for n in $SCALE; do
			rm -f "$DATA/scale.db" "$DATA/scale.db-wal" "$DATA/scale.db-shm"
			read -r t h <<<"$(scale_run "$DATA/scale.db" "$DATA/scale$n.list" "$n")"
			echo "$t" >>"$RAW/q$n"
			awk -v k="$h" 'BEGIN { if (k != "-") printf "%.1f\n", k / 1024 }' >>"$RAW/h$n"
			status_ms "$DATA/scale.db" >>"$RAW/t$n"
			if [ "$n" = "$max" ]; then
				read -r t h <<<"$(scale_run "$DATA/scale.db" "$DATA/scale$n.list" "$n")"
				echo "$t" >>"$RAW/rs"
				awk -v k="$h" 'BEGIN { if (k != "-") printf "%.1f\n", k / 1024 }' >>"$RAW/rh"
			fi
		done
		log "  rep $rep/$REPS done ($(elapsed) s so far)"
	done
	md "## 4. Scale"
	md ""
	md "A fresh database, \`sandrun $([ $has_cmd = 1 ] && echo "--cmd '/bin/true {}'" || echo "run (built-in analyzer, empty files)") -j 2 --json --files-from LIST\`, SIGKILLed at its 20th finished job, or later, once the whole list is queued (the runner queues the list a chunk at a time while its first jobs run). \"first job start\": from exec to the first \`started\` event on stdout. Peak RSS: the runner's VmHWM just before the kill (queueing the whole list plus the jobs so far). \`sandrun status\`: wall time, median of 3 calls per rep, on that database. Resume: the same command again on the killed run's database of N items (reclaims the dead leases, starts claiming after the first chunk of the list, re-queues the rest while it runs)."
	md ""
	md "| measurement | median | min–max | ratio | n |"
	md "|---|---:|---:|---:|---:|"
	for n in $SCALE; do table_row "q$n" 3; done
	table_row rs 3
	for n in $SCALE; do table_row "h$n" 1; done
	table_row rh 1
	for n in $SCALE; do table_row "t$n" 1; done
	md ""
}

# ---- 5. levers --------------------------------------------------------------------------
section5() {
	log "5. levers ($REPS reps)"
	row lu "\`unshare /bin/true\` (no new namespace)" lu
	row ln "\`unshare --net /bin/true\`" lu
	row lm "\`unshare --mount /bin/true\`" lu
	row lp "\`unshare --pid --fork /bin/true\`" lu
	row li "\`unshare --ipc --uts /bin/true\`" lu
	row la "\`unshare --pid --fork --mount --net --ipc --uts /bin/true\`" lu
	r_lu() { jl lu -n "$N_PLAIN" -- unshare /bin/true; }
	r_ln() { jl ln -n "$N_PLAIN" -- unshare --net /bin/true; }
	r_lm() { jl lm -n "$N_PLAIN" -- unshare --mount /bin/true; }
	r_lp() { jl lp -n "$N_PLAIN" -- unshare --pid --fork /bin/true; }
	r_li() { jl li -n "$N_PLAIN" -- unshare --ipc --uts /bin/true; }
	r_la() { jl la -n "$N_PLAIN" -- unshare --pid --fork --mount --net --ipc --uts /bin/true; }
	# cgbench: one invocation per rep and mode; each row keeps that
	# invocation's median over its 40 jobs
	local cgmodes=(v1 v2)
	case $cg_mode in v2) cgmodes=(v2) ;; none) cgmodes=() ;; esac
	r_cg() {
		local m g
		for g in 0 50000; do
			"$B/cgbench" pingpong 40 "$g" >>"$RAW/cg.$g" 2>>"$RAW/cg.err" || true
			"$B/cgbench" fork 40 "$g" >>"$RAW/cg.$g" 2>>"$RAW/cg.err" || true
			"$B/cgbench" nsfloor 40 "$g" >>"$RAW/cg.$g" 2>>"$RAW/cg.err" || true
			for m in "${cgmodes[@]}"; do
				"$B/cgbench" "$m" 40 "$g" >>"$RAW/cg.$g" 2>>"$RAW/cg.err" || true
			done
		done
		echo 0
	}
	interleave "$REPS" lu ln lm lp li la cg

	md "## 5. Levers: what each piece costs on this host"
	md ""
	md "### Namespaces (util-linux unshare, sequential, $N_PLAIN jobs per rep)"
	md ""
	md "| command | µs/job (median) | min–max | ratio | n |"
	md "|---|---:|---:|---:|---:|"
	for id in lu ln lm lp li la; do table_row "$id" 0; done
	md ""
	md "### cgroups per job, and the floor of the process shape (bench/cgbench.c, 40 jobs per invocation)"
	md ""
	md "Each cell: median over reps of each invocation's median µs (min–max of those). \"back to back\": jobs with no pause; \"50 ms apart\": a 50 ms sleep between jobs, as one \`sandrun exec\` per job, or a batch whose jobs run for tens of ms, spaces them. v1(N) = one cgroup in each of the N hierarchies sandrun uses (memory, cpu, cpuacct, pids, freezer; co-mounted ones count once), limits written, child attached by writing cgroup.procs (and, first after the gap, a child that writes \"0\" to each tasks file itself, as sandrun's jobs do: a thread moving itself skips the global rwsem); v2 = $( [ "$cg_mode" = v2 ] && echo "the cgroup2 hierarchy" || echo "the hybrid host's unified cgroup2 hierarchy (no controllers on it, but the same attach paths)"). A cgroup.procs write takes the global cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period unless another writer was there moments before; CLONE_INTO_CGROUP only reads it. floor: plain fork+exec+wait of /bin/true, against clone3 of an init in new pid, mount, net, ipc and uts namespaces that vforks and execs /bin/true and waits for it, reaped through its pidfd: sandrun's process shape with nothing else (no cgroup, mounts, seccomp, privilege drop or database)."
	md ""
	md "| step | back to back µs | min–max | 50 ms apart µs | min–max |"
	md "|---|---:|---:|---:|---:|"
	local key
	if [ -s "$RAW/cg.0" ]; then
		awk '{ print $1 " " $2 }' "$RAW/cg.0" | awk '!seen[$0]++' >"$RAW/cg.keys"
		while IFS= read -r key; do
			local c0 c1
			c0=$(cg_cell "$key" 0)
			c1=$(cg_cell "$key" 50000)
			md "| $key | $c0 | $c1 |"
		done <"$RAW/cg.keys"
	else
		md "| (cgbench produced nothing: $(head -n 1 "$RAW/cg.err" 2>/dev/null)) | | | | |"
	fi
	md ""
}
cg_cell() { # "MODE STEP" GAP -> "median | min–max"
	local m lo hi n
	grep -F -- "$1 median_us=" "$RAW/cg.$2" 2>/dev/null | sed 's/.*median_us=\([0-9]*\).*/\1/' >"$RAW/cg.cell" || true
	read -r m lo hi n _ <<<"$(stats "$RAW/cg.cell")"
	[ "$n" = 0 ] && { echo "– | –"; return; }
	echo "$(fmt "$m") | $(fmt "$lo")–$(fmt "$hi")"
}

section1
skipped batch || section2
skipped analyzer || section3
skipped scale || section4
skipped levers || section5
# The PostgreSQL store (bench/pg.sh: its own cluster; skipped without one).
skipped pg || bash "$ROOT/bench/pg.sh" "$B" >>"$OUT" || log "bench/pg.sh failed or found no PostgreSQL"

md "---"
md "Finished in $(elapsed) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
cp "$OUT" "$ROOT/bench/RESULTS.md"
log "written to bench/RESULTS.md"
