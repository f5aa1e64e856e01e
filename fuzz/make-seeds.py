#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus into build/fuzz-seeds/TARGET: valid
inputs the fuzzer mutates from, generated here rather than committed.

usage: fuzz/make-seeds.py PROBE_DIR OUT_DIR
"""
import os
import struct
import sys

probes, out = sys.argv[1], sys.argv[2]


def seed(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


# virtq: [log2 size][event_idx] + RAM: desc table at 0, avail at 0x4000.
ram = bytearray(0x6000)
struct.pack_into("<QIHH", ram, 0, 0x5800, 16, 1, 1)      # header, NEXT -> 1
struct.pack_into("<QIHH", ram, 16, 0x5900, 512, 3, 2)    # data, NEXT|WRITE -> 2
struct.pack_into("<QIHH", ram, 32, 0x5a00, 1, 2, 0)      # status, WRITE
struct.pack_into("<QIHH", ram, 48, 0x3000, 32, 4, 0)     # indirect table
struct.pack_into("<QIHH", ram, 0x3000, 0x5800, 16, 1, 1)
struct.pack_into("<QIHH", ram, 0x3010, 0x5a00, 1, 2, 0)
struct.pack_into("<HHHH", ram, 0x4000, 0, 2, 0, 3)       # avail: idx 2, heads 0 and 3
seed("virtq", "two-chains", bytes([3, 1]) + bytes(ram))

# blk: 8 length bytes (bit 7: writable) then the readable bytes.
hdr = struct.pack("<IIQ", 0, 0, 3)                       # IN, sector 3
seed("blk", "read", bytes([0, 8 | 0x80, 0x80, 0, 0, 0, 0, 0]) + hdr)
seed("blk", "write", bytes([0, 8, 0x80, 0, 0, 0, 0, 0]) + struct.pack("<IIQ", 1, 0, 0) + bytes(512))
seed("blk", "discard", bytes([0, 0, 0x80, 0, 0, 0, 0, 0]) + struct.pack("<IIQ", 11, 0, 0))

# loader: the probe's headers (the first 8 KiB of each format).
for name in ("probe.elf", "probe.bzImage"):
    with open(os.path.join(probes, name), "rb") as f:
        seed("loader", name, f.read(8192))

# mmio: the driver handshake: status, features, a queue, DRIVER_OK.
def access(offset, value, read=False):
    return struct.pack("<HBI", offset, 2 | (4 if read else 0), value)

seq = b"".join([access(0x70, 1), access(0x70, 3), access(0x24, 1), access(0x20, 1),
                access(0x70, 11), access(0x30, 0), access(0x38, 8), access(0x80, 0x1000),
                access(0x90, 0x2000), access(0xa0, 0x3000), access(0x44, 1), access(0x70, 15),
                access(0x50, 0), access(0x60, 0, True)])
seed("mmio", "handshake", seq)

# net: [driver features >> 8][queue sizes], then the rings (RX at 0, TX at
# 0x3000), then a frame from the tap. One RX buffer and one TX frame posted.
ram = bytearray(0x6000)
struct.pack_into("<QIHH", ram, 0, 0x5000, 2048, 2, 0)       # RX buffer, WRITE
struct.pack_into("<HHH", ram, 0x1000, 0, 1, 0)               # RX avail: idx 1, head 0
frame = bytes(12) + b"\xff" * 6 + b"\x02" + bytes(5) + b"\x08\x06" + bytes(28)
ram[0x5800:0x5800 + len(frame)] = frame
struct.pack_into("<QIHH", ram, 0x3000, 0x5800, len(frame), 0, 0)  # TX frame
struct.pack_into("<HHH", ram, 0x4000, 0, 1, 0)               # TX avail
seed("net", "arp", bytes([0x80, 0x21]) + bytes(ram) + frame[12:])

# api: the getting-started requests back to back, and some hostile ones.
def http(method, path, body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


flow = (http("PUT", "/boot-source", b'{"kernel_image_path": "/k", "boot_args": "console=ttyS0"}')
        + http("PUT", "/drives/rootfs", b'{"drive_id": "rootfs", "path_on_host": "/r", '
               b'"is_root_device": true, "is_read_only": false, "cache_type": "Writeback"}')
        + http("PUT", "/machine-config", b'{"vcpu_count": 2, "mem_size_mib": 1024}')
        + http("PATCH", "/machine-config", b'{"vcpu_count": 4}')
        + http("PUT", "/network-interfaces/eth0", b'{"iface_id": "eth0", '
               b'"guest_mac": "AA:FC:00:00:00:01", "host_dev_name": "tap0"}')
        + http("PUT", "/entropy", b"{}") + http("PUT", "/logger", b'{"level": "Off"}')
        + http("GET", "/vm/config") + http("GET", "/") + http("GET", "/version")
        + http("PUT", "/actions", b'{"action_type": "FlushMetrics"}')
        + http("PATCH", "/vm", b'{"state": "Paused"}'))
seed("api", "getting-started", flow)
seed("api", "chunked", b"PUT /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
seed("api", "bad-json", http("PUT", "/machine-config", b'{"vcpu_count": [1, {"a": null}]'))

# config: a whole-VM file.
seed("config", "vm.json", b'{"boot-source": {"kernel_image_path": "/k", "initrd_path": "/i"}, '
     b'"drives": [{"drive_id": "root", "path_on_host": "/r", "is_root_device": true, '
     b'"partuuid": "1234-01"}, {"drive_id": "d1", "path_on_host": "/d", "is_root_device": false, '
     b'"is_read_only": true, "io_engine": "Sync"}], "machine-config": {"vcpu_count": 2, '
     b'"mem_size_mib": 512, "huge_pages": "None", "track_dirty_pages": true}, '
     b'"network-interfaces": [{"iface_id": "eth0", "host_dev_name": "tap0", '
     b'"guest_mac": "02:00:00:00:00:01"}], "entropy": {}, "serial": {"serial_out_path": "/s"}, '
     b'"balloon": null}')

# rng: [log2 size << 5 | event_idx][KiB of tokens] + ring: one 4 KiB writable buffer.
ring = bytearray(0x3000)
struct.pack_into("<QIHH", ring, 0, 0x5000, 4096, 2, 0)
struct.pack_into("<HHH", ring, 0x1000, 0, 1, 0)
seed("rng", "one-buffer", bytes([2 << 5, 64]) + bytes(ring))

# vsock: [rx log2 size << 1 | tx log2 size << 4 | event_idx][peer credit, 4 KiB units]
# + RAM: RX ring at 0 (one 4 KiB buffer at 0x6000), TX ring at 0x4000 with
# a REQUEST, an RW for the open connection (host port 1000, guest 2000)
# and a CREDIT_REQUEST, each one descriptor at 0x7000 + 0x100 * i.
def vsock_hdr(src_port, dst_port, op, length=0):
    return struct.pack("<QQIIIHHIII", 3, 2, src_port, dst_port, length, 1, op, 0, 65536, 0)


vram = bytearray(0x8000)
struct.pack_into("<QIHH", vram, 0, 0x6000, 4096, 2, 0)
struct.pack_into("<HHH", vram, 0x1000, 0, 1, 0)
packets = [vsock_hdr(2001, 1234, 1), vsock_hdr(2000, 1000, 5, 5) + b"hello", vsock_hdr(2000, 1000, 7)]
for i, p in enumerate(packets):
    struct.pack_into("<QIHH", vram, 0x4000 + 16 * i, 0x7000 + 0x100 * i, len(p), 0, 0)
    vram[0x7000 + 0x100 * i:0x7000 + 0x100 * i + len(p)] = p
struct.pack_into("<HHHHH", vram, 0x5000, 0, 3, 0, 1, 2)
seed("vsock", "three-packets", bytes([1 << 1 | 2 << 4, 16]) + bytes(vram[:0x7300]))

# domain: a domain XML with every device the manager knows.
seed("domain", "all-devices.xml", b"""<domain type='kvm'>
  <name>seed</name>
  <uuid>6f1d2c4e-0000-4000-8000-000000000001</uuid>
  <memory unit='GiB'>1</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='microvm'>hvm</type><kernel>/k</kernel>
    <initrd>/i</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/d'/>
      <target dev='vda' bus='virtio'/><readonly/><serial>s1</serial></disk>
    <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/sdz'/>
      <target dev='vdb' bus='virtio'/></disk>
    <interface type='ethernet'><mac address='52:54:00:00:00:01'/><target dev='tap0'/>
      <model type='virtio'/></interface>
    <interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <vsock model='virtio'><cid auto='no' address='5'/></vsock>
  </devices>
