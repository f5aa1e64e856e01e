# The manager: libvirt domain XML, virsh-style commands, no daemon. Ten
# probe-guest domains on kvmini through their whole lifecycle, a crash, a
# concurrent start, bad XML, a bridge, and real Linux on the QEMU back end.
mgr_dir=$WORK/manager
mgr() { "$KVMINI" --state-dir "$mgr_dir/state" "$@"; }
probe_domain() { # NAME CMDLINE [DEVICES]: a domain XML on stdout
	cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <title>probe guest $1</title>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='microvm'>hvm</type>
    <kernel>$(realpath "$PROBES/probe.elf")</kernel>
    <cmdline>$2 probe.end=1</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    ${3:-}
  </devices>
</domain>
XML
}
linux_domain() { # TYPE NAME VCPUS CMDLINE: the minimal kernel and busybox, on stdout
	cat <<XML
<domain type='$1'>
  <name>$2</name>
  <memory unit='MiB'>256</memory>
  <vcpu>$3</vcpu>
  <os>
    <type arch='x86_64' machine='microvm'>hvm</type>
    <kernel>$kit/kernel-bzImage</kernel>
    <initrd>$kit/initramfs.cpio.gz</initrd>
    <cmdline>$4</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <serial type='pty'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
XML
}
mgr_state() { mgr list --all --json | python3 -c "
import json, sys
for d in json.load(sys.stdin):
    if d['name'] == sys.argv[1]:
        print(d['state'] + '|' + d['reason'])" "$1"; }

name="manager: 10 domains from XML through their lifecycle"
if need_kvm "$name"; then
	mkdir -p "$mgr_dir"
	why=""
	truncate -s 1M "$mgr_dir/disk.img"
	# Most probes halt once checked (idle); 3, 4 and 5 tick, watching the
	# keyboard for Ctrl-Alt-Del.
	for i in $(seq 0 9); do
		args="probe.exit=halt"
		case $i in 3 | 4 | 5) args="probe.ticks=100000000" ;; esac
		probe_domain "vm$i" "$args" \
			"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$mgr_dir/disk.img'/><target dev='vda' bus='virtio'/><readonly/><serial>d$i</serial></disk>" \
			>"$mgr_dir/vm$i.xml"
		mgr define "$mgr_dir/vm$i.xml" >/dev/null || why="define vm$i failed"
	done
	for i in $(seq 0 9); do
		mgr start "vm$i" >/dev/null 2>"$mgr_dir/err" || why="start vm$i: $(cat "$mgr_dir/err")"
	done
	running=$(mgr list | grep -c ' running$')
	[ "$running" = 10 ] || why="${why:-list shows $running of 10 running}"
	mgr suspend vm1 >/dev/null && [ "$(mgr_state vm1)" = "paused|user" ] ||
		why="${why:-suspend did not pause vm1}"
	mgr resume vm1 >/dev/null && [ "$(mgr_state vm1)" = "running|booted" ] ||
		why="${why:-resume did not resume vm1}"
	mgr dominfo vm2 | grep -q '^State: *running' || why="${why:-dominfo vm2}"
	# The console: attach, read the guest, detach on stdin's end. Ten
	# guests share the bed's one CPU: a second may pass without a tick.
	for _ in $(seq 10); do
		sleep 1 | timeout 5 "$KVMINI" --state-dir "$mgr_dir/state" console vm3 \
			>"$mgr_dir/console.out" 2>&1
		grep -q 'PROBE tick' "$mgr_dir/console.out" && break
	done
	grep -q 'PROBE tick' "$mgr_dir/console.out" || why="${why:-console showed no guest output}"
	# Ctrl-Alt-Del through the API: the probe powers off, as init would.
	for i in 3 4 5; do
		mgr shutdown "vm$i" --timeout 20 >/dev/null 2>>"$mgr_dir/err" || why="${why:-shutdown vm$i}"
		[ "$(mgr_state "vm$i")" = "shut off|shutdown" ] || why="${why:-vm$i: $(mgr_state "vm$i")}"
	done
	# A VMM process killed under the manager: list says crashed.
	kill -9 "$(cat "$mgr_dir/state/vm7/pid")"
	sleep 0.2
	[ "$(mgr_state vm7)" = "shut off|crashed (the VMM process died)" ] ||
		why="${why:-vm7 after kill -9: $(mgr_state vm7)}"
	for i in 0 1 2 6 8 9; do
		mgr destroy "vm$i" >/dev/null || why="${why:-destroy vm$i}"
	done
	[ "$(mgr list | grep -c running)" = 0 ] || why="${why:-domains left running}"
	mgr list --all | grep -q 'vm0 *shut off (destroyed)' || why="${why:-vm0 not destroyed}"
	# Restart after every kind of stop, then tear down.
	for i in 3 7 0; do
		mgr start "vm$i" >/dev/null || why="${why:-restart vm$i}"
		mgr destroy "vm$i" >/dev/null
	done
	for i in $(seq 0 9); do
		mgr undefine "vm$i" >/dev/null || why="${why:-undefine vm$i}"
	done
	[ -z "$(ls "$mgr_dir/state")" ] || why="${why:-state left behind: $(ls "$mgr_dir/state")}"
	[ -z "$why" ] && pass "$name" || fail "$name" "$why" "$mgr_dir/err"
