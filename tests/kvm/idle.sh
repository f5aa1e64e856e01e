# A device the guest does not drive must leave its I/O thread idle: frames
# arriving on the tap, and a host connection to the vsock socket, before
# the driver's DRIVER_OK. (The I/O threads once spun at 100% CPU on both:
# their polls are level-triggered and were left on.)
endless=$(probe_cmdline probe.ring3=100000000000000)

# thread_cpu PID COMM SECONDS: the thread's CPU use over SECONDS, in percent.
thread_cpu() {
	local stat t0 t1
	stat=$(grep -lx "$2" /proc/"$1"/task/*/comm | head -1)
	stat=${stat%/comm}/stat
	t0=$(awk '{ print $14 + $15 }' "$stat")
	sleep "$3"
	t1=$(awk '{ print $14 + $15 }' "$stat")
	echo $(((t1 - t0) * 100 / ($3 * $(getconf CLK_TCK))))
}

name="idle devices: I/O threads stay under 5% CPU with tap frames and a vsock client before DRIVER_OK"
if need_kvm "$name"; then
	export -f thread_cpu
	unshare --net bash -c '
		ip link set lo up
		"$0" run --kernel "$1" --net tap=tap0 --vsock "cid=3,uds=$2" --cmdline "$3" \
			</dev/null >/dev/null 2>&1 &
		vmm=$!
		sleep 1
		ip addr add 172.31.0.1/24 dev tap0 && ip link set tap0 up
		ping -c 3 -i 0.2 -W 1 172.31.0.2 >/dev/null 2>&1 # ARP requests into the tap
		python3 -c "import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b\"CONNECT 52\n\"); time.sleep(6)" "$2" &
		sleep 0.5
		echo "net $(thread_cpu $vmm io-net 2) vsock $(thread_cpu $vmm io-vsock 2)"
		kill $vmm
		wait' "$KVMINI" "$PROBES/probe.elf" "$WORK/idle.vsock" "$endless" >"$WORK/idle.out" 2>&1
	read -r _ net _ vsock <"$WORK/idle.out"
	if [ -n "$net" ] && [ -n "$vsock" ] && [ "$net" -lt 5 ] && [ "$vsock" -lt 5 ]; then
		pass "$name (net ${net}%, vsock ${vsock}%)"
	else
		fail "$name" "io-net ${net:-?}%, io-vsock ${vsock:-?}%" "$WORK/idle.out"
	fi
fi
