# seccomp: every thread runs under its allow-list by default; a vCPU thread
# making a forbidden syscall (a test-build hook, port 0xf5) kills the VMM
# with SIGSYS, while --seccomp=log lets it run on.
name="seccomp: forbidden syscall on a vCPU thread -> SIGSYS"
if need_kvm "$name"; then
	if [ ! -x "${KVMINI_TESTHOOKS:-}" ]; then
		fail "$name" "no test-hooks build (KVMINI_TESTHOOKS)"
	else
		run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI_TESTHOOKS" run --seccomp kill \
			--kernel "$PROBES/probe.elf" --cmdline "$(probe_cmdline probe.seccomp-test=1)"
		# 128 + SIGSYS (31)
		[ "$rc" = 159 ] && pass "$name" || fail "$name" "exit status $rc, expected 159" "$WORK/err"
	fi
fi

name="seccomp=log: the same syscall is only logged"
if need_kvm "$name" && [ -x "${KVMINI_TESTHOOKS:-}" ]; then
	run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI_TESTHOOKS" run --seccomp log \
		--kernel "$PROBES/probe.elf" --cmdline "$(probe_cmdline probe.seccomp-test=1)"
	check_probe "$name" "$WORK/out" "$WORK/err" 1 && pass "$name"
fi

name="seccomp filters are installed on every thread"
if need_kvm "$name"; then
	"$KVMINI" run --cpus 2 --kernel "$PROBES/probe.elf" --rng \
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
