# Probe guests under kvmini: every boot path (PVH from ELF64 and ELF32, and
# bzImage), 1, 2 and 4 vCPUs, with an initrd; every check the probe makes
# must pass (exit status 1 is the test device's "pass").
for format in elf elf32 bzImage; do
	for cpus in 1 2 4; do
		name="probe $format ${cpus}cpu"
		need_kvm "$name" || continue
		cmdline=$(probe_cmdline probe.cpus=$cpus probe.mem=128 "$initrd_arg")
		run_vmm "$WORK/out" "$WORK/err" 120 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.$format" \
			--initrd "$initrd" --cpus $cpus --memory 128M --cmdline "$cmdline"
		check_probe "$name" "$WORK/out" "$WORK/err" 1 || continue
		if ! grep -qF "PROBE ok cmdline: [$cmdline]" "$WORK/out"; then
			fail "$name" "cmdline did not arrive intact" "$WORK/out"
		elif ! grep -q "PROBE ok smp: $((cpus - 1)) of $((cpus - 1)) APs" "$WORK/out" &&
			[ $cpus -gt 1 ]; then
			fail "$name" "not every AP reported in" "$WORK/out"
		elif ! grep -qE 'boot marker: [0-9.]+ ms since start' "$WORK/err"; then
			fail "$name" "no boot marker line" "$WORK/err"
		else
			pass "$name"
		fi
	done
done

# RAM above the 32-bit hole: the map must put the rest at 4 GiB.
name="probe memory above 4 GiB"
if need_kvm "$name"; then
	run_vmm "$WORK/out" "$WORK/err" 120 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" \
		--memory 3200M --cmdline "$(probe_cmdline probe.mem=3200)"
	if check_probe "$name" "$WORK/out" "$WORK/err" 1; then
		if grep -q 'memory-map: \[0x100000000, 0x108000000) type 1' "$WORK/out"; then
			pass "$name"
		else
			fail "$name" "no RAM range at 4 GiB" "$WORK/out"
		fi
	fi
fi
