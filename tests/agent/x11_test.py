#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pva-agent's X11 backend against a real X server (Xvfb), real clients
(xclip, xrandr) and tests/agent/fake_service.py in pva-service's place: no
VM, no guest kernel.

    python3 tests/agent/x11_test.py [--agent PATH] [-k SUBSTRING]... [--keep]

Each test starts its own fake service and agent (--no-respawn, -v, its
stderr captured) on a shared Xvfb, prints "PASS name" or "FAIL name: why",
and ends the agent so that it exits by itself (the service refuses its
reconnection), which lets an ASan build check for leaks. Any sanitizer
report in the agent's stderr fails the test. The script ends with
"x11: N passed, N failed" and exits 1 on any failure. Everything it starts
(Xvfb, agents, xclip) is killed by pid and its temporary directory removed
at exit, also on failure or Ctrl-C.

Needs: Xvfb, xclip, xrandr (apt-get install xvfb xclip x11-xserver-utils).
"""
import argparse
import ctypes
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_service as fs  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEFAULT_AGENT = os.path.join(TOP, "build/agent/x86_64/pva-agent")
TEXT = fs.MIME_TEXT
S_ENOENT, S_E2BIG, S_ESTALE, S_ERANGE = 3, 7, 19, 21
# Xvfb's RandR cannot make the screen larger than it started: start big
XVFB_SIZE = (1920, 1200)
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                       r"SUMMARY: (Address|Undefined|Leak)")
CAP_PRIMARY = 2


class Failure(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Failure(why)


def wait_until(fn, timeout, why, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise Failure(why)
        time.sleep(step)


def make_png(w=24, h=16):
    """A small valid RGB PNG (every byte value shows up in it)."""
    rows = b"".join(b"\0" + bytes(v for x in range(w) for v in
                                  ((x * 37 + y * 11) & 255, (x * y) & 255,
                                   (x + y * 29) & 255))
                    for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def big_text(size):
    """SIZE bytes of numbered lines: a lost or moved chunk shows."""
    out, i = [], 0
    n = 0
    while n < size:
        line = b"%09d the quick brown fox jumps over the lazy dog\n" % i
        out.append(line)
        n += len(line)
        i += 1
    return b"".join(out)[:size]


class XClient:
    """A connection of our own (ctypes, libX11) to look at selections."""

    def __init__(self, display):
        x = ctypes.CDLL("libX11.so.6")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                  ctypes.c_int]
        x.XGetSelectionOwner.restype = ctypes.c_ulong
        x.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x.XFetchName.restype = ctypes.c_int
        x.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                 ctypes.POINTER(ctypes.c_char_p)]
        x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x.XFlush.argtypes = [ctypes.c_void_p]
        x.XPending.argtypes = [ctypes.c_void_p]
        x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XCreateSimpleWindow.restype = ctypes.c_ulong
        x.XCreateSimpleWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + \
            [ctypes.c_int] * 2 + [ctypes.c_uint] * 3 + [ctypes.c_ulong] * 2
        x.XDestroyWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                   ctypes.c_long]
        x.XConvertSelection.argtypes = [ctypes.c_void_p] + \
            [ctypes.c_ulong] * 5
        x.XGetWindowProperty.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long,
            ctypes.c_long, ctypes.c_int, ctypes.c_ulong,
            ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_void_p)]
        x.XFree.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        # a window that vanishes between two calls must not exit python
        self.handler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                                        ctypes.c_void_p)(lambda d, e: 0)
        x.XSetErrorHandler(self.handler)
        self.x = x
        self.d = x.XOpenDisplay(display.encode())
        if not self.d:
            raise Failure(f"cannot open display {display}")

    def owner(self, sel="CLIPBOARD"):
        a = self.x.XInternAtom(self.d, sel.encode(), 0)
        return self.x.XGetSelectionOwner(self.d, a)

    def owner_name(self, sel="CLIPBOARD"):
        w = self.owner(sel)
        if not w:
            return None
        name = ctypes.c_char_p()
        if not self.x.XFetchName(self.d, w, ctypes.byref(name)):
            return ""
        return name.value.decode(errors="replace")

    def atom(self, name):
        return self.x.XInternAtom(self.d, name.encode(), 0)

    def prop_type(self, win, prop):
        t, f = ctypes.c_ulong(), ctypes.c_int()
        n, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        self.x.XGetWindowProperty(self.d, win, prop, 0, 0, 0, 0,
                                  ctypes.byref(t), ctypes.byref(f),
                                  ctypes.byref(n), ctypes.byref(after),
                                  ctypes.byref(data))
        if data:
            self.x.XFree(data)
        return t.value

    def incr_requestor(self, pump, vanish, sel="CLIPBOARD",
                       target="UTF8_STRING", timeout=20):
        """A requestor that lets the owner start INCR and then destroys
        its window (VANISH) or never deletes the property: the type the
        owner answered with. PUMP() runs while waiting."""
        win = self.x.XCreateSimpleWindow(
            self.d, self.x.XDefaultRootWindow(self.d), 0, 0, 1, 1, 0, 0, 0)
        prop = self.atom("PVA_TEST_INCR")
        self.x.XSelectInput(self.d, win, 1 << 22)   # PropertyChangeMask
        self.x.XConvertSelection(self.d, self.atom(sel), self.atom(target),
                                 prop, win, 0)
        self.x.XFlush(self.d)
        ev = ctypes.create_string_buffer(256)
        deadline = time.time() + timeout
        got = None
        while got is None:
            if time.time() > deadline:
                raise Failure("no SelectionNotify for the INCR requestor")
            pump()
            while got is None and self.x.XPending(self.d):
                self.x.XNextEvent(self.d, ev)
                if struct.unpack_from("i", ev.raw)[0] == 31:
                    got = struct.unpack_from("L", ev.raw, 56)[0]
        check(got == prop, "the owner refused the INCR requestor")
        kind = self.prop_type(win, prop)
        if vanish:
            self.x.XDestroyWindow(self.d, win)
        self.x.XSync(self.d, 0)
        return kind, win

    def destroy(self, win):
        self.x.XDestroyWindow(self.d, win)
        self.x.XSync(self.d, 0)

    def close(self):
        if self.d:
            self.x.XCloseDisplay(self.d)
            self.d = None


def hostile_owner(mode):
    """Child process: own CLIPBOARD and misbehave as MODE says:
    refuse (TARGETS with a bogus atom, every conversion refused),
    badtargets (TARGETS of format 8), hang (never answers), incr-stall
    (starts INCR for text and never sends a chunk)."""
    xc = XClient(os.environ["DISPLAY"])
    x, d = xc.x, xc.d
    x.XChangeProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                  ctypes.c_ulong, ctypes.c_ulong,
                                  ctypes.c_int, ctypes.c_int,
                                  ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                             ctypes.c_long, ctypes.c_char_p]
    x.XSetSelectionOwner.argtypes = [ctypes.c_void_p] + [ctypes.c_ulong] * 3
    win = x.XCreateSimpleWindow(d, x.XDefaultRootWindow(d), 0, 0, 1, 1, 0,
                                0, 0)
    a = xc.atom
    x.XSetSelectionOwner(d, a("CLIPBOARD"), win, 0)
    x.XSync(d, 0)
    print("ready", flush=True)
    ev = ctypes.create_string_buffer(256)
    while True:
        x.XNextEvent(d, ev)
        if struct.unpack_from("i", ev.raw)[0] != 30:    # SelectionRequest
            continue
        req, sel, target, prop, when = struct.unpack_from("LLLLL", ev.raw, 40)
        if mode == "hang":
            continue
        ok = False
        if target == a("TARGETS") and mode == "badtargets":
            x.XChangeProperty(d, req, prop, a("ATOM"), 8, 0, b"garbage", 7)
            ok = True
        elif target == a("TARGETS"):
            atoms = [a("TARGETS"), a("UTF8_STRING"), a("text/html"),
                     0x7ffff00, a("STRING"), a("text/html")]
            data = struct.pack("%dL" % len(atoms), *atoms)
            x.XChangeProperty(d, req, prop, a("ATOM"), 32, 0, data,
                              len(atoms))
            ok = True
        elif mode == "incr-stall" and target == a("UTF8_STRING"):
            x.XChangeProperty(d, req, prop, a("INCR"), 32, 0,
                              struct.pack("L", 1 << 20), 1)
            ok = True
        notify = struct.pack("i4xLi4xPLLLLL", 31, 0, 1, d, req, sel, target,
                             prop if ok else 0, when)
        x.XSendEvent(d, req, 0, 0, notify.ljust(192, b"\0"))
        x.XFlush(d)


class Xvfb:
    def __init__(self, tmp, size=XVFB_SIZE):
        r, w = os.pipe()
        self.log = open(os.path.join(tmp, "xvfb.log"), "ab")
        self.p = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0",
             "%dx%dx24" % size, "-nolisten", "tcp", "-noreset"],
            pass_fds=(w,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self.log)
        os.close(w)
        buf = b""
        deadline = time.time() + 15
        try:
            while not buf.endswith(b"\n"):
                left = deadline - time.time()
                if left <= 0 or not select.select([r], [], [], left)[0]:
                    raise Failure("Xvfb did not start")
                more = os.read(r, 64)
                if not more:
                    raise Failure("Xvfb exited at start")
                buf += more
        finally:
            os.close(r)
        self.display = ":" + buf.decode().strip()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


class Agent:
    count = 0

    def __init__(self, t, svc, *extra, respawn=False, display=None):
        Agent.count += 1
        self.t = t
        self.log_path = os.path.join(t.tmp, "agent-%d.log" % Agent.count)
        args = [t.agent_bin, "--kind", "x11", "--socket", svc.path, "-v"]
        if not respawn:
            args.append("--no-respawn")
        args += list(extra)
        env = dict(t.env)
        if display:
            env["DISPLAY"] = display
        with open(self.log_path, "wb") as log:
            self.p = subprocess.Popen(args, env=env,
                                      stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=log)
        t.procs.append(self.p)
        t.agents.append(self)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=10):
        return wait_until(lambda: re.search(pattern, self.log()), timeout,
                          f"the agent did not log /{pattern}/")

    def alive(self):
        return self.p.poll() is None

    def check_sanitizer(self):
        m = SANITIZER.search(self.log())
        check(not m, f"sanitizer report in the agent's stderr "
                     f"({self.log_path}): {m and m.group(0)}")

    def finish(self, svc):
        """End the agent the clean way: the service goes away and refuses
        the reconnection, so the agent exits by itself (LSan runs)."""
        if self.p.poll() is None:
            if svc.conn:
                svc.conn.close()
                svc.conn = None
            try:
                svc.accept(timeout=5, status=fs.S_EPERM)
            except (OSError, AssertionError, ConnectionError):
                pass
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise Failure("the agent did not exit when refused")
        self.check_sanitizer()


class Test:
    """What every test gets: the X server, the agent binary, helpers."""

    def __init__(self, agent_bin, tmp, xvfb):
        self.agent_bin = agent_bin
        self.tmp = tmp
        self.xvfb = xvfb
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("WAYLAND_DISPLAY", "XDG_SESSION_ID",
                                 "XDG_CURRENT_DESKTOP")}
        self.env["DISPLAY"] = xvfb.display
        self.env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
        self.env["UBSAN_OPTIONS"] = "print_stacktrace=1"
        self.x = XClient(xvfb.display)
        self.procs = []
        self.agents = []
        self.services = []
        self.n = 0

    def service(self):
        self.n += 1
        svc = fs.FakeService(os.path.join(self.tmp, "svc-%d.sock" % self.n))
        self.services.append(svc)
        return svc

    def start(self, *extra, **kw):
        """A fake service and an agent registered with it."""
        svc = self.service()
        agent = Agent(self, svc, *extra, **kw)
        try:
            reg = svc.accept(timeout=15)
        except OSError as e:
            raise Failure(f"the agent did not register: {e}")
        check(reg["kind"] == "x11", f"registered as {reg['kind']!r}")
        check(reg["display"] == self.env["DISPLAY"],
              f"registered display {reg['display']!r}")
        agent.wait_log(r"X11: connected to display")
        return svc, agent

    def end_test(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for svc in self.services:
            svc.close()
        self.procs, self.agents, self.services = [], [], []

    # ---- clients ----

    def copy(self, data, target=None, sel="clipboard"):
        """xclip -i: a client that owns SEL with DATA until killed."""
        args = ["xclip", "-i", "-quiet", "-selection", sel]
        if target:
            args += ["-t", target]
        p = subprocess.Popen(args, env=self.env, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        p.stdin.write(data)
        p.stdin.close()
        return p

    def paste_start(self, target=None, sel="clipboard"):
        self.n += 1
        out = open(os.path.join(self.tmp, "paste-%d" % self.n), "w+b")
        args = ["xclip", "-o", "-selection", sel]
        if target:
            args += ["-t", target]
        p = subprocess.Popen(args, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.DEVNULL)
        p.out = out
        self.procs.append(p)
        return p

    def paste(self, svc, contents, target=None, sel="clipboard", selno=0,
              timeout=30):
        """xclip -o while the service answers the agent's REQUESTs:
        (exit status, bytes, types the agent asked the host for)."""
        p = self.paste_start(target, sel)
        asked = serve_until(svc, [p], contents, selno, timeout)
        p.out.seek(0)
        data = p.out.read()
        p.out.close()
        return p.returncode, data, asked

    def xrandr(self):
        r = subprocess.run(["xrandr"], env=self.env, capture_output=True,
                           timeout=10)
        check(r.returncode == 0, "xrandr failed")
        return r.stdout.decode()


def serve_until(svc, procs, contents, selno=0, timeout=30):
    """Answer REQUESTs until every process in PROCS has exited."""
    deadline = time.time() + timeout
    asked = []
    while any(p.poll() is None for p in procs):
        if time.time() > deadline:
            raise Failure("xclip did not finish")
        try:
            asked += svc.serve(contents, count=1, timeout=0.1, sel=selno)
        except TimeoutError:
            pass
    return asked


def wait_owned_by_agent(t, sel="CLIPBOARD"):
    wait_until(lambda: t.x.owner_name(sel) == "pva-agent", 5,
               f"the agent does not own {sel}")


def grabs(svc, sel=None):
    out = []
    for m in svc.pending:
        if m[0] == fs.GRAB:
            s = struct.unpack_from("<I", m[1])[0]
            if sel is None or s == sel:
                out.append(m)
    return out


# ---- the tests ----

UTF8 = "Grüße, 世界 — ünïcödé ✓ 🐧\nline two\ttab".encode()


def test_host_text(t):
    """1: the host's UTF-8 text, as xclip asks for it in every way."""
    svc, agent = t.start()
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    rc, data, asked = t.paste(svc, {TEXT: UTF8})
    check(rc == 0, f"xclip -o failed ({rc})")
    check(data == UTF8, f"xclip -o printed {data!r}")
    check(asked == [TEXT], f"the agent asked the host for {asked}")
    rc, data, _ = t.paste(svc, {TEXT: UTF8}, "UTF8_STRING")
    check(rc == 0 and data == UTF8, f"-t UTF8_STRING: {rc} {data!r}")
    rc, data, _ = t.paste(svc, {TEXT: UTF8}, TEXT)
    check(rc == 0 and data == UTF8, f"-t {TEXT}: {rc} {data!r}")
    latin1 = UTF8.decode().encode("latin-1", errors="replace")
    rc, data, _ = t.paste(svc, {TEXT: UTF8}, "STRING")
    check(rc == 0 and data == latin1,
          f"-t STRING: {rc} {data!r}, not {latin1!r}")
    rc, data, _ = t.paste(svc, {TEXT: UTF8}, "TARGETS")
    targets = data.decode().split()
    want = ["TARGETS", "TIMESTAMP", "UTF8_STRING", TEXT, "text/plain",
            "STRING", "TEXT"]
    check(rc == 0 and sorted(targets) == sorted(want),
          f"TARGETS: {targets}")
    rc, data, _ = t.paste(svc, {TEXT: UTF8}, "image/png")
    check(rc != 0 and not data, "a target the host lacks was served")
    agent.finish(svc)


