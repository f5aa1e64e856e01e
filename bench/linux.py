#!/usr/bin/env python3
"""Time to "Run /init": kvmini against QEMU microvm, same kernel, initrd,
cmdline and vCPU count, runs interleaved. Each VMM is stopped once the line
appears (an emulating KVM host cannot go further).

usage: bench/linux.py [--runs N] [--kernel vmlinux] [--initrd FILE]
"""
import argparse
import os
import select
import shutil
import statistics
import subprocess
import time

CACHE = os.environ.get("KVMINI_CACHE", os.path.expanduser("~/.cache/kvmini"))
EMULATED = os.path.exists("/sys/module/kvm_pvm")
CMDLINE = "console=ttyS0 panic=-1" + (
    " noxsave clearcpuid=popcnt,smap no_int3_selftest reboot=t" if EMULATED else "")


def time_to_init(argv, limit=300):
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
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
    proc.kill()
    proc.wait()
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--kernel", default=os.path.join(CACHE, "kernel-vmlinux"))
    ap.add_argument("--initrd", default=os.path.join(CACHE, "tiny-initramfs.cpio"))
    args = ap.parse_args()
    vmms = {"kvmini": ["./kvmini", "run", "--cpus", str(args.cpus), "--memory", "256M",
                       "--kernel", args.kernel, "--initrd", args.initrd, "--cmdline", CMDLINE]}
    if shutil.which("qemu-system-x86_64"):
        vmms["qemu microvm"] = [
            "qemu-system-x86_64", "-M", "microvm,accel=kvm", "-smp", str(args.cpus), "-m", "256",
            "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
            "-kernel", args.kernel, "-initrd", args.initrd, "-append", CMDLINE]
    times = {name: [] for name in vmms}
    for _ in range(args.runs):
        for name, argv in vmms.items():
            times[name].append(time_to_init(argv))
    print(f"time to 'Run /init', {args.cpus} vCPUs, {args.runs} runs each"
          f"{' (emulating KVM host: kvm_pvm)' if EMULATED else ''}")
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
