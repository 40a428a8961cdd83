#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers of tests/windows/agent_test.sh (no modules beyond Python's own):

  agent_helpers.py png rgb|rgba W H OUT.png      a PNG with a pattern, and
                                                 its pixels in OUT.png.rgba
  agent_helpers.py dib 24|v5 W H OUT.dib         a packed DIB (24-bit
                                                 BI_RGB, or a V5 header
                                                 with alpha), OUT.dib.rgba
  agent_helpers.py png-rgba IN.png OUT.rgba      decode (8-bit RGB/RGBA,
                                                 not interlaced: what the
                                                 agent writes)
  agent_helpers.py dib-rgba IN.dib OUT.rgba      decode 24/32-bit DIBs
  agent_helpers.py same-rgba A B [--opaque]      exit 0 if the pixels are
                                                 equal (--opaque: alpha
                                                 ignored)
  agent_helpers.py utf16 IN OUT                  UTF-16LE up to the NUL ->
                                                 UTF-8
  agent_helpers.py text-utf16 IN OUT             UTF-8 -> UTF-16LE with CRLF
                                                 (what CF_UNICODETEXT holds)
  agent_helpers.py jget PATH < JSON              print a field of pva-hostctl
                                                 -j output ("info.os.id")
  agent_helpers.py free-port                     a free TCP port on 127.0.0.1
  agent_helpers.py reg-snap PREFIX OUT           the prefix's registry, keys
                                                 and values, as JSON
  agent_helpers.py reg-diff A B                  print what differs, without
                                                 what wine changes by itself
