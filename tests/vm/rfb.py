# SPDX-License-Identifier: MIT
"""A minimal RFB (VNC) client for tests: no authentication, raw encoding,
the whole screen at once, and SetDesktopSize (ExtendedDesktopSize) to ask
the server for another size, as a viewer does when its window is resized.
"""
import socket
import struct

RAW, DESKTOP_SIZE, EXT_DESKTOP_SIZE = 0, -223, -308


class RFB:
    def __init__(self, host, port, timeout=10, resize=False):
        """@resize: announce ExtendedDesktopSize, needed to ask for a size.
        Without it the screen can be read: libvncserver answers every
        full request of such a client with a size message alone."""
        self.s = socket.create_connection((host, port), timeout=timeout)
        ver = self._read(12)
        if not ver.startswith(b"RFB 003."):
            raise ValueError(f"not an RFB server: {ver!r}")
        self.s.sendall(b"RFB 003.008\n")
        n = self._read(1)[0]
        types = self._read(n)
        if 1 not in types:
            raise ValueError(f"the server wants authentication: {list(types)}")
        self.s.sendall(b"\x01")
        if struct.unpack(">I", self._read(4))[0] != 0:
            raise ValueError("security handshake failed")
        self.s.sendall(b"\x01")			# ClientInit: shared
        self.width, self.height = struct.unpack(">HH", self._read(4))
        self._read(16)				# the server's pixel format
        self._read(struct.unpack(">I", self._read(4))[0])	# its name
        # 32-bit little-endian xRGB: the same bytes as pva's framebuffers
        fmt = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255,
                          16, 8, 0)
        self.s.sendall(b"\x00\x00\x00\x00" + fmt)
        encs = (RAW, DESKTOP_SIZE) + ((EXT_DESKTOP_SIZE,) if resize else ())
        self.s.sendall(struct.pack(">BxH", 2, len(encs)) +
                       b"".join(struct.pack(">i", e) for e in encs))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the VNC server closed the connection")
            buf += chunk
        return buf

    def screen(self, tries=20):
        """The whole screen: (width, height, pixels as 4-byte xRGB LE)."""
        for _ in range(tries):
            self.s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, self.width,
                                       self.height))
            pixels = self._update()
            if pixels is not None:
                return self.width, self.height, pixels
        raise ValueError("no full-screen update")

    def _update(self):
        """Read one FramebufferUpdate; the pixels if it covered the whole
        screen in one raw rectangle, else None (e.g. only a size change)."""
        while True:
            kind = self._read(1)[0]
            if kind == 0:
                break
            if kind == 2:			# Bell
                continue
            if kind == 3:			# ServerCutText
                self._read(3)
                self._read(struct.unpack(">I", self._read(4))[0])
                continue
            raise ValueError(f"unexpected server message {kind}")
        self._read(1)
        n = struct.unpack(">H", self._read(2))[0]
        full = None
        for _ in range(n):
            x, y, w, h, enc = struct.unpack(">HHHHi", self._read(12))
            if enc == RAW:
                data = self._read(w * h * 4)
                if (x, y, w, h) == (0, 0, self.width, self.height):
                    full = data
            elif enc == EXT_DESKTOP_SIZE:
                screens = self._read(4)[0]
                self._read(16 * screens)
                self.width, self.height = w, h
            elif enc == DESKTOP_SIZE:
                self.width, self.height = w, h
            else:
                raise ValueError(f"unexpected encoding {enc}")
        return full

    def sync(self):
        """One full request and its answer: everything sent before has
        been acted on."""
        self.s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, self.width,
                                   self.height))
        self._update()

    def set_desktop_size(self, w, h):
        """Ask for @w x @h, one screen (as a resized viewer window does)."""
        self.s.sendall(struct.pack(">BxHHBx", 251, w, h, 1) +
                       struct.pack(">IHHHHI", 0, 0, 0, w, h, 0))

    def close(self):
        self.s.close()


def fnv(pixels):
    """FNV-1a 64 over the pixels with byte 3 of each as 0: what pva-host's
    screenshot and pva-drmtest print."""
    h = 0xcbf29ce484222325
    for i in range(0, len(pixels), 4):
        for b in (pixels[i], pixels[i + 1], pixels[i + 2], 0):
            h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return f"{h:016x}"