def test_host_big_text(t):
    """2: 10 MiB of text from the host: INCR; the requestor vanishing
    in the middle of it."""
    svc, agent = t.start()
    big = big_text(10 << 20)
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    rc, data, _ = t.paste(svc, {TEXT: big}, timeout=60)
    check(rc == 0, f"xclip -o failed ({rc})")
    check(len(data) == len(big), f"got {len(data)} of {len(big)} bytes")
    check(data == big, "the content differs")
    agent.wait_log(r"sending 10485760 bytes with INCR")
    agent.wait_log(r"INCR to 0x[0-9a-f]+ complete")

    def pump():
        try:
            svc.serve({TEXT: big}, count=1, timeout=0.05)
        except TimeoutError:
            pass
    # a requestor that vanishes during INCR: forgotten at once
    kind, win = t.x.incr_requestor(pump, vanish=True)
    check(kind == t.x.atom("INCR"), "the answer was not INCR")
    agent.wait_log(r"requestor 0x%x is gone" % win, 5)
    # one that stops reading: given up after a while
    kind, win = t.x.incr_requestor(pump, vanish=False)
    check(kind == t.x.atom("INCR"), "the answer was not INCR")
    agent.wait_log(r"requestor 0x%x stopped reading" % win, 20)
    t.x.destroy(win)
    rc, data, _ = t.paste(svc, {TEXT: big}, timeout=60)
    check(rc == 0 and data == big, "paste after the broken requestors")
    agent.finish(svc)


