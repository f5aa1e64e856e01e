# Linux at kernel level: the minimal kernel from Debian's linux-source-6.1
# (guest/build.sh) boots under kvmini with 2 vCPUs, its root file system on
# virtio-blk and its crng seeded from virtio-rng, all by its own drivers;
# the guest's /init runs the guest test script and powers the VM off.

linux_boot() {
	local label=$1 kernel=$2 log=$WORK/linux-$1.log cmdline want_rc start secs sectors
	# A fresh copy each boot: a killed run leaves the journal dirty.
	cp "$kit/rootfs.ext4" "$WORK/root.ext4"
	sectors=$(($(stat -c %s "$WORK/root.ext4") / 512))
	cmdline="console=ttyS0 root=/dev/vda rootfstype=ext4 rw init=/init kvmini.test=basic"
	cmdline="$cmdline kvmini.cpus=2 panic=-1 ip=dhcp"
	want_rc=0
	start=$(date +%s.%N)
	rm -f "$WORK/leases"
	run_vmm "$log" "$log.err" 400 unshare --net tests/netns.sh "$WORK/leases" \
		"$KVMINI" run --cpus 2 --memory 256M --kernel "$kernel" \
		--disk "path=$WORK/root.ext4" --rng --net tap=tap0 --cmdline "$cmdline"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	local leased
	leased=$(awk '{ print $3 }' "$WORK/leases" 2>/dev/null | head -1)

	# name:pattern pairs, each asserted on the serial log
	local checks=(
		"both CPUs came up:smp: Brought up 1 node, 2 CPUs"
		"ACPI interpreter enabled:ACPI: Interpreter enabled"
		"ACPI power-off (S5) found:ACPI: PM: \(supports S0 S5\)"
		"ttyS0 enumerated from the DSDT:00:00: ttyS0 at I/O 0x3f8"
		"virtio-blk probed from the DSDT, vda has the disk's size:virtio_blk virtio[0-9]+: \[vda\] $sectors 512-byte logical blocks"
		"ext4 root mounted from vda:EXT4-fs \(vda\): mounted filesystem"
		"crng seeded before init:random: crng init done"
		"DHCP over virtio-net completed:IP-Config: Complete:"
		"eth0 got the address dnsmasq leased:device=eth0, hwaddr=[0-9a-f:]+, ipaddr=${leased:-no-lease},"
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
	if grep -qE 'Firmware Bug|ACPI (BIOS )?(Error|Warning)|FW_BUG|probe of .* failed' "$log"; then
		fail "linux $label: no firmware-bug warnings" "see log" \
			<(grep -E 'Firmware Bug|ACPI (BIOS )?(Error|Warning)' "$log")
	else
		pass "linux $label: no firmware-bug warnings"
	fi
	if [ "$rc" != "$want_rc" ]; then
		fail "linux $label: exit status" "$rc, expected $want_rc" "$log.err"
	elif ! grep -q '^GUEST done' "$log"; then
		fail "linux $label: exit status" "the guest test script did not finish" "$log"
	else
		pass "linux $label: exits with status $rc after init (${secs%.*} s)"
	fi
}

name="linux boot"
if need_kvm "$name"; then
	if [ ! -f "$kit/kernel-vmlinux" ] || [ ! -f "$kit/rootfs.ext4" ]; then
		fail "$name" "guest kit missing in $kit (make check builds it: guest/build.sh all)"
	else
		linux_boot pvh "$kit/kernel-vmlinux"
	fi
fi