fi

# A domain's directory holds its XML, sockets and the guest's console log:
# private to the operator (they were 0755 and 0644, readable by anyone).
name="manager: a domain's state directory is 0700 and its log 0600"
if need_kvm "$name"; then
	mkdir -p "$mgr_dir"
	probe_domain private "probe.exit=halt" >"$mgr_dir/private.xml"
	mgr define "$mgr_dir/private.xml" >/dev/null && mgr start private >/dev/null 2>"$mgr_dir/err"
	modes="$(stat -c %a "$mgr_dir/state/private" "$mgr_dir/state/private/log" \
		"$mgr_dir/state/private/domain.xml" 2>&1 | tr '\n' ' ')"
	mgr destroy private >/dev/null 2>&1
	mgr undefine private >/dev/null 2>&1
	[ "$modes" = "700 600 600 " ] && pass "$name" ||
		fail "$name" "modes of the directory, log and XML: $modes" "$mgr_dir/err"
fi

# A pid file can go stale (a host crash, a reused pid) and name another
# domain's VMM. Domain "s" must not claim, or destroy, the VMM of "s2"
# (it once did: the directory matched as a substring).
name="manager: a stale pid file naming domain s2's VMM does not make s running"
if need_kvm "$name"; then
	for d in s s2; do
		probe_domain $d "probe.ticks=100000000" >"$mgr_dir/$d.xml"
		mgr define "$mgr_dir/$d.xml" >/dev/null
	done
	mgr start s2 >/dev/null 2>"$mgr_dir/err"
	s2_pid=$(cat "$mgr_dir/state/s2/pid")
	cp "$mgr_dir/state/s2/pid" "$mgr_dir/state/s/pid"
	state_s=$(mgr_state s)
	mgr destroy s >/dev/null 2>&1
	if [ "${state_s%%|*}" = running ]; then
		fail "$name" "list says s is $state_s"
	elif ! kill -0 "$s2_pid" 2>/dev/null || [ "$(mgr_state s2)" != "running|booted" ]; then
		fail "$name" "destroy s stopped s2's VMM"
	else
		pass "$name"
	fi
	mgr destroy s2 >/dev/null 2>&1
	mgr undefine s >/dev/null
	mgr undefine s2 >/dev/null
fi

name="manager: dumpxml passes libvirt's virt-xml-validate"
if command -v virt-xml-validate >/dev/null; then
	probe_domain xmlcheck "probe.exit=poweroff" \
		"<interface type='ethernet'><mac address='52:54:00:12:34:56'/><target dev='tap9'/><model type='virtio'/></interface><vsock model='virtio'><cid auto='no' address='9'/></vsock>" \
		>"$mgr_dir/xmlcheck.xml"
	mgr define "$mgr_dir/xmlcheck.xml" >/dev/null
	mgr dumpxml xmlcheck >"$mgr_dir/dump.xml"
	if virt-xml-validate "$mgr_dir/dump.xml" domain >"$mgr_dir/validate.log" 2>&1 &&
		grep -q '<uuid>' "$mgr_dir/dump.xml"; then
		pass "$name"
	else
		fail "$name" "invalid" "$mgr_dir/validate.log" "$mgr_dir/dump.xml"
	fi
	mgr undefine xmlcheck >/dev/null
else
	skip "$name" "virt-xml-validate is missing (apt-get install libvirt-clients)"
fi

name="manager: concurrent starts of one domain: exactly one wins"
if need_kvm "$name"; then
	probe_domain race "probe.exit=halt" >"$mgr_dir/race.xml"
	mgr define "$mgr_dir/race.xml" >/dev/null
	for i in 1 2 3 4; do
		(mgr start race >"$mgr_dir/race$i.out" 2>&1; echo $? >"$mgr_dir/race$i.rc") &
	done
	wait
	wins=$(cat "$mgr_dir"/race?.rc | grep -c '^0$')
	losses=$(grep -l 'already active' "$mgr_dir"/race?.out | wc -l)
	procs=$(pgrep -fc "$mgr_dir/state/race/")
	mgr destroy race >/dev/null
	mgr undefine race >/dev/null
	if [ "$wins" = 1 ] && [ "$losses" = 3 ] && [ "$procs" = 1 ]; then
		pass "$name"
	else
		fail "$name" "$wins started, $losses refused, $procs VMM processes" "$mgr_dir/race1.out"
	fi