def test_host_png(t):
    """3: an image from the host, byte for byte."""
    svc, agent = t.start()
    png = make_png()
    svc.grab(["image/png"])
    wait_owned_by_agent(t)
    rc, data, asked = t.paste(svc, {"image/png": png}, "image/png")
    check(rc == 0 and data == png, f"image/png: {rc}, {len(data)} bytes")
    check(asked == ["image/png"], f"asked for {asked}")
    rc, data, _ = t.paste(svc, {}, "TARGETS")
    targets = data.decode().split()
    check(sorted(targets) == ["TARGETS", "TIMESTAMP", "image/png"],
          f"TARGETS: {targets}")
    rc, data, _ = t.paste(svc, {}, "UTF8_STRING")
    check(rc != 0, "text was served for an image")
    agent.finish(svc)


def test_session_copy(t):
    """4: the session's copies reach the host: text, PNG, 10 MiB, Latin-1
    STRING; types the owner lacks are refused."""
    svc, agent = t.start()
    t.copy(UTF8)
    types = svc.wait_grab()
    check(types == [TEXT], f"GRAB types {types}")
    data = svc.fetch(TEXT)
    check(data == UTF8, f"fetched {data!r}")
    try:
        svc.fetch("image/png")
        raise Failure("fetch of a type the owner lacks succeeded")
    except fs.ClipError as e:
        check(e.status == S_ENOENT, f"status {e.status}, not ENOENT")

    png = make_png(40, 30)
    t.copy(png, "image/png")
    types = svc.wait_grab()
    check(types == ["image/png"], f"GRAB types {types}")
    check(svc.fetch("image/png") == png, "the PNG differs")

    latin1 = "Grüße, café".encode("latin-1")
    t.copy(latin1, "STRING")
    types = svc.wait_grab()
    check(types == [TEXT], f"GRAB types for STRING: {types}")
    data = svc.fetch(TEXT)
    check(data == latin1.decode("latin-1").encode(),
          f"STRING as UTF-8: {data!r}")

    big = big_text(10 << 20)
    t.copy(big)
    types = svc.wait_grab(timeout=30)
    check(types == [TEXT], f"GRAB types {types}")
    data = svc.fetch(TEXT, timeout=60)
    check(len(data) == len(big), f"fetched {len(data)} of {len(big)}")
    check(data == big, "the 10 MiB differ")
    agent.wait_log(r"INCR from the owner")
    agent.finish(svc)


