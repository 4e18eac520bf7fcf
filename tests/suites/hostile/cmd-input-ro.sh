# plan: 2
# tests/suites/hostile/cmd-input-ro.sh — issue 12 item 6: a job cannot
# write its input, nor learn where it lives on the host.
#
# The input is world-writable (0666) in a directory whose path holds a
# distinctive token. The job reopens /proc/self/fd/0 (a new open: new
# flags) and, with {}, /input/NAME for writing, and reports readlink of its
# stdin and /proc/self/mountinfo. The runner opens inputs beneath a private
# read-only copy of their directory's mount: every write open is EROFS,
# the host file is unchanged, and fd 0 reads "/NAME", not the host path.
# Sourced by tests/suites/cmd.sh.

_ro=$T/ro
_hd=$_ro/hostdir-$TOKEN-ro
mkdir -p "$_hd"
chmod 755 "$_ro" "$_hd"
printf 'original\n' >"$_hd/w.bin"
chmod 666 "$_hd/w.bin"

# stdin delivery: reopen fd 0 for writing, append, truncate; then report.
_job='for m in ">" ">>"; do eval "echo PWNED $m /proc/self/fd/0" 2>/dev/null && echo "WROTE $m"; done
(exec 3<>/proc/self/fd/0 && echo PWNED >&3 && echo "WROTE rw") 2>/dev/null
echo "fd0=$(readlink /proc/self/fd/0)"
cat /proc/self/mountinfo'
run --db "$_ro/stdin.db" --output text --policy default --cmd "sh -c '$_job'" "$_hd/w.bin"
_res=$(q "$_ro/stdin.db" "SELECT CAST(value AS TEXT) FROM results")
[ "$(cat "$_hd/w.bin")" = original ] || fail "the host file changed: $(head -c 100 "$_hd/w.bin")"
case $_res in *WROTE*) fail "a write open succeeded: $(printf %s "$_res" | grep WROTE)" ;; esac
case $_res in *"$TOKEN"*) fail "the host path leaked: $(printf %s "$_res" | grep "$TOKEN" | head -3)" ;; esac
printf %s "$_res" | grep -qx 'fd0=/w.bin' || fail "readlink of fd 0: $(printf %s "$_res" | grep fd0=)"
expect_item "$_ro/stdin.db" "$_hd/w.bin" "ok|done|0|"
result "stdin delivery: reopening /proc/self/fd/0 for writing fails, the host file is unchanged, neither fd 0 nor mountinfo names the host path"

# {} delivery: the same, plus writes through /input/NAME. mountinfo is
# reported but not asserted: a bind mount's root is shown as the file's
# path within its filesystem (docs/security.md, what remains).
_job2='for m in ">" ">>"; do eval "echo PWNED $m /proc/self/fd/0" 2>/dev/null && echo "WROTE $m"; done
for m in ">" ">>"; do eval "echo PWNED $m \"\$1\"" 2>/dev/null && echo "WROTE {} $m"; done
exec 3<"$1"; echo "fd0=$(readlink /proc/self/fd/0) fd3=$(readlink /proc/self/fd/3)"
grep -c . /proc/self/mountinfo >/dev/null'
run --db "$_ro/arg.db" --output text --policy default --cmd "sh -c '$_job2' job {}" "$_hd/w.bin"
_res=$(q "$_ro/arg.db" "SELECT CAST(value AS TEXT) FROM results")
[ "$(cat "$_hd/w.bin")" = original ] || fail "the host file changed: $(head -c 100 "$_hd/w.bin")"
case $_res in *WROTE*) fail "a write open succeeded: $(printf %s "$_res" | grep WROTE)" ;; esac
case $_res in *"$TOKEN"*) fail "the host path leaked: $(printf %s "$_res" | grep "$TOKEN" | head -3)" ;; esac
printf %s "$_res" | grep -qx 'fd0=/w.bin fd3=/input/w.bin' || fail "readlinks: $(printf %s "$_res" | grep fd0=)"
expect_item "$_ro/arg.db" "$_hd/w.bin" "ok|done|0|"
result "{} delivery: no write through fd 0 or /input/NAME, the host file is unchanged, fd 0 does not name the host path"
