# virtio-blk and virtio-rng driven by the probe's own virtio driver, under
# kvmini and (as a differential check) QEMU microvm; the hostile-driver
# cases; and the data-safety trials with kill -9.
check_pattern() {
	python3 - "$@" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
seed, zero = int(sys.argv[2], 0), int(sys.argv[3]) * 64
words = struct.unpack("<%dQ" % (len(data) // 8), data)
bad = sum(1 for i, w in enumerate(words)
          if w != (0 if i < zero else ((i * 0x9e3779b97f4a7c15) & (2**64 - 1)) ^ seed))
print(bad)
PY
}

virtio_args="probe.mem=128 probe.virtio=1 probe.disk-sectors=8192 probe.disk-id=probe-disk"

# The disk directory needs what a disk's file system has: O_DIRECT (so
# that cache=none really is it) and hole punching (discard). Where the
# tree's file system lacks either (9p in the test bed), an ext4 on a loop
# device serves.
disk_dir=$(mktemp -d "${KVMINI_DISK_DIR:-$PWD/build}/disks.XXXXXX")
truncate -s 64k "$disk_dir/probe"
if ! { fallocate -p -o 0 -l 4096 "$disk_dir/probe" &&
	dd if=/dev/zero of="$disk_dir/probe" bs=4096 count=1 oflag=direct conv=notrunc; } 2>/dev/null; then
	truncate -s 64M "$WORK/disks.ext4"
	mkfs.ext4 -q "$WORK/disks.ext4"
	mount -o loop "$WORK/disks.ext4" "$disk_dir" || echo "virtio.sh: no loop-mounted ext4 for the disks"
fi
for engine in io=uring io=sync cache=none; do
name="virtio probe ($engine): blk, read-only blk, rng, hostile driver"
if need_kvm "$name"; then
	rm -f "$disk_dir/d1.img" "$disk_dir/d2.img"
	truncate -s 4M "$disk_dir/d1.img"
	truncate -s 1M "$disk_dir/d2.img"
	run_vmm "$WORK/out" "$WORK/err" 120 "$KVMINI" run --debug-exit --memory 128M \
		--kernel "$PROBES/probe.elf" --disk "path=$disk_dir/d1.img,id=probe-disk,$engine" \
		--disk "path=$disk_dir/d2.img,ro,$engine" --rng \
		--cmdline "$(probe_cmdline $virtio_args probe.virtio-evil=1)"
	if check_probe "$name" "$WORK/out" "$WORK/err" 1; then
		# The last pattern written, with sectors 0-15 discarded/zeroed.
		bad=$(check_pattern "$disk_dir/d1.img" 0x2222 16)
		if [ "$bad" != 0 ]; then
			fail "$name" "$bad words of the disk file differ from what the guest wrote"
		elif [ "$(grep -c '^PROBE ok virtio' "$WORK/out")" -lt 13 ]; then
			fail "$name" "not every virtio check ran" "$WORK/out"
		else
			pass "$name ($(grep -c '^PROBE ok virtio' "$WORK/out") checks, file verified)"
		fi
	fi
fi
done
umount "$disk_dir" 2>/dev/null
rm -rf "$disk_dir"

name="virtio qemu differential"
if need_kvm "$name" && need_qemu "$name"; then
	cp "$WORK/out" "$WORK/kvmini-virtio.out"
	rm -f "$WORK/q1.img" "$WORK/q2.img"
	truncate -s 4M "$WORK/q1.img"
	truncate -s 1M "$WORK/q2.img"
	run_vmm "$WORK/qout" "$WORK/qerr" 120 qemu-system-x86_64 -M microvm,accel=kvm -m 128 \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -global virtio-mmio.force-legacy=false \
		-drive "id=d1,file=$WORK/q1.img,format=raw,if=none,discard=unmap" \
		-device virtio-blk-device,drive=d1,serial=probe-disk \
		-drive "id=d2,file=$WORK/q2.img,format=raw,if=none,readonly=on" \
		-device virtio-blk-device,drive=d2 -device virtio-rng-device \
		-kernel "$PROBES/probe.elf" -append "$(probe_cmdline $virtio_args)"
	if check_probe "$name" "$WORK/qout" "$WORK/qerr" 1; then
		names() { grep -o '^PROBE ok virtio-[a-z-]*' "$1" | grep -v evil | sort; }
		if ! diff <(names "$WORK/qout") <(names "$WORK/kvmini-virtio.out") >"$WORK/diff"; then
			fail "$name" "kvmini and QEMU passed different virtio checks" "$WORK/diff"
		elif [ "$(check_pattern "$WORK/q1.img" 0x2222 16)" != 0 ]; then
			fail "$name" "QEMU's disk file differs from the pattern"
		else
			pass "$name ($(names "$WORK/qout" | wc -l) virtio checks on both)"
		fi
	fi
fi

# Every record whose flush the guest saw complete must be in the file,
# wherever kill -9 lands.
trials=${KVMINI_SAFETY_TRIALS:-20}
name="data safety: kill -9 after flush, $trials trials"
if need_kvm "$name"; then
	lost=0
	for trial in $(seq "$trials"); do
		rm -f "$WORK/rec.img"
		truncate -s 2M "$WORK/rec.img"
		"$KVMINI" run --debug-exit --memory 64M --kernel "$PROBES/probe.elf" \
			--disk "path=$WORK/rec.img" \
			--cmdline "$(probe_cmdline probe.virtio=1 probe.records=1)" \
			</dev/null >"$WORK/rec.out" 2>"$WORK/rec.err" &
		pid=$!
		# The kill lands at random once records flow (ASan in the bed
		# boots slower than the window itself).
		wait_for_line "$WORK/rec.out" '^PROBE flushed' 60
		sleep "0.$(printf '%02d' $((RANDOM % 40 + 5)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		last=$(grep -a '^PROBE flushed' "$WORK/rec.out" | tail -1 | tr -dc '0-9')
		[ -n "$last" ] || continue
		missing=$(python3 - "$WORK/rec.img" "$last" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
bad = 0
for i in range(int(sys.argv[2]) + 1):
    magic, n, check = struct.unpack_from("<QQQ", data, i * 512)
    if magic != 0x4b564d494e495245 or n != i or check != ((i * 0x9e3779b97f4a7c15) & (2**64 - 1)) ^ 0x5afe:
        bad += 1
print(bad)
PY
)
		if [ "$missing" != 0 ]; then
			lost=$((lost + 1))
			echo "    trial $trial: $missing of $((last + 1)) flushed records missing"
		fi
		flushed_total=$((${flushed_total:-0} + last + 1))
	done
	if [ $lost = 0 ] && [ "${flushed_total:-0}" -gt 0 ]; then
		pass "$name (${flushed_total} flushed records checked)"
	else
		fail "$name" "$lost trials lost flushed records (${flushed_total:-0} checked)"
	fi
fi