"""
import json
import re
import socket
import struct
import sys
import zlib


def pattern(w, h, alpha):
    px = bytearray()
    for y in range(h):
        for x in range(w):
            px += bytes(((x * 37 + y * 11) & 255, (x * y + 7) & 255,
                         (x + y * 29) & 255,
                         ((x * 5 + y * 3) & 255) if alpha else 255))
    return bytes(px)


def chunk(tag, data):
    return (struct.pack(">I", len(data)) + tag + data +
            struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))


def make_png(kind, w, h, out):
    alpha = kind == "rgba"
    px = pattern(w, h, alpha)
    n = 4 if alpha else 3
    rows = b"".join(b"\0" + b"".join(px[(y * w + x) * 4:(y * w + x) * 4 + n]
                                     for x in range(w)) for y in range(h))
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2,
                                      0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
    open(out, "wb").write(png)
    open(out + ".rgba", "wb").write(px)


def make_dib(kind, w, h, out):
    v5 = kind == "v5"
    px = pattern(w, h, v5)
    if v5:
        hdr = struct.pack("<IiiHHIIiiII", 124, w, h, 1, 32, 3, w * h * 4,
                          2835, 2835, 0, 0)
        hdr += struct.pack("<IIII", 0xff0000, 0xff00, 0xff, 0xff000000)
        hdr += struct.pack("<I", 0x73524742) + b"\0" * 36 + b"\0" * 12
        hdr += struct.pack("<IIII", 4, 0, 0, 0)
        assert len(hdr) == 124
        rows = []
        for y in range(h - 1, -1, -1):
            rows.append(b"".join(bytes((px[(y * w + x) * 4 + 2],
                                        px[(y * w + x) * 4 + 1],
                                        px[(y * w + x) * 4],
                                        px[(y * w + x) * 4 + 3]))
                                 for x in range(w)))
    else:
        stride = (w * 3 + 3) & ~3
        hdr = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, stride * h,
                          2835, 2835, 0, 0)
        rows = []
        for y in range(h - 1, -1, -1):
            r = b"".join(bytes((px[(y * w + x) * 4 + 2], px[(y * w + x) * 4 + 1],
                                px[(y * w + x) * 4])) for x in range(w))
            rows.append(r + b"\0" * (stride - w * 3))
    open(out, "wb").write(hdr + b"".join(rows))
    open(out + ".rgba", "wb").write(px)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_rgba(path, out):
    p = open(path, "rb").read()
    if p[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    off, idat = 8, b""
    while off < len(p):
        n = struct.unpack(">I", p[off:off + 4])[0]
        tag, data = p[off + 4:off + 8], p[off + 8:off + 8 + n]
        if zlib.crc32(tag + data) & 0xffffffff != \
                struct.unpack(">I", p[off + 8 + n:off + 12 + n])[0]:
            sys.exit("bad CRC in " + tag.decode())
        if tag == b"IHDR":
            w, h, depth, color, _, _, il = struct.unpack(">IIBBBBB", data)
            if depth != 8 or color not in (2, 6) or il:
                sys.exit("unexpected PNG format %d/%d/%d" % (depth, color, il))
        elif tag == b"IDAT":
            idat += data
        off += 12 + n
    raw = zlib.decompress(idat)
    bpp = 4 if color == 6 else 3
    stride = w * bpp
    prev = bytearray(stride)
    res = bytearray()
    for y in range(h):
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                row[i] = (row[i] + paeth(a, b, c)) & 255
            elif f != 0:
                sys.exit("bad filter %d" % f)
        for x in range(w):
            res += row[x * bpp:x * bpp + 3] + (bytes((row[x * bpp + 3],))
                                               if bpp == 4 else b"\xff")
        prev = row
    open(out, "wb").write(bytes(res))


def dib_rgba(path, out):
    d = open(path, "rb").read()
    hs, w, h, _, bpp, comp = struct.unpack_from("<IiiHHI", d, 0)
    off = hs + (12 if comp == 3 and hs == 40 else 0)
    top_down = h < 0
    h = abs(h)
    stride = (w * bpp + 31) // 32 * 4
    if bpp not in (24, 32):
        sys.exit("unexpected DIB depth %d" % bpp)
    res = bytearray()
    alpha_used = False
    for y in range(h):
        row = d[off + stride * (y if top_down else h - 1 - y):]
        for x in range(w):
            if bpp == 24:
                b, g, r = row[x * 3:x * 3 + 3]
                a = 255
            else:
                b, g, r, a = row[x * 4:x * 4 + 4]
                alpha_used |= a != 0
            res += bytes((r, g, b, a))
    if bpp == 32 and not alpha_used:
        for i in range(3, len(res), 4):
            res[i] = 255
    open(out, "wb").write(bytes(res))


def same_rgba(a, b, opaque):
    x, y = open(a, "rb").read(), open(b, "rb").read()
    if len(x) != len(y):
        print("sizes differ: %d and %d bytes" % (len(x), len(y)))
        sys.exit(1)
    for i in range(0, len(x), 4):
        n = 3 if opaque else 4
        if x[i:i + n] != y[i:i + n]:
            print("pixel %d differs: %s and %s" % (i // 4, x[i:i + 4].hex(),
                                                  y[i:i + 4].hex()))
            sys.exit(1)


def jget(path):
    v = json.load(sys.stdin)
    # keys contain dots ("os.id"): take the longest key that matches
    parts = path.split(".")
    while parts:
        for k in range(len(parts), 0, -1):
            key = ".".join(parts[:k])
            if isinstance(v, dict) and key in v:
                v = v[key]
                parts = parts[k:]
                break
            if isinstance(v, list) and key.isdigit() and int(key) < len(v):
                v = v[int(key)]
                parts = parts[k:]
                break
        else:
            sys.exit(1)
    print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def reg_snap(prefix, out):
    snap = {}
    for f in ("system.reg", "user.reg"):
        key = None
        for line in open("%s/%s" % (prefix, f), encoding="utf-8",
                         errors="replace"):
            line = line.rstrip("\n")
            if line.startswith("["):
                key = f + ":" + re.sub(r"\] \d+$", "]", line)
                snap.setdefault(key, [])
            elif key and line and not line.startswith("#"):
                snap[key].append(line)
    json.dump(snap, open(out, "w"))


# What wine rewrites on its own: network cards, device classes and their
# driver dates, the hardware it enumerates, volatile session data.
VOLATILE = re.compile(r"NetworkCards|\\\\Control\\\\Class\\\\|\\\\Enum\\\\|"
                      r"DriverDateData|Volatile Environment|"
                      r"\\\\Control\\\\DeviceClasses\\\\|Wine\\\\Explorer|"
                      r"SessionInformation|CurrentControlSet\\\\Control\\\\Video|"
                      # conhost makes it for the first console program
                      r"^user\.reg:\[Console\]$")


def reg_diff(a, b):
    x, y = json.load(open(a)), json.load(open(b))
    diffs = []
    for k in sorted(set(x) | set(y)):
        if VOLATILE.search(k):
            continue
        if k not in x:
            diffs.append("+ " + k)
        elif k not in y:
            diffs.append("- " + k)
        else:
            for v in sorted(set(x[k]) ^ set(y[k])):
                if VOLATILE.search(v):
                    continue
                diffs.append(("+ " if v in y[k] else "- ") + k + " " + v)
    for d in diffs:
        print(d)
    sys.exit(1 if diffs else 0)


def main():
    a = sys.argv[1:]
    cmd = a[0] if a else ""
    if cmd == "png":
        make_png(a[1], int(a[2]), int(a[3]), a[4])
    elif cmd == "dib":
        make_dib(a[1], int(a[2]), int(a[3]), a[4])
    elif cmd == "png-rgba":
        png_rgba(a[1], a[2])
    elif cmd == "dib-rgba":
        dib_rgba(a[1], a[2])
    elif cmd == "same-rgba":
        same_rgba(a[1], a[2], "--opaque" in a)
    elif cmd == "utf16":
        d = open(a[1], "rb").read()
        t = d.decode("utf-16-le", errors="strict").split("\0")[0]
        open(a[2], "wb").write(t.encode("utf-8"))
    elif cmd == "text-utf16":
        t = open(a[1], "rb").read().decode("utf-8")
        t = re.sub(r"(?<!\r)\n", "\r\n", t)
        open(a[2], "wb").write(t.encode("utf-16-le"))
    elif cmd == "jget":
        jget(a[1])
    elif cmd == "free-port":
        free_port()
    elif cmd == "reg-snap":
        reg_snap(a[1], a[2])
    elif cmd == "reg-diff":
        reg_diff(a[1], a[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
