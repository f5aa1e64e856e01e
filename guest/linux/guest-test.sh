#!/bin/sh
# Full-userspace checks, run by /init when the cmdline carries kvmini.test=1.
# Each line "GUEST ok|FAIL name" is read by tests/linux/userspace.sh.
check() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then echo "GUEST ok $name"; else echo "GUEST FAIL $name"; fi
}
want=$(sed -n 's/.*kvmini.cpus=\([0-9]*\).*/\1/p' /proc/cmdline)
check nproc test "$(nproc)" = "${want:-1}"
check proc-mounted grep -q ' /proc proc' /proc/mounts
check sysfs-mounted grep -q ' /sys sysfs' /proc/mounts
if grep -q kvmini.scratch=vda /proc/cmdline; then
	# A scratch disk: write 1 MiB, sync, drop caches, read it back.
	dd if=/dev/urandom of=/tmp/pattern bs=4096 count=256 2>/dev/null
	check vda-write dd if=/tmp/pattern of=/dev/vda bs=4096 count=256 conv=fsync
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/vda of=/tmp/back bs=4096 count=256 2>/dev/null
	check vda-readback cmp /tmp/pattern /tmp/back
fi
if [ -e /dev/hwrng ]; then
	check hwrng test "$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c)" = 32
fi
echo "GUEST done"