def test_reads_in_flight(t):
    """Several reads of the session's content at once (a property each;
    small: xclip serves one INCR at a time), and clients pasting the
    host's large content at once (INCR each)."""
    svc, agent = t.start()
    small = big_text(200 << 10)
    big = big_text(3 << 20)
    t.copy(small)
    check(svc.wait_grab() == [TEXT], "no GRAB")
    ids = []
    for _ in range(3):
        svc.transfer += 1
        ids.append(svc.transfer)
        svc.send(fs.REQUEST, struct.pack("<IIII", 0, 1, svc.transfer, 0) +
                 TEXT.encode() + b"\0")
    got = {i: b"" for i in ids}
    done = set()
    while len(done) < len(ids):
        _, p, _ = svc.wait_for((fs.DATA,), 30)
        tr, status, flags, _, off, _ = struct.unpack_from("<IIIIQQ", p)
        check(tr in got and status == 0, f"DATA {tr} status {status}")
        check(off == len(got[tr]), f"transfer {tr}: chunk at {off}")
        got[tr] += p[32:]
        if flags & fs.DATA_LAST:
            done.add(tr)
    for i in ids:
        check(got[i] == small, f"transfer {i} differs")

    svc.grab([TEXT])
    wait_owned_by_agent(t)
    ps = [t.paste_start() for _ in range(3)]
    serve_until(svc, ps, {TEXT: big}, timeout=60)
    for p in ps:
        p.out.seek(0)
        check(p.returncode == 0 and p.out.read() == big,
              "a concurrent paste differs")
        p.out.close()
    agent.finish(svc)


