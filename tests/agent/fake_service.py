# SPDX-License-Identifier: MIT
"""The pva-service end of pva-agent's socket (protocol/PROTOCOL.md 6.8.6),
for testing pva-agent against real display servers without a guest
kernel: it welcomes one agent and then plays the host's part (grabs,
requests, content, layouts) and sends malformed messages on purpose.

    svc = FakeService("/tmp/agent.sock")
    # start pva-agent --socket /tmp/agent.sock --no-respawn ...
    svc.accept()                      # REGISTER -> WELCOME (active)
    svc.grab(["text/plain;charset=utf-8"])          # the host owns it
    svc.serve({"text/plain;charset=utf-8": b"hi"})  # answer REQUESTs
    types = svc.wait_grab()           # the session copied something
    data = svc.fetch("text/plain;charset=utf-8")
"""
import os
import select
import socket
import struct
import time

HDR = struct.Struct("<IHHHHIII")          # struct pva_msg_hdr, 24 bytes
HELLO, INFO, GRAB, REQUEST, DATA, CANCEL, LAYOUT, STATE = range(1, 9)
REGISTER, WELCOME, ACTIVE = 64, 65, 66
S_OK, S_EINVAL, S_ENOENT, S_EPERM, S_ESTALE, S_E2BIG = 0, 1, 3, 9, 19, 7
DATA_LAST = 1
SIZE_UNKNOWN = (1 << 64) - 1
CHUNK = 65536 - 32
MIME_TEXT = "text/plain;charset=utf-8"


def pack_msg(mtype, payload=b"", status=0, flags=0, service=0, reserved=0):
    return HDR.pack(len(payload), mtype, flags, service, reserved, 0,
                    status, 0) + payload


def grab_payload(types, sel=0, serial=1, seen=0):
    names = b"".join(t.encode() + b"\0" for t in types)
    return struct.pack("<IIII", sel, serial, seen, len(types)) + names


def layout_payload(generation, heads, max_w=8192, max_h=8192):
    """heads: list of (width, height) or None (off), placed left to
    right as the host does."""
    p = struct.pack("<IIII", generation, len(heads), max_w, max_h)
    x = 0
    for i in range(4):
        h = heads[i] if i < len(heads) else None
        if h:
            p += struct.pack("<IIIII12x", 1, h[0], h[1], x, 0)
            x += h[0]
        else:
            p += bytes(32)
    return p


