# Test helpers, sourced by tests/run.sh. Every test ends in exactly one of
# pass, fail or skip; a skip is printed loudly so it is never mistaken for
# a pass.
passed=0
failed=0
skipped=0
WORK=$(mktemp -d /tmp/kvmini-tests.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

pass() {
	passed=$((passed + 1))
	printf 'PASS %s\n' "$1"
}

# fail NAME WHY [LOG...]: shows the tail of each log.
fail() {
	local name=$1 why=$2 log
	shift 2
	failed=$((failed + 1))
	printf 'FAIL %s: %s\n' "$name" "$why"
	for log in "$@"; do
		[ -s "$log" ] && tail -n 15 "$log" | sed 's/^/    | /'
	done
}

skip() {
	skipped=$((skipped + 1))
	printf 'SKIP %s: %s   <<<<<<<<<<<<<<<< NOT RUN\n' "$1" "$2"
}

# KVM tests are the heart of the suite: they run on hardware KVM or in the
# test bed, so a missing KVM is a failure, never a skip.
need_kvm() {
	if ! scripts/kvm-usable; then
		fail "$1" "$(scripts/kvm-usable --why) (KVMINI_BED=never?)"
		return 1
	fi
}

need_qemu() {
	if ! command -v qemu-system-x86_64 >/dev/null; then
		skip "$1" "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
		return 1
	fi
}

# run_vmm OUT ERR SECONDS CMD...: runs with a hard timeout, sets $rc.
run_vmm() {
	local out=$1 err=$2 secs=$3
	shift 3
	timeout -k 5 "$secs" "$@" <"${VMM_STDIN:-/dev/null}" >"$out" 2>"$err"
	rc=$?
}

# run_then_term SECONDS OUT ERR CMD...: runs CMD in the background, sends
# SIGTERM after SECONDS and sets $rc, or rc=hung if it outlives 5 s more.
run_then_term() {
	local secs=$1 out=$2 err=$3 pid
	shift 3
	"$@" </dev/null >"$out" 2>"$err" &
	pid=$!
	sleep "$secs"
	kill -TERM $pid 2>/dev/null
	for _ in $(seq 50); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid
		wait $pid
		rc=hung
	else
		wait $pid
		rc=$?
	fi
}

# The tail token proves the cmdline arrived whole.
probe_cmdline() {
	echo "$* probe.end=1"
}

# check_probe NAME OUT ERR EXPECTED_RC: a probe run passed every check.
check_probe() {
	local name=$1 out=$2 err=$3 want=$4
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail "$name" "hung (killed by timeout)" "$out" "$err"
	elif [ "$rc" != "$want" ]; then
		fail "$name" "exit status $rc, expected $want" "$out" "$err"
	elif ! grep -q '^PROBE RESULT pass' "$out" || grep -q '^PROBE FAIL' "$out"; then
		fail "$name" "probe checks failed" "$out"
	else
		return 0
	fi
	return 1
}

fnv1a() {
	python3 -c 'import sys
h = 2166136261
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%x" % h)' "$1"
}

# A random initrd and the probe argument that names its length and hash.
initrd=$WORK/initrd.bin
head -c 70001 /dev/urandom >"$initrd"
initrd_arg="probe.initrd=70001:$(fnv1a "$initrd")"

# The guest kit (guest/build.sh): kernels, initramfs and root disk.
kit=$KVMINI_CACHE

# The sha256 of N MiB of the guest kit's test pattern (guest/linux/rootfs/
# bin/pattern): one MiB of the decimal numbers from 1, repeated.
pattern_sha() {
	[ -f "$WORK/pattern.mib" ] || seq 1 200000 | head -c 1048576 >"$WORK/pattern.mib"
	for ((i = 0; i < $1; i++)); do cat "$WORK/pattern.mib"; done | sha256sum | cut -d' ' -f1
}

# guest_checks NAME LOG: one result per "GUEST ok|FAIL CHECK" line of LOG,
# and a failure if the guest test script did not finish.
guest_checks() {
	local name=$1 log=$2 verdict check
	while read -r _ verdict check; do
		[ "$verdict" = ok ] && pass "$name: $check" || fail "$name: ${check%%:*}" "${check#*:}" "$log"
	done < <(grep -E '^GUEST (ok|FAIL) ' "$log" | tr -d '\r')
	grep -q '^GUEST done' "$log" || fail "$name" "the guest test script did not finish" "$log" "$log.err"
}

# wait_for_line FILE REGEX SECONDS: until a line of FILE matches.
wait_for_line() {
	local deadline=$((SECONDS + $3))
	until grep -q -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}