def test_max_size(t):
    """A content above --max-size is E2BIG, not sent."""
    svc, agent = t.start("--max-size", "1M")
    t.copy(big_text(2 << 20))
    check(svc.wait_grab() == [TEXT], "no GRAB")
    try:
        svc.fetch(TEXT, timeout=30)
        raise Failure("a content over --max-size was sent")
    except fs.ClipError as e:
        check(e.status == S_E2BIG, f"status {e.status}, not E2BIG")
    small = b"small enough"
    t.copy(small)
    check(svc.wait_grab() == [TEXT], "no GRAB")
    check(svc.fetch(TEXT) == small, "the small content after E2BIG")
    agent.finish(svc)


def test_empty(t):
    """5: the host's empty grab empties the selection; a client that
    owned it exiting makes an empty GRAB."""
    svc, agent = t.start()
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    svc.grab([])
    wait_until(lambda: t.x.owner() == 0, 5, "the selection has an owner")
    svc.idle(1.0)
    check(not grabs(svc), "the agent answered the host's empty grab")
    # a client's content the host clears
    p = t.copy(b"to be cleared")
    check(svc.wait_grab() == [TEXT], "no GRAB")
    svc.grab([])
    wait_until(lambda: t.x.owner() == 0, 5, "the client still owns it")
    p.wait(5)
    svc.idle(1.0)
    check(not grabs(svc), "the agent answered the host's empty grab")
    # the owner exits
    p = t.copy(b"short lived")
    check(svc.wait_grab() == [TEXT], "no GRAB")
    p.kill()
    p.wait()
    check(svc.wait_grab(timeout=5) == [], "no empty GRAB")
    agent.finish(svc)


def test_no_feedback(t):
    """6: the agent never announces its own proxy ownership."""
    svc, agent = t.start()
    for types in ([TEXT], ["image/png", "text/html"], [TEXT]):
        svc.grab(types)
        wait_owned_by_agent(t)
        svc.idle(1.5)
        check(not grabs(svc), f"a GRAB came back after the host's {types}")
    rc, data, _ = t.paste(svc, {TEXT: b"x"})
    check(rc == 0 and data == b"x", "paste")
    svc.idle(1.0)
    check(not grabs(svc), "a GRAB came back after a paste")
    agent.finish(svc)


def test_primary(t):
    """7: PRIMARY only with --primary."""
    svc, agent = t.start()
    check(not svc.register["caps"] & CAP_PRIMARY, "PRIMARY cap without "
          "--primary")
    p = t.copy(b"primary text", sel="primary")
    svc.idle(1.5)
    check(not grabs(svc), "PRIMARY announced without --primary")
    svc.grab([TEXT], sel=1)
    time.sleep(0.5)
    check(t.x.owner_name("PRIMARY") != "pva-agent",
          "the agent took PRIMARY without --primary")
    p.kill()
    p.wait()
    agent.finish(svc)

    svc, agent = t.start("--primary")
    check(svc.register["caps"] & CAP_PRIMARY, "no PRIMARY cap")
    t.copy(b"primary text", sel="primary")
    check(svc.wait_grab(sel=1) == [TEXT], "no PRIMARY GRAB")
    check(svc.fetch(TEXT, sel=1) == b"primary text", "PRIMARY content")
    svc.grab([TEXT], sel=1)
    wait_owned_by_agent(t, "PRIMARY")
    rc, data, _ = t.paste(svc, {TEXT: b"host primary"}, sel="primary",
                          selno=1)
    check(rc == 0 and data == b"host primary", f"PRIMARY paste {data!r}")
    check(t.x.owner_name("CLIPBOARD") != "pva-agent",
          "a PRIMARY grab took CLIPBOARD")
    agent.finish(svc)


