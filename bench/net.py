#!/usr/bin/env python3
"""virtio-net benchmark: the probe's ring-3 driver sends 64- and 1500-byte
frames through the tap as fast as it can (guest to host), then counts the
frames the host floods at it (host to guest), under kvmini and QEMU microvm
(-netdev tap,vhost=off) in a private network namespace (tests/netns.sh).

Guest to host: packets/s and Gbit/s from tap0's counters between the
phase's serial markers, and the VMM's host CPU per packet outside its vCPU
threads. Host to guest: frames the guest received per second of the host's
flood (a Python AF_PACKET sender, which may itself be the limit).
Goal: >= 1.2x QEMU's packets/s at no more host CPU per packet.

usage: bench/net.py [--scale N] [--flood N]     (run as root)
"""
import argparse
import os
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from blk import device_cpu  # noqa: E402

from bed import run_in_bed_if_asked


def tap_counter(name):
    """tap0's counter from /proc/net/dev, which (unlike /sys) follows the netns."""
    with open("/proc/net/dev") as f:
        for line in f:
            if line.strip().startswith("tap0:"):
                fields = line.split(":", 1)[1].split()
                return int(fields[{"rx_bytes": 0, "rx_packets": 1}[name]])
    return 0




def inner(argv, flood):
    """Runs inside the namespace: drives one VMM, prints result lines."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    buf, begin, mac = b"", {}, None
    deadline = time.time() + 300
    while time.time() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            words = line.decode(errors="replace").split()
            if "virtio-net-init:" in words and "mac" in words:
                mac = bytes.fromhex(words[words.index("mac") + 1].rstrip(",").replace(":", ""))
            if len(words) >= 3 and words[1] == "bench-begin":
                begin[words[2]] = (time.perf_counter(), tap_counter("rx_packets"),
                                   tap_counter("rx_bytes"), device_cpu(proc.pid))
            elif len(words) >= 4 and words[1] == "bench-end":
                t0, p0, b0, c0 = begin[words[2]]
                secs = time.perf_counter() - t0
                pkts = tap_counter("rx_packets") - p0
                gbit = (tap_counter("rx_bytes") - b0) * 8 / secs / 1e9
                cpu = (device_cpu(proc.pid) - c0) / max(pkts, 1) * 1e6
                print(f"RESULT {words[2]} {pkts / secs:.0f} {gbit:.2f} {cpu:.2f}", flush=True)
            elif len(words) >= 2 and words[1] == "bench-rx-ready":
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                s.bind(("tap0", 0))
                frame = mac + b"\x02\x00\x00\x00\x00\x01\x88\xb5" + bytes(46)
                c0 = device_cpu(proc.pid)
                t0 = time.perf_counter()
                for _ in range(flood):
                    try:
                        s.send(frame)
                    except OSError:
                        pass
                secs = time.perf_counter() - t0
                s.send(mac + b"\x02\x00\x00\x00\x00\x01\x88\xb6" + bytes(46))
                begin["rx"] = (secs, c0)
            elif len(words) >= 4 and words[1] == "bench-rx":
                secs, c0 = begin["rx"]
                got = int(words[2])
                cpu = (device_cpu(proc.pid) - c0) / max(got, 1) * 1e6
                print(f"RESULT rx-64 {got / secs:.0f} {got * 60 * 8 / secs / 1e9:.2f} {cpu:.2f}"
                      f" {got}/{flood}", flush=True)
            elif len(words) >= 2 and words[1] == "RESULT":
                proc.kill()
    proc.kill()
    proc.wait()


def main():
    run_in_bed_if_asked()
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        inner(sys.argv[3:], int(sys.argv[2]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--kvmini", default="./kvmini")
    ap.add_argument("--flood", type=int, default=200000)
    args = ap.parse_args()
    probe = "build/probe/probe.elf"
    cmdline = f"probe.mem=128 probe.virtio=1 probe.net-bench={args.scale} probe.end=1"
    vmms = {
        "kvmini": [args.kvmini, "run", "--debug-exit", "--memory", "128M", "--kernel", probe,
                   "--net", "tap=tap0", "--cmdline", cmdline],
        "qemu": ["qemu-system-x86_64", "-M", "microvm,accel=kvm", "-m", "128", "-nodefaults",
                 "-no-user-config", "-nographic", "-serial", "stdio", "-name",
                 "bench,debug-threads=on", "-global", "virtio-mmio.force-legacy=false",
                 "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off",
                 "-device", "virtio-net-device,netdev=n0", "-kernel", probe, "-append", cmdline],
    }
    results = {}
    for name, argv in vmms.items():
        out = subprocess.run(["unshare", "--net", "tests/netns.sh", "/dev/null", sys.executable,
                              __file__, "--inner", str(args.flood)] + argv,
                             capture_output=True, text=True, timeout=600).stdout
        for line in out.splitlines():
            w = line.split()
            if w and w[0] == "RESULT":
                results.setdefault(w[1], {})[name] = [float(x) for x in w[2:5]] + w[5:]
    print(f"virtio-net benchmark (scale {args.scale}: {20000 * args.scale} frames per TX phase;"
          f" RX: {args.flood} flooded frames)")
    print(f"{'phase':8s} {'kvmini pps':>11s} {'qemu pps':>10s} {'k/q':>6s} {'kvmini Gb/s':>11s}"
          f" {'qemu Gb/s':>9s} {'kvmini us/pkt':>13s} {'qemu us/pkt':>11s}")
    for phase, r in results.items():
        k, q = r.get("kvmini"), r.get("qemu")
        if not k or not q:
            print(f"{phase:8s} incomplete: {r}")
            continue
        print(f"{phase:8s} {k[0]:11.0f} {q[0]:10.0f} {k[0] / q[0]:6.2f} {k[1]:11.2f} {q[1]:9.2f}"
              f" {k[2]:13.2f} {q[2]:11.2f}" + (f"   received {k[3]} vs {q[3]}" if len(k) > 3 else ""))
    print("goal: >= 1.2x QEMU's packets/s at no more host CPU per packet")


if __name__ == "__main__":
    main()
