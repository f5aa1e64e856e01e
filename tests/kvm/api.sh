# The Firecracker-compatible API, driven by curl and by hostile clients,
# against a probe guest that runs ring-3 work in rounds ("PROBE tick N").
api_sock=$WORK/api.sock
api_curl() { # METHOD PATH [JSON]: prints the status, then the body
	local method=$1 path=$2
	shift 2
	curl -s -o "$WORK/api.body" -w '%{http_code}' --unix-socket "$api_sock" -X "$method" \
		"http://localhost$path" -H 'Accept: application/json' \
		-H 'Content-Type: application/json' "$@"
}
api_start() { # starts kvmini serving the API in its own network namespace
	rm -f "$api_sock"
	unshare --net "$KVMINI" run --debug-exit --api-sock "$api_sock" "$@" >"$WORK/api.out" 2>"$WORK/api.err" &
	api_pid=$!
	for _ in $(seq 50); do
		[ -S "$api_sock" ] && return 0
		sleep 0.1
	done
	return 1
}
api_stop() {
	kill -TERM $api_pid 2>/dev/null
	wait $api_pid
	api_rc=$?
}
ticks() { grep -c '^PROBE tick' "$WORK/api.out"; }

name="api: Firecracker getting-started flow with curl"
if need_kvm "$name"; then
	truncate -s 4M "$WORK/rootfs.ext4"
	api_start
	flow=""
	# The getting-started guide's requests, in its order and with its fields.
	flow+=" $(api_curl PUT /boot-source -d "{
		\"kernel_image_path\": \"$PROBES/probe.elf\",
		\"boot_args\": \"probe.ticks=100000 probe.tick-work=2000000 probe.end=1\"
	}")"
	flow+=" $(api_curl PUT /drives/rootfs -d "{
		\"drive_id\": \"rootfs\",
		\"path_on_host\": \"$WORK/rootfs.ext4\",
		\"is_root_device\": true,
		\"is_read_only\": false
	}")"
	flow+=" $(api_curl PUT /machine-config -d '{"vcpu_count": 2, "mem_size_mib": 128}')"
	flow+=" $(api_curl PUT /network-interfaces/eth0 -d '{
		"iface_id": "eth0",
		"guest_mac": "AA:FC:00:00:00:01",
		"host_dev_name": "tap0"
	}')"
	flow+=" $(api_curl PUT /vsock -d "{\"guest_cid\": 3, \"uds_path\": \"$WORK/api-v.sock\"}")"
	flow+=" $(api_curl PUT /entropy -d '{}')"
	flow+=" $(api_curl PUT /metrics -d "{\"metrics_path\": \"$WORK/metrics.json\"}")"
	flow+=" $(api_curl PUT /actions -d '{"action_type": "InstanceStart"}')"
	sleep 1
	state=$(api_curl GET /; cat "$WORK/api.body")
	if [ "$flow" != " 204 204 204 204 204 204 204 204" ]; then
		fail "$name" "statuses were$flow, expected 204 each" "$WORK/api.err"
	elif ! grep -q '"state":"Running"' <<<"$state"; then
		fail "$name" "GET / says $state" "$WORK/api.err"
	elif ! grep -q '^PROBE ok cmdline: .*probe.end=1 root=/dev/vda rw\]' "$WORK/api.out"; then
		fail "$name" "the root drive's root= did not reach the guest" "$WORK/api.out"
	elif ! grep -q '^PROBE ok smp: 1 of 1 APs' "$WORK/api.out"; then
		fail "$name" "the guest did not get 2 vCPUs" "$WORK/api.out"
	else
		pass "$name ($(grep -o 'boot marker: [0-9.]* ms' "$WORK/api.err"))"
	fi

	name="api: GET /vm/config returns what was configured"
	api_curl GET /vm/config >/dev/null
	if python3 - "$WORK/api.body" "$WORK/rootfs.ext4" "$PROBES/probe.elf" <<'PY'; then
