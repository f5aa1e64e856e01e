#!/bin/sh
# Full-userspace checks, run by /init when the cmdline carries kvmini.test=1.
# Each line "GUEST ok|FAIL name" is read by tests/linux/userspace.sh.
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "GUEST ok $name"; else echo "GUEST FAIL $name"; fi; }
want=$(sed -n 's/.*kvmini.cpus=\([0-9]*\).*/\1/p' /proc/cmdline)
check nproc test "$(nproc)" = "${want:-1}"
check proc-mounted grep -q ' /proc proc' /proc/mounts
check sysfs-mounted grep -q ' /sys sysfs' /proc/mounts
echo "GUEST done"