def xrandr_state(t):
    out = t.xrandr()
    cur = re.search(r"current (\d+) x (\d+)", out)
    head = re.search(r"^screen connected (?:primary )?(\d+)x(\d+)\+(\d+)"
                     r"\+(\d+)", out, re.M)
    modes = re.findall(r"^\s+(\d+x\d+)\s", out, re.M)
    check(cur and head, f"xrandr said {out!r}")
    return ((int(cur[1]), int(cur[2])),
            tuple(int(head[i]) for i in range(1, 5)), modes)


def check_state(s, gen, status, heads):
    check(s["generation"] == gen, f"state for {s['generation']}")
    check(s["status"] == status, f"layout {gen}: status {s['status']}")
    for i, h in enumerate(heads):
        got = s["heads"][i]
        if h is None:
            check(not got["on"], f"layout {gen}: head {i} is on")
        else:
            check(got["on"] and (got["width"], got["height"], got["x"],
                                 got["y"]) == h,
                  f"layout {gen}: head {i} shows {got}, not {h}")


def test_layout(t):
    """8: layouts grow and shrink the screen, with modes Xvfb lacks; what
    cannot be done is an error with what is shown; the session's own
    changes are reported, ours are not."""
    svc, agent = t.start()
    svc.layout(1, [(1280, 800)])
    check_state(svc.wait_state(1), 1, 0, [(1280, 800, 0, 0)])
    size, head, modes = xrandr_state(t)
    check(size == (1280, 800) and head == (1280, 800, 0, 0),
          f"xrandr: {size} {head}")
    check("1280x800" in modes, f"no 1280x800 mode: {modes}")
    svc.layout(2, [(800, 600)])
    check_state(svc.wait_state(2), 2, 0, [(800, 600, 0, 0)])
    size, head, _ = xrandr_state(t)
    check(size == (800, 600) and head == (800, 600, 0, 0),
          f"xrandr after shrinking: {size} {head}")
    svc.layout(3, [(1366, 768)])
    check_state(svc.wait_state(3), 3, 0, [(1366, 768, 0, 0)])
    size, head, _ = xrandr_state(t)
    check(size == (1366, 768), f"xrandr after growing: {size}")
    svc.idle(1.0)
    check(not [s for s in svc.states if s["generation"] == 0],
          "the agent reported its own change as the session's")
    # larger than the screen can be: an error, and what it shows
    svc.layout(4, [(4096, 2160)])
    check_state(svc.wait_state(4), 4, S_ERANGE, [(1366, 768, 0, 0)])
    # two heads, one output: head 0 done, ENOENT for head 1
    svc.layout(5, [(1024, 768), (800, 600)])
    check_state(svc.wait_state(5), 5, S_ENOENT, [(1024, 768, 0, 0), None])
    check(xrandr_state(t)[0] == (1024, 768), "head 0 of layout 5")
    # the session changes it itself: reported with generation 0
    r = subprocess.run(["xrandr", "--output", "screen", "--mode",
                        "1280x800"], env=t.env, capture_output=True)
    check(r.returncode == 0, f"xrandr --mode: {r.stderr!r}")
    s = svc.wait_state(0, timeout=5)
    check(s["heads"][0]["width"] == 1280 and s["heads"][0]["height"] == 800,
          f"the session's change reported as {s['heads'][0]}")
    # back to the size Xvfb started with, for the other tests
    svc.layout(6, [XVFB_SIZE])
    check_state(svc.wait_state(6), 6, 0, [XVFB_SIZE + (0, 0)])
    agent.finish(svc)


