#!/usr/bin/env python3
"""virtio-blk benchmark: the probe's ring-3 virtio driver issues 4 KiB random
and 1 MiB sequential reads and writes at queue depth 1 and 32, under kvmini
and under QEMU microvm (virtio-blk-device, aio=io_uring), against the same
file on tmpfs and on disk. Host fio on the same file and pattern gives the
limit.

Per phase it reports requests/s and the VMM's host CPU per request outside
its vCPU threads (device emulation: kvmini's I/O thread, QEMU's main loop
and helpers), read from /proc/PID/task/*/stat at the phase's serial markers.
Goals: CPU per request <= 0.8x QEMU's; throughput >= 0.9x host fio.

usage: bench/blk.py [--scale N] [--size-mib N] [--no-fio]
"""
import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

from bed import run_in_bed_if_asked

TICK = os.sysconf("SC_CLK_TCK")
PHASES = {  # name: (fio rw, bs, iodepth)
    "randread-4k-qd1": ("randread", "4k", 1),
    "randwrite-4k-qd1": ("randwrite", "4k", 1),
    "randread-4k-qd32": ("randread", "4k", 32),
    "randwrite-4k-qd32": ("randwrite", "4k", 32),
    "seqread-1m-qd1": ("read", "1m", 1),
    "seqwrite-1m-qd1": ("write", "1m", 1),
    "seqread-1m-qd32": ("read", "1m", 32),
    "seqwrite-1m-qd32": ("write", "1m", 32),
}


def device_cpu(pid):
    """CPU seconds of the threads that are not vCPUs."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name.startswith("vcpu") or "/KVM" in name:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def run_vmm(argv):
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    results, begin, buf = {}, {}, b""
    deadline = time.time() + 600
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
            if len(words) >= 3 and words[1] == "bench-begin":
                begin[words[2]] = (time.perf_counter(), device_cpu(proc.pid))
            elif len(words) >= 4 and words[1] == "bench-end":
                t0, c0 = begin[words[2]]
                count = int(words[3])
                secs = time.perf_counter() - t0
                results[words[2]] = (count / secs, (device_cpu(proc.pid) - c0) / count * 1e6)
            elif len(words) >= 2 and words[1] == "RESULT":
                proc.kill()
    os.killpg(proc.pid, signal.SIGKILL)  # the VMM may be a grandchild
    proc.wait()
    return results


def fio(path, rw, bs, depth, size):
    out = subprocess.run(
        ["fio", "--name=b", f"--filename={path}", f"--rw={rw}", f"--bs={bs}",
         f"--iodepth={depth}", "--ioengine=io_uring", "--direct=0", "--time_based",
         "--runtime=2", f"--size={size}M", "--output-format=json"],
        capture_output=True, text=True)
    job = json.loads(out.stdout)["jobs"][0]
    side = job["read"] if "read" in rw else job["write"]
    return side["iops"]


def main():
    run_in_bed_if_asked()
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--kvmini", default="./kvmini")
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--no-fio", action="store_true")
    args = ap.parse_args()
    probe = "build/probe/probe.elf"
    cmdline = f"probe.mem=512 probe.virtio=1 probe.bench={args.scale} probe.end=1"
    targets = {"tmpfs": tempfile.mkdtemp(dir="/dev/shm"), "disk": tempfile.mkdtemp(dir="build")}
    use_fio = not args.no_fio and shutil.which("fio")
    for where, folder in targets.items():
        path = os.path.join(folder, "bench.img")
        with open(path, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        runs = {"kvmini": run_vmm([args.kvmini, "run", "--debug-exit", "--memory", "512M",
                                   "--kernel", probe, "--disk", f"path={path}", "--cmdline", cmdline])}
        if shutil.which("qemu-system-x86_64"):
            runs["qemu"] = run_vmm([
                "qemu-system-x86_64", "-M", "microvm,accel=kvm", "-m", "512", "-nodefaults",
                "-no-user-config", "-nographic", "-serial", "stdio", "-name",
                "bench,debug-threads=on", "-global", "virtio-mmio.force-legacy=false",
                "-drive", f"id=d,file={path},format=raw,if=none,aio=io_uring",
                "-device", "virtio-blk-device,drive=d", "-kernel", probe, "-append", cmdline])
        print(f"\n== file on {where} ({args.size_mib} MiB), scale {args.scale}")
        print(f"{'phase':20s} {'kvmini req/s':>13s} {'qemu req/s':>11s} {'fio req/s':>10s}"
              f" {'k/q':>6s} {'k/fio':>6s}   {'kvmini us/req':>13s} {'qemu us/req':>11s}"
              f" {'k/q cpu':>7s}")
        for phase, (rw, bs, depth) in PHASES.items():
            k = runs["kvmini"].get(phase)
            q = runs.get("qemu", {}).get(phase)
            f = fio(path, rw, bs, depth, args.size_mib) if use_fio else None
            if not k:
                print(f"{phase:20s} no result")
                continue

            def fmt(v, spec):
                return format(v, spec) if v else "-"
            print(f"{phase:20s} {k[0]:13.0f} {fmt(q and q[0], '11.0f'):>11s}"
                  f" {fmt(f, '10.0f'):>10s} {fmt(q and k[0] / q[0], '6.2f'):>6s}"
                  f" {fmt(f and k[0] / f, '6.2f'):>6s}   {k[1]:13.2f}"
                  f" {fmt(q and q[1], '11.2f'):>11s}"
                  f" {fmt(q and q[1] and k[1] / q[1], '7.2f'):>7s}")
        shutil.rmtree(folder)
    print("\ngoals: CPU per request <= 0.8x QEMU's; throughput >= 0.9x host fio")


if __name__ == "__main__":
    main()
