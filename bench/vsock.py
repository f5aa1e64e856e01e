#!/usr/bin/env python3
"""vsock stream throughput through kvmini's hybrid Unix sockets: the probe
guest (probe.vsock-bench) connects to host port 5002; the host streams N
bytes in, then the guest streams N bytes out. Reports MB/s each way and
the CPU time per MiB of the VMM's own threads (not the vCPU). QEMU has no userspace vsock (only vhost), so
there is no side-by-side figure here.

usage: bench/vsock.py [--mib N] [--runs R] [--kvmini PATH] [--probe PATH]
"""
import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import time

from bed import run_in_bed_if_asked


def vmm_cpu_s(pid):
    # The VMM's own threads: vCPU time is the guest's (it busy-polls).
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().startswith("vcpu"):
                continue
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


def one_run(args, n):
    with tempfile.TemporaryDirectory() as d:
        uds = os.path.join(d, "v.sock")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(uds + "_5002")
        srv.listen(1)
        srv.settimeout(60)
        proc = subprocess.Popen([args.kvmini, "run", "--debug-exit", "--kernel", args.probe,
                                 "--memory", "128M", "--vsock", f"cid=3,uds={uds}", "--cmdline",
                                 f"probe.virtio=1 probe.vsock-bench={n} probe.end=1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c, _ = srv.accept()
        block = bytes(65536)
        cpu0, t0 = vmm_cpu_s(proc.pid), time.perf_counter()
        sent = 0
        while sent < n:
            sent += c.send(block[:min(65536, n - sent)])
        got = 0
        t1, cpu1 = None, None
        while got < n:
            chunk = c.recv(1 << 20)
            if not chunk:
                break
            if t1 is None:
                t1, cpu1 = time.perf_counter(), vmm_cpu_s(proc.pid)
            got += len(chunk)
        t2, cpu2 = time.perf_counter(), vmm_cpu_s(proc.pid)
        c.close()
        proc.wait(timeout=30)
        mib = n / (1 << 20)
        return (mib / (t1 - t0), mib / (t2 - t1), (cpu1 - cpu0) / mib * 1000,
                (cpu2 - cpu1) / mib * 1000, got == n)


def main():
    run_in_bed_if_asked()
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kvmini", default="./kvmini")
    ap.add_argument("--probe", default="build/probe/probe.elf")
    args = ap.parse_args()
    rows = [one_run(args, args.mib << 20) for _ in range(args.runs)]
    print(f"vsock stream, {args.mib} MiB each way, {args.runs} runs (median)")
    print(f"  host -> guest  {statistics.median(r[0] for r in rows):8.1f} MiB/s   "
          f"VMM CPU {statistics.median(r[2] for r in rows):6.2f} ms/MiB")
    print(f"  guest -> host  {statistics.median(r[1] for r in rows):8.1f} MiB/s   "
          f"VMM CPU {statistics.median(r[3] for r in rows):6.2f} ms/MiB")
    print(f"  all bytes arrived: {all(r[4] for r in rows)}")


if __name__ == "__main__":
    main()