import json, sys
c = json.load(open(sys.argv[1]))
assert c["machine-config"]["vcpu_count"] == 2 and c["machine-config"]["mem_size_mib"] == 128
assert c["boot-source"]["kernel_image_path"] == sys.argv[3]
d = c["drives"][0]
assert (d["drive_id"], d["path_on_host"], d["is_root_device"], d["is_read_only"]) == ("rootfs", sys.argv[2], True, False)
n = c["network-interfaces"][0]
assert (n["iface_id"], n["host_dev_name"], n["guest_mac"].upper()) == ("eth0", "tap0", "AA:FC:00:00:00:01")
assert c["vsock"]["guest_cid"] == 3 and c["entropy"] == {}
assert c["kvmini"]["on_reboot"] == "exit" and c["kvmini"]["debug_exit"] is True
PY
		pass "$name"
	else
		fail "$name" "got $(cat "$WORK/api.body")"
	fi

	name="api: pause stops the guest, resume continues it"
	p1=$(api_curl PATCH /vm -d '{"state": "Paused"}')
	a=$(ticks)
	sleep 1
	b=$(ticks)
	paused_state=$(api_curl GET /; cat "$WORK/api.body")
	p2=$(api_curl PATCH /vm -d '{"state": "Resumed"}')
	sleep 1
	c=$(ticks)
	# Whole lines only: the guest may be mid-line as the file is read.
	seq_ok=$(grep -E '^PROBE tick [0-9]+ cpl [0-9]' "$WORK/api.out" | awk '{ if ($3 != NR - 1) bad = 1 } END { print bad ? "no" : "yes" }')
	if [ "$p1 $p2" != "204 204" ] || ! grep -q Paused <<<"$paused_state"; then
		fail "$name" "PATCH /vm answered $p1 $p2; state $paused_state" "$WORK/api.err"
	elif [ "$a" != "$b" ] || [ "$c" -le "$b" ] || [ "$seq_ok" != yes ]; then
		fail "$name" "ticks $a -> $b while paused, $c after resume, in sequence: $seq_ok"
	else
		pass "$name (ticks $a -> $b in 1 s paused, $c after 1 s resumed, in sequence)"
	fi

	name="api: PATCH of a drive's path swaps its backing file"
	truncate -s 8M "$WORK/rootfs2.ext4"
	st=$(api_curl PATCH /drives/rootfs -d "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$WORK/rootfs2.ext4\"}")
	if [ "$st" = 204 ] && grep -q "drive rootfs: now backed by $WORK/rootfs2.ext4" "$WORK/api.err"; then
		pass "$name"
	else
		fail "$name" "status $st" "$WORK/api.err"
	fi

	name="api: hostile clients while the guest runs"
	if python3 tests/api_abuse.py "$api_sock" before >"$WORK/abuse.log" 2>&1; then
		pass "$name ($(grep -c '^ok' "$WORK/abuse.log") checks)"
	else
		fail "$name" "$(grep -m1 FAIL "$WORK/abuse.log")" "$WORK/abuse.log"
	fi

	name="api: FlushMetrics writes a JSON line with device and exit counters"
	st=$(api_curl PUT /actions -d '{"action_type": "FlushMetrics"}')
	if [ "$st" = 204 ] && tail -n1 "$WORK/metrics.json" | python3 -c '