fi

# Bad XML is refused with the line that is wrong.
for case in "unclosed|<domain type='kvm'>\n<name>x</name>\n<memory>1|:4: Premature end of data" \
	"graphics|<domain type='kvm'>\n<name>x</name>\n<memory>131072</memory>\n<os><type>hvm</type><kernel>/k</kernel></os>\n<devices>\n<graphics type='vnc'/>\n</devices></domain>|:6: <devices><graphics> is not supported" \
	"firmware|<domain type='kvm'>\n<name>x</name>\n<memory>131072</memory>\n<os><type>hvm</type><loader>/ovmf</loader></os></domain>|:4: <os><loader>" \
	"engine|<domain type='xen'><name>x</name></domain>|:1: <domain type>" \
	"qcow2|<domain type='kvm'><name>x</name><memory>131072</memory><os><type>hvm</type><kernel>/k</kernel></os><devices><disk type='file'>\n<driver name='qemu' type='qcow2'/></disk></devices></domain>|:2: disk driver type must be raw"; do
	IFS='|' read -r label xml want <<<"$case"
	name="manager: bad XML ($label) names its line"
	printf "$xml\n" >"$mgr_dir/bad.xml"
	if ! mgr define "$mgr_dir/bad.xml" >"$mgr_dir/bad.out" 2>&1 && grep -qF "bad.xml$want" "$mgr_dir/bad.out"; then
		pass "$name"
	else
		fail "$name" "wanted 'bad.xml$want'" "$mgr_dir/bad.out"
	fi
done

name="manager: interface type=bridge gets a tap enslaved to the bridge"
if need_kvm "$name"; then
	probe_domain bridged "probe.exit=halt" \
		"<interface type='bridge'><source bridge='br0'/><mac address='52:54:00:00:00:07'/><model type='virtio'/></interface>" \
		>"$mgr_dir/bridged.xml"
	unshare --net bash -c "
		ip link add br0 type bridge && ip link set br0 up
		'$KVMINI' --state-dir '$mgr_dir/state' define '$mgr_dir/bridged.xml' >/dev/null
		'$KVMINI' --state-dir '$mgr_dir/state' start bridged >/dev/null || exit 1
		ip -o link show master br0 >'$mgr_dir/bridge.out'
		'$KVMINI' --state-dir '$mgr_dir/state' destroy bridged >/dev/null
		ip -o link show >'$mgr_dir/after.out'" 2>"$mgr_dir/bridge.err"
	mgr undefine bridged >/dev/null 2>&1
	if grep -q 'kvbridged0.*master br0' "$mgr_dir/bridge.out" && ! grep -q kvbridged0 "$mgr_dir/after.out"; then
		pass "$name"
	else
		fail "$name" "no enslaved tap, or it outlived the domain" "$mgr_dir/bridge.out" "$mgr_dir/bridge.err"
	fi
fi

# The QEMU back end from the same kind of XML: real Linux userspace under
# TCG (this host's KVM cannot run it) reaches init, runs its checks, and
# powers off; the manager reports why it stopped. The TSC frequency and
# loops-per-jiffy are given: on a loaded host TCG's PIT is too irregular
# for the kernel to calibrate against, and it stalls there.
name="manager: qemu back end runs Linux userspace under TCG to power-off"
if need_qemu "$name"; then
	linux_domain qemu linux-tcg 1 \
		"console=ttyS0 panic=-1 kvmini.test=basic kvmini.cpus=1 tsc_early_khz=2000000 lpj=4000000" \
		>"$mgr_dir/tcg.xml"
	mgr define "$mgr_dir/tcg.xml" >/dev/null
	mgr start linux-tcg >/dev/null 2>"$mgr_dir/tcg.err"
	for _ in $(seq 120); do
		[ "$(mgr_state linux-tcg)" = "shut off|shutdown" ] && break
		sleep 1
	done
	log=$mgr_dir/state/linux-tcg/log
	if [ "$(mgr_state linux-tcg)" = "shut off|shutdown" ] && grep -q 'init running' "$log" &&
		grep -q '^GUEST done' "$log" && ! grep -q '^GUEST FAIL' "$log"; then
		pass "$name ($(grep -c '^GUEST ok' "$log") guest checks)"
	else
		fail "$name" "state $(mgr_state linux-tcg)" "$log" "$mgr_dir/tcg.err"
	fi
	mgr destroy linux-tcg >/dev/null 2>&1
	mgr undefine linux-tcg >/dev/null
