# The jail: namespaces, pivot_root into a per-VM directory holding only
# /dev/kvm, /dev/net/tun and the disks, uid/gid dropped before KVM_RUN. The
# probe drives its disk from inside; the host checks the VMM's view.
name="jail: uid dropped, only the jail visible, the guest's disk works"
if need_kvm "$name"; then
	if [ "$(id -u)" != 0 ]; then
		skip "$name" "needs root (namespaces, mknod, bind mounts)"
	else
		rm -rf "$WORK/jail" "$WORK/jd.img"
		truncate -s 4M "$WORK/jd.img"
		"$KVMINI" run --debug-exit --jail "$WORK/jail" --memory 128M --kernel "$PROBES/probe.elf" \
			--disk "path=$WORK/jd.img,id=probe-disk" \
			--cmdline "$(probe_cmdline probe.mem=128 probe.virtio=1 probe.disk-sectors=8192 \
				probe.disk-id=probe-disk probe.ring3=3000000000)" \
			</dev/null >"$WORK/out" 2>"$WORK/err" &
		outer=$!
		sleep 0.5
		inner=$(cat /proc/$outer/task/$outer/children 2>/dev/null | awk '{ print $1 }')
		uid=$(awk '/^Uid:/ { print $2 }' /proc/$inner/status 2>/dev/null)
		visible=$(ls /proc/$inner/root 2>/dev/null | tr '\n' ' ')
		wait $outer
		rc=$?
		if [ "$rc" != 1 ] || ! grep -q '^PROBE RESULT pass' "$WORK/out"; then
			fail "$name" "exit status $rc" "$WORK/out" "$WORK/err"
		elif [ "$uid" != 65534 ]; then
			fail "$name" "the jailed VMM runs as uid '$uid', not 65534"
		elif [ "$visible" != "dev disks " ]; then
			fail "$name" "the jail's / holds '$visible', not just dev and disks"
		else
			pass "$name (uid $uid, / = $visible)"
		fi
	fi
fi

# The disks are bound into the jail inside its own mount namespace. Where
# the host's / is shared (systemd makes it so), a bind made before / is
# cut off propagates back: the host gained one mount per disk and jail
# (it did). The run is in a namespace whose / is shared, as on such a host.
name="jail: the jail's bind mounts do not appear in the host's mount table"
if need_kvm "$name"; then
	rm -rf "$WORK/jail" "$WORK/jd.img"
	truncate -s 4M "$WORK/jd.img"
	unshare --mount --propagation shared bash -c '
		cat /proc/self/mountinfo >"$1/mounts.before"
		"$2" run --jail "$1/jail" --memory 128M --kernel "$3/probe.elf" \
			--disk "path=$1/jd.img,id=probe-disk" --cmdline "probe.exit=poweroff probe.end=1" \
			</dev/null >"$1/out" 2>"$1/err"
		echo "status $?" >"$1/jail.status"
		cat /proc/self/mountinfo >"$1/mounts.after"' _ "$WORK" "$KVMINI" "$PROBES"
	new=$(diff "$WORK/mounts.before" "$WORK/mounts.after" | grep -c '^>')
	if [ "$(cat "$WORK/jail.status")" != "status 0" ]; then
		fail "$name" "the jailed run: $(cat "$WORK/jail.status")" "$WORK/out" "$WORK/err"
	elif [ "$new" != 0 ]; then
		fail "$name" "$new new mounts" "$WORK/mounts.after"
	else
		pass "$name"
	fi
fi