def test_malformed(t):
    """9: hostile messages from the service: warnings, no crash, and the
    agent still works afterwards."""
    svc, agent = t.start()
    hdr = fs.HDR
    cases = [
        # header length not the packet's
        (hdr.pack(100, fs.GRAB, 0, 0, 0, 0, 0, 0) + b"abc",
         r"malformed message header"),
        # reserved fields set
        (fs.pack_msg(fs.GRAB, fs.grab_payload([TEXT]), reserved=1),
         r"malformed message header"),
        (b"xyz", r"sent a packet of 3 bytes"),
        (fs.pack_msg(200, b"whatever"), r"unknown message type 200"),
        (fs.pack_msg(fs.GRAB, fs.grab_payload(
            ["a/b%d" % i for i in range(40)])), r"malformed GRAB"),
        (fs.pack_msg(fs.GRAB, fs.grab_payload(["no space/x y"])),
         r"malformed GRAB"),
        (fs.pack_msg(fs.GRAB, fs.grab_payload([TEXT], sel=9)),
         r"malformed GRAB"),
        (fs.pack_msg(fs.GRAB, b"\1\0\0"), r"malformed GRAB"),
        (fs.pack_msg(fs.REQUEST, b"\0" * 10), r"malformed REQUEST"),
        (fs.pack_msg(fs.DATA, b"\0" * 12), r"malformed DATA"),
        (fs.pack_msg(fs.CANCEL, b"\0" * 3), r"malformed CANCEL"),
        (fs.pack_msg(fs.LAYOUT, b"\0" * 100), r"malformed DISPLAY_LAYOUT"),
        (fs.pack_msg(fs.LAYOUT, fs.layout_payload(9, [(10, 10)])),
         r"malformed DISPLAY_LAYOUT"),
        (fs.pack_msg(fs.ACTIVE, b"\1"), r"malformed ACTIVE"),
    ]
    for pkt, _ in cases:
        svc.send_raw(pkt)
    # DATA before any REQUEST: dropped (PROTOCOL.md 6.8.3), silently
    svc.send(fs.DATA, struct.pack("<IIIIQQ", 4242, 0, fs.DATA_LAST, 0, 0, 5)
             + b"hello")
    svc.idle(1.0)
    log = agent.log()
    for _, pattern in cases:
        check(re.search(r"warning: .*" + pattern, log),
              f"no warning /{pattern}/")
    check(agent.alive(), "the agent died")
    # a host that breaks the chunk rules in the middle of a paste
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    p = t.paste_start()
    _, req, _ = svc.wait_for((fs.REQUEST,), 10)
    tr = struct.unpack_from("<IIII", req)[2]
    svc.send(fs.DATA, struct.pack("<IIIIQQ", tr, 0, 0, 0, 0, 10) + b"12345")
    svc.send(fs.DATA, struct.pack("<IIIIQQ", tr, 0, fs.DATA_LAST, 0, 7, 10)
             + b"890")
    # xclip tries STRING next: the host has nothing for it now
    serve_until(svc, [p], {}, timeout=10)
    check(p.returncode != 0, "xclip got a content the host broke")
    agent.wait_log(r"warning: clipboard: transfer %d from the host" % tr)
    # requests the session cannot answer
    for sel, mime, want in ((0, "image/png", S_ESTALE), (1, TEXT, S_ESTALE)):
        try:
            svc.fetch(mime, sel=sel)
            raise Failure(f"fetch of {mime} on {sel} succeeded")
        except fs.ClipError as e:
            check(e.status == want, f"{mime} on {sel}: status {e.status}")
    # and it still works
    rc, data, _ = t.paste(svc, {TEXT: UTF8})
    check(rc == 0 and data == UTF8, "paste after the hostile messages")
    t.copy(b"still works")
    check(svc.wait_grab() == [TEXT], "no GRAB after the hostile messages")
    check(svc.fetch(TEXT) == b"still works", "fetch after them")
    svc.layout(7, [XVFB_SIZE])
    check_state(svc.wait_state(7), 7, 0, [XVFB_SIZE + (0, 0)])
    agent.finish(svc)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_supervisor(t):
    """10: the agent's child killed with SIGKILL: the supervisor starts a
    new one, which registers again and syncs again."""
    svc, agent = t.start(respawn=True)
    parent = agent.p.pid
    kids = wait_until(lambda: children(parent), 5, "no child")
    check(len(kids) == 1, f"children {kids}")
    os.kill(kids[0], signal.SIGKILL)
    svc.conn.close()
    svc.conn, svc.pending, svc.states = None, [], []
    svc.serial = 0
    try:
        svc.accept(timeout=15)
    except OSError as e:
        raise Failure(f"no new registration: {e}")
    new = children(parent)
    check(agent.alive() and len(new) == 1 and new[0] != kids[0],
          f"parent alive {agent.alive()}, children {new}")
    agent.wait_log(r"killed by signal 9")
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    rc, data, _ = t.paste(svc, {TEXT: UTF8})
    check(rc == 0 and data == UTF8, "paste through the new child")
    t.copy(b"after respawn")
    check(svc.wait_grab() == [TEXT], "no GRAB from the new child")
    check(svc.fetch(TEXT) == b"after respawn", "fetch from the new child")
    # the supervisor forwards SIGTERM and exits 0
    agent.p.terminate()
    try:
        rc = agent.p.wait(10)
    except subprocess.TimeoutExpired:
        raise Failure("the supervisor did not exit on SIGTERM")
    check(rc == 0, f"the supervisor exited {rc}")
    wait_until(lambda: not os.path.exists(f"/proc/{new[0]}"), 5,
               "the child outlived the supervisor")
    agent.check_sanitizer()


def test_inactive(t):
    """11: an inactive session gives up what it held for the host, and
    does not tell the host the selection is empty."""
    svc, agent = t.start()
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    svc.active(False)
    wait_until(lambda: t.x.owner() == 0, 5,
               "the inactive agent still owns CLIPBOARD")
    svc.idle(1.0)
    check(not grabs(svc), "the agent sent a GRAB when it became inactive")
    svc.active(True)
    svc.grab([TEXT])
    wait_owned_by_agent(t)
    rc, data, _ = t.paste(svc, {TEXT: b"active again"})
    check(rc == 0 and data == b"active again", "paste when active again")
    # the session's own content is not the agent's to give up
    t.copy(b"the session's")
    check(svc.wait_grab() == [TEXT], "no GRAB")
    owner = t.x.owner()
    svc.active(False)
    time.sleep(1.0)
    check(t.x.owner() == owner, "inactive: a client's selection was taken")
    agent.finish(svc)