class FakeService:
    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ls.bind(path)
        self.ls.listen(4)
        self.conn = None
        self.register = None
        self.serial = 0
        self.transfer = 0
        self.pending = []          # messages read while waiting for others
        self.states = []           # DISPLAY_STATE payloads, decoded

    def close(self):
        if self.conn:
            self.conn.close()
        self.ls.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    # ---- the connection ----

    def accept(self, timeout=20, active=True, status=S_OK, clip_max=64 << 20):
        self.ls.settimeout(timeout)
        self.conn, _ = self.ls.accept()
        self.conn.settimeout(timeout)
        t, payload, _ = self.recv(timeout)
        assert t == REGISTER, f"first message is type {t}, not REGISTER"
        version, caps = struct.unpack_from("<II", payload)
        fields = [payload[8:72], payload[72:88], payload[88:152],
                  payload[152:184]]
        s, kind, disp, desktop = (f.split(b"\0")[0].decode() for f in fields)
        self.register = dict(version=version, caps=caps, session=s,
                             kind=kind, display=disp, desktop=desktop)
        if status != S_OK:
            self.send(WELCOME, b"", status=status)
            return self.register
        self.send(WELCOME, struct.pack("<IIQ", 1, 1 if active else 0,
                                       clip_max))
        return self.register

    def send(self, mtype, payload=b"", status=0, **kw):
        self.conn.sendall(pack_msg(mtype, payload, status, **kw))

    def send_raw(self, data):
        self.conn.sendall(data)

    def recv(self, timeout=20):
        """The next message from the agent: (type, payload, status)."""
        if self.pending:
            return self.pending.pop(0)
        self.conn.settimeout(timeout)
        pkt = self.conn.recv(HDR.size + 65536 + 16)
        if not pkt:
            raise ConnectionError("the agent closed the connection")
        ln, mtype, flags, service, r0, req_id, status, r1 = \
            HDR.unpack_from(pkt)
        assert ln == len(pkt) - HDR.size, "length field does not match"
        assert not (flags or service or r0 or req_id or r1), "header not 0"
        payload = pkt[HDR.size:]
        if mtype == STATE:
            self.states.append(decode_state(payload))
        return mtype, payload, status

    def wait_for(self, wanted, timeout=20, keep=True):
        """The next message of a type in WANTED; others are kept for
        later (keep) or dropped."""
        deadline = time.time() + timeout
        skipped = []
        try:
            while True:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(f"no message of type {wanted}")
                m = self.recv_fresh(left)
                if m[0] in wanted:
                    return m
                skipped.append(m)
        finally:
            if keep:
                self.pending = skipped + self.pending

    def recv_fresh(self, timeout):
        for i, m in enumerate(self.pending):
            return self.pending.pop(i)
        return self.recv(timeout)

    def active(self, on):
        self.send(ACTIVE, struct.pack("<II", 1 if on else 0, 0))

    # ---- the host's side of the clipboard ----

    def grab(self, types, sel=0):
        """The host owns SEL now with TYPES (none: empty)."""
        self.serial += 1
        self.send(GRAB, grab_payload(types, sel, self.serial))
        return self.serial

    def serve(self, contents, count=1, timeout=20, sel=0):
        """Answer COUNT REQUESTs from the agent with CONTENTS[type];
        returns the types asked for."""
        asked = []
        while len(asked) < count:
            t, p, _ = self.wait_for((REQUEST,), timeout)
            rsel, serial, transfer, _ = struct.unpack_from("<IIII", p)
            mime = p[16:].split(b"\0")[0].decode()
            asked.append(mime)
            if rsel != sel or serial != self.serial:
                self.data_error(transfer, S_ESTALE)
            elif mime not in contents:
                self.data_error(transfer, S_ENOENT)
            else:
                self.send_content(transfer, contents[mime])
        return asked

    def send_content(self, transfer, data, total=None):
        total = len(data) if total is None else total
        off = 0
        while True:
            chunk = data[off:off + CHUNK]
            last = off + len(chunk) == len(data)
            self.send(DATA, struct.pack("<IIIIQQ", transfer, 0,
                                        DATA_LAST if last else 0, 0, off,
                                        total) + chunk)
            off += len(chunk)
            if last:
                return

    def data_error(self, transfer, status):
        self.send(DATA, struct.pack("<IIIIQQ", transfer, status, 0, 0, 0, 0))

    # ---- the session's side ----

    def wait_grab(self, timeout=20, sel=0):
        """The types of the session's next GRAB of SEL."""
        while True:
            t, p, _ = self.wait_for((GRAB,), timeout)
            gsel, _, _, n = struct.unpack_from("<IIII", p)
            names = [x.decode() for x in p[16:].split(b"\0")[:n]]
            if gsel == sel:
                return names

    def fetch(self, mime, sel=0, timeout=20, serial=1):
        """Ask the agent for the session's content as MIME; returns the
        bytes, or raises with the status."""
        self.transfer += 1
        tr = self.transfer
        self.send(REQUEST, struct.pack("<IIII", sel, serial, tr, 0) +
                  mime.encode() + b"\0")
        out = b""
        while True:
            t, p, _ = self.wait_for((DATA,), timeout)
            transfer, status, flags, _, off, total = \
                struct.unpack_from("<IIIIQQ", p)
            if transfer != tr:
                continue
            if status:
                raise ClipError(status)
            assert off == len(out), f"chunk at {off}, expected {len(out)}"
            out += p[32:]
            if flags & DATA_LAST:
                if total != SIZE_UNKNOWN:
                    assert total == len(out), "total does not match"
                return out

    def cancel(self, transfer):
        self.send(CANCEL, struct.pack("<II", transfer, 0))

    # ---- the display ----

    def layout(self, generation, heads):
        self.send(LAYOUT, layout_payload(generation, heads))

    def wait_state(self, generation, timeout=30):
        """The DISPLAY_STATE answering GENERATION (decoded)."""
        deadline = time.time() + timeout
        while True:
            for s in self.states:
                if s["generation"] == generation:
                    self.states.remove(s)
                    return s
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"no DISPLAY_STATE for {generation}")
            self.wait_for((STATE,), left, keep=False)

    def idle(self, seconds):
        """Read (and keep) what the agent sends for SECONDS."""
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([self.conn], [], [], left)
            if r:
                self.pending.append(self.recv(1))


class ClipError(Exception):
    def __init__(self, status):
        super().__init__(f"status {status}")
        self.status = status


def decode_state(p):
    gen, status, n, _ = struct.unpack_from("<IIII", p)
    heads = []
    for i in range(4):
        flags, w, h, x, y = struct.unpack_from("<IIIII", p, 16 + 32 * i)
        heads.append(dict(on=bool(flags & 1), width=w, height=h, x=x, y=y))
    return dict(generation=gen, status=status, nr_heads=n, heads=heads)
