# SPDX-License-Identifier: MIT
"""Host directories shared with a test guest, and the host-side file
actions a suite asks for ("PVA-HOST: hostfs <action> ...").

A suite names its shares with '# vmtest-shares: NAME[,ro] ...'. Each is a
fresh directory under <tmp>/shares/; next to them, <tmp>/shares/outside
holds files the guest must never reach, and the share "main" (if any)
starts with symlinks that point there, for the confinement tests.
Paths in actions are SHARE/RELATIVE-PATH.
"""
import hashlib
import os
import shutil
import threading
import time


class Shares:
    def __init__(self, tmp, spec, note):
        self.root = os.path.join(tmp, "shares")
        self.note = note
        self.shares = {}
        self.race = None
        os.makedirs(self.root)
        for item in spec.split():
            name, _, opts = item.partition(",")
            path = os.path.join(self.root, name)
            os.makedirs(path)
            self.shares[name] = (path, opts == "ro")
        self.outside = os.path.join(self.root, "outside")
        os.makedirs(os.path.join(self.outside, "dir"))
        with open(os.path.join(self.outside, "secret.txt"), "w") as f:
            f.write("host secret\n")
        if "main" in self.shares:
            main = self.shares["main"][0]
            os.symlink(self.outside, os.path.join(main, "escape-abs"))
            os.symlink("../outside", os.path.join(main, "escape-rel"))
            os.symlink("../outside/secret.txt", os.path.join(main, "escape-file"))
        self.outside_before = self.snapshot(self.root, top=True)

    def add(self, name, ro):
        """A new share directory (for pva-hostctl share add); its path."""
        path = os.path.join(self.root, name)
        os.makedirs(path)
        self.shares[name] = (path, ro)
        self.outside_before["entries"] = sorted(os.listdir(self.root))
        return path

    def host_args(self):
        args = []
        for name, (path, ro) in self.shares.items():
            args += ["--share", f"{name}={path}" + (",ro" if ro else "")]
        return args

    def path(self, rel):
        """SHARE/REL -> the host path (tests are ours: no escape checks)."""
        name, _, rest = rel.partition("/")
        return os.path.join(self.shares[name][0], rest)

    def snapshot(self, top_dir, top=False):
        """What must not change: the outside tree, and the entries next to
        the shares (nothing may be created beside them)."""
        snap = {"entries": sorted(os.listdir(self.root))} if top else {}
        for d, dirs, files in os.walk(self.outside):
            for n in dirs + files:
                p = os.path.join(d, n)
                st = os.lstat(p)
                digest = ""
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                snap[p] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
        return snap

    def action(self, w):
        """One hostfs action; its exit code (0 = as asked / as expected)."""
        op, a = w[0], w[1:]
        if op == "write" or op == "append":
            with open(self.path(a[0]), "a" if op == "append" else "w") as f:
                f.write(" ".join(a[1:]) + "\n")
            return 0
        if op == "write-size":	# SHARE/REL BYTES: a file of a known pattern
            data = bytes((i * 7 + 3) & 0xFF for i in range(256))
            n = int(a[1])
            with open(self.path(a[0]), "wb") as f:
                f.write((data * (n // 256 + 1))[:n])
            return 0
        if op == "mkdir":
            os.makedirs(self.path(a[0]))
            return 0
        if op == "rm":
            p = self.path(a[0])
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
            return 0
        if op == "rename":
            os.rename(self.path(a[0]), self.path(a[1]))
            return 0
        if op == "chmod":
            os.chmod(self.path(a[0]), int(a[1], 8))
            return 0
        if op == "truncate":
            os.truncate(self.path(a[0]), int(a[1]))
            return 0
        if op == "symlink":	# TARGET SHARE/REL
            os.symlink(a[0], self.path(a[1]))
            return 0
        if op == "cat-is":
            with open(self.path(a[0])) as f:
                got = f.read()
            self.note(f"hostfs {a[0]}: {got!r}")
            return 0 if got == " ".join(a[1:]) + "\n" else 1
        if op == "exists":
            return 0 if os.path.lexists(self.path(a[0])) else 1
        if op == "missing":
            return 1 if os.path.lexists(self.path(a[0])) else 0
        if op == "size-is":
            size = os.lstat(self.path(a[0])).st_size
            self.note(f"hostfs {a[0]}: size {size}")
            return 0 if size == int(a[1]) else 1
        if op == "mode-is":
            mode = os.lstat(self.path(a[0])).st_mode & 0o7777
            self.note(f"hostfs {a[0]}: mode {mode:o}")
            return 0 if mode == int(a[1], 8) else 1
        if op == "sha256-is":
            h = hashlib.sha256()
            with open(self.path(a[0]), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            self.note(f"hostfs {a[0]}: sha256 {h.hexdigest()}")
            return 0 if h.hexdigest() == a[1] else 1
        if op == "count":	# entries in a directory
            n = len(os.listdir(self.path(a[0])))
            self.note(f"hostfs {a[0]}: {n} entries")
            return 0 if n == int(a[1]) else 1
        if op == "make-files":	# SHARE/DIR N: N empty files f0..f(N-1)
            d = self.path(a[0])
            os.makedirs(d, exist_ok=True)
            for i in range(int(a[1])):
                open(os.path.join(d, f"f{i}"), "w").close()
            return 0
        if op == "outside-intact":
            after = self.snapshot(self.root, top=True)
            if after != self.outside_before:
                self.note(f"outside changed: {self.outside_before} -> {after}")
                return 1
            return 0
        if op == "race-start":
            return self.race_start(self.path(a[0]))
        if op == "race-stop":
            return self.race_stop()
        self.note(f"unknown hostfs action {op}")
        return 2

    def race_start(self, path):
        """Swap PATH between a real directory and a symlink to the outside
        directory, as fast as possible, until race-stop."""
        stop = threading.Event()
        swaps = [0]

        def run():
            real, link = path + ".real", path + ".link"
            # PATH is swapped in and out by name: start with it free
            if os.path.lexists(path):
                os.rename(path, real)
            os.makedirs(real, exist_ok=True)
            while not stop.is_set():
                for src in (real, link):
                    if src == link and not os.path.lexists(link):
                        os.symlink(os.path.join(self.outside, "dir"), link)
                    try:
                        os.rename(src, path)	# atomic swap-in
                        swaps[0] += 1
                        os.rename(path, src)
                    except OSError:
                        pass
                time.sleep(0)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.race = (t, stop, swaps)
        return 0

    def race_stop(self):
        if not self.race:
            return 1
        t, stop, swaps = self.race
        stop.set()
        t.join(10)
        self.note(f"race: {swaps[0]} swaps")
        self.race = None
        return 0 if swaps[0] > 0 else 1
