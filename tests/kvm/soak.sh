# Soak: one kvmini process reboots its guest SOAK_BOOTS times
# (--reboot restart), sampling open fds and RSS, which must not grow; then
# SOAK_VMS VMs run at once and must all exit cleanly, leaving no zombie.
# make check runs a short round; make soak runs 1000 boots and 50 VMs.
boots=${SOAK_BOOTS:-200}
vms=${SOAK_VMS:-10}

name="soak: $boots guest reboots in one process, no fd or RSS growth"
if need_kvm "$name"; then
	"$KVMINI" run --debug-exit --reboot restart --memory 64M --kernel "$PROBES/probe.elf" \
		--cmdline "$(probe_cmdline probe.exit=reboot probe.ring3=1000)" \
		</dev/null >"$WORK/soak.out" 2>/dev/null &
	pid=$!
	samples=()
	deadline=$((SECONDS + 600))
	while kill -0 $pid 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		n=$(grep -c '^PROBE start' "$WORK/soak.out")
		fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
		rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status 2>/dev/null)
		[ "$n" -ge $((boots / 10)) ] && samples+=("$n $fds $rss")
		[ "$n" -ge "$boots" ] && break
		sleep 0.2
	done
	kill -TERM $pid 2>/dev/null
	wait $pid
	n=$(grep -c '^PROBE start' "$WORK/soak.out")
	# Samples land anywhere in a reboot, so compare the peaks of the first
	# and the last fifth of them, not two single points.
	read -r fd0 rss0 fd1 rss1 < <(printf '%s\n' "${samples[@]}" | awk '
		{ fd[NR] = $2; rss[NR] = $3 }
		END {
			w = int(NR / 5); if (w < 1) w = 1
			for (i = 1; i <= w; i++) { if (fd[i] > f0) f0 = fd[i]; if (rss[i] > r0) r0 = rss[i] }
			for (i = NR - w + 1; i <= NR; i++) { if (fd[i] > f1) f1 = fd[i]; if (rss[i] > r1) r1 = rss[i] }
			print f0 + 0, r0 + 0, f1 + 0, r1 + 0
		}')
	# ASan keeps per-thread allocator state of every restarted VM's
	# threads: its RSS says nothing about kvmini's own, so only fds count.
	rss_limit=1024
	[ -n "${ASAN_OPTIONS:-}" ] && rss_limit=1000000000
	if [ "$n" -lt "$boots" ] || [ ${#samples[@]} -lt 5 ]; then
		fail "$name" "only $n boots"
	elif [ "$fd1" -gt "$fd0" ] || [ $((rss1 - rss0)) -gt $rss_limit ]; then
		fail "$name" "fds $fd0 -> $fd1, RSS $rss0 -> $rss1 KiB between boot $((boots / 10)) and $n"
	else
		pass "$name ($n boots; peak fds $fd0 -> $fd1, RSS $rss0 -> $rss1 KiB)"
	fi
fi

name="soak: $vms VMs at once, all exit cleanly, no zombies"
if need_kvm "$name"; then
	pids=()
	for i in $(seq "$vms"); do
		"$KVMINI" run --debug-exit --memory 32M --kernel "$PROBES/probe.elf" \
			--cmdline "$(probe_cmdline probe.ring3=20000000)" \
			</dev/null >"$WORK/vm$i.out" 2>&1 &
		pids+=($!)
	done
	bad=0
	for p in "${pids[@]}"; do
		wait "$p"
		[ $? = 1 ] || bad=$((bad + 1))
	done
	zombies=$(ps -o stat= --ppid $$ | grep -c Z)
	passed_vms=$(grep -l '^PROBE RESULT pass' "$WORK"/vm*.out | wc -l)
	if [ $bad = 0 ] && [ "$zombies" = 0 ] && [ "$passed_vms" = "$vms" ]; then
		pass "$name"
	else
		fail "$name" "$bad bad exits, $zombies zombies, $passed_vms of $vms passed"
	fi
fi
