#!/usr/bin/env bash
# lab/test.sh — the lab's own tests: the smoke scenario (IPVS rules and real DR traffic in the VM)
# and self-tests of lab/run.sh: exit status passed through, arguments and output exact, the
# wall-clock timeout, a kernel panic reported, a missing --bin refused before boot, --bin with its
# libraries, /out files back byte for byte (text and binary), two runs at once.
# Prints `ok NAME` / `FAIL NAME: detail` lines and `lab-selftest: N passed, M failed`; exits 1 on
# any failure. Takes ≈40 s on a 2-core machine once the kernel is cached.
# Usage: lab/test.sh [--keep]   (--keep leaves the results directories in place and prints where)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run=$here/run.sh
keep=0
[ "${1:-}" = "--keep" ] && keep=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-test.XXXXXX")
bg=""
cleanup() {
    [ -z "$bg" ] || kill "$bg" 2>/dev/null
    if [ "$keep" = 1 ]; then echo "lab-selftest: results kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0 failed=0
pass() { echo "ok $1"; passed=$((passed + 1)); }
fail() {
    echo "FAIL $1: $2"
    failed=$((failed + 1))
    if [ -n "${3:-}" ] && [ -f "$3" ]; then tail -n 25 "$3" | sed 's/^/    | /'; fi
}
# check NAME DETAIL LOG CMD...: pass when CMD succeeds, else fail with DETAIL and LOG's tail.
check() {
    local name=$1 detail=$2 log=$3
    shift 3
    if "$@"; then pass "$name"; else fail "$name" "$detail" "$log"; fi
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# Scenarios the self-tests boot.
cat >"$tmp/exit3.sh" <<'EOF'
printf 'arg: [%s]\n' "$@"
echo "to stderr" >&2
printf 'no newline at the end'
exit 3
EOF
cat >"$tmp/forever.sh" <<'EOF'
echo "sleeping forever"
while :; do sleep 1; done
EOF
cat >"$tmp/panic.sh" <<'EOF'
echo "about to crash the kernel"
echo c >/proc/sysrq-trigger
sleep 30
EOF
cat >"$tmp/roundtrip.sh" <<'EOF'
set -e
mkdir -p "/out/dir with space"
cp /in/random.bin /out/copy.bin
cp /in/text.txt "/out/dir with space/text.txt"
# Bytes made inside the VM, with their checksum computed inside by the --bin tool (coreutils b2sum).
dd if=/dev/urandom of=/out/made-inside.bin bs=1024 count=1536 2>/dev/null
/usr/local/bin/b2sum /out/made-inside.bin | cut -d' ' -f1 >/out/made-inside.b2
/usr/local/bin/b2sum /in/random.bin | cut -d' ' -f1
echo done
EOF

# 1. A missing --bin is refused before anything boots.
t0=$(now)
"$run" --bin /nonexistent/lab-no-such-binary "$tmp/exit3.sh" >"$tmp/missing.log" 2>&1
rc=$?
t1=$(now)
check missing-bin-status "expected exit 2, got $rc" "$tmp/missing.log" test "$rc" -eq 2
check missing-bin-message "no clear error naming the path" "$tmp/missing.log" \
    grep -q 'error: --bin /nonexistent/lab-no-such-binary: no such file' "$tmp/missing.log"
check missing-bin-before-boot "took $(secs "$t0" "$t1") s or booted" "$tmp/missing.log" \
    eval "lt $(secs "$t0" "$t1") 3 && ! grep -q booting '$tmp/missing.log'"

# 2. The scenario's status, arguments and output come back exactly.
# shellcheck disable=SC2016  # (the $ is meant literally)
"$run" --quiet --no-keepalived --out "$tmp/exit3" "$tmp/exit3.sh" "two words" "it's" '$HOME "q"' '' \
    >"$tmp/exit3.log" 2>&1
rc=$?
check exit-status-passed-through "expected exit 3, got $rc" "$tmp/exit3.log" test "$rc" -eq 3
# shellcheck disable=SC2016
printf 'arg: [two words]\narg: [it'"'"'s]\narg: [$HOME "q"]\narg: []\nto stderr\nno newline at the end' >"$tmp/exit3.expected"
check output-exact "output.log differs from the expected bytes" "$tmp/exit3/output.log" \
    cmp -s "$tmp/exit3.expected" "$tmp/exit3/output.log"
check status-file "OUT/status is not 3" "$tmp/exit3.log" grep -qx 3 "$tmp/exit3/status"

# 3. In the background while the rest runs (so it also proves that two runs at once do not
#    collide): a scenario that never ends is stopped by --timeout 20.
(
    s=$(now)
    "$run" --quiet --no-keepalived --timeout 20 --out "$tmp/forever" "$tmp/forever.sh" >"$tmp/forever.log" 2>&1
    echo "$? $(secs "$s" "$(now)")" >"$tmp/forever.result"
) &
bg=$!

# 4. A kernel panic ends the run at once with 125 and the console tail that shows it.
t0=$(now)
"$run" --quiet --no-keepalived --timeout 60 --out "$tmp/panic" "$tmp/panic.sh" >"$tmp/panic.log" 2>&1
rc=$?
t1=$(now)
check panic-status "expected exit 125, got $rc after $(secs "$t0" "$t1") s" "$tmp/panic.log" test "$rc" -eq 125
check panic-shown "the console tail does not show the panic" "$tmp/panic.log" grep -q 'Kernel panic' "$tmp/panic.log"

# 5. /out comes back byte for byte: a host file passed in with --file and copied out, a file made
#    inside the VM, a directory name with a space; --bin brings a dynamically linked host tool.
head -c 3145728 /dev/urandom >"$tmp/random.bin"
printf 'line 1\nline 2 \xc3\xa9\n\ttab\r\nno newline' >"$tmp/text.txt"
"$run" --quiet --no-keepalived --out "$tmp/rt" --bin /usr/bin/b2sum --file "$tmp/random.bin:/in/random.bin" \
    --file "$tmp/text.txt:/in/text.txt" "$tmp/roundtrip.sh" >"$tmp/rt.log" 2>&1
rc=$?
check roundtrip-status "expected exit 0, got $rc" "$tmp/rt.log" test "$rc" -eq 0
check roundtrip-binary "files/copy.bin differs from the file sent in" "$tmp/rt.log" \
    cmp -s "$tmp/random.bin" "$tmp/rt/files/copy.bin"
check roundtrip-text "files/dir with space/text.txt differs" "$tmp/rt.log" \
    cmp -s "$tmp/text.txt" "$tmp/rt/files/dir with space/text.txt"
check roundtrip-made-inside "the b2sum computed in the VM does not match the file that came back" "$tmp/rt.log" \
    test "$(b2sum "$tmp/rt/files/made-inside.bin" 2>/dev/null | cut -d' ' -f1)" = "$(cat "$tmp/rt/files/made-inside.b2" 2>/dev/null)"
check bin-with-libraries "the --bin b2sum did not run in the VM or disagrees with the host" "$tmp/rt/output.log" \
    grep -qx "$(b2sum "$tmp/random.bin" | cut -d' ' -f1)" "$tmp/rt/output.log"

# 6. The smoke scenario: IPVS rules of every kind and real direct-routing traffic.
t0=$(now)
"$run" --quiet --out "$tmp/smoke" "$here/scenarios/smoke.sh" >"$tmp/smoke.log" 2>&1
rc=$?
t1=$(now)
check smoke "exit $rc after $(secs "$t0" "$t1") s" "$tmp/smoke/output.log" test "$rc" -eq 0
check smoke-summary "no 'lab: N passed, 0 failed' line" "$tmp/smoke/output.log" \
    grep -Eq '^lab: [1-9][0-9]* passed, 0 failed$' "$tmp/smoke/output.log"
check smoke-out-file "files/smoke/director.txt missing" "$tmp/smoke.log" test -s "$tmp/smoke/files/smoke/director.txt"
echo "# smoke: $(tail -n 1 "$tmp/smoke/output.log" 2>/dev/null) in $(secs "$t0" "$t1") s"

# 3 (end). The timeout run.
wait "$bg"
bg=""
read -r rc took <"$tmp/forever.result" 2>/dev/null || { rc=none took=0; }
check timeout-status "expected exit 124, got $rc" "$tmp/forever.log" test "$rc" = 124
check timeout-prompt "took $took s with --timeout 20" "$tmp/forever.log" lt "$took" 26
check timeout-console-tail "no console tail printed" "$tmp/forever.log" \
    eval "grep -q 'last 50 console lines' '$tmp/forever.log' && grep -q 'sleeping forever' '$tmp/forever.log'"
check no-stray-qemu "a qemu of these runs is still running" "" \
    eval "! pgrep -f 'qemu-system-x86_64.*$tmp' >/dev/null"

echo "lab-selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
