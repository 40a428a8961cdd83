#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile pva-host for tests/windows/agent_test.sh: it listens where
pva-agent.exe --host connects, and sends what the real pva-host never
does: malformed headers and payloads of every message type, requests the
agent does not take, chunks that break the transfer rules, a clock far
off, a stream it cannot parse. After each, the agent must still work
(protocol/PROTOCOL.md 5, 6.8). Prints "ok ..." or "FAIL ..." per check and
exits 1 on any failure.

    agent_fakehost.py --port PORT --display :N --local-text FILE \\
        --agent-log FILE [--timeout S]

--local-text: what an application (xclip) put on the clipboard before the
agent connected; the agent offers it after HELLO and must send it when
asked. --agent-log: where the checks find the agent's complaints.
"""
import argparse
import os
import select
import socket
import struct
import subprocess
import sys
import time

HDR = struct.Struct("<IHHHHIII")
F_REQ, F_RESP = 1, 2
(HELLO, INFO, GRAB, REQUEST, DATA, CANCEL, LAYOUT, STATE, TIME_SYNC,
 TIME_QUERY, TIME_STATUS, POWER, GUEST_STATE, FSFREEZE) = range(1, 15)
S_OK, S_EINVAL, S_ENOTSUP, S_ENOENT, S_ESTALE, S_EPERM = 0, 1, 2, 3, 19, 9
TEXT = b"text/plain;charset=utf-8"
LAST = 1

failures = 0


def ok(cond, what):
    global failures
    if cond:
        print("ok   fake host: " + what, flush=True)
    else:
        failures += 1
        print("FAIL fake host: " + what, flush=True)
    return cond


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.backlog = []

    def send(self, type_, payload=b"", flags=0, req_id=0, status=0,
             reserved0=0, length=None):
        h = HDR.pack(len(payload) if length is None else length, type_,
                     flags, 0, reserved0, req_id, status, 0)
        self.s.sendall(h + payload)

    def recv(self, timeout):
        """One message (type, flags, req_id, status, payload) or None."""
        if self.backlog:
            return self.backlog.pop(0)
        end = time.time() + timeout
        while True:
            if len(self.buf) >= HDR.size:
                ln, t, fl, _, _, rid, st, _ = HDR.unpack_from(self.buf)
                if len(self.buf) >= HDR.size + ln:
                    p = self.buf[HDR.size:HDR.size + ln]
                    self.buf = self.buf[HDR.size + ln:]
                    return (t, fl, rid, st, p)
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if r:
                d = self.s.recv(1 << 20)
                if not d:
                    return None
                self.buf += d

    def wait_for(self, pred, timeout, keep=True):
        """The first message that pred() accepts; the others are kept."""
        end = time.time() + timeout
        seen = []
        while time.time() < end:
            m = self.recv(max(0.01, end - time.time()))
            if m is None:
                break
            if pred(m):
                self.backlog = seen + self.backlog
                return m
            seen.append(m)
        if keep:
            self.backlog = seen + self.backlog
        return None


def hello_answer(c, timeout=20):
    m = c.wait_for(lambda m: m[0] == HELLO and m[1] == F_REQ, timeout)
    if not m:
        return None
    c.send(HELLO, struct.pack("<IIQQ", 1, 0, 0xf, 64 << 20), F_RESP, m[2])
    return m


def grab_payload(serial, seen, types, sel=0):
    return (struct.pack("<IIII", sel, serial, seen, len(types)) +
            b"".join(t + b"\0" for t in types))


def log_has(path, text, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if text in open(path, encoding="utf-8", errors="replace").read():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def layout(gen, heads, nr=None):
    p = struct.pack("<IIII", gen, len(heads) if nr is None else nr, 8192, 8192)
    for i in range(4):
        if i < len(heads):
            w, h, x, y = heads[i]
            p += struct.pack("<IIIII12x", 1, w, h, x, y)
        else:
            p += b"\0" * 32
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--display", required=True)
    ap.add_argument("--local-text", required=True)
    ap.add_argument("--agent-log", required=True)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    local = open(a.local_text, "rb").read()
    log = a.agent_log

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(2)
    ls.settimeout(a.timeout)
    c = Conn(ls.accept()[0])

    # ---- HELLO, then what the agent tells a new host
    m = hello_answer(c)
    if not ok(m is not None and len(m[4]) == 24, "the agent says HELLO first"):
        sys.exit(1)
    ver, _, feat, cmax = struct.unpack("<IIQQ", m[4])
    ok(ver == 1 and feat == 0xf and cmax == 64 << 20,
       "HELLO: version 1, features 0xf, clip_max 64 MiB (%d, 0x%x, %d)" %
       (ver, feat, cmax))
    info = c.wait_for(lambda m: m[0] == INFO, 5)
    ok(info is not None and b"os.id=windows\0" in info[4] and
       info[4].endswith(b"\0"), "INFO after HELLO, with os.id=windows")
    st = c.wait_for(lambda m: m[0] == STATE, 5)
    ok(st is not None and len(st[4]) == 144, "DISPLAY_STATE after HELLO")
    g = c.wait_for(lambda m: m[0] == GRAB, 5)
    ok(g is not None and TEXT in g[4], "the clipboard's text is offered after HELLO")
    serial = struct.unpack_from("<I", g[4], 4)[0] if g else 1

    # ---- malformed messages: each dropped with a log line
    bad = [
        ("a header with reserved0 set", lambda: c.send(GRAB, grab_payload(1, 0, [TEXT]), reserved0=1),
         "malformed message header"),
        ("unknown header flags", lambda: c.send(GRAB, grab_payload(1, 0, [TEXT]), flags=4),
         "malformed message header"),
        ("a 4-byte CLIP_GRAB", lambda: c.send(GRAB, b"\0" * 4),
         "GRAB shorter than its struct"),
        ("CLIP_GRAB with 33 types", lambda: c.send(GRAB, struct.pack("<IIII", 0, 1, serial, 33)),
         "GRAB with more than 32 types"),
        ("CLIP_GRAB with a type not NUL-terminated",
         lambda: c.send(GRAB, struct.pack("<IIII", 0, 1, serial, 1) + b"text/plain"),
         "GRAB type name not NUL-terminated"),
        ("CLIP_GRAB of selection 7", lambda: c.send(GRAB, grab_payload(1, serial, [TEXT], 7)),
         "GRAB of an unknown selection"),
        ("CLIP_GRAB with a type containing a space",
         lambda: c.send(GRAB, grab_payload(1, serial, [b"text plain"])),
         "GRAB type name invalid"),
        ("CLIP_REQUEST with transfer 0",
         lambda: c.send(REQUEST, struct.pack("<IIII", 0, serial, 0, 0) + TEXT + b"\0"),
         "REQUEST with transfer id 0"),
        ("CLIP_DATA with unknown flags",
         lambda: c.send(DATA, struct.pack("<IIIIQQ", 5, 0, 0x10, 0, 0, 0)),
         "DATA with unknown flags"),
        ("CLIP_DATA with an error and data",
         lambda: c.send(DATA, struct.pack("<IIIIQQ", 5, 6, 0, 0, 0, 0) + b"xx"),
         "DATA with an error status carries data"),
        ("a 4-byte CLIP_CANCEL", lambda: c.send(CANCEL, b"\1\0\0\0"),
         "CANCEL of the wrong size"),
        ("a 1-byte DISPLAY_LAYOUT", lambda: c.send(LAYOUT, b"\0"),
         "DISPLAY_LAYOUT of the wrong size"),
        ("DISPLAY_LAYOUT with no heads", lambda: c.send(LAYOUT, layout(9, [], 0)),
         "DISPLAY_LAYOUT with no heads"),
        ("DISPLAY_LAYOUT 10 pixels wide", lambda: c.send(LAYOUT, layout(9, [(10, 800, 0, 0)])),
         "DISPLAY_LAYOUT head out of range"),
        ("a 3-byte TIME_SYNC", lambda: c.send(TIME_SYNC, b"\0\0\0"),
         "malformed TIME_SYNC (3 bytes)"),
        ("TIME_SYNC with reason 9", lambda: c.send(TIME_SYNC, struct.pack("<II", 9, 0)),
         "TIME_SYNC with an unknown reason 9"),
        ("an event of type 99", lambda: c.send(99, b"junk"),
         "event of type 99"),
        ("INFO from the host", lambda: c.send(INFO, b"a=b\0"),
         "event of type 2 (INFO)"),
        ("an answer to nothing", lambda: c.send(TIME_QUERY, b"\0" * 8, F_RESP, 555),
         "answered a TIME_QUERY that was not asked"),
    ]
    for what, fn, expect in bad:
        fn()
        ok(log_has(log, expect), "%s: logged ('%s')" % (what, expect))

    # ---- requests the agent answers with an error
    reqs = [
        ("a 4-byte POWER", POWER, b"\1\0\0\0", 100, S_EINVAL, "malformed POWER"),
        ("POWER action 7", POWER, struct.pack("<II", 7, 0), 101, S_EINVAL,
         "unknown power action 7"),
        ("FSFREEZE status", FSFREEZE, struct.pack("<II", 3, 0), 102, S_ENOTSUP,
         "fsfreeze: not supported"),
        ("a request of type 77", 77, b"", 103, S_ENOTSUP, "request of type 77"),
    ]
    for what, t, p, rid, want, expect in reqs:
        c.send(t, p, F_REQ, rid)
        r = c.wait_for(lambda m, rid=rid: m[1] == F_RESP and m[2] == rid, 5)
        ok(r is not None and r[3] == want,
           "%s: answered status %s (want %d)" % (what, r[3] if r else "none", want))
        ok(log_has(log, expect), "%s: logged ('%s')" % (what, expect))
    c.send(FSFREEZE, struct.pack("<II", 1, 30), F_REQ, 104)
    r = c.wait_for(lambda m: m[1] == F_RESP and m[2] == 104, 5)
    ok(r is not None and r[3] == S_ENOTSUP and len(r[4]) > 8 and
       r[4].endswith(b"\0") and b"VSS" in r[4],
       "FSFREEZE freeze: ENOTSUP with the struct and a text naming VSS")

    # ---- and it still works: the host pastes the session's text
    c.send(REQUEST, struct.pack("<IIII", 0, serial, 7, 0) + TEXT + b"\0")
    got, last, status = b"", False, None
    while not last:
        m = c.wait_for(lambda m: m[0] == DATA, 10)
        if not m:
            break
        tr, status, fl, _, off, total = struct.unpack_from("<IIIIQQ", m[4])
        if tr != 7:
            continue
        if status:
            break
        if off != len(got):
            ok(False, "DATA chunk at offset %d, want %d" % (off, len(got)))
            break
        got += m[4][32:]
        last = bool(fl & LAST)
    ok(last and got == local,
       "after all that, the host's REQUEST gets the session's text (%d bytes)" % len(got))
    c.send(REQUEST, struct.pack("<IIII", 0, serial + 5, 8, 0) + TEXT + b"\0")
    m = c.wait_for(lambda m: m[0] == DATA and struct.unpack_from("<I", m[4])[0] == 8, 5)
    ok(m is not None and struct.unpack_from("<I", m[4], 4)[0] == S_ESTALE,
       "a REQUEST for an old serial: ESTALE")
    c.send(REQUEST, struct.pack("<IIII", 0, serial, 9, 0) + b"image/png\0")
    m = c.wait_for(lambda m: m[0] == DATA and struct.unpack_from("<I", m[4])[0] == 9, 5)
    ok(m is not None and struct.unpack_from("<I", m[4], 4)[0] == S_ENOENT,
       "a REQUEST for a type not offered: ENOENT")

    # ---- the host copies; a paste in X fetches it, in 4 chunks
    content = ("Ζ" * 50000 + "\n末尾 🎉\n").encode()
    c.send(GRAB, grab_payload(1, serial, [TEXT]))
    time.sleep(0.7)		# wine's bridge takes the X selection
    env = dict(os.environ, DISPLAY=a.display)
    xclip = subprocess.Popen(["xclip", "-o", "-selection", "clipboard"],
                             stdout=subprocess.PIPE, env=env)
    m = c.wait_for(lambda m: m[0] == REQUEST, 10)
    ok(m is not None and m[4][16:] == TEXT + b"\0" and
       struct.unpack_from("<I", m[4], 4)[0] == 1,
       "a paste: the agent asks for the host's grab 1 as text")
    if m:
        tr = struct.unpack_from("<I", m[4], 8)[0]
        step = (len(content) + 3) // 4
        for off in range(0, len(content), step):
            part = content[off:off + step]
            fl = LAST if off + step >= len(content) else 0
            c.send(DATA, struct.pack("<IIIIQQ", tr, 0, fl, 0, off, len(content)) + part)
    try:
        out = xclip.communicate(timeout=15)[0]
    except subprocess.TimeoutExpired:
        xclip.kill()
        out = xclip.communicate()[0]
    ok(out == content, "the paste gets the host's %d bytes sent in 4 chunks (got %d)" %
       (len(content), len(out)))

    # a transfer that breaks the rules: the agent cancels it
    c.send(GRAB, grab_payload(2, serial, [TEXT]))
    time.sleep(0.3)
    xclip = subprocess.Popen(["xclip", "-o", "-selection", "clipboard"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=env)
    m = c.wait_for(lambda m: m[0] == REQUEST, 10)
    if m:
        tr = struct.unpack_from("<I", m[4], 8)[0]
        c.send(DATA, struct.pack("<IIIIQQ", tr, 0, 0, 0, 0, 100) + b"x" * 10)
        c.send(DATA, struct.pack("<IIIIQQ", tr, 0, LAST, 0, 50, 100) + b"y" * 50)
        k = c.wait_for(lambda m: m[0] == CANCEL, 5)
        ok(k is not None and struct.unpack("<II", k[4])[0] == tr,
           "a chunk at the wrong offset: the agent cancels the transfer")
        ok(log_has(log, "DATA chunk not where the previous one ended"),
           "... and logs why")
        # the paste may ask again (another text target): refuse at once
        m = c.wait_for(lambda m: m[0] == REQUEST, 2)
        if m:
            tr = struct.unpack_from("<I", m[4], 8)[0]
            c.send(DATA, struct.pack("<IIIIQQ", tr, 6, 0, 0, 0, 0))
    else:
        ok(False, "a second paste asks again")
    try:
        xclip.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        xclip.kill()

    # ---- the clock: the host is 2 s ahead; wine never lets it be set
    c.send(TIME_SYNC, struct.pack("<II", 0, 0))
    queries = 0
    while True:
        m = c.wait_for(lambda m: m[0] in (TIME_QUERY, TIME_STATUS), 5)
        if not m or m[0] == TIME_STATUS:
            break
        queries += 1
        c.send(TIME_QUERY, struct.pack("<Q", time.time_ns() + 2 * 10**9), F_RESP, m[2])
    ok(queries == 5, "TIME_SYNC: 5 TIME_QUERY samples (%d)" % queries)
    if m and m[0] == TIME_STATUS and len(m[4]) == 40:
        reason, action, offset, rtt, thr, ntp, status = struct.unpack("<IIqqqII", m[4])
        ok(action == 4 and status == S_EPERM and 1.5e9 < offset < 2.5e9 and
           thr == 10**9,
           "TIME_STATUS: the step failed, EPERM, offset %+.3f s (action %d, status %d)" %
           (offset / 1e9, action, status))
    else:
        ok(False, "TIME_STATUS after the samples")

    # ---- a layout
    c.send(LAYOUT, layout(77, [(1280, 800, 0, 0)]))
    m = c.wait_for(lambda m: m[0] == STATE and struct.unpack_from("<I", m[4])[0] == 77, 10)
    if m:
        gen, status, nr = struct.unpack_from("<III", m[4])
        fl, w, h = struct.unpack_from("<III", m[4], 16)
        ok(status == 0 and fl == 1 and (w, h) == (1280, 800),
           "DISPLAY_LAYOUT 77: DISPLAY_STATE 1280x800, status %d" % status)
    else:
        ok(False, "DISPLAY_LAYOUT 77: a DISPLAY_STATE")

    # ---- a stream that cannot be right: the agent starts over
    c.send(GRAB, b"", length=1 << 20)
    ls.settimeout(10)
    try:
        c2 = Conn(ls.accept()[0])
        ok(hello_answer(c2, 10) is not None,
           "a header of 1 MiB: the agent drops the connection, reconnects, says HELLO")
        ok(log_has(log, "longer than the protocol allows"), "... and logs why")
    except socket.timeout:
        ok(False, "a header of 1 MiB: the agent reconnects")
    print("fake host: %d failed" % failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
