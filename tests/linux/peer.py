#!/usr/bin/env python3
"""The host side of the Linux guest's network and vsock checks.

    peer.py LOG VSOCK_UDS -- KVMINI-COMMAND...

Runs the command with its console in LOG and answers the guest test script
(guest/linux/test.sh) as its READY lines appear there:
  GUEST READY net IP   ping IP, then send 64 MiB of the pattern to IP:5000
  GUEST READY vsock    connect through VSOCK_UDS (Firecracker's hybrid
                       model: "CONNECT 5200"), send 16 MiB of the pattern
and receives what the guest sends: TCP on 172.30.0.1:5001, vsock on
VSOCK_UDS_5100 (and, for the unbind test, 5002 and VSOCK_UDS_5101). Prints "PEER ok|FAIL NAME" and "PEER sha NAME HEX" lines and
exits with the command's status. Runs in the network namespace of
tests/netns.sh, where 172.30.0.1 is the tap's address.
"""
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

DEADLINE = 600


def pattern(mib):
    """The same bytes as the guest's /bin/pattern."""
    one = "".join(f"{i}\n" for i in range(1, 200001)).encode()[:1 << 20]
    for _ in range(mib):
        yield one


def say(*words):
    print("PEER", *words, flush=True)


def receive(server, name):
    server.settimeout(DEADLINE)
    try:
        conn, _ = server.accept()
        digest = hashlib.sha256()
        with conn:
            conn.settimeout(DEADLINE)
            while chunk := conn.recv(1 << 16):
                digest.update(chunk)
        say("sha", name, digest.hexdigest())
    except OSError as e:
        say("FAIL", name, str(e))


def unix_server(path):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)
    return s


def send(sock, mib):
    for chunk in pattern(mib):
        sock.sendall(chunk)
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(1 << 16):
        pass


def net_ready(ip):
    try:
        ping = subprocess.run(["ping", "-c", "3", "-W", "5", ip], capture_output=True)
        say("ok" if ping.returncode == 0 else "FAIL", "net-ping-guest")
    except OSError as e:  # no ping on this host: say so, and go on
        say("FAIL", "net-ping-guest", str(e))
    try:
        with socket.create_connection((ip, 5000), timeout=60) as s:
            send(s, 64)
        say("ok", "net-host-sent-64MiB")
    except OSError as e:
        say("FAIL", "net-host-sent-64MiB", str(e))


def vsock_ready(uds):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(60)
            s.connect(uds)
            s.sendall(b"CONNECT 5200\n")
            line = b""
            while not line.endswith(b"\n"):
                line += s.recv(1)
            if not line.startswith(b"OK "):
                raise OSError(f"answer {line!r}")
            send(s, 16)
        say("ok", "vsock-host-sent-16MiB")
    except OSError as e:
        say("FAIL", "vsock-host-sent-16MiB", str(e))


def main():
    log, uds = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    # What the guest sends: sha256 of each stream. 5002 and 5100 also take
    # the streams that the unbind test cuts short; only the first is kept.
    servers = [(socket.create_server(("172.30.0.1", 5001)), "net-out"),
               (socket.create_server(("172.30.0.1", 5002)), "net-unbind"),
               (unix_server(uds + "_5100"), "vsock-out"),
               (unix_server(uds + "_5101"), "vsock-after")]
    workers = [threading.Thread(target=receive, args=server, daemon=True) for server in servers]
    for w in workers:
        w.start()
    with open(log, "wb") as out, open(log + ".err", "wb") as err:
        vmm = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    answered, end = set(), time.time() + DEADLINE
    try:
        with open(log, "rb") as console:
            line = b""
            while vmm.poll() is None and time.time() < end:
                # The VMM may not have written the whole line yet: read on
                # until its newline, or "READY net" would lose its address.
                line += console.readline()
                if not line.endswith(b"\n"):
                    time.sleep(0.1)
                    continue
                words = line.decode(errors="replace").split()
                line = b""
                if words[:2] != ["GUEST", "READY"] or len(words) < 3 or words[2] in answered:
                    continue
                answered.add(words[2])
                if words[2] == "net" and len(words) == 4:
                    threading.Thread(target=net_ready, args=(words[3],), daemon=True).start()
                elif words[2] == "net":
                    say("FAIL", "net-ready", "the guest has no address")
                elif words[2] == "vsock":
                    threading.Thread(target=vsock_ready, args=(uds,), daemon=True).start()
        if vmm.poll() is None:
            say("FAIL", "guest", f"still running after {DEADLINE} s")
    finally:
        if vmm.poll() is None:
            vmm.kill()
    for w in workers:
        w.join(timeout=5)
    sys.exit(vmm.wait())


if __name__ == "__main__":
    main()