import json, sys
m = json.loads(sys.stdin.read())
assert m["vcpu"]["exit_io_out"] > 0 and "block_rootfs" in m and "net_eth0" in m
assert "vsock" in m and "entropy" in m
assert m["api_server"]["requests_count"] > 1000'; then
		pass "$name"
	else
		fail "$name" "status $st" "$WORK/metrics.json"
	fi

	name="api: SendCtrlAltDel makes the guest power off"
	st=$(api_curl PUT /actions -d '{"action_type": "SendCtrlAltDel"}')
	sleep 1
	state=$(api_curl GET /; cat "$WORK/api.body")
	if [ "$st" = 204 ] && grep -q '^PROBE kbd: ctrl-alt-del' "$WORK/api.out" &&
		grep -q '"state":"Exited".*"exit_code":0' <<<"$state"; then
		pass "$name"
	else
		fail "$name" "status $st, state $state" "$WORK/api.out"
	fi

	name="api: requests after the guest exited"
	if python3 tests/api_abuse.py "$api_sock" after >"$WORK/abuse.log" 2>&1; then
		pass "$name ($(grep -c '^ok' "$WORK/abuse.log") checks)"
	else
		fail "$name" "$(grep -m1 FAIL "$WORK/abuse.log")" "$WORK/abuse.log"
	fi
	api_stop
	if [ "$api_rc" = 0 ] && [ ! -e "$api_sock" ]; then
		pass "api: SIGTERM after the guest's power-off exits 0 and removes the socket"
	else
		fail "api: SIGTERM after the guest's power-off" "status $api_rc" "$WORK/api.err"
	fi
fi

# A CLI disk without an id was "drive" in the VMM but "drive0" in
# GET /vm/config, so PATCH /drives/drive0 failed, and two such disks
# shared one metrics entry. Ids are now given once, in the spec.
name="api: CLI disks without ids are drive0 and drive1 in GET, PATCH and the metrics"
if need_kvm "$name"; then
	truncate -s 1M "$WORK/a.img" "$WORK/b.img" "$WORK/c.img"
	api_start --kernel "$PROBES/probe.elf" --disk "path=$WORK/a.img" --disk "path=$WORK/b.img" \
		--cmdline "probe.ticks=100000 probe.tick-work=2000000 probe.end=1"
	sleep 1
	api_curl GET /vm/config >/dev/null
	ids=$(python3 -c 'import json,sys; print(" ".join(d["drive_id"] for d in json.load(open(sys.argv[1]))["drives"]))' "$WORK/api.body")
	st1=$(api_curl PATCH /drives/drive0 -d "{\"drive_id\": \"drive0\", \"path_on_host\": \"$WORK/c.img\"}")
	st2=$(api_curl PUT /metrics -d "{\"metrics_path\": \"$WORK/ids-metrics.json\"}")
	st3=$(api_curl PUT /actions -d '{"action_type": "FlushMetrics"}')
	api_curl GET /vm/config >/dev/null
	path0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["drives"][0]["path_on_host"])' "$WORK/api.body")
	api_stop
	if [ "$ids" != "drive0 drive1" ]; then
		fail "$name" "GET /vm/config drive ids: '$ids'" "$WORK/api.err"
	elif [ "$st1 $st2 $st3" != "204 204 204" ] || [ "$path0" != "$WORK/c.img" ] ||
		! grep -q "drive drive0: now backed by $WORK/c.img" "$WORK/api.err"; then
		fail "$name" "PATCH, PUT /metrics, FlushMetrics: $st1 $st2 $st3; drive0 at $path0" "$WORK/api.err"
	elif ! head -n1 "$WORK/ids-metrics.json" | python3 -c '
import json, sys
m = json.loads(sys.stdin.read())  # the FlushMetrics line, while the VM ran
assert "block_drive0" in m and "block_drive1" in m, sorted(m)'; then
		fail "$name" "no per-drive metrics for drive0 and drive1" "$WORK/ids-metrics.json"
	else
		pass "$name"
	fi
fi

name="api: InstanceStart with a missing kernel fails, a retry boots"
if need_kvm "$name"; then
	api_start
	api_curl PUT /boot-source -d '{"kernel_image_path": "/nonexistent/vmlinux"}' >/dev/null
	st1=$(api_curl PUT /actions -d '{"action_type": "InstanceStart"}')
	msg=$(cat "$WORK/api.body")
	api_curl PUT /boot-source -d "{\"kernel_image_path\": \"$PROBES/probe.bzImage\",
		\"boot_args\": \"probe.exit=poweroff probe.end=1\"}" >/dev/null
	st2=$(api_curl PUT /actions -d '{"action_type": "InstanceStart"}')
	sleep 1
	api_stop
	if [ "$st1" = 400 ] && grep -q 'nonexistent/vmlinux' <<<"$msg" && [ "$st2" = 204 ] &&
		grep -q '^PROBE RESULT pass' "$WORK/api.out" && [ "$api_rc" = 0 ]; then
		pass "$name"
	else
		fail "$name" "statuses $st1 ($msg) then $st2, exit $api_rc" "$WORK/api.err"
	fi
