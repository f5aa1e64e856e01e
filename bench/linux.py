#!/usr/bin/env python3
"""Time to "Run /init": kvmini against QEMU microvm, with the same kernel,
cmdline, vCPUs and devices: root on virtio-blk (a fresh copy of the guest
kit's ext4 image each run), virtio-net on a tap with dnsmasq answering DHCP
(in a private network namespace), and virtio-rng. Runs are interleaved.
Each VMM is stopped once the line appears (an emulating KVM host cannot go
further).

usage: bench/linux.py [--runs N] [--kernel vmlinux]
"""
import argparse
import os
import select
import shutil
import signal
import statistics
import subprocess
import time

from bed import run_in_bed_if_asked

CACHE = os.environ.get("KVMINI_CACHE", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "cache"))
CMDLINE = "console=ttyS0 root=/dev/vda rootfstype=ext4 rw init=/init ip=dhcp panic=-1"
ROOT = "build/bench-root.ext4"


def time_to_init(argv, limit=300):
    shutil.copyfile(os.path.join(CACHE, "rootfs.ext4"), ROOT)
    argv = ["unshare", "--net", "tests/netns.sh", "build/bench-leases"] + argv
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    buf = b""
    found = None
    while time.perf_counter() - t0 < limit:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        if b"Run /init as init process" in buf:
            found = time.perf_counter() - t0
            break
    os.killpg(proc.pid, signal.SIGKILL)  # the VMM may be a grandchild
    proc.wait()
    return found


def main():
    run_in_bed_if_asked()
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--kernel", default=os.path.join(CACHE, "kernel-vmlinux"))
    args = ap.parse_args()
    vmms = {"kvmini": ["./kvmini", "run", "--cpus", str(args.cpus), "--memory", "256M",
                       "--kernel", args.kernel, "--disk", f"path={ROOT}", "--net", "tap=tap0",
                       "--rng", "--cmdline", CMDLINE]}
    if shutil.which("qemu-system-x86_64"):
        vmms["qemu microvm"] = [
            "qemu-system-x86_64", "-M", "microvm,accel=kvm", "-smp", str(args.cpus), "-m", "256",
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
            "-global", "virtio-mmio.force-legacy=false",
            "-drive", f"id=root,file={ROOT},format=raw,if=none",
            "-device", "virtio-blk-device,drive=root",
            "-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=off",
            "-device", "virtio-net-device,netdev=net0", "-device", "virtio-rng-device",
            "-kernel", args.kernel, "-append", CMDLINE]
    times = {name: [] for name in vmms}
    for _ in range(args.runs):
        for name, argv in vmms.items():
            times[name].append(time_to_init(argv))
    print(f"time to 'Run /init', {args.cpus} vCPUs, {args.runs} runs each")
    medians = {}
    for name, values in times.items():
        ok = [v for v in values if v is not None]
        if ok:
            medians[name] = statistics.median(ok)
            print(f"  {name:14s} min {min(ok):7.2f} s  median {medians[name]:7.2f} s"
                  f"  ({len(ok)}/{len(values)} reached init)")
        else:
            print(f"  {name:14s} never reached init")
    if len(medians) == 2:
        print(f"  ratio kvmini/qemu (median): {medians['kvmini'] / medians['qemu microvm']:.3f}")


if __name__ == "__main__":
    main()
