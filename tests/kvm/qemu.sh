# Differential test: the same probe under QEMU microvm must pass the same
# checks as under kvmini. QEMU's isa-debug-exit gives the same statuses.
qemu_probe() {
	local cpus=$1 out=$2 err=$3
	shift 3
	run_vmm "$out" "$err" 120 qemu-system-x86_64 -M microvm,accel=kvm -smp "$cpus" -m 128 \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@"
}

check_names() {
	grep -o '^PROBE ok [a-z0-9-]*' "$1" | sort
}

for cpus in 1 2 4; do
	# The 2-CPU round boots the ELF32 form of the probe on both.
	kernel=$PROBES/probe.elf
	[ $cpus = 2 ] && kernel=$PROBES/probe.elf32
	name="qemu differential ${cpus}cpu ($(basename "$kernel"))"
	need_kvm "$name" || continue
	need_qemu "$name" || continue
	cmdline=$(probe_cmdline probe.cpus=$cpus probe.mem=128 "$initrd_arg")
	qemu_probe $cpus "$WORK/qout" "$WORK/qerr" -kernel "$kernel" \
		-initrd "$initrd" -append "$cmdline"
	check_probe "$name (qemu)" "$WORK/qout" "$WORK/qerr" 1 || continue
	run_vmm "$WORK/out" "$WORK/err" 120 "$KVMINI" run --debug-exit --kernel "$kernel" \
		--initrd "$initrd" --cpus $cpus --memory 128M --cmdline "$cmdline"
	check_probe "$name (kvmini)" "$WORK/out" "$WORK/err" 1 || continue
	if ! diff <(check_names "$WORK/qout") <(check_names "$WORK/out") >"$WORK/diff"; then
		fail "$name" "kvmini and QEMU passed different checks" "$WORK/diff"
	else
		pass "$name ($(check_names "$WORK/out" | wc -l) checks on both)"
	fi
done

# Power-off and reboot through the ACPI registers the FADT names.
for action in poweroff:0 reboot:0; do
	name="qemu differential exit ${action%:*}"
	need_kvm "$name" || continue
	need_qemu "$name" || continue
	qemu_probe 1 "$WORK/qout" "$WORK/qerr" -kernel "$PROBES/probe.elf" \
		-append "$(probe_cmdline probe.exit=${action%:*})"
	check_probe "$name" "$WORK/qout" "$WORK/qerr" "${action#*:}" && pass "$name"
done
