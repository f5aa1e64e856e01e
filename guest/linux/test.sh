#!/bin/sh
# The guest side of tests/linux/*.sh, run by /etc/main when the cmdline
# names checks: kvmini.test=basic,blk,... Each check prints "GUEST ok NAME"
# or "GUEST FAIL NAME"; the host reads them from the serial log. Then the
# guest ends as kvmini.end= says: poweroff (default), reboot, or wait.
arg() { sed -n "s/.*kvmini\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ok() { echo "GUEST ok $1"; }
bad() { echo "GUEST FAIL $1${2:+: $2}"; }
# check NAME CMD...: a check may take 5 minutes at most; its name is on
# the console first, so that a hang names it.
check() {
	name=$1
	shift
	echo "GUEST run $name"
	if timeout 300 "$@" >/tmp/check.log 2>&1; then ok "$name"; else bad "$name" "$(tail -1 /tmp/check.log)"; fi
}
# The block device (vda, ...) whose serial is $1.
disk() {
	for d in /sys/block/vd*; do
		[ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && basename "$d"
	done
}
# The busy time of CPU $1 in clock ticks, from /proc/stat.
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 }' /proc/stat; }
idle_ticks() { awk -v c="cpu$1" '$1 == c { print $5 + $6 }' /proc/stat; }

t_basic() {
	check nproc test "$(nproc)" = "$(arg cpus)"
	check proc-mounted grep -q ' /proc proc' /proc/mounts
	check sysfs-mounted grep -q ' /sys sysfs' /proc/mounts
	# Every CPU runs a busy loop: while it runs, each CPU is busy far more
	# than idle (time the host takes away counts as steal, not idle).
	cpus=$(seq 0 $(($(nproc) - 1)))
	for c in $cpus; do eval "b0_$c=$(cpu_ticks $c) i0_$c=$(idle_ticks $c)"; done
	for c in $cpus; do
		taskset -c $c sh -c 'end=$(($(date +%s) + 3)); while [ $(date +%s) -lt $end ]; do :; done' &
	done
	wait
	busy=ok
	for c in $cpus; do
		b=$(($(cpu_ticks $c) - $(eval echo \$b0_$c))) i=$(($(idle_ticks $c) - $(eval echo \$i0_$c)))
		[ $b -ge 5 ] && [ $b -gt $((2 * i)) ] || busy="cpu$c: $b busy, $i idle ticks"
	done
	check every-cpu-runs-a-busy-loop sh -c "echo '$busy'; test '$busy' = ok"
}

t_blk() {
	dev=/dev/$(disk $(arg scratch))
	check blk-mkfs-ext4 /sbin/mkfs.ext4 -q -F "$dev"
	mkdir -p /mnt/scratch
	check blk-mount mount -t ext4 "$dev" /mnt/scratch
	check blk-write-64MiB sh -c 'pattern 64 >/mnt/scratch/pattern' 
	check blk-sync sync
	check blk-umount umount /mnt/scratch
	ro=/dev/$(disk $(arg rodisk))
	check blk-ro-flag test "$(blockdev --getro "$ro")" = 1
	check blk-ro-refuses-writes sh -c "! dd if=/dev/zero of=$ro bs=4096 count=1 oflag=direct 2>/dev/null"
	check blk-ro-reads dd if="$ro" of=/dev/null bs=4096 count=16
}

t_rng() {
	check hwrng-bytes test "$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c)" = 32
	check hwrng-is-virtio grep -q virtio /sys/class/misc/hw_random/rng_current
}

# The host peer (tests/linux/peer.py) answers each READY line.
t_net() {
	# busybox udhcpc waits forever on an interface that is down
	ip link set eth0 up
	check net-dhcp udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script
	ip=$(ip -4 addr show dev eth0 | awk '$1 == "inet" { sub("/.*", "", $2); print $2 }')
	check net-ping-host ping -c 3 -W 5 172.30.0.1
	nc -l -p 5000 | sha256sum >/tmp/net-in &
	echo "GUEST READY net $ip"
	wait
	echo "GUEST sha net-in $(cut -d' ' -f1 /tmp/net-in)"
	check net-send-64MiB sh -c 'pattern 64 | nc 172.30.0.1 5001'
}

t_vsock() {
	vsock-pipe listen 5200 | sha256sum >/tmp/vsock-in &
	sleep 1
	echo "GUEST READY vsock"
	wait
	echo "GUEST sha vsock-in $(cut -d' ' -f1 /tmp/vsock-in)"
	check vsock-send-16MiB sh -c 'pattern 16 | vsock-pipe connect 2 5100'
}

# The virtio device (virtioN) that driver $1 drives, or the one behind
# block device $2.
virtio_dev() {
	if [ -n "$2" ]; then
		basename "$(readlink -f /sys/block/$2/device)"
		return
	fi
	for d in /sys/bus/virtio/drivers/$1/virtio*; do basename "$d"; done | head -1
}
# sh -c "$rebind" rebind DRIVER DEVICE: unbind and bind again, as a hostile
# guest may. A script, not a function: check runs it under timeout.
rebind='echo "$2" >/sys/bus/virtio/drivers/$1/unbind && echo "$2" >/sys/bus/virtio/drivers/$1/bind'

# Unbinding a driver resets its device: while I/O runs, kvmini must drop
# that device's work and live on, and the device must work after a rebind.
t_unbind() {
	scratch=$(disk $(arg scratch))
	dev=$(virtio_dev virtio_blk $scratch)
	dd if=/dev/zero of=/dev/$scratch bs=64k count=8192 oflag=direct 2>/dev/null &
	sleep 1
	check unbind-blk-during-dd sh -c "$rebind" rebind virtio_blk "$dev"
	wait
	sleep 1
	scratch=$(disk $(arg scratch))
	pattern 4 >/tmp/p4
	check unbind-blk-works-after-rebind sh -c "dd if=/tmp/p4 of=/dev/$scratch bs=1M oflag=direct &&
		dd if=/dev/$scratch of=/tmp/back bs=1M count=4 iflag=direct && cmp /tmp/p4 /tmp/back"

	pattern 16 | vsock-pipe connect 2 5100 >/dev/null 2>&1 &
	sleep 1
	check unbind-vsock-with-open-connection sh -c "$rebind" rebind vmw_vsock_virtio_transport \
		"$(virtio_dev vmw_vsock_virtio_transport)"
	wait
	check unbind-vsock-works-after-rebind sh -c 'pattern 1 | vsock-pipe connect 2 5101'

	ip link set eth0 up
	udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1
	pattern 64 | nc 172.30.0.1 5002 >/dev/null 2>&1 &
	sleep 1
	check unbind-net-during-transfer sh -c "$rebind" rebind virtio_net "$(virtio_dev virtio_net)"
	kill $! 2>/dev/null
	sleep 1
	ip link set eth0 up
	check unbind-net-dhcp-after-rebind udhcpc -i eth0 -n -q -t 10 -T 2 -s /usr/share/udhcpc/default.script
	check unbind-net-ping-after-rebind ping -c 3 -W 5 172.30.0.1
	check unbind-rng-still-works test "$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c)" = 32
}

# A counter for pause/resume: one line every 0.2 s, forever.
t_tick() {
	i=0
	while :; do echo "GUEST tick $i"; i=$((i + 1)); usleep 200000; done
}

for t in $(arg test | tr , ' '); do
	case "$t" in
	basic | blk | rng | net | vsock | unbind | tick) "t_$t" ;;
	*) bad "$t" "no such guest test" ;;
	esac
done
echo "GUEST done"
case "$(arg end)" in
reboot) reboot -f ;;
wait) exec sleep 2147483647 ;;
*) poweroff -f ;;
esac
