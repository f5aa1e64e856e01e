#!/usr/bin/env python3
"""Hostile clients against a kvmini API socket. Prints "ok NAME" or
"FAIL NAME: why" per check; after every check the VMM must still answer.

usage: tests/api_abuse.py SOCKET [before|after]
  before: the guest runs; after: the guest has exited (actions refused)
"""
import json
import socket
import sys
import time

SOCK = sys.argv[1]
PHASE = sys.argv[2] if len(sys.argv) > 2 else "before"


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(SOCK)
    return s


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest[:length]


def raw(data):
    s = connect()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # kvmini may answer (413, 431) and close before the request is all sent
    try:
        return read_response(s)
    finally:
        s.close()


def request(method, path, body=None):
    payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return raw(head.encode() + b"\r\n" + payload)


results = []


def check(name, cond, why=""):
    alive = request("GET", "/")[0] == 200
    if cond and alive:
        print(f"ok {name}")
    else:
        print(f"FAIL {name}: {why if not cond else 'the VMM stopped answering'}")
    results.append(cond and alive)


def fault(body):
    try:
        return json.loads(body)["fault_message"]
    except Exception:
        return ""


st, body = request("PUT", "/machine-config", b'{"vcpu_count": 1,')
check("malformed JSON -> 400", st == 400 and "malformed JSON" in fault(body), f"{st} {body}")
st, body = request("PUT", "/machine-config", {"vcpu_count": "two", "mem_size_mib": 128})
check("wrong type names the field", st == 400 and "vcpu_count" in fault(body), f"{st} {body}")
st, body = request("PUT", "/boot-source", {"kernel_image_path": "/k", "colour": "blue"})
check("unknown field names the field", st == 400 and "colour" in fault(body), f"{st} {body}")
st, body = request("PUT", "/machine-config", {"vcpu_count": 1000, "mem_size_mib": 128})
check("out-of-range value -> 400", st == 400 and "vcpu_count" in fault(body), f"{st} {body}")
st, body = request("PUT", "/drives/a", {"drive_id": "b", "path_on_host": "/x", "is_root_device": False})
check("path id must match body id", st == 400, f"{st} {body}")
st, body = request("PUT", "/drives/", {"drive_id": "", "path_on_host": "/x", "is_root_device": False})
check("a drive path without an id -> 400 (fuzzer-found crash)", st == 400, f"{st} {body}")
st, body = request("PUT", "/balloon", {"amount_mib": 1})
check("later-wave endpoint says not supported", st == 400 and "not supported yet" in fault(body), f"{st}")
st, body = request("DELETE", "/machine-config")
check("wrong method -> 400", st == 400, f"{st}")
st, _ = raw(b"PUT /machine-config HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n")
check("huge body -> 413 before it is sent", st == 413, f"{st}")
st, _ = raw(b"PUT /machine-config HTTP/1.1\r\nContent-Length: 60000\r\n\r\n" + b" " * 60000)
check("body over the 51200-byte bound -> 413", st == 413, f"{st}")
st, _ = raw(b"PUT /machine-config HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
check("huge headers -> 431", st == 431, f"{st}")
st, _ = raw(b"PUT /machine-config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
check("chunked body -> 501", st == 501, f"{st}")
st, _ = raw(b"PUT /machine-config HTTP/1.1\r\n\r\n{}")
check("missing Content-Length -> 411", st == 411, f"{st}")
st, _ = raw(b"GARBAGE\r\n\r\n")
check("garbage request line -> 400", st == 400, f"{st}")

# Slowloris: a client trickles a request; others are served meanwhile and
# it is cut off at the deadline.
slow = connect()
slow.sendall(b"PUT /machine-config HTTP/1.1\r\n")
t0 = time.monotonic()
served = all(request("GET", "/")[0] == 200 for _ in range(20))
slow_status = None
while time.monotonic() - t0 < 14:
    try:
        slow.sendall(b"X-Slow: 1\r\n")
    except OSError:
        pass  # cut off: its 408 is still there to read
    slow.settimeout(1)
    try:
        data = slow.recv(4096)
        if data:
            slow_status = int(data.split()[1])
        break
    except socket.timeout:
        continue
slow.close()
check("slowloris does not block others, gets 408", served and slow_status == 408,
      f"others served={served}, slow client got {slow_status}")

# Many idle connections: the server takes a bounded number, refuses the rest, still serves.
idle = []
for _ in range(40):
    try:
        idle.append(connect())
    except OSError:
        break
time.sleep(0.2)
for s in idle:
    s.close()
time.sleep(0.2)
check("40 idle connections do not lock the server out", request("GET", "/")[0] == 200)

# 1,000 rapid requests on one keep-alive connection, then 200 on fresh ones.
s = connect()
ok = 0
t0 = time.perf_counter()
for i in range(1000):
    s.sendall(b"GET /machine-config HTTP/1.1\r\n\r\n")
    st, body = read_response(s)
    ok += st == 200
elapsed = time.perf_counter() - t0
s.close()
ok += sum(request("GET", "/version")[0] == 200 for _ in range(200))
check(f"1,200 rapid requests all answered ({elapsed / 1000 * 1e6:.0f} us each on keep-alive)",
      ok == 1200, f"{ok} of 1200")

if PHASE == "after":
    st, body = request("PUT", "/actions", {"action_type": "SendCtrlAltDel"})
    check("actions after the guest exited -> 400", st == 400 and "Exited" in fault(body), f"{st} {body}")
    st, body = request("GET", "/")
    check("GET / after exit reports state and status",
          st == 200 and json.loads(body).get("state") == "Exited" and "exit_code" in json.loads(body),
          f"{st} {body}")
    st, body = request("PUT", "/boot-source", {"kernel_image_path": "/k"})
    check("configuration after boot -> 400", st == 400, f"{st}")
    # Once crashed the VMM: the swap went to a VM that no longer exists.
    st, body = request("PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": "/etc/hostname"})
    check("PATCH /drives path_on_host after the guest exited -> 400",
          st == 400 and "Exited" in fault(body), f"{st} {body}")
sys.exit(0 if all(results) else 1)