# jail_bg DIR ARGS...: a jailed probe that ticks, in the background; sets
# $outer (the jailer) and $inner (the VMM, PID 1 of its namespace).
jail_bg() {
	local dir=$1
	shift
	"$KVMINI" run --jail "$dir" --memory 128M --kernel "$PROBES/probe.elf" "$@" \
		--cmdline "$(probe_cmdline probe.ticks=100000000)" </dev/null >"$WORK/out" 2>"$WORK/err" &
	outer=$!
	inner=""
	for _ in $(seq 50); do
		inner=$(cat /proc/$outer/task/$outer/children 2>/dev/null | awk '{ print $1 }')
		[ -n "$inner" ] && grep -q 'PROBE tick' "$WORK/out" && break
		sleep 0.1
	done
}
# jail_stop: SIGTERM to the jailer; a jailer that ignores it is killed.
jail_stop() {
	kill -TERM "$outer" 2>/dev/null
	gone_within "$outer" 50 || kill -9 "$outer" "$inner" 2>/dev/null
	wait "$outer"
}
gone_within() { # PID TENTHS
	for _ in $(seq "$2"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# The jail's setup runs as root. A symlink planted in the jail directory
# was followed: mknod, chown and open(O_CREAT) landed outside the jail.
name="jail: symlinks in the jail directory are refused, nothing outside is touched"
if need_kvm "$name"; then
	rm -rf "$WORK/jl" "$WORK/victim" "$WORK/made-by-root"
	mkdir -p "$WORK/jl/disks" "$WORK/victim"
	ln -s "$WORK/victim" "$WORK/jl/dev"
	run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI" run --jail "$WORK/jl" --kernel "$PROBES/probe.elf" \
		--cmdline "$(probe_cmdline probe.exit=poweroff)"
	dev_rc=$rc dev_err=$(cat "$WORK/err")
	rm "$WORK/jl/dev"
	ln -s "$WORK/made-by-root" "$WORK/jl/disks/0"
	truncate -s 1M "$WORK/jl.img"
	run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI" run --jail "$WORK/jl" --kernel "$PROBES/probe.elf" \
		--disk "path=$WORK/jl.img" --cmdline "$(probe_cmdline probe.exit=poweroff)"
	if [ -n "$(ls "$WORK/victim")" ] || [ -e "$WORK/made-by-root" ]; then
		fail "$name" "followed: victim/ holds '$(ls "$WORK/victim")'; made-by-root $([ -e "$WORK/made-by-root" ] && echo exists)"
	elif [ "$dev_rc" = 0 ] || [ "$rc" = 0 ]; then
		fail "$name" "a jail with a symlink ran (status $dev_rc, $rc)"
	elif ! grep -q 'symlink is never followed' "$WORK/err" || [[ $dev_err != *"symlink is never followed"* ]]; then
		fail "$name" "no clear error" "$WORK/err"
	else
		pass "$name"
	fi
fi

name="jail: a jail directory other users can write is refused"
if need_kvm "$name"; then
	rm -rf "$WORK/jw"
	mkdir "$WORK/jw"
	chmod 777 "$WORK/jw"
	run_vmm "$WORK/out" "$WORK/err" 30 "$KVMINI" run --jail "$WORK/jw" --kernel "$PROBES/probe.elf" \
		--cmdline "$(probe_cmdline probe.exit=poweroff)"
	if [ "$rc" = 2 ] && grep -q 'mode 777: refused' "$WORK/err" && [ -z "$(ls "$WORK/jw")" ]; then
		pass "$name"
	else
		fail "$name" "status $rc, jail holds '$(ls "$WORK/jw")'" "$WORK/err"
	fi
fi

# The jailer waited with every signal blocked: SIGTERM to it did nothing,
# and killing it left the VMM running.
name="jail: SIGTERM to the jailer reaches the VMM; its death kills the VMM"
if need_kvm "$name"; then
	rm -rf "$WORK/js"
	jail_bg "$WORK/js"
	kill -TERM "$outer"
	if gone_within "$outer" 50; then
		wait "$outer"
		term_rc=$?
	else
		term_rc=hung
	fi
	gone_within "$inner" 20 && term_inner=gone || term_inner=alive
	kill -9 "$inner" "$outer" 2>/dev/null
	wait "$outer" 2>/dev/null
	jail_bg "$WORK/js"
	kill -9 "$outer"
	wait "$outer" 2>/dev/null
	gone_within "$inner" 30 && kill_inner=gone || kill_inner=alive
	kill -9 "$inner" 2>/dev/null
	# A jailer killed outright cannot remove the VM's cgroup leaf: we do.
	cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
	rmdir "/sys/fs/cgroup${cg%/}/kvmini-$outer" 2>/dev/null
	if [ "$term_rc" = 143 ] && [ "$term_inner" = gone ] && [ "$kill_inner" = gone ]; then
		pass "$name"
	else
		fail "$name" "after SIGTERM: status $term_rc, VMM $term_inner; after SIGKILL: VMM $kill_inner" "$WORK/err"
	fi
fi

# The fd sweep closed the console socket's listener.
name="jail: the console socket serves the guest's console"
if need_kvm "$name"; then
	rm -rf "$WORK/jc" "$WORK/jc.sock"
	jail_bg "$WORK/jc" --console-sock "$WORK/jc.sock"
	timeout 5 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(4)
data = b""
while b"PROBE tick" not in data:
    data += s.recv(4096)' "$WORK/jc.sock" 2>"$WORK/jc.err"
	got=$?
	jail_stop
	[ "$got" = 0 ] && pass "$name" || fail "$name" "no console output on the socket" "$WORK/jc.err" "$WORK/err"
fi

# cgroup: a leaf under the cgroup kvmini started in (it was under the root,
# escaping a service's limits, and left behind), holding the limits asked
# for; the jailer stays outside it; the leaf goes when the VM does.
name="jail: the VMM's cgroup leaf is under kvmini's own, with the limits given, and removed"
if need_kvm "$name"; then
	if [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
		skip "$name" "no cgroup v2 at /sys/fs/cgroup"
	else
		rm -rf "$WORK/jg"
		home=$(sed -n 's/^0:://p' /proc/self/cgroup)
		jail_bg "$WORK/jg,cgroup=pids.max=64,cgroup=memory.max=512M"
		first=$outer
		leaf=$(sed -n 's/^0:://p' /proc/$inner/cgroup 2>/dev/null)
		jailer=$(sed -n 's/^0:://p' /proc/$outer/cgroup 2>/dev/null)
		limits="$(cat "/sys/fs/cgroup$leaf/pids.max" "/sys/fs/cgroup$leaf/memory.max" 2>&1 | tr '\n' ' ')"
		jail_stop
		# From a cgroup that is not the root, and so holds kvmini: the leaf
		# is made below it; limits cannot be (cgroup v2 gives none to the
		# child of a cgroup with processes), and the refusal says so and
		# leaves nothing behind, not even an enabled controller.
		sub=/sys/fs/cgroup/kvmini-jail-test-$$
		mkdir -p "$sub"
		bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$sub" \
			"$KVMINI" run --jail "$WORK/jg" --kernel "$PROBES/probe.elf" \
			--cmdline "$(probe_cmdline probe.exit=poweroff)" </dev/null >"$WORK/out" 2>"$WORK/err.sub"
		sub_rc=$?
		bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$sub" \
			"$KVMINI" run --jail "$WORK/jg,cgroup=pids.max=64" --kernel "$PROBES/probe.elf" \
			--cmdline "$(probe_cmdline probe.exit=poweroff)" </dev/null >"$WORK/out" 2>"$WORK/err.lim"
		lim_rc=$?
		sub_ctl=$(cat "$sub/cgroup.subtree_control")
		left=$(ls -d "$sub"/kvmini-* "/sys/fs/cgroup${home%/}/kvmini-$first" 2>/dev/null)
		rmdir "$sub"
		if [ "$leaf" != "${home%/}/kvmini-$outer" ] || [ "$jailer" != "$home" ]; then
			fail "$name" "VMM in '$leaf', jailer in '$jailer'; kvmini started in '$home'"
		elif [ "$limits" != "64 536870912 " ]; then
			fail "$name" "pids.max and memory.max: $limits" "$WORK/err"
		elif [ "$sub_rc" != 0 ]; then
			fail "$name" "from a non-root cgroup: status $sub_rc" "$WORK/err.sub"
		elif [ "$lim_rc" = 0 ] || ! grep -q 'limits need kvmini to run in the root cgroup' "$WORK/err.lim"; then
			fail "$name" "limits below a cgroup with a process: status $lim_rc" "$WORK/err.lim"
		elif [ -n "$sub_ctl" ]; then
			fail "$name" "the pids controller was left enabled below $sub: '$sub_ctl'"
		elif [ -n "$left" ]; then
			fail "$name" "leaves left behind: $left"
		else
			pass "$name ($leaf: $limits)"
		fi
	fi
fi

# --jail with --api-sock, as Firecracker recommends for production: the
# socket and the API's paths are inside the jail (it was refused).
# netns=PATH joins a namespace made with ip netns, as the jailer's --netns.
name="jail: --api-sock inside the jail drives a VM; netns=PATH puts its tap there"
if need_kvm "$name"; then
	rm -rf "$WORK/ja"
	mkdir -p "$WORK/ja"
	cp "$PROBES/probe.elf" "$WORK/ja/probe.elf"
	ip netns add "kvmini-jt$$"
	"$KVMINI" run --debug-exit --jail "$WORK/ja,netns=/run/netns/kvmini-jt$$" \
		--api-sock /run/api.sock </dev/null >"$WORK/out" 2>"$WORK/err" &
	outer=$!
	sock="$WORK/ja/run/api.sock"
	for _ in $(seq 50); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	jcurl() {
		curl -s -o /dev/null -w '%{http_code} ' --unix-socket "$sock" -X PUT "http://localhost$1" \
			-H 'Content-Type: application/json' -d "$2"
	}
	codes=$(jcurl /boot-source '{"kernel_image_path": "/probe.elf",
		"boot_args": "probe.ticks=100000000 probe.end=1"}')
	codes+=$(jcurl /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tapjt0"}')
	codes+=$(jcurl /actions '{"action_type": "InstanceStart"}')
	for _ in $(seq 50); do
		grep -q 'PROBE tick' "$WORK/out" && break
		sleep 0.1
	done
	in_ns=$(ip netns exec "kvmini-jt$$" ip -o link show tapjt0 2>/dev/null | wc -l)
	on_host=$(ip -o link show tapjt0 2>/dev/null | wc -l)
	inner=$(cat /proc/$outer/task/$outer/children 2>/dev/null | awk '{ print $1 }')
	uid=$(awk '/^Uid:/ { print $2 }' /proc/$inner/status 2>/dev/null)
	jail_stop
	ip netns del "kvmini-jt$$"
	if [ "$codes" != "204 204 204 " ] || ! grep -q 'PROBE tick' "$WORK/out"; then
		fail "$name" "API answers '$codes'" "$WORK/out" "$WORK/err"
	elif [ "$in_ns" != 1 ] || [ "$on_host" != 0 ]; then
		fail "$name" "tapjt0: $in_ns in the namespace, $on_host on the host" "$WORK/err"
	elif [ "$uid" != 65534 ]; then
		fail "$name" "the VMM runs as uid '$uid'"
	else
		pass "$name"
	fi
fi
