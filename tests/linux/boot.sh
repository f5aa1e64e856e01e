# Linux at kernel level: the minimal kernel from Debian's linux-source-6.1
# (guest/build.sh) boots under kvmini with 2 vCPUs and its own drivers.
# On an emulating KVM host (kvm_pvm) it cannot run userspace, so the run
# ends after "Run /init" in a KVM internal error that kvmini must report
# and exit on; on hardware KVM the tiny /init powers the VM off.
kit=$(guest/build.sh path)
emulated_cmdline="noxsave clearcpuid=popcnt,smap no_int3_selftest"

linux_boot() {
	local label=$1 kernel=$2 log=$WORK/linux-$1.log cmdline want_rc start secs
	cmdline="console=ttyS0 panic=-1"
	want_rc=0
	if [ -e /sys/module/kvm_pvm ]; then
		cmdline="$cmdline $emulated_cmdline reboot=t"
		want_rc=10
	fi
	start=$(date +%s.%N)
	run_vmm "$log" "$log.err" 400 "$KVMINI" run --cpus 2 --memory 256M --kernel "$kernel" \
		--initrd "$kit/tiny-initramfs.cpio" --cmdline "$cmdline"
	secs=$(echo "$(date +%s.%N) - $start" | bc)

	# name:pattern pairs, each asserted on the serial log
	local checks=(
		"both CPUs came up:smp: Brought up 1 node, 2 CPUs"
		"ACPI interpreter enabled:ACPI: Interpreter enabled"
		"ACPI power-off (S5) found:ACPI: PM: \(supports S0 S5\)"
		"ttyS0 enumerated from the DSDT:00:00: ttyS0 at I/O 0x3f8"
		"reached Run /init:Run /init as init process"
	)
	local c
	for c in "${checks[@]}"; do
		if grep -qE -e "${c#*:}" "$log"; then
			pass "linux $label: ${c%%:*}"
		else
			fail "linux $label: ${c%%:*}" "no /${c#*:}/ in the serial log" "$log" "$log.err"
		fi
	done
	if grep -qE 'Firmware Bug|ACPI (BIOS )?(Error|Warning)|FW_BUG' "$log"; then
		fail "linux $label: no firmware-bug warnings" "see log" \
			<(grep -E 'Firmware Bug|ACPI (BIOS )?(Error|Warning)' "$log")
	else
		pass "linux $label: no firmware-bug warnings"
	fi
	if [ "$rc" != "$want_rc" ]; then
		fail "linux $label: exit status" "$rc, expected $want_rc" "$log.err"
	elif [ $want_rc = 10 ] && ! grep -q 'KVM internal error.*suberror' "$log.err"; then
		fail "linux $label: exit status" "no crash report on stderr" "$log.err"
	elif [ $want_rc = 0 ] && ! grep -q 'kvmini tiny init: userspace runs' "$log"; then
		fail "linux $label: exit status" "init did not run" "$log"
	else
		pass "linux $label: exits with status $rc after init (${secs%.*} s)"
	fi
}

name="linux boot"
if need_kvm "$name"; then
	if [ ! -f "$kit/kernel-vmlinux" ] || [ ! -f "$kit/tiny-initramfs.cpio" ]; then
		fail "$name" "guest kit missing in $kit (make check builds it: guest/build.sh tiny-initramfs)"
	else
		linux_boot pvh "$kit/kernel-vmlinux"
	fi
fi