</domain>
""")

# transport: 8-byte guest actions on blk (0), rng (1) and vsock (2).
def action(kind, dev, where, value, width=4):
    return struct.pack("<B", kind | {1: 0, 2: 1, 4: 2}[width] << 2 | dev << 4) + \
        struct.pack("<I", where)[:3] + struct.pack("<I", value)


def reg(dev, offset, value):
    return action(0, dev, offset, value)


def ram(addr, data):
    return b"".join(action(3, 0, (addr + i) // 4, struct.unpack_from("<I", data, i)[0])
                    for i in range(0, len(data), 4))


def driver_init(dev, nqueues):
    """ACKNOWLEDGE, DRIVER, VERSION_1, FEATURES_OK; queue q at 0x10000 + q * 0x4000."""
    out = reg(dev, 0x70, 1) + reg(dev, 0x70, 3) + reg(dev, 0x24, 1) + reg(dev, 0x20, 1)
    out += reg(dev, 0x70, 0xb)
    for q in range(nqueues):
        base = 0x10000 + q * 0x4000
        out += reg(dev, 0x30, q) + reg(dev, 0x38, 8) + reg(dev, 0x80, base)
        out += reg(dev, 0x90, base + 0x1000) + reg(dev, 0xa0, base + 0x2000) + reg(dev, 0x44, 1)
    return out + reg(dev, 0x70, 0xf)


def one_chain(base, descs):
    """Descriptors at base, head 0 made available; each desc: (addr, len, flags)."""
    table = b"".join(struct.pack("<QIHH", a, n, f | (1 if i + 1 < len(descs) else 0),
                                 i + 1 if i + 1 < len(descs) else 0)
                     for i, (a, n, f) in enumerate(descs))
    return ram(base, table) + ram(base + 0x1000, struct.pack("<HHHH", 0, 1, 0, 0))


seed("transport", "rng-read", driver_init(1, 1) + one_chain(0x10000, [(0x20000, 64, 2)]) +
     action(2, 1, 0, 0))
seed("transport", "blk-read", driver_init(0, 1) + ram(0x20000, struct.pack("<IIQ", 0, 0, 1)) +
     one_chain(0x10000, [(0x20000, 16, 0), (0x21000, 512, 2), (0x22000, 1, 2)]) +
     action(2, 0, 0, 0) + reg(0, 0x70, 0))
seed("transport", "vsock-rx", driver_init(2, 3) + one_chain(0x10000, [(0x20000, 4096, 2)]) +
     action(2, 2, 0, 0) + reg(2, 0x30, 0) + reg(2, 0xc0, 1))
