#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pva-agent's Wayland backend against a real compositor, without a VM:
sway (headless), real clients (wl-copy, wl-paste, swaymsg) and
fake_service.py in pva-service's place.

    python3 tests/agent/wayland_test.py [--agent PATH] [--keep]

sway refuses to run as root, so sway, the agent and the clients run as
uid/gid 65534 with a fresh XDG_RUNTIME_DIR. Each phase gets its own sway
and agent: "main" (most tests), "primary" (--primary --max-size 1M), "ext"
(the agent speaks ext-data-control-v1 through ExtProxy, as bookworm's sway
has only wlr's) and "respawn" (the supervisor). Stopping sway makes the
agent exit by itself (the display server went away), which is also when
LeakSanitizer looks: an ASan build is checked for reports at each exit.
RawSource, a bare data-control client, owns selections with exactly the
types a test needs (wl-copy adds its own).
"""
import argparse
import array
import json
import os
import random
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_service as fs  # noqa: E402

UID = GID = 65534
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_AGENT = os.path.join(ROOT, "build/agent/x86_64/pva-agent")
MIME_TEXT = fs.MIME_TEXT
TEXT_TYPES = {MIME_TEXT, "text/plain", "UTF8_STRING", "STRING", "TEXT"}
SANITIZER_MARKS = (b"AddressSanitizer", b"LeakSanitizer",
                   b"runtime error:", b"UndefinedBehaviorSanitizer")
S_ENOENT, S_EIO, S_E2BIG, S_ESTALE = 3, 6, 7, 19

results = []          # (name, ok, why)


class TestError(Exception):
    pass


def check(cond, why):
    if not cond:
        raise TestError(why)


def wait_until(fn, timeout, what, step=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise TestError(f"timed out after {timeout} s waiting for {what}")


def short(b, n=60):
    return repr(b[:n]) + ("..." if len(b) > n else "")


def make_png(w=16, h=16):
    """A small valid PNG (an RGB gradient)."""
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + \
            struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    rows = b"".join(b"\0" + b"".join(bytes((x * 255 // w, y * 255 // h, 99))
                                     for x in range(w))
                    for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def big_text(size):
    """SIZE bytes of UTF-8 text with multi-byte characters."""
    rnd = random.Random(42)
    words = ["pva", "Wayland", "clipboard", "héllo", "wörld", "日本語",
             "☃", "🎉", "data-control", "\n"]
    out = []
    n = 0
    while n < size:
        w = rnd.choice(words).encode() + b" "
        out.append(w)
        n += len(w)
    data = b"".join(out)
    # cut on a character boundary, then pad with ASCII to the exact size
    data = data[:size].decode("utf-8", "ignore").encode()
    return data + b"x" * (size - len(data))


class Env:
    """A temp dir, one sway at a time, the processes we started."""

    def __init__(self, agent, keep=False):
        self.agent = agent
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="pva-wl-test-")
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)
        os.chown(self.home, UID, GID)
        self.conf = os.path.join(self.tmp, "sway.conf")
        with open(self.conf, "w") as f:
            f.write("# pva wayland test\nxwayland disable\n")
        os.chmod(self.conf, 0o644)
        self.procs = []
        self.raw = []           # RawSource clients
        self.sway = None
        self.runtime = None
        self.nr = 0

    def priv(self, cmd):
        return ["setpriv", f"--reuid={UID}", f"--regid={GID}",
                "--clear-groups", "--"] + cmd

    def client_env(self):
        return {"PATH": "/usr/bin:/bin", "HOME": self.home,
                "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": self.runtime,
                "WAYLAND_DISPLAY": self.display,
                "SWAYSOCK": self.swaysock}

    def start_sway(self):
        self.nr += 1
        self.runtime = os.path.join(self.tmp, f"run{self.nr}")
        os.mkdir(self.runtime)
        os.chown(self.runtime, UID, GID)
        os.chmod(self.runtime, 0o700)
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home,
               "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": self.runtime,
               "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1",
               "WLR_RENDERER": "pixman"}
        log = open(os.path.join(self.tmp, f"sway{self.nr}.log"), "wb")
        self.sway = subprocess.Popen(self.priv(["sway", "-c", self.conf]),
                                     env=env, stdout=log, stderr=log)
        log.close()
        self.procs.append(self.sway)

        def up():
            if self.sway.poll() is not None:
                raise TestError("sway exited: see " + log.name)
            names = os.listdir(self.runtime)
            wl = [n for n in names if n.startswith("wayland-") and
                  not n.endswith(".lock")]
            ipc = [n for n in names if n.startswith("sway-ipc")]
            return (wl[0], ipc[0]) if wl and ipc else None
        self.display, ipc = wait_until(up, 15, "sway to start")
        self.swaysock = os.path.join(self.runtime, ipc)

    def stop_sway(self):
        for src in self.raw:
            src.close()
        self.raw = []
        if self.sway and self.sway.poll() is None:
            self.sway.terminate()
            try:
                self.sway.wait(10)
            except subprocess.TimeoutExpired:
                self.sway.kill()
                self.sway.wait()
        self.sway = None

    def run(self, cmd, data=None, timeout=20):
        return subprocess.run(self.priv(cmd), input=data,
                              env=self.client_env(), capture_output=True,
                              timeout=timeout)

    def popen(self, cmd, **kw):
        p = subprocess.Popen(self.priv(cmd), env=self.client_env(), **kw)
        self.procs.append(p)
        return p

    def start_agent(self, sock, extra=(), respawn=False, display=None):
        log_path = os.path.join(self.tmp, f"agent{self.nr}.log")
        cmd = [self.agent, "--socket", sock, "-v"] + list(extra)
        if not respawn:
            cmd.append("--no-respawn")
        env = self.client_env()
        env["ASAN_OPTIONS"] = "detect_leaks=1"
        if display:
            env["WAYLAND_DISPLAY"] = display
        log = open(log_path, "wb")
        p = subprocess.Popen(self.priv(cmd), env=env, stdout=log,
                             stderr=log)
        log.close()
        p.log_path = log_path
        self.procs.append(p)
        return p

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        if self.keep:
            print(f"logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class ExtProxy:
    """A Wayland proxy between the agent and sway that offers sway's
    wlr-data-control manager a second time as ext-data-control-v1.

    ext_data_control_v1 is wlr's v2 under another name, message for
    message, so renaming the global (and the bind back) is all it takes
    for the agent to speak ext to sway: the one way to run the agent's ext
    path on bookworm, whose sway has no ext-data-control."""

    WLR, EXT = "zwlr_data_control_manager_v1", "ext_data_control_manager_v1"
    ALIAS = 0xfff0          # the registry name of the ext global

    def __init__(self, runtime, upstream, name="wayland-ext"):
        self.path = os.path.join(runtime, name)
        self.name = name
        self.upstream = os.path.join(runtime, upstream)
        self.ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ls.bind(self.path)
        os.chown(self.path, UID, GID)
        self.ls.listen(4)
        self.stop = False
        self.wlr_name = None
        self.binds = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.ls.close()

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.ls, selectors.EVENT_READ, None)
        while not self.stop:
            for key, _ in sel.select(0.2):
                if key.data is None:
                    c, _ = self.ls.accept()
                    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    u.connect(self.upstream)
                    conn = {"registries": set(), "bufs": {}, "fds": {}}
                    sel.register(c, selectors.EVENT_READ, (c, u, True, conn))
                    sel.register(u, selectors.EVENT_READ, (u, c, False, conn))
                elif not self.pump(*key.data):
                    src, dst = key.data[0], key.data[1]
                    for x in (src, dst):
                        try:
                            sel.unregister(x)
                        except (KeyError, ValueError):
                            pass
                        x.close()
        sel.close()

    def pump(self, src, dst, to_server, conn):
        try:
            data, anc, _, _ = src.recvmsg(65536, socket.CMSG_SPACE(4 * 28))
        except OSError:
            return False
        if not data:
            return False
        # fds go with the next bytes forwarded (a stream socket does not
        # carry them alone), which is never after their message
        fds = conn["fds"].setdefault(to_server, array.array("i"))
        for level, kind, blob in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(blob[:len(blob) - len(blob) % 4])
        buf = conn["bufs"].get(to_server, b"") + data
        out = b""
        while len(buf) >= 8:
            obj, word = struct.unpack_from("<II", buf)
            size = word >> 16
            if size < 8 or len(buf) < size:
                break
            out += self.rewrite(buf[:size], obj, word & 0xffff, to_server,
                                conn)
            buf = buf[size:]
        conn["bufs"][to_server] = buf
        if not out:
            return True
        try:
            n = dst.sendmsg([out], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                     fds)] if fds else [])
            if n < len(out):
                dst.sendall(out[n:])
        except OSError:
            return False
        finally:
            for fd in fds:
                os.close(fd)
            del fds[:]
        return True

    @staticmethod
    def wl_string(s):
        b = s.encode() + b"\0"
        return struct.pack("<I", len(b)) + b + bytes(-len(b) % 4)

    @staticmethod
    def msg(obj, opcode, body):
        return struct.pack("<II", obj, (len(body) + 8) << 16 | opcode) + body

    def rewrite(self, m, obj, opcode, to_server, conn):
        if to_server and obj == 1 and opcode == 1:     # get_registry
            conn["registries"].add(struct.unpack_from("<I", m, 8)[0])
        if obj not in conn["registries"] or opcode != 0:
            return m
        if to_server:                                   # bind
            name, ln = struct.unpack_from("<II", m, 8)
            off = 16 + ln + (-ln % 4)
            iface = m[16:16 + ln - 1].decode()
            version, new_id = struct.unpack_from("<II", m, off)
            self.binds.append((iface, version))
            if name != self.ALIAS:
                return m
            # ext v1 is wlr v2
            return self.msg(obj, 0, struct.pack("<I", self.wlr_name) +
                            self.wl_string(self.WLR) +
                            struct.pack("<II", 2, new_id))
        name, ln = struct.unpack_from("<II", m, 8)      # global
        iface = m[16:16 + ln - 1].decode()
        if iface != self.WLR:
            return m
        self.wlr_name = name
        return m + self.msg(obj, 0, struct.pack("<I", self.ALIAS) +
                            self.wl_string(self.EXT) +
                            struct.pack("<I", 1))


class RawSource:
    """A bare wlr-data-control client that owns a selection with exactly
    the types it is given (wl-copy adds its own) and serves them as told:
    CONTENT[mime] bytes, or None to never answer (a stalled owner)."""

    def __init__(self, runtime, display):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(runtime, display))
        self.source = None
        self.next_id = 2
        self.buf = b""
        self.fds = []
        self.held = []          # fds of stalled sends
        self.asked = []
        self.cancelled = False
        self.globals = {}
        self.registry = self.new_id()
        self.send(1, 1, struct.pack("<I", self.registry))
        self.roundtrip()
        seat = self.bind("wl_seat", 2)
        self.manager = self.bind(ExtProxy.WLR, 2)
        self.device = self.new_id()
        self.send(self.manager, 1, struct.pack("<II", self.device, seat))
        self.stop = False
        self.thread = None

    def new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def send(self, obj, opcode, body=b"", fds=()):
        m = ExtProxy.msg(obj, opcode, body)
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                array.array("i", fds))] if fds else []
        self.sock.sendmsg([m], anc)

    def bind(self, iface, version):
        name, have = self.globals[iface]
        new = self.new_id()
        self.send(self.registry, 0, struct.pack("<I", name) +
                  ExtProxy.wl_string(iface) +
                  struct.pack("<II", min(version, have), new))
        return new

    def roundtrip(self):
        cb = self.new_id()
        self.send(1, 0, struct.pack("<I", cb))
        while not any(o == cb for o, _, _ in self.read()):
            pass

    def read(self):
        data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(4 * 28))
        if not data:
            raise ConnectionError("the compositor hung up")
        for level, kind, blob in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(blob[:len(blob) - len(blob) % 4])
                self.fds.extend(a)
        self.buf += data
        out = []
        while len(self.buf) >= 8:
            obj, word = struct.unpack_from("<II", self.buf)
            size = word >> 16
            if len(self.buf) < size:
                break
            m, self.buf = self.buf[:size], self.buf[size:]
            out.append((obj, word & 0xffff, m))
            self.event(obj, word & 0xffff, m)
        return out

    def event(self, obj, opcode, m):
        if obj == self.registry and opcode == 0:
            name, ln = struct.unpack_from("<II", m, 8)
            iface = m[16:16 + ln - 1].decode()
            version = struct.unpack_from("<I", m, 16 + ln + (-ln % 4))[0]
            self.globals.setdefault(iface, (name, version))
        elif obj == 1 and opcode == 0:
            raise ConnectionError("protocol error from the compositor")
        elif self.source and obj == self.source and opcode == 0:  # send
            ln = struct.unpack_from("<I", m, 8)[0]
            mime = m[12:12 + ln - 1].decode()
            fd = self.fds.pop(0)
            self.asked.append(mime)
            data = self.content.get(mime)
            if data is None:
                self.held.append(fd)
                return
            os.set_blocking(fd, True)
            try:
                os.write(fd, data)
            except OSError:
                pass
            os.close(fd)
        elif self.source and obj == self.source and opcode == 1:
            self.cancelled = True

    def own(self, types, content, sel=0):
        """Take SEL with TYPES; serve CONTENT in a thread."""
        self.content = content
        self.source = self.new_id()
        self.send(self.manager, 0, struct.pack("<I", self.source))
        for t in types:
            self.send(self.source, 0, ExtProxy.wl_string(t))
        self.send(self.device, 2 if sel else 0,
                  struct.pack("<I", self.source))
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                self.read()
            except socket.timeout:
                continue
            except (OSError, ConnectionError):
                return

    def close(self):
        self.stop = True
        if self.thread:
            self.thread.join(5)
        for fd in self.held + self.fds:
            os.close(fd)
        self.sock.close()


def agent_log(agent):
    with open(agent.log_path, "rb") as f:
        return f.read()


class Host:
    """The host's side of pastes: answers the agent's REQUESTs with
    CONTENTS in a thread, for as long as the with block runs."""

    def __init__(self, svc, contents, sel=0):
        self.svc, self.contents, self.sel = svc, contents, sel
        self.asked, self.errors = [], []
        self.stop = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        if self.errors and not exc[0]:
            raise TestError("; ".join(self.errors))

    def loop(self):
        svc = self.svc
        while not self.stop.is_set():
            try:
                _, p, _ = svc.wait_for((fs.REQUEST,), 0.2)
            except (TimeoutError, OSError):
                continue
            sel, serial, transfer, _ = struct.unpack_from("<IIII", p)
            mime = p[16:].split(b"\0")[0].decode()
            self.asked.append(mime)
            if sel != self.sel or serial != svc.serial:
                self.errors.append(f"REQUEST of sel {sel} serial {serial}, "
                                   f"expected {self.sel}/{svc.serial}")
                svc.data_error(transfer, fs.S_ESTALE)
            elif mime not in self.contents:
                self.errors.append(f"REQUEST for {mime}, not offered")
                svc.data_error(transfer, fs.S_ENOENT)
            else:
                svc.send_content(transfer, self.contents[mime])


def drain(svc, seconds=0.3):
    svc.idle(seconds)
    svc.pending.clear()


def grabs_in(svc, sel=None):
    out = []
    for t, p, _ in svc.pending:
        if t == fs.GRAB:
            gsel, _, _, n = struct.unpack_from("<IIII", p)
            if sel is None or gsel == sel:
                out.append((gsel, [x.decode() for x in
                                   p[16:].split(b"\0")[:n]]))
    return out


def list_types(env, primary=False):
    r = env.run(["wl-paste", "--list-types"] +
                (["--primary"] if primary else []))
    if r.returncode:
        return None
    return r.stdout.decode().split()


def wait_types(env, want, primary=False, timeout=10):
    want = set(want)
    got = []

    def ok():
        got[:] = [list_types(env, primary)]
        return got[0] is not None and set(got[0]) == want
    try:
        wait_until(ok, timeout, "the offered types")
    except TestError:
        raise TestError(f"wl-paste --list-types: {got[0]}, expected "
                        f"{sorted(want)}")
    return got[0]


def wait_empty(env, primary=False, timeout=10):
    def empty():
        r = env.run(["wl-paste", "-n"] + (["--primary"] if primary else []))
        return r.returncode != 0 and b"No selection" in r.stderr
    wait_until(empty, timeout, "wl-paste to find nothing copied")


def paste(env, args, timeout=60):
    """wl-paste's output, through a file (no pipe to deadlock on)."""
    out = os.path.join(env.tmp, "paste.out")
    with open(out, "wb") as f:
        p = env.popen(["wl-paste"] + args, stdout=f, stderr=subprocess.PIPE)
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise TestError(f"wl-paste {' '.join(args)} timed out")
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    check(p.returncode == 0,
          f"wl-paste {' '.join(args)} failed: {err.decode().strip()}")
    return data


def copy(env, data, args=()):
    """wl-copy in the foreground (so we know its pid): it serves until
    someone else takes the selection."""
    p = env.popen(["wl-copy", "--foreground"] + list(args),
                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
    p.stdin.write(data)
    p.stdin.close()
    return p


def expect_bytes(got, want, what):
    check(got == want, f"{what}: got {len(got)} bytes {short(got)}, "
          f"expected {len(want)} bytes {short(want)}")


def run_test(name, fn, *args):
    try:
        fn(*args)
    except Exception as e:          # every failure is reported the same
        why = f"{type(e).__name__}: {e}" if not isinstance(e, TestError) \
            else str(e)
        results.append((name, False, why))
        print(f"FAIL {name}: {why}", flush=True)
    else:
        results.append((name, True, ""))
        print(f"PASS {name}", flush=True)


# ---- the tests ----

TEXT = "héllo wörld — ☃ 日本語 🎉 ünïcödé\n2nd line\ttab".encode()


def t_register(env, svc):
    r = svc.register
    check(r["kind"] == "wayland", f"kind {r['kind']!r}")
    check(r["display"] == env.display,
          f"display {r['display']!r}, expected {env.display!r}")
    check(r["caps"] & 1 and r["caps"] & 4, f"caps {r['caps']:#x}")


def t_host_text(env, svc):
    drain(svc)
    svc.grab([MIME_TEXT])
    types = wait_types(env, TEXT_TYPES)
    check(len(types) == len(set(types)), f"a type offered twice: {types}")
    with Host(svc, {MIME_TEXT: TEXT}) as h:
        expect_bytes(paste(env, ["-n"]), TEXT, "wl-paste -n")
        expect_bytes(paste(env, []), TEXT + b"\n", "wl-paste")
        expect_bytes(paste(env, ["-n", "--type", "text/plain"]), TEXT,
                     "wl-paste --type text/plain")
        expect_bytes(paste(env, ["-n", "--type", "UTF8_STRING"]), TEXT,
                     "wl-paste --type UTF8_STRING")
    check(h.asked and set(h.asked) == {MIME_TEXT},
          f"the agent asked the host for {h.asked}")


def t_host_big(env, svc):
    data = big_text(10 << 20)
    drain(svc)
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    with Host(svc, {MIME_TEXT: data}):
        expect_bytes(paste(env, ["-n"], timeout=120), data,
                     "10 MiB through wl-paste")


def t_host_png(env, svc):
    png = make_png()
    drain(svc)
    svc.grab(["image/png"])
    wait_types(env, ["image/png"])
    with Host(svc, {"image/png": png}):
        expect_bytes(paste(env, ["--type", "image/png"]), png,
                     "wl-paste --type image/png")
    r = env.run(["wl-paste", "--type", "text/plain"])
    check(r.returncode != 0, "text pasted from an image-only grab")


def t_session_text(env, svc):
    drain(svc)
    copy(env, TEXT)
    types = svc.wait_grab()
    check(types == [MIME_TEXT], f"GRAB types {types}")
    expect_bytes(svc.fetch(MIME_TEXT), TEXT, "fetch of wl-copy's text")
    try:
        svc.fetch("text/html")
        raise TestError("text/html fetched from a text-only copy")
    except fs.ClipError as e:
        check(e.status == S_ENOENT, f"text/html: status {e.status}")


def t_session_png(env, svc):
    png = make_png(7, 5)
    drain(svc)
    copy(env, png, ["--type", "image/png"])
    types = svc.wait_grab()
    check(types == ["image/png"], f"GRAB types {types}")
    expect_bytes(svc.fetch("image/png"), png, "fetch of wl-copy's PNG")


def t_session_big(env, svc):
    data = b"session " + big_text((10 << 20) - 8)
    drain(svc)
    copy(env, data)
    types = svc.wait_grab(timeout=30)
    check(types == [MIME_TEXT], f"GRAB types {types}")
    expect_bytes(svc.fetch(MIME_TEXT, timeout=120), data,
                 "fetch of 10 MiB from wl-copy")


def t_host_concurrent(env, svc):
    data = big_text(1 << 20)
    drain(svc)
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    outs = [os.path.join(env.tmp, f"cc{i}.out") for i in range(3)]
    with Host(svc, {MIME_TEXT: data}):
        procs = []
        for i, out in enumerate(outs):
            with open(out, "wb") as f:
                procs.append(env.popen(["wl-paste", "-n", "--type",
                                        ["text/plain", MIME_TEXT,
                                         "TEXT"][i]], stdout=f))
        for p in procs:
            check(p.wait(60) == 0, "a concurrent wl-paste failed")
    for out in outs:
        with open(out, "rb") as f:
            expect_bytes(f.read(), data, "a concurrent paste")


def recv_transfers(svc, wanted, timeout=60):
    """The contents of transfers WANTED (ids), by DATA chunks."""
    got = {t: b"" for t in wanted}
    done = set()
    deadline = time.time() + timeout
    while done != set(wanted):
        left = deadline - time.time()
        check(left > 0, f"transfers {set(wanted) - done} not done")
        _, p, _ = svc.wait_for((fs.DATA,), left)
        tr, status, flags, _, off, total = struct.unpack_from("<IIIIQQ", p)
        check(tr in wanted, f"DATA of transfer {tr}")
        check(status == 0, f"transfer {tr}: status {status}")
        check(off == len(got[tr]), f"transfer {tr}: chunk at {off}")
        got[tr] += p[32:]
        if flags & fs.DATA_LAST:
            done.add(tr)
    return got


def t_session_concurrent(env, svc):
    data = b"concurrent " + big_text(10 << 20)
    drain(svc)
    copy(env, data)
    check(svc.wait_grab(timeout=30) == [MIME_TEXT], "no GRAB")
    trs = []
    for _ in range(3):
        svc.transfer += 1
        trs.append(svc.transfer)
        svc.send(fs.REQUEST, struct.pack("<IIII", 0, 1, svc.transfer, 0) +
                 MIME_TEXT.encode() + b"\0")
    svc.cancel(trs[2])          # given up at once: no DATA for it
    got = recv_transfers(svc, trs[:2], timeout=120)
    for t in trs[:2]:
        expect_bytes(got[t], data, f"transfer {t}")
    svc.idle(1)
    late = [struct.unpack_from("<I", p)[0] for t, p, _ in svc.pending
            if t == fs.DATA]
    check(trs[2] not in late, "DATA for a cancelled transfer")


def raw_source(env, types, content, sel=0):
    src = RawSource(env.runtime, env.display)
    env.raw.append(src)
    src.own(types, content, sel)
    return src


def t_session_types(env, svc):
    drain(svc)
    many = [f"application/x-pva-{i}" for i in range(40)]
    src = raw_source(env, ["TARGETS", "SAVE_TARGETS", "text/html",
                           "UTF8_STRING", "bad type", "x" * 200 + "/y",
                           "STRING", "image/png", "MULTIPLE"] + many,
                     {"UTF8_STRING": "wörld".encode(),
                      "text/html": b"<i>w</i>"})
    types = svc.wait_grab()
    check(types[:3] == [MIME_TEXT, "text/html", "image/png"] and
          types[3:] == many[:29], f"GRAB types {types}")
    expect_bytes(svc.fetch(MIME_TEXT), "wörld".encode(), "text")
    check(src.asked == ["UTF8_STRING"], f"the agent asked for {src.asked}")
    expect_bytes(svc.fetch("text/html"), b"<i>w</i>", "text/html")
    try:
        svc.fetch("TARGETS")
        raise TestError("TARGETS fetched")
    except fs.ClipError as e:
        check(e.status == S_ENOENT, f"TARGETS: status {e.status}")


def t_session_latin1(env, svc):
    drain(svc)
    raw_source(env, ["STRING"], {"STRING": b"h\xe9llo w\xf6rld \xa9"})
    check(svc.wait_grab() == [MIME_TEXT], "STRING is not text")
    expect_bytes(svc.fetch(MIME_TEXT), "héllo wörld ©".encode(),
                 "STRING (Latin-1) as UTF-8")


def t_session_stall(env, svc):
    drain(svc)
    raw_source(env, [MIME_TEXT], {MIME_TEXT: None})     # never answers
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB")
    t0 = time.time()
    try:
        svc.fetch(MIME_TEXT, timeout=30)
        raise TestError("content from an owner that sends nothing")
    except fs.ClipError as e:
        check(e.status == S_EIO, f"status {e.status}")
    took = time.time() - t0
    check(8 < took < 20, f"gave up after {took:.1f} s, not about 10 s")


def t_too_big(env, svc):
    drain(svc)
    copy(env, b"z" * (2 << 20))
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB")
    try:
        svc.fetch(MIME_TEXT, timeout=30)
        raise TestError("2 MiB sent with --max-size 1M")
    except fs.ClipError as e:
        check(e.status == S_E2BIG, f"status {e.status}")
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    with Host(svc, {MIME_TEXT: b"y" * (2 << 20)}):
        expect_bytes(paste(env, ["-n"]), b"", "a paste of 2 MiB over 1M")


def t_empty(env, svc):
    drain(svc)
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    svc.grab([])
    wait_empty(env)
    svc.idle(1)
    check(not grabs_in(svc), f"the agent answered an empty host grab: "
          f"{grabs_in(svc)}")
    drain(svc)
    copy(env, b"soon gone")
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB for wl-copy")
    r = env.run(["wl-copy", "--clear"])
    check(r.returncode == 0, f"wl-copy --clear: {r.stderr}")
    types = svc.wait_grab()
    check(types == [], f"after wl-copy --clear: GRAB of {types}")
    wait_empty(env)


def t_no_feedback(env, svc):
    drain(svc)
    svc.grab([MIME_TEXT, "text/html"])
    wait_types(env, TEXT_TYPES | {"text/html"})
    with Host(svc, {MIME_TEXT: b"one", "text/html": b"<b>one</b>"}):
        expect_bytes(paste(env, ["-n", "--type", "text/html"]),
                     b"<b>one</b>", "wl-paste --type text/html")
    # a second grab replaces our own source: nothing to announce either
    svc.grab(["image/png"])
    wait_types(env, ["image/png"])
    svc.idle(2)
    check(not grabs_in(svc), f"the agent sent {grabs_in(svc)} after host "
          "grabs")
    try:
        svc.fetch("image/png", serial=svc.serial)
        raise TestError("the agent served the host's own content")
    except fs.ClipError as e:
        check(e.status == S_ESTALE, f"fetch of our own: status {e.status}")


def t_primary_off(env, svc):
    check(not svc.register["caps"] & 2, "PRIMARY in caps without --primary")
    drain(svc)
    copy(env, b"clipboard stays", [])
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB for the clipboard")
    copy(env, b"primary text", ["--primary"])
    svc.idle(1.5)
    check(not grabs_in(svc, 1), f"PRIMARY sent without --primary: "
          f"{grabs_in(svc, 1)}")
    svc.grab([MIME_TEXT], sel=1)
    svc.idle(1)
    r = env.run(["wl-paste", "--primary", "-n"])
    expect_bytes(r.stdout, b"primary text",
                 "PRIMARY after a host grab the agent must ignore")


def t_primary_on(env, svc):
    check(svc.register["caps"] & 2, "no PRIMARY in caps with --primary")
    drain(svc)
    copy(env, b"the clipboard")
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB for the clipboard")
    svc.grab([MIME_TEXT], sel=1)
    wait_types(env, TEXT_TYPES, primary=True)
    with Host(svc, {MIME_TEXT: TEXT}, sel=1):
        expect_bytes(paste(env, ["-n", "--primary"]), TEXT,
                     "wl-paste --primary")
    expect_bytes(paste(env, ["-n"]), b"the clipboard",
                 "CLIPBOARD after a PRIMARY host grab")
    drain(svc)
    copy(env, "prïmary".encode(), ["--primary"])
    types = svc.wait_grab(sel=1)
    check(types == [MIME_TEXT], f"PRIMARY GRAB types {types}")
    expect_bytes(svc.fetch(MIME_TEXT, sel=1), "prïmary".encode(),
                 "fetch of PRIMARY")
    svc.idle(0.5)
    check(not grabs_in(svc, 0), "a CLIPBOARD GRAB for a PRIMARY copy")


def outputs(env):
    r = env.run(["swaymsg", "-r", "-t", "get_outputs"])
    check(r.returncode == 0, f"swaymsg get_outputs: {r.stderr}")
    return {o["name"]: o for o in json.loads(r.stdout)}


def check_output(o, w, h, x, y):
    m = o.get("current_mode") or {}
    rect = o.get("rect") or {}
    check(o.get("active") and m.get("width") == w and m.get("height") == h
          and rect.get("x") == x and rect.get("y") == y,
          f"{o['name']}: active {o.get('active')} mode {m.get('width')}x"
          f"{m.get('height')} at {rect.get('x')},{rect.get('y')}, "
          f"expected {w}x{h} at {x},{y}")


def check_head(st, n, on, w=0, h=0, x=0, y=0):
    hd = st["heads"][n]
    got = (hd["on"], hd["width"], hd["height"], hd["x"], hd["y"]) \
        if hd["on"] else (False,)
    want = (on, w, h, x, y) if on else (False,)
    check(got == want, f"DISPLAY_STATE head {n}: {got}, expected {want}")


def t_layout(env, svc):
    svc.layout(1, [(1280, 800)])
    st = svc.wait_state(1)
    check(st["status"] == 0, f"layout 1: status {st['status']}")
    check_head(st, 0, True, 1280, 800, 0, 0)
    check_output(outputs(env)["HEADLESS-1"], 1280, 800, 0, 0)

    r = env.run(["swaymsg", "create_output"])
    check(r.returncode == 0, f"swaymsg create_output: {r.stderr}")
    wait_until(lambda: "HEADLESS-2" in outputs(env), 10, "HEADLESS-2")
    # a head the layout does not name is left as it is
    o2 = outputs(env)["HEADLESS-2"]
    svc.layout(10, [(1024, 768)])
    st = svc.wait_state(10)
    check(st["status"] == 0, f"layout 10: status {st['status']}")
    check_head(st, 0, True, 1024, 768, 0, 0)
    h = st["heads"][1]
    check(st["nr_heads"] == 2 and h["on"] and
          (h["width"], h["height"]) == (o2["current_mode"]["width"],
                                        o2["current_mode"]["height"]),
          f"layout 10: head 1 is {h}, sway shows {sway_head(o2)}")
    o = outputs(env)
    check_output(o["HEADLESS-1"], 1024, 768, 0, 0)
    check(sway_head(o["HEADLESS-2"]) == sway_head(o2),
          f"HEADLESS-2 changed: {sway_head(o['HEADLESS-2'])}")
    svc.layout(2, [(1280, 800), (800, 600)])
    st = svc.wait_state(2)
    check(st["status"] == 0, f"layout 2: status {st['status']}")
    check(st["nr_heads"] == 2, f"layout 2: {st['nr_heads']} heads")
    check_head(st, 0, True, 1280, 800, 0, 0)
    check_head(st, 1, True, 800, 600, 1280, 0)
    o = outputs(env)
    check_output(o["HEADLESS-1"], 1280, 800, 0, 0)
    check_output(o["HEADLESS-2"], 800, 600, 1280, 0)

    svc.layout(3, [None, (800, 600)])
    st = svc.wait_state(3)
    o = outputs(env)
    if st["status"] == S_EIO:
        # the compositor may be unable to: then the agent must say so and
        # leave the session as it was, not half applied
        check_head(st, 0, True, 1280, 800, 0, 0)
        check_head(st, 1, True, 800, 600, 1280, 0)
        check_output(o["HEADLESS-1"], 1280, 800, 0, 0)
        check_output(o["HEADLESS-2"], 800, 600, 1280, 0)
        # ... which it must really be (wlroots 0.15: "Cannot disable a
        # headless output")
        env.run(["swaymsg", "output", "HEADLESS-1", "disable"])
        able = not outputs(env)["HEADLESS-1"].get("active")
        env.run(["swaymsg", "output", "HEADLESS-1", "enable"])
        check(not able, "layout 3 refused, but sway can disable HEADLESS-1")
        print("  layout 3: sway cannot disable a headless output: the agent "
              "answered EIO and put the outputs back", flush=True)
    else:
        check(st["status"] == 0, f"layout 3: status {st['status']}")
        check_head(st, 0, False)
        check_head(st, 1, True, 800, 600, 0, 0)
        check(not o["HEADLESS-1"].get("active"), "HEADLESS-1 still on")
        check_output(o["HEADLESS-2"], 800, 600, 0, 0)

    # a change of the session's own goes to the host too
    svc.states.clear()
    r = env.run(["swaymsg", "output", "HEADLESS-2", "mode", "1024x768"])
    check(r.returncode == 0, f"swaymsg output mode: {r.stderr}")
    o = outputs(env)
    m = o["HEADLESS-2"].get("current_mode") or {}
    check((m.get("width"), m.get("height")) == (1024, 768),
          f"swaymsg did not resize HEADLESS-2: {m}")
    want = [sway_head(o[f"HEADLESS-{n}"]) for n in (1, 2)]

    def reported():
        try:
            svc.wait_for((fs.STATE,), 0.5, keep=False)
        except TimeoutError:
            pass
        return [s for s in svc.states if s["generation"] == 0 and
                [state_head(s, n) for n in (0, 1)] == want]
    try:
        st = wait_until(reported, 10, "", step=0)[-1]
    except TestError:
        raise TestError(f"no DISPLAY_STATE of the session's own change to "
                        f"{want}; got {[[state_head(s, n) for n in (0, 1)] for s in svc.states]}")
    check(st["status"] == 0, f"own change: status {st['status']}")


def sway_head(o):
    if not o.get("active"):
        return (False,)
    m, r = o["current_mode"], o["rect"]
    return (True, m["width"], m["height"], r["x"], r["y"])


def state_head(st, n):
    h = st["heads"][n]
    return (True, h["width"], h["height"], h["x"], h["y"]) if h["on"] \
        else (False,)


def t_malformed(env, svc, agent):
    drain(svc)
    before = agent_log(agent).count(b"warning:")
    bad = [
        # header length says 5 bytes more than sent
        fs.HDR.pack(4 + 5, fs.ACTIVE, 0, 0, 0, 0, 0, 0) + bytes(4),
        fs.pack_msg(fs.ACTIVE, bytes(8), flags=1),        # flags not 0
        fs.pack_msg(99, b"junk"),                          # unknown type
        fs.pack_msg(fs.GRAB, fs.grab_payload(
            [f"type/x{i}" for i in range(40)])),            # 40 types
        fs.pack_msg(fs.GRAB, bytes(8)),                    # truncated
        fs.pack_msg(fs.GRAB, struct.pack("<IIII", 0, 9, 0, 1) + b"abc"),
        fs.pack_msg(fs.REQUEST, bytes(5)),                  # truncated
        fs.pack_msg(fs.DATA, bytes(12)),                    # truncated
        fs.pack_msg(fs.CANCEL, bytes(2)),                   # truncated
        fs.pack_msg(fs.LAYOUT, bytes(10)),                  # truncated
        fs.pack_msg(fs.ACTIVE, bytes(3)),                   # truncated
        b"\x01\x02\x03",                                   # no header
    ]
    for pkt in bad:
        svc.send_raw(pkt)
    # DATA of a transfer nobody asked for: dropped without a word
    svc.send(fs.DATA, struct.pack("<IIIIQQ", 777, 0, fs.DATA_LAST, 0, 0, 2)
             + b"hi")
    wants = [b"malformed message header", b"unknown message type 99",
             b"more than 32 types", b"malformed GRAB", b"malformed REQUEST",
             b"malformed DATA", b"malformed CANCEL",
             b"malformed DISPLAY_LAYOUT", b"malformed ACTIVE",
             b"packet of 3 bytes"]

    def logged():
        log = agent_log(agent)
        return all(w in log for w in wants) and \
            log.count(b"warning:") - before >= len(bad)
    try:
        wait_until(logged, 5, "warnings")
    except TestError:
        log = agent_log(agent)
        raise TestError("not logged: " + ", ".join(
            w.decode() for w in wants if w not in log) +
            f" ({log.count(b'warning:') - before} warnings for "
            f"{len(bad)} bad messages)")
    check(agent.poll() is None, "the agent died")
    # and it still works, both ways
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    with Host(svc, {MIME_TEXT: b"still here"}):
        expect_bytes(paste(env, ["-n"]), b"still here", "paste afterwards")
    drain(svc)
    copy(env, b"and back")
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB afterwards")
    expect_bytes(svc.fetch(MIME_TEXT), b"and back", "fetch afterwards")


def t_inactive(env, svc):
    drain(svc)
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    svc.active(False)
    wait_empty(env)
    svc.idle(1)
    check(not grabs_in(svc), f"the agent announced its release: "
          f"{grabs_in(svc)}")
    svc.active(True)
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    with Host(svc, {MIME_TEXT: b"active again"}):
        expect_bytes(paste(env, ["-n"]), b"active again",
                     "paste after active again")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def t_respawn(env, svc, agent):
    kids = wait_until(lambda: children(agent.pid), 10, "the agent's child")
    check(len(kids) == 1, f"children {kids}")
    os.kill(kids[0], signal.SIGKILL)
    old = svc.conn
    svc.pending.clear()
    svc.accept(timeout=20)
    old.close()
    check(agent.poll() is None, "the supervisor exited")
    new = wait_until(lambda: children(agent.pid), 10, "a new child")
    check(new != kids, f"the same child {new}")
    svc.grab([MIME_TEXT])
    wait_types(env, TEXT_TYPES)
    with Host(svc, {MIME_TEXT: b"respawned"}):
        expect_bytes(paste(env, ["-n"]), b"respawned", "paste after respawn")
    drain(svc)
    copy(env, b"copied after respawn")
    check(svc.wait_grab() == [MIME_TEXT], "no GRAB after respawn")
    expect_bytes(svc.fetch(MIME_TEXT), b"copied after respawn",
                 "fetch after respawn")


def t_clean_exit(env, agent):
    """Stopping sway ends the agent: status 0, no sanitizer reports."""
    env.stop_sway()
    try:
        rc = agent.wait(30)
    except subprocess.TimeoutExpired:
        agent.kill()
        raise TestError("the agent did not exit when sway went away")
    log = agent_log(agent)
    marks = [m.decode() for m in SANITIZER_MARKS if m in log]
    check(not marks, f"sanitizer reports ({', '.join(marks)}) in "
          f"{agent.log_path}:\n" + log.decode(errors="replace")[-3000:])
    check(rc == 0, f"exit status {rc}")
    check(b"display server went away" in log, "no word of sway going away")


# ---- phases: one sway, one agent each ----

def phase(env, name, tests, extra=(), respawn=False, ext=False):
    env.start_sway()
    proxy = ExtProxy(env.runtime, env.display) if ext else None
    sock = os.path.join(env.tmp, f"agent{env.nr}.sock")
    svc = fs.FakeService(sock)
    os.chmod(sock, 0o777)
    agent = env.start_agent(sock, extra, respawn,
                            proxy.name if proxy else None)
    env.proxy = proxy
    try:
        svc.accept(timeout=20)
    except Exception as e:
        results.append((f"{name}-start", False, str(e)))
        print(f"FAIL {name}-start: {e}\n" +
              agent_log(agent).decode(errors="replace")[-2000:], flush=True)
        svc.close()
        env.stop_sway()
        return
    try:
        for tname, fn, args in tests:
            run_test(tname, fn, *[{"env": env, "svc": svc,
                                   "agent": agent}[a] for a in args])
        run_test(f"{name}-clean-exit", t_clean_exit, env, agent)
    finally:
        svc.close()
        env.stop_sway()
        if proxy:
            proxy.close()


def t_ext_chosen(env, svc, agent):
    log = agent_log(agent)
    check(b"clipboard: through ext-data-control-v1 version 1" in log,
          "the agent did not choose ext-data-control-v1 over wlr's")
    binds = [b for b in env.proxy.binds if "data_control" in b[0]]
    check(binds == [(ExtProxy.EXT, 1)], f"the agent bound {binds}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agent", default=DEFAULT_AGENT)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (logs) for a look afterwards")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("wayland_test.py: run as root (it runs sway as uid 65534)")
    for tool in ("sway", "swaymsg", "wl-copy", "wl-paste", "setpriv"):
        if not shutil.which(tool):
            sys.exit(f"wayland_test.py: {tool} is missing "
                     "(apt-get install sway wl-clipboard util-linux)")
    if not os.access(args.agent, os.X_OK):
        sys.exit(f"wayland_test.py: no agent at {args.agent}")
    env = Env(os.path.abspath(args.agent), args.keep)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    es = ("env", "svc")
    try:
        phase(env, "main", [
            ("register", t_register, es),
            ("host-text", t_host_text, es),
            ("host-10MiB", t_host_big, es),
            ("host-png", t_host_png, es),
            ("host-concurrent", t_host_concurrent, es),
            ("session-text", t_session_text, es),
            ("session-png", t_session_png, es),
            ("session-10MiB", t_session_big, es),
            ("session-concurrent", t_session_concurrent, es),
            ("session-types", t_session_types, es),
            ("session-latin1", t_session_latin1, es),
            ("session-stall", t_session_stall, es),
            ("empty", t_empty, es),
            ("no-feedback", t_no_feedback, es),
            ("primary-off", t_primary_off, es),
            ("layout", t_layout, es),
            ("malformed", t_malformed, ("env", "svc", "agent")),
            ("inactive", t_inactive, es),
        ])
        phase(env, "primary", [
            ("primary-on", t_primary_on, es),
            ("too-big", t_too_big, es),
        ], extra=["--primary", "--max-size", "1M"])
        phase(env, "ext", [
            ("ext-chosen", t_ext_chosen, ("env", "svc", "agent")),
            ("ext-host-text", t_host_text, es),
            ("ext-session-text", t_session_text, es),
            ("ext-empty", t_empty, es),
            ("ext-no-feedback", t_no_feedback, es),
            ("ext-primary", t_primary_on, es),
        ], extra=["--primary"], ext=True)
        phase(env, "respawn", [
            ("respawn", t_respawn, ("env", "svc", "agent")),
        ], respawn=True)
    finally:
        env.cleanup()
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    print(f"wayland: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
