#!/usr/bin/env python3
"""API benchmark: time from exec until the API socket accepts a request
(wall and the VMM's CPU time then; Firecracker's spec is at most 8 CPU-ms),
and request latency over one keep-alive connection.

usage: bench/api.py [--runs N] [--kvmini PATH]
"""
import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import time

from bed import run_in_bed_if_asked

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK


def schedstat_ms(pid):
    # Nanosecond CPU time of every thread, finer than the tick counts.
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e6


def get(sock, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < length:
        body += sock.recv(4096)
    return int(head.split()[1])


def put(sock, path, body):
    sock.sendall(f"PUT {path} HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    return int(data.split()[1])


def main():
    run_in_bed_if_asked()
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kvmini", default="./kvmini")
    args = ap.parse_args()
    ready_ms, ready_cpu, lat_get, lat_put = [], [], [], []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "api.sock")
        for _ in range(args.runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen([args.kvmini, "run", "--api-sock", path],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            s = socket.socket(socket.AF_UNIX)
            while True:
                try:
                    s.connect(path)
                    break
                except OSError:
                    time.sleep(0.0002)
            assert get(s, "/") == 200
            ready_ms.append((time.perf_counter() - t0) * 1000)
            ready_cpu.append(schedstat_ms(proc.pid))
            for _ in range(500):
                t = time.perf_counter()
                get(s, "/machine-config")
                lat_get.append((time.perf_counter() - t) * 1e6)
                t = time.perf_counter()
                put(s, "/machine-config", '{"vcpu_count": 2, "mem_size_mib": 256}')
                lat_put.append((time.perf_counter() - t) * 1e6)
            s.close()
            proc.terminate()
            proc.wait()

    def row(label, v, unit):
        v = sorted(v)
        print(f"  {label:42s} median {statistics.median(v):8.2f} {unit}  "
              f"p99 {v[int(len(v) * 0.99) - 1]:8.2f} {unit}  min {v[0]:8.2f} {unit}")

    print(f"API benchmark, {args.runs} processes, 500 GET + 500 PUT each")
    row("exec -> first answered request (wall)", ready_ms, "ms")
    row("VMM CPU time until then (all threads)", ready_cpu, "ms")
    row("GET /machine-config latency", lat_get, "us")
    row("PUT /machine-config latency", lat_put, "us")
    print("Firecracker's spec: API socket ready within 8 CPU-ms")


if __name__ == "__main__":
    main()