fi

# XML values go into QEMU's option strings, where a comma starts a new
# option: a disk path or serial with commas must stay one value (they once
# injected "snapshot=on" and "id=x" and QEMU refused to start).
name="manager: qemu back end keeps commas in a disk path and serial as data"
if need_qemu "$name"; then
	hostile=$mgr_dir/d,snapshot=on.img
	truncate -s 1M "$hostile"
	probe_domain hostile "probe.exit=halt" \
		"<disk type='file' device='disk'><source file='$hostile'/><target dev='vda' bus='virtio'/><serial>s,id=x</serial></disk>" |
		sed "s/type='kvm'/type='qemu'/" >"$mgr_dir/hostile.xml"
	mgr define "$mgr_dir/hostile.xml" >/dev/null
	if ! mgr start hostile >/dev/null 2>"$mgr_dir/hostile.err"; then
		fail "$name" "start failed" "$mgr_dir/hostile.err" "$mgr_dir/state/hostile/log"
	elif ! tr '\0' '\n' <"/proc/$(cat "$mgr_dir/state/hostile/pid")/cmdline" >"$mgr_dir/hostile.argv" ||
		! grep -qxF "file=${hostile//,/,,},format=raw,if=none,id=disk0" "$mgr_dir/hostile.argv" ||
		! grep -qF "serial=s,,id=x" "$mgr_dir/hostile.argv"; then
		fail "$name" "QEMU's arguments lost the escaping" "$mgr_dir/hostile.argv"
	else
		pass "$name"
	fi
	mgr destroy hostile >/dev/null 2>&1
	mgr undefine hostile >/dev/null
fi

# Real Linux on the kvm back end, from XML: start, the console, suspend and
# resume of a counting guest, a graceful shutdown (Ctrl-Alt-Del reaches
# busybox init), a start again, destroy.
name="manager: kvm back end runs a Linux domain through its lifecycle"
if need_kvm "$name"; then
	linux_domain kvm linux 2 "console=ttyS0 panic=-1 kvmini.test=tick kvmini.end=wait" \
		>"$mgr_dir/linux.xml"
	why=""
	log=$mgr_dir/state/linux/log
	mgr define "$mgr_dir/linux.xml" >/dev/null || why="define failed"
	mgr start linux >/dev/null 2>"$mgr_dir/linux.err" || why="${why:-start: $(cat "$mgr_dir/linux.err")}"
	wait_for_line "$log" '^GUEST tick 3' 120 || why="${why:-the counter of the guest never started}"
	sleep 2 | timeout 10 "$KVMINI" --state-dir "$mgr_dir/state" console linux \
		>"$mgr_dir/linux-console.out" 2>&1
	grep -q 'GUEST tick' "$mgr_dir/linux-console.out" || why="${why:-console showed no ticks}"
	mgr suspend linux >/dev/null && [ "$(mgr_state linux)" = "paused|user" ] || why="${why:-suspend}"
	sleep 0.5
	a=$(grep -c '^GUEST tick' "$log")
	sleep 2
	b=$(grep -c '^GUEST tick' "$log")
	[ "$a" = "$b" ] || why="${why:-ticks went $a -> $b while suspended}"
	mgr resume linux >/dev/null && [ "$(mgr_state linux)" = "running|booted" ] || why="${why:-resume}"
	wait_for_line "$log" "^GUEST tick $((b + 3))" 60 || why="${why:-no ticks after resume}"
	mgr shutdown linux --timeout 60 >/dev/null 2>>"$mgr_dir/linux.err" || why="${why:-shutdown failed}"
	[ "$(mgr_state linux)" = "shut off|shutdown" ] || why="${why:-after shutdown: $(mgr_state linux)}"
	grep -q '^GUEST ctrlaltdel' "$log" || why="${why:-the ctrlaltdel action of busybox init did not run}"
	mgr start linux >/dev/null 2>>"$mgr_dir/linux.err" || why="${why:-second start}"
	wait_for_line "$log" '^GUEST tick 1' 120 || why="${why:-no ticks after the second start}"
	mgr destroy linux >/dev/null || why="${why:-destroy}"
	[ "$(mgr_state linux)" = "shut off|destroyed" ] || why="${why:-after destroy: $(mgr_state linux)}"
	mgr undefine linux >/dev/null
	[ -z "$why" ] && pass "$name" || fail "$name" "$why" "$log" "$mgr_dir/linux.err"
fi
