# seccomp: every thread runs under its allow-list by default; a vCPU thread
# making a forbidden syscall (a test-build hook, port 0xf5) kills the VMM
# with SIGSYS, while --seccomp=log lets it run on.
name="seccomp: forbidden syscall on a vCPU thread -> SIGSYS"
if need_kvm "$name"; then
	if [ ! -x "${KVMINI_TESTHOOKS:-}" ]; then
		fail "$name" "no test-hooks build (KVMINI_TESTHOOKS)"
	else
		run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI_TESTHOOKS" run --debug-exit --seccomp kill \
			--kernel "$PROBES/probe.elf" --cmdline "$(probe_cmdline probe.seccomp-test=1)"
		# 128 + SIGSYS (31)
		[ "$rc" = 159 ] && pass "$name" || fail "$name" "exit status $rc, expected 159" "$WORK/err"
	fi
fi

name="seccomp=log: the same syscall is only logged"
if need_kvm "$name" && [ -x "${KVMINI_TESTHOOKS:-}" ]; then
	run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI_TESTHOOKS" run --debug-exit --seccomp log \
		--kernel "$PROBES/probe.elf" --cmdline "$(probe_cmdline probe.seccomp-test=1)"
	check_probe "$name" "$WORK/out" "$WORK/err" 1 && pass "$name"
fi

name="seccomp filters are installed on every thread"
if need_kvm "$name"; then
	"$KVMINI" run --debug-exit --cpus 2 --kernel "$PROBES/probe.elf" --rng \
		--cmdline "$(probe_cmdline probe.ring3=100000000000000)" </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 1
	unfiltered=$(grep -L '^Seccomp:[[:space:]]*2' /proc/$pid/task/*/status 2>/dev/null | wc -l)
	threads=$(ls /proc/$pid/task 2>/dev/null | wc -l)
	kill -TERM $pid
	wait $pid
	if [ "$threads" -ge 4 ] && [ "$unfiltered" = 0 ]; then
		pass "$name ($threads threads in filter mode)"
	else
		fail "$name" "$unfiltered of $threads threads unfiltered"
	fi
fi

# The debug-exit port is for test guests only: without --debug-exit, a guest
# write to port 0xf4 must not choose kvmini's exit status (it did: 129-255
# read as "destroyed" to the manager). The write is logged and ignored, and
# the probe, which then reports "still running", stays up until SIGTERM.
name="debug-exit: off by default, the guest cannot choose the exit status"
if need_kvm "$name"; then
	run_then_term 8 "$WORK/out" "$WORK/err" "$KVMINI" run --kernel "$PROBES/probe.elf" \
		--cmdline "$(probe_cmdline)"
	if [ "$rc" != 143 ]; then
		fail "$name" "exit status $rc, expected 143 (SIGTERM): did the guest end it?" \
			"$WORK/err"
	elif ! grep -q 'debug-exit: the guest wrote 0x0 to port 0xf4; ignored' "$WORK/err"; then
		fail "$name" "no log line for the ignored write" "$WORK/err"
	elif ! grep -q 'still running after the exit request' "$WORK/out"; then
		fail "$name" "the probe did not report running on" "$WORK/out"
	else
		pass "$name"
	fi
fi

# A guest writing to its serial port without end must not fill the host's
# disk: output to a regular file is cut down to its last half past
# --console-max (the file grew without bound). 2048 lines of 64 bytes
# against a 16 KiB cap: only the end survives, with a count of the rest.
name="console: a flooding guest cannot grow the log past --console-max"
if need_kvm "$name"; then
	run_vmm "$WORK/out" "$WORK/err" 120 "$KVMINI" run --debug-exit --console-max 16K \
		--kernel "$PROBES/probe.elf" --cmdline "$(probe_cmdline probe.flood=2048)"
	size=$(stat -c %s "$WORK/out")
	if ! check_probe "$name" "$WORK/out" "$WORK/err" 1; then
		:
	elif [ "$size" -gt 32768 ]; then
		fail "$name" "the log is $size bytes, over twice the 16 KiB cap"
	elif grep -q 'PROBE flood 00000000 ' "$WORK/out" || ! grep -q 'PROBE flood 00002047 ' "$WORK/out"; then
		fail "$name" "the log does not hold just the end of the flood" "$WORK/out"
	elif ! dropped=$(grep -o '\[kvmini: [0-9]* bytes of console output dropped' "$WORK/out" |
		tail -1 | grep -o '[0-9]*') || [ "$dropped" -lt 65536 ]; then
		fail "$name" "no count, or too small a count, of dropped bytes (${dropped:-none})" "$WORK/out"
	else
		pass "$name ($size bytes kept, $dropped dropped)"
	fi
fi

# One seccomp list per thread role, each narrow: blk has no sockets, vsock
# only AF_UNIX ones, net and rng none; no thread may map executable memory
# once its list is in; the builder's sockets are AF_UNIX and AF_INET only.
# A test-build hook (KVMINI_TEST_SECCOMP=ROLE) makes the role's thread try
# a call its list forbids: the VMM must die of SIGSYS (each was allowed).
seccomp_role_args() { # ROLE: the options that give the role a thread
	case $1 in
	blk) truncate -s 1M "$WORK/sc.img" && echo "--disk path=$WORK/sc.img" ;;
	net) echo "--net tap=tapsc0" ;;
	rng) echo "--rng" ;;
	vsock) echo "--vsock cid=3,uds=$WORK/sc.vsock" ;;
	api) rm -f "$WORK/sc.api" && echo "--api-sock $WORK/sc.api" ;;
	esac
}
for role in builder main blk net rng vsock api; do
	name="seccomp: a call outside the $role thread's list is killed"
	need_kvm "$name" || continue
	if [ ! -x "${KVMINI_TESTHOOKS:-}" ]; then
		fail "$name" "no test-hooks build (KVMINI_TESTHOOKS)"
		continue
	fi
	# shellcheck disable=SC2046 # the options split on purpose
	KVMINI_TEST_SECCOMP=$role run_vmm "$WORK/out" "$WORK/err" 30 unshare --net \
		"$KVMINI_TESTHOOKS" run --seccomp kill --kernel "$PROBES/probe.elf" \
		$(seccomp_role_args $role) --cmdline "$(probe_cmdline probe.exit=poweroff)"
	[ "$rc" = 159 ] && pass "$name" || fail "$name" "exit status $rc, expected 159 (SIGSYS)" "$WORK/err"
done
