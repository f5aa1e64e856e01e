#!/usr/bin/env python3
"""Host side of the probe's virtio-net checks; run inside tests/netns.sh.

Runs the VMM command given, copies its output to stdout, and when the
guest prints "PROBE net-withhold" floods tap0 with frames for the guest
(which has stopped posting RX buffers), then sends 'g' on the guest's
serial line. Exits with the VMM's status.

usage: tests/net_probe.py FLOOD_FRAMES VMM-ARGV...   (FLOOD_FRAMES -1: delete tap0)
"""
import os
import select
import socket
import subprocess
import sys
import time


def flood(count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("tap0", 0))
    frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(1000)
    sent = 0
    for _ in range(count):
        try:
            s.send(frame)
            sent += 1
        except OSError:
            pass  # the tap's queue is full: exactly the point
    s.close()
    return sent


def main():
    count = int(sys.argv[1])
    proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    buf = b""
    deadline = time.time() + 120
    while time.time() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        buf += chunk
        if b"PROBE net-withhold" in buf:
            buf = b""
            if count < 0:
                subprocess.run(["ip", "link", "del", "tap0"], check=True)
                print("HOST deleted tap0", flush=True)
            else:
                start = time.time()
                sent = flood(count)
                print(f"HOST flooded {sent} frames in {time.time() - start:.2f} s", flush=True)
            proc.stdin.write(b"g")
            proc.stdin.flush()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