fi

name="api: --config-file boots without the API, console to serial_out_path"
if need_kvm "$name"; then
	cat >"$WORK/vm.json" <<JSON
{
  "boot-source": {"kernel_image_path": "$PROBES/probe.elf", "boot_args": "probe.cpus=2 probe.exit=poweroff probe.end=1"},
  "drives": [],
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 256, "smt": false},
  "network-interfaces": [],
  "entropy": {},
  "serial": {"serial_out_path": "$WORK/serial.log"},
  "logger": null, "metrics": null, "balloon": null
}
JSON
	rm -f "$WORK/serial.log"
	run_vmm "$WORK/out" "$WORK/err" 60 "$KVMINI" run --debug-exit --config-file "$WORK/vm.json"
	if [ -s "$WORK/out" ]; then
		fail "$name" "console output went to stdout, not serial_out_path" "$WORK/out"
	elif check_probe "$name" "$WORK/serial.log" "$WORK/err" 0; then
		grep -q 'PROBE ok smp: 1 of 1 APs' "$WORK/serial.log" && pass "$name" ||
			fail "$name" "the guest did not get 2 vCPUs" "$WORK/serial.log"
	fi
fi

# A bad config file is refused with a message naming the problem.
for case in 'syntax|{"boot-source": {|bad.json:2' \
	'type|{"machine-config": {"vcpu_count": "x", "mem_size_mib": 1}}|vcpu_count' \
	'unknown|{"boot-source": {"kernel_image_path": "/k", "root": 1}}|root' \
	'later|{"balloon": {"amount_mib": 1}}|not supported yet' \
	'no kernel|{"drives": []}|boot source'; do
	IFS='|' read -r label json want <<<"$case"
	name="config file: $label is refused"
	echo "$json" >"$WORK/bad.json"
	run_vmm "$WORK/out" "$WORK/err" 10 "$KVMINI" run --debug-exit --config-file "$WORK/bad.json"
	if [ "$rc" = 2 ] && grep -q "$want" "$WORK/err"; then
		pass "$name"
	else
		fail "$name" "exit $rc, wanted 2 and a message with '$want'" "$WORK/err"
	fi
done

# huge_pages "2M": refused with a clear message without reserved pages,
# and boots on them when the host has them (reserved here, then released).
name="config file: huge_pages 2M"
if need_kvm "$name"; then
	cat >"$WORK/huge.json" <<JSON
{"boot-source": {"kernel_image_path": "$PROBES/probe.elf", "boot_args": "probe.mem=128 probe.exit=poweroff probe.end=1"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 128, "huge_pages": "2M"}}
JSON
	old=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo x)
	if [ "$old" = 0 ] && echo 64 >/proc/sys/vm/nr_hugepages 2>/dev/null &&
		[ "$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)" -ge 64 ]; then
		run_vmm "$WORK/out" "$WORK/err" 60 "$KVMINI" run --debug-exit --config-file "$WORK/huge.json"
		echo 0 >/proc/sys/vm/nr_hugepages
		check_probe "$name" "$WORK/out" "$WORK/err" 0 && pass "$name: boots on 64 reserved pages"
		run_vmm "$WORK/out" "$WORK/err" 60 "$KVMINI" run --debug-exit --config-file "$WORK/huge.json"
		if [ "$rc" = 4 ] && grep -q 'cannot get 64 2 MiB huge pages' "$WORK/err"; then
			pass "$name: refused by name without reserved pages"
		else
			fail "$name: without reserved pages" "exit $rc" "$WORK/err"
		fi
	else
		skip "$name" "cannot reserve huge pages here (nr_hugepages was $old)"
	fi
fi
