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
		"$KVMINI" run --jail "$WORK/jail" --memory 128M --kernel "$PROBES/probe.elf" \
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
