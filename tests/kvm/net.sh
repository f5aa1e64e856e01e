# virtio-net: the probe's driver against a tap in a private network
# namespace (tests/netns.sh: host side 172.30.0.1, MTU 9000), under kvmini
# and QEMU microvm; an RX flood while the guest withholds buffers; hostile
# TX frames; the tap deleted under a running guest.
net_args="probe.mem=128 probe.virtio=1 probe.net-mtu=9000"

net_run() { # OUT ERR FLOOD VMM-ARGV...
	local out=$1 err=$2 flood=$3
	shift 3
	run_vmm "$out" "$err" 120 unshare --net tests/netns.sh "$WORK/leases" \
		tests/net_probe.py "$flood" "$@"
}

need_netns() {
	if ! unshare --net true 2>/dev/null; then
		skip "$1" "cannot create a network namespace (needs root or CAP_SYS_ADMIN)"
		return 1
	fi
}

name="virtio-net probe: arp, ping, jumbo/MRG, csum offload, RX flood, hostile TX"
if need_kvm "$name" && need_netns "$name"; then
	net_run "$WORK/out" "$WORK/err" 20000 "$KVMINI" run --debug-exit --memory 128M \
		--kernel "$PROBES/probe.elf" --net tap=tap0 \
		--cmdline "$(probe_cmdline $net_args probe.net-evil=1)"
	if check_probe "$name" "$WORK/out" "$WORK/err" 1; then
		pass "$name ($(grep -c '^PROBE ok virtio-net' "$WORK/out") checks)"
	fi
	cp "$WORK/out" "$WORK/kvmini-net.out"
fi

name="virtio-net qemu differential"
if need_kvm "$name" && need_qemu "$name" && need_netns "$name"; then
	net_run "$WORK/qout" "$WORK/qerr" 20000 qemu-system-x86_64 -M microvm,accel=kvm -m 128 \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -global virtio-mmio.force-legacy=false \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
		-device virtio-net-device,netdev=n0,host_mtu=9000 \
		-kernel "$PROBES/probe.elf" -append "$(probe_cmdline $net_args)"
	if check_probe "$name" "$WORK/qout" "$WORK/qerr" 1; then
		names() { grep -o '^PROBE ok virtio-net-[a-z0-9-]*' "$1" | grep -v malformed | sort; }
		if diff <(names "$WORK/qout") <(names "$WORK/kvmini-net.out") >"$WORK/diff"; then
			pass "$name ($(names "$WORK/qout" | wc -l) virtio-net checks on both)"
		else
			fail "$name" "kvmini and QEMU passed different checks" "$WORK/diff"
		fi
	fi
fi

name="virtio-net: tap deleted under a running guest -> link down, VMM lives"
if need_kvm "$name" && need_netns "$name"; then
	net_run "$WORK/out" "$WORK/err" -1 "$KVMINI" run --debug-exit --memory 128M \
		--kernel "$PROBES/probe.elf" --net tap=tap0 \
		--cmdline "$(probe_cmdline $net_args probe.net-down=1)"
	if check_probe "$name" "$WORK/out" "$WORK/err" 1; then
		if grep -q 'link is down' "$WORK/err"; then
			pass "$name"
		else
			fail "$name" "kvmini did not log the link going down" "$WORK/err"
		fi
	fi
fi

name="bad input: --net with a malformed spec"
run_vmm "$WORK/out" "$WORK/err" 10 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" \
	--net tap=x,mac=01:00:00:00:00:01
if [ "$rc" = 2 ] && grep -q "guest_mac' is not a unicast MAC address" "$WORK/err"; then
	pass "$name"
else
	fail "$name" "exit status $rc" "$WORK/err"
fi
