# SPDX-License-Identifier: MIT
"""Clipboard test contents, the same on the host (vmtest.py) and in the
guest (the suites run it with the host's python3): compare without copying
files across.

    python3 clipdata.py KIND > FILE      KIND: utf8, big, png, html, empty
"""
import struct
import sys
import zlib


def utf8():
    return ("pva clipboard: grüße, ÿ, ŝ, 日本語, Ελληνικά, emoji 🐧🚀, "
            "tab\tnewline\nend").encode()


def big():
    """10 MiB of text: numbered lines, so a shifted chunk shows."""
    line = "line %08d: the quick brown fox jumps over the lazy dog – ünïcödé\n"
    out, n, size = [], 0, 0
    while size < 10 << 20:
        s = line % n
        out.append(s)
        size += len(s.encode())
        n += 1
    return "".join(out).encode()[:10 << 20]


def png():
    """A valid 64x48 RGB PNG with a gradient."""
    w, h = 64, 48
    raw = b"".join(b"\0" + b"".join(bytes((x * 4 % 256, y * 5 % 256,
                                           (x + y) * 2 % 256))
                                    for x in range(w))
                   for y in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def html():
    return "<p>pva <b>bold</b> &amp; <i>ünïcödé</i></p>".encode()


KINDS = {"utf8": utf8, "big": big, "png": png, "html": html,
         "empty": lambda: b""}


def content(kind):
    return KINDS[kind]()


if __name__ == "__main__":
    sys.stdout.buffer.write(content(sys.argv[1]))