def test_hostile_owner(t):
    """Owners that lie, refuse, say nothing or stall INCR: announced as
    far as they can be, reads fail with the right status in time, and the
    agent still works after each."""
    svc, agent = t.start()

    def owner(mode):
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                              "--hostile-owner", mode], env=t.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        t.procs.append(p)
        check(p.stdout.readline() == b"ready\n", f"{mode} owner failed")
        return p

    def fetch_fails(mime, status, timeout=20):
        t0 = time.time()
        try:
            svc.fetch(mime, timeout=timeout)
        except fs.ClipError as e:
            check(e.status == status, f"{mime}: status {e.status}, "
                                      f"not {status}")
            return time.time() - t0
        raise Failure(f"fetch of {mime} succeeded")

    def still_works(p):
        p.kill()
        p.wait()
        check(svc.wait_grab() == [], "no empty GRAB when the owner died")
        t.copy(b"fine")
        check(svc.wait_grab() == [TEXT], "no GRAB after a hostile owner")
        check(svc.fetch(TEXT) == b"fine", "fetch after a hostile owner")

    p = owner("refuse")
    types = svc.wait_grab()
    check(types == [TEXT, "text/html"], f"refuse: GRAB types {types}")
    fetch_fails(TEXT, S_ENOENT)
    fetch_fails("text/html", S_ENOENT)
    still_works(p)
    p = owner("badtargets")
    check(svc.wait_grab() == [], "badtargets: GRAB not empty")
    still_works(p)
    p = owner("hang")
    t0 = time.time()
    check(svc.wait_grab(timeout=10) == [], "hang: GRAB not empty")
    check(2 <= time.time() - t0 <= 6, "hang: TARGETS timeout "
          f"{time.time() - t0:.1f} s")
    agent.wait_log(r"did not answer for TARGETS")
    still_works(p)
    p = owner("incr-stall")
    check(svc.wait_grab() == [TEXT, "text/html"], "incr-stall: GRAB")
    took = fetch_fails(TEXT, 6)     # EIO
    check(8 <= took <= 15, f"incr-stall: EIO after {took:.1f} s")
    still_works(p)
    agent.finish(svc)


def test_server_gone(t):
    """The X server going away: the agent exits 0 by itself."""
    x2 = Xvfb(t.tmp, (800, 600))
    try:
        svc = t.service()
        agent = Agent(t, svc, display=x2.display)
        svc.accept(timeout=15)
        agent.wait_log(r"X11: connected to display")
        svc.grab([TEXT])
        time.sleep(0.5)
        x2.stop()
        try:
            rc = agent.p.wait(10)
        except subprocess.TimeoutExpired:
            raise Failure("the agent did not exit without its X server")
        check(rc == 0, f"exit status {rc}, not 0")
        agent.wait_log(r"display server went away")
        agent.check_sanitizer()
    finally:
        x2.stop()


TESTS = [
    ("host-text", test_host_text),
    ("host-big-text", test_host_big_text),
    ("host-png", test_host_png),
    ("session-copy", test_session_copy),
    ("reads-in-flight", test_reads_in_flight),
    ("max-size", test_max_size),
    ("empty", test_empty),
    ("no-feedback", test_no_feedback),
    ("primary", test_primary),
    ("layout", test_layout),
    ("malformed", test_malformed),
    ("supervisor", test_supervisor),
    ("inactive", test_inactive),
    ("hostile-owner", test_hostile_owner),
    ("server-gone", test_server_gone),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agent", default=DEFAULT_AGENT)
    ap.add_argument("-k", action="append", default=[],
                    help="run only the tests whose name contains this")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (agents' logs)")
    ap.add_argument("--hostile-owner", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hostile_owner:
        hostile_owner(args.hostile_owner)
        return 0
    for tool in ("Xvfb", "xclip", "xrandr"):
        if not shutil.which(tool):
            print(f"x11: {tool} is missing (apt-get install xvfb xclip "
                  f"x11-xserver-utils)")
            return 1
    if not os.access(args.agent, os.X_OK):
        print(f"x11: no agent at {args.agent}")
        return 1
    # SIGTERM/SIGHUP end the run through the finally blocks below
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    tmp = tempfile.mkdtemp(prefix="pva-x11-test.")
    xvfb = t = None
    passed = failed = 0
    try:
        xvfb = Xvfb(tmp)
        t = Test(os.path.abspath(args.agent), tmp, xvfb)
        for name, fn in TESTS:
            if args.k and not any(k in name for k in args.k):
                continue
            try:
                fn(t)
                for a in t.agents:
                    a.check_sanitizer()
                print(f"PASS {name}", flush=True)
                passed += 1
            except Exception as e:  # every kind of failure is a FAIL
                why = str(e) or type(e).__name__
                if not isinstance(e, Failure):
                    why += "\n" + traceback.format_exc()
                print(f"FAIL {name}: {why}", flush=True)
                for a in t.agents:
                    tail = a.log().splitlines()[-15:]
                    print("\n".join("    | " + x for x in tail))
                failed += 1
            finally:
                t.end_test()
    finally:
        if t:
            t.end_test()
            t.x.close()
        if xvfb:
            xvfb.stop()
        if args.keep:
            print(f"x11: logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"x11: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
