# Full userspace: busybox init runs guest/linux/guest-test.sh (nproc,
# mounts, dd and sync on a scratch /dev/vda, /dev/hwrng), which prints
# "GUEST ok|FAIL name" lines, then powers off. The bzImage boot path is
# used here, the PVH path by tests/linux/boot.sh. Needs hardware KVM: an
# emulating backend (kvm_pvm) cannot run an unmodified guest's userspace.
userspace_boot() { # LABEL KERNEL INITRD
	local label=$1 log=$WORK/userspace-$1.log
	rm -f "$WORK/scratch.img"
	truncate -s 8M "$WORK/scratch.img"
	run_vmm "$log" "$log.err" 300 "$KVMINI" run --cpus 2 --memory 512M \
		--kernel "$2" --initrd "$3" --disk "path=$WORK/scratch.img" --rng \
		--cmdline "console=ttyS0 panic=-1 kvmini.test=1 kvmini.cpus=2 kvmini.scratch=vda"
	if [ "$rc" != 0 ]; then
		fail "linux userspace $label" "exit status $rc, expected 0 (poweroff)" "$log" "$log.err"
	elif ! grep -q '^GUEST done' "$log"; then
		fail "linux userspace $label" "the guest test script did not finish" "$log"
	else
		while read -r _ verdict check; do
			[ "$verdict" = ok ] && pass "linux userspace $label: $check" ||
				fail "linux userspace $label: $check" "failed inside the guest" "$log"
		done < <(grep -E '^GUEST (ok|FAIL) ' "$log" | tr -d '\r')
	fi
}

for label in minimal cloud; do
name="linux userspace ($label kernel, busybox init)"
if need_kvm "$name"; then
	if [ -e /sys/module/kvm_pvm ]; then
		skip "$name" "this host's KVM is kvm_pvm (emulated ring 0, no userspace); runs on hardware KVM"
	elif [ $label = minimal ] && [ -f "$kit/initramfs.cpio.gz" ]; then
		userspace_boot minimal "$kit/kernel-bzImage" "$kit/initramfs.cpio.gz"
	elif [ $label = cloud ] && [ -f "$kit/cloud/initramfs.cpio.gz" ]; then
		userspace_boot cloud "$kit/cloud/vmlinuz" "$kit/cloud/initramfs.cpio.gz"
	else
		fail "$name" "guest kit missing in $kit (guest/build.sh all)"
	fi
fi
done
