# virtio-vsock over Unix sockets: the probe's driver against
# tests/vsock_peer.py (streams both ways verified byte for byte, a 4 KiB
# credit window, a peer closing mid-stream, 32 connections at once, and
# malformed packets first). QEMU has no userspace vsock: kvmini only.
name="vsock probe: streams, credit, peer close, 32 connections, malformed packets"
if need_kvm "$name"; then
	vs=$WORK/vsock
	mkdir -p "$vs"
	timeout 120 python3 tests/vsock_peer.py "$vs/v.sock" >"$vs/peer.log" 2>&1 &
	peer=$!
	# The probe connects at once: the peer must be listening first (a
	# loaded test bed can take seconds to start python).
	for _ in $(seq 300); do
		[ -S "$vs/v.sock_5000" ] && [ -S "$vs/v.sock_5001" ] && break
		sleep 0.1
	done
	run_vmm "$vs/out" "$vs/err" 120 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" --memory 128M \
		--vsock "cid=7,uds=$vs/v.sock" \
		--cmdline "$(probe_cmdline probe.virtio=1 probe.vsock-cid=7)"
	wait $peer
	peer_rc=$?
	if check_probe "$name" "$vs/out" "$vs/err" 1; then
		if [ $peer_rc != 0 ]; then
			fail "$name" "the host side failed" "$vs/peer.log"
		elif [ "$(grep -c '^PROBE ok vsock-' "$vs/out")" != 6 ]; then
			fail "$name" "not every vsock check ran" "$vs/out"
		elif [ -e "$vs/v.sock" ]; then
			fail "$name" "the VMM left its vsock socket behind"
		else
			pass "$name ($(grep -o '[0-9]* stalls, [0-9]* overruns' "$vs/out"))"
		fi
	fi
fi

name="vsock: bad --vsock specs are refused"
bad=0
for spec in "cid=2,uds=/tmp/x" "cid=3" "uds=/tmp/x" "cid=x,uds=/tmp/x" \
	"cid=3,uds=/$(printf 'a%.0s' $(seq 120))"; do
	run_vmm "$WORK/out" "$WORK/err" 10 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" --vsock "$spec"
	if [ "$rc" != 2 ] || ! grep -q -- '--vsock' "$WORK/err"; then
		bad=1
		fail "$name" "'$spec' gave exit $rc" "$WORK/err"
	fi
done
[ $bad = 0 ] && pass "$name"

# A socket path that names a regular file: refused, and the file is kept.
name="vsock and console sockets never replace a regular file"
echo keep >"$WORK/regular"
run_vmm "$WORK/out" "$WORK/err" 10 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" \
	--vsock "cid=3,uds=$WORK/regular"
rc1=$rc
run_vmm "$WORK/out" "$WORK/err2" 10 "$KVMINI" run --debug-exit --kernel "$PROBES/probe.elf" \
	--console-sock "$WORK/regular"
if [ "$rc1" = 2 ] && [ "$rc" = 2 ] && [ "$(cat "$WORK/regular")" = keep ] &&
	grep -q 'exists and is not a socket' "$WORK/err" "$WORK/err2"; then
	pass "$name"
else
	fail "$name" "exits $rc1 and $rc" "$WORK/err" "$WORK/err2"
fi
