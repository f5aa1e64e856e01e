# Each way a guest can end maps to its documented exit status.
for action in poweroff:0 reboot:8 kbd-reset:8 triple-fault:10; do
	name="exit ${action%:*} -> status ${action#*:}"
	need_kvm "$name" || continue
	run_vmm "$WORK/out" "$WORK/err" 60 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" \
		--cmdline "$(probe_cmdline probe.exit=${action%:*})"
	check_probe "$name" "$WORK/out" "$WORK/err" "${action#*:}" || continue
	if [ "${action%:*}" = triple-fault ] &&
		! grep -q 'triple fault.*exit reason 8' "$WORK/err"; then
		fail "$name" "no crash report" "$WORK/err"
	elif [ "${action%:*}" = triple-fault ] && grep -q AuthenticAMD /proc/cpuinfo &&
		! grep -q 'registers lost: KVM reset the vCPU' "$WORK/err"; then
		# AMD: KVM resets the vCPU on a shutdown intercept; no register may be claimed.
		fail "$name" "the report shows registers that KVM reset on AMD" "$WORK/err"
	elif [ "${action%:*}" = triple-fault ] && ! grep -q AuthenticAMD /proc/cpuinfo &&
		! grep -q 'code at rip: 0f 0b' "$WORK/err"; then
		fail "$name" "crash report lacks the faulting instruction (ud2)" "$WORK/err"
	else
		pass "$name"
	fi
done

name="reboot=restart boots the guest again"
if need_kvm "$name"; then
	run_then_term 3 "$WORK/out" "$WORK/err" "$KVMINI" run --debug-exit --reboot restart \
		--kernel "$PROBES/probe.elf" --cmdline "$(probe_cmdline probe.exit=reboot)"
	boots=$(grep -c '^PROBE start' "$WORK/out")
	if [ "$boots" -ge 2 ] && [ "$rc" = 143 ]; then
		pass "$name ($boots boots in 3 s, then status 143 on SIGTERM)"
	else
		fail "$name" "$boots boots, exit status $rc" "$WORK/out" "$WORK/err"
	fi
fi

# A guest busy in ring 3 forever, to test how the host side ends it.
endless=$(probe_cmdline probe.ring3=100000000000000)

name="console escape Ctrl-A x quits"
if need_kvm "$name"; then
	mkfifo "$WORK/stdin"
	(sleep 1; printf 'hello\001x') >"$WORK/stdin" &
	VMM_STDIN=$WORK/stdin run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI" run --debug-exit \
		--kernel "$PROBES/probe.elf" --cmdline "$endless"
	wait
	rm -f "$WORK/stdin"
	[ "$rc" = 12 ] && pass "$name" || fail "$name" "exit status $rc, expected 12" "$WORK/err"
fi

name="SIGTERM ends a running guest"
if need_kvm "$name"; then
	run_then_term 1 "$WORK/out" "$WORK/err" "$KVMINI" run --debug-exit --cpus 2 \
		--kernel "$PROBES/probe.elf" --cmdline "$endless"
	[ "$rc" = 143 ] && pass "$name" || fail "$name" "exit status $rc, expected 143" "$WORK/err"
fi
