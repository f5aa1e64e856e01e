#!/usr/bin/env python3
"""Boot-time and memory benchmark: kvmini against QEMU microvm on one probe.

For each VMM it runs the same probe guest N times and measures, from just
before exec:
  - time to the guest's first serial byte ("PROBE start" is its first act);
  - for kvmini, the boot-marker time kvmini itself logs;
  - peak RSS (VmHWM), and for kvmini the part beyond guest RAM
    (RssAnon + RssFile; guest RAM is the shared memfd, RssShmem).
It prints min and median per VMM and the ratios. Goals (reported, not
asserted): first output within 3 ms; VMM RSS beyond guest RAM <= 2 MiB.

usage: bench/boot.py [--runs N] [--kvmini PATH] [--probe PATH]
"""
import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import time

from bed import run_in_bed_if_asked

ENDLESS = "probe.ring3=100000000000000 probe.end=1"


def status_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                fields[key] = int(value.split()[0])
    return fields


def one_run(argv):
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = None
    deadline = t0 + 30
    while first is None and time.perf_counter() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            if not os.read(proc.stdout.fileno(), 1):
                break
            first = (time.perf_counter() - t0) * 1000
    # Let the probe finish its checks and settle in its ring-3 loop.
    time.sleep(0.3)
    mem = status_kib(proc.pid) if proc.poll() is None else {}
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    marker = re.search(rb"boot marker: ([0-9.]+) ms", err)
    return first, (float(marker.group(1)) if marker else None), mem


def summarize(name, values, unit):
    values = [v for v in values if v is not None]
    if not values:
        print(f"  {name:34s} n/a")
        return None
    print(f"  {name:34s} min {min(values):9.2f} {unit}   median "
          f"{statistics.median(values):9.2f} {unit}   (n={len(values)})")
    return statistics.median(values)


def main():
    run_in_bed_if_asked()
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kvmini", default="./kvmini")
    ap.add_argument("--probe", default="build/probe/probe.elf")
    args = ap.parse_args()

    vmms = {
        "kvmini": [args.kvmini, "run", "--debug-exit", "--kernel", args.probe,
                   "--memory", "128M", "--cmdline", ENDLESS],
    }
    if shutil.which("qemu-system-x86_64"):
        vmms["qemu microvm"] = [
            "qemu-system-x86_64", "-M", "microvm,accel=kvm", "-m", "128", "-nodefaults",
            "-no-user-config", "-nographic", "-serial", "stdio", "-kernel", args.probe,
            "-append", ENDLESS]
    else:
        print("qemu-system-x86_64 not installed: kvmini only")

    results = {}
    for run in range(args.runs):
        for name, argv in vmms.items():  # interleaved: the host is noisy
            results.setdefault(name, []).append(one_run(argv))

    medians = {}
    print(f"boot benchmark, {args.runs} runs each, probe {args.probe}, 128 MiB guest")
    for name, runs in results.items():
        print(name)
        medians[name] = {
            "first": summarize("exec -> first serial byte", [r[0] for r in runs], "ms"),
            "hwm": summarize("peak RSS (VmHWM)", [r[2].get("VmHWM", 0) / 1024 for r in runs
                                                  if r[2]], "MiB"),
        }
        if name == "kvmini":
            summarize("exec -> boot marker (kvmini log)", [r[1] for r in runs], "ms")
            medians[name]["vmm"] = summarize(
                "RSS beyond guest RAM", [(r[2]["RssAnon"] + r[2]["RssFile"]) / 1024
                                         for r in runs if r[2]], "MiB")
            # RssFile is mostly libc text shared with every other process;
            # what each extra VM really costs is its private memory.
            summarize("  of which private (RssAnon)", [r[2]["RssAnon"] / 1024
                                                       for r in runs if r[2]], "MiB")
    if "qemu microvm" in medians:
        k, q = medians["kvmini"], medians["qemu microvm"]
        print("ratios (kvmini / qemu, median)")
        for key, label in (("first", "first output"), ("hwm", "peak RSS")):
            if k[key] and q[key]:
                print(f"  {label:34s} {k[key] / q[key]:.3f}  (qemu is {q[key] / k[key]:.1f}x)")
    print("goals: first output <= 3 ms; RSS beyond guest RAM <= 2 MiB")


if __name__ == "__main__":
    main()
