# Bad input: a one-line error naming the problem, the documented status,
# and no core dump or hang.
bad_input() {
	local name=$1 want_rc=$2 pattern=$3
	shift 3
	run_vmm "$WORK/out" "$WORK/err" 30 "$@"
	if [ "$rc" != "$want_rc" ]; then
		fail "bad input: $name" "exit status $rc, expected $want_rc" "$WORK/err"
	elif ! grep -qE -e "$pattern" "$WORK/err"; then
		fail "bad input: $name" "message does not match /$pattern/" "$WORK/err"
	elif [ "$(wc -l <"$WORK/err")" != 1 ]; then
		fail "bad input: $name" "expected a one-line error" "$WORK/err"
	else
		pass "bad input: $name"
	fi
}

probe=$PROBES/probe.elf
head -c 3000 "$probe" >"$WORK/truncated.elf"
head -c 1500 "$PROBES/probe.bzImage" >"$WORK/truncated.bzImage"
head -c 100000 /dev/urandom >"$WORK/garbage"
# 14.5 MiB: fits in 16M of RAM only by overlapping the kernel.
head -c 15204352 /dev/zero >"$WORK/big.initrd"
# The same ELF with its PVH note's type changed: no entry point.
python3 - "$probe" "$WORK/nonote.elf" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.find(b"Xen\0")
data[i - 4:i] = (99).to_bytes(4, "little")
open(sys.argv[2], "wb").write(data)
PY

bad_input "missing kernel" 2 "kernel $WORK/nope: No such file" \
	"$KVMINI" run --debug-exit --kernel "$WORK/nope"
bad_input "kernel is a directory" 2 "not a regular file" "$KVMINI" run --debug-exit --kernel "$WORK"
bad_input "missing initrd" 2 "initrd $WORK/nope: No such file" \
	"$KVMINI" run --debug-exit --kernel "$probe" --initrd "$WORK/nope"
bad_input "no kernel option" 2 "no kernel given" "$KVMINI" run --debug-exit
bad_input "unknown option" 2 "unknown option '--frobnicate'" "$KVMINI" run --debug-exit --frobnicate
bad_input "too many vCPUs" 2 "--cpus 65: .*vcpu_count. must be between 1 and 64" "$KVMINI" run --debug-exit --kernel "$probe" --cpus 65
bad_input "vCPUs not a number" 2 "--cpus 'lots' is not a number" \
	"$KVMINI" run --debug-exit --kernel "$probe" --cpus lots
bad_input "memory not a number" 2 "--memory 'huge' is not a size" \
	"$KVMINI" run --debug-exit --kernel "$probe" --memory huge
bad_input "memory too small" 2 "--memory 2M: .*mem_size_mib. must be between 4 and" \
	"$KVMINI" run --debug-exit --kernel "$probe" --memory 2M

need_kvm "bad input: kernel files" && {
	bad_input "garbage kernel" 2 "neither an ELF vmlinux nor a bzImage" \
		"$KVMINI" run --debug-exit --kernel "$WORK/garbage"
	bad_input "truncated ELF" 2 "kernel: ELF .*(outside the file|truncated)" \
		"$KVMINI" run --debug-exit --kernel "$WORK/truncated.elf"
	bad_input "truncated bzImage" 2 "kernel: bzImage is truncated" \
		"$KVMINI" run --debug-exit --kernel "$WORK/truncated.bzImage"
	bad_input "ELF without PVH note" 2 "no PVH entry note" \
		"$KVMINI" run --debug-exit --kernel "$WORK/nonote.elf"
	bad_input "initrd too large for RAM" 2 "initrd of 15204352 bytes does not fit" \
		"$KVMINI" run --debug-exit --kernel "$probe" --memory 16M --initrd "$WORK/big.initrd"
	bad_input "initrd larger than RAM" 2 "larger than guest RAM" \
		"$KVMINI" run --debug-exit --kernel "$probe" --memory 8M --initrd "$WORK/big.initrd"
}

name="bad input: no permission on /dev/kvm"
if need_kvm "$name"; then
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		cp "$KVMINI" "$probe" "$WORK/"
		chmod 755 "$WORK/kvmini"
		chmod 644 "$WORK/probe.elf"
		bad_input "no permission on /dev/kvm" 6 "cannot open /dev/kvm: Permission denied" \
			setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$WORK/kvmini" run --kernel "$WORK/probe.elf"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		bad_input "no permission on /dev/kvm" 6 "cannot open /dev/kvm: Permission denied" \
			"$KVMINI" run --debug-exit --kernel "$probe"
	else
		skip "$name" "needs root (to drop to nobody) or a user without /dev/kvm access"
	fi
fi

# cache=none promises O_DIRECT: where the file system refuses it (tmpfs
# before Linux 6.6, as in the bed), kvmini refuses the disk by name.
name="bad input: cache=none on a file system without O_DIRECT"
truncate -s 1M "$WORK/direct.img"
if dd if=/dev/zero of="$WORK/direct.img" bs=4096 count=1 oflag=direct conv=notrunc 2>/dev/null; then
	skip "$name" "$WORK's file system accepts O_DIRECT (tmpfs since Linux 6.6)"
elif need_kvm "$name"; then
	bad_input "cache=none on a file system without O_DIRECT" 2 \
		"disk $WORK/direct.img: cache=none needs O_DIRECT, which this file system refuses" \
		"$KVMINI" run --debug-exit --kernel "$probe" --disk "path=$WORK/direct.img,cache=none"
fi
