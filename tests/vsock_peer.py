#!/usr/bin/env python3
"""The host side of the probe's vsock checks (guest/probe/vsock.c), over
kvmini's hybrid Unix sockets. Start it before the VMM; it prints "ok NAME"
or "FAIL NAME: why" per check and exits non-zero on any failure.

usage: tests/vsock_peer.py UDS_PATH
"""
import socket
import sys
import threading
import time

UDS = sys.argv[1]
STREAM_LEN = 64 * 1024
NMANY = 32
results = {}


def pattern(n, seed, start=0):
    return bytes((i * 131 + seed * 17 + (i >> 9)) & 0xff for i in range(start, start + n))


def listener(port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = f"{UDS}_{port}"
    try:
        import os
        os.unlink(path)
    except OSError:
        pass
    s.bind(path)
    s.listen(64)
    s.settimeout(120)
    return s


def recv_all(c, limit):
    data = b""
    while len(data) < limit:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def g2h(srv):
    c, _ = srv.accept()
    c.settimeout(60)
    data = recv_all(c, STREAM_LEN + 1)
    ok = data == pattern(STREAM_LEN, 1)
    results["g2h"] = (ok, f"got {len(data)} bytes, pattern {'intact' if ok else 'WRONG'}")
    if ok:
        c.sendall(pattern(STREAM_LEN, 2))
    c.close()


def many(srv):
    echoed = 0
    conns = []
    for _ in range(NMANY):
        c, _ = srv.accept()
        c.settimeout(60)
        conns.append(c)
    for c in conns:
        msg = recv_all(c, 8)
        if len(msg) == 8 and msg.startswith(b"conn"):
            c.sendall(msg)
            echoed += 1
    for c in conns:
        c.close()
    results["many"] = (echoed == NMANY, f"{echoed} of {NMANY} echoed")


def connect_to_guest(port):
    deadline = time.monotonic() + 120
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect(UDS)
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    s.sendall(f"CONNECT {port}\n".encode())
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        line += b
    return s, line.decode(errors="replace").strip()


def main():
    a, b = listener(5000), listener(5001)
    t1 = threading.Thread(target=g2h, args=(a,))
    t2 = threading.Thread(target=many, args=(b,))
    t1.start()
    t2.start()
    t1.join()
    s, line = connect_to_guest(1234)
    ok_line = line.startswith("OK ") and int(line.split()[1]) >= 1 << 30
    s.sendall(pattern(STREAM_LEN, 3))
    done = recv_all(s, 4)
    s.close()
    results["h2g"] = (ok_line and done == b"DONE", f"handshake '{line}', guest said {done!r}")
    s, line = connect_to_guest(1235)
    s.sendall(pattern(STREAM_LEN // 2, 4))
    time.sleep(0.2)
    s.close()  # mid-stream, as far as the guest knows
    results["peer-close"] = (line.startswith("OK "), f"handshake '{line}'")
    t2.join()
    failed = 0
    for name in ("g2h", "h2g", "peer-close", "many"):
        ok, why = results.get(name, (False, "did not run"))
        print(f"{'ok' if ok else 'FAIL'} vsock host side {name}: {why}")
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
