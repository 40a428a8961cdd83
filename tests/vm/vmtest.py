#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a test guest under QEMU (TCG) with pva-host serving the pva device,
run a guest test suite, answer its host-side requests, and judge the result.

The guest is the Debian kernel with a busybox initramfs holding pva's
modules and guest test programs. The suite (a shell script) reports
"PVA-RESULT: <name> PASS|FAIL|SKIP" lines and asks for host-side actions
with "PVA-HOST: <command> PVA-LEN <bytes>", answered with
"PVA-HOST-DONE <rc>" (or "PVA-HOST-RETRY" when kernel messages cut into the
line) on the console. The run fails on any failed test, a missing result, a timeout, a
kernel warning/oops in the guest log, or a pva-host crash.
"""
import argparse
import json
import lzma
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

from hostfs import Shares
from rfb import RFB, fnv as rfb_fnv
import clipdata

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("PVA_CACHE", "/var/cache/pva")

# Lines in the guest's kernel log that fail a run.
BAD_KERNEL = re.compile(
    r"(WARNING:|BUG:|Oops|general protection fault|Call trace:|Call Trace:|"
    r"KASAN|UBSAN|kmemleak|possible circular locking|INFO: task .* blocked|"
    r"refcount_t:|list_add corruption|list_del corruption|"
    r"Unable to handle kernel|Kernel panic|stack-protector|"
    r"scheduling while atomic|sleeping function called from invalid context)")


# Guest kernel modules a host-root guest needs before its root is mounted
# (with their dependencies, as `modprobe --show-depends` prints them).
HOSTROOT_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"]


def kernels():
    ks = {}
    with open(os.path.join(CACHE, "kernels.mk")) as f:
        for line in f:
            m = re.match(r"PVA_K(\d+) := (\S+)", line)
            if m:
                ks[{"61": "6.1", "612": "6.12"}[m.group(1)]] = m.group(2)
    return ks


def png_size(path):
    """Width and height of a PNG whose pixel data decompresses to exactly
    what that size needs (8-bit RGB); raises on anything else."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            if body[8:10] != b"\x08\x02":
                raise ValueError(f"{path}: not 8-bit RGB")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if w is None or len(zlib.decompress(idat)) != h * (1 + 3 * w):
        raise ValueError(f"{path}: truncated")
    return w, h


def solid_fnv(rgb, pixels):
    """The host's screenshot fnv (FNV-1a 64 of the XRGB pixels as
    little-endian bytes, X as 0) of PIXELS pixels of colour RGB."""
    b0, b1, b2 = rgb & 0xff, (rgb >> 8) & 0xff, (rgb >> 16) & 0xff
    f, prime, mask = 0xcbf29ce484222325, 0x100000001b3, (1 << 64) - 1
    for _ in range(pixels):
        f = ((f ^ b0) * prime) & mask
        f = ((f ^ b1) * prime) & mask
        f = ((f ^ b2) * prime) & mask
        f = (f * prime) & mask
    return f"{f:016x}"


def guest_modules(kroot, kdir, names):
    """Kernel modules NAMES of the guest kernel tree and their dependencies,
    in load order, as (name, path) pairs; built-in ones are left out."""
    index = {}
    for d, _, files in os.walk(os.path.join(kroot, "lib", "modules", kdir)):
        for f in files:
            m = re.match(r"(.+)\.ko(\.xz)?$", f)
            if m:
                index[m.group(1).replace("-", "_")] = os.path.join(d, f)
    builtin = set()
    try:
        with open(os.path.join(kroot, "lib", "modules", kdir,
                               "modules.builtin")) as f:
            for line in f:
                builtin.add(os.path.basename(line.strip())
                            .split(".ko")[0].replace("-", "_"))
    except FileNotFoundError:
        pass
    order = []

    def visit(name):
        name = name.replace("-", "_")
        if name in builtin or name in (n for n, _ in order):
            return
        if name not in index:
            raise RuntimeError(f"no kernel module {name} in {kroot}")
        deps = subprocess.run(["modinfo", "-F", "depends", index[name]],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
        for dep in filter(None, deps.split(",")):
            visit(dep)
        order.append((name, index[name]))

    for n in names:
        visit(n)
    return order


class Host:
    """pva-host running in a private directory."""

    def __init__(self, binary, hostctl, rundir, log, extra=()):
        self.binary, self.hostctl, self.rundir = binary, hostctl, rundir
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [binary, "-d", rundir, "-v", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.kills = 0
        deadline = time.time() + 10
        while not os.path.exists(os.path.join(rundir, "qemu.sock")):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("pva-host did not start")
            time.sleep(0.05)

    def ctl(self, *args, timeout=600):
        return subprocess.run([self.hostctl, "-d", self.rundir, *args],
                              capture_output=True, text=True, timeout=timeout)

    def ctl_bytes(self, args, stdin, timeout=120):
        """pva-hostctl with binary standard input and output."""
        return subprocess.run([self.hostctl, "-d", self.rundir, *args],
                              input=stdin, capture_output=True,
                              timeout=timeout)

    def status(self):
        """pva-host's status, straight from its control socket."""
        return self.request({"cmd": "status"})

    def request(self, req):
        """One control-socket request (no pva-hostctl process in the way,
        for timing); the answer, or None."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        try:
            s.connect(os.path.join(self.rundir, "ctl.sock"))
            s.sendall(json.dumps(req).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return None
        finally:
            s.close()
        try:
            st = json.loads(data)
        except ValueError:
            return None
        return st if st.get("ok") else None

    def worker_pid(self):
        st = self.status()
        return st["host"]["worker_pid"] if st else None

    def wait_new_worker(self, old, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                pid = self.worker_pid()
            except (subprocess.TimeoutExpired, ValueError):
                pid = None
            if pid and pid != old:
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        return self.proc.returncode


def json_path(obj, path):
    """a.b.c with services[name] selecting a service by name and a
    number an element of a list."""
    for part in path.split("."):
        m = re.match(r"(\w+)\[([\w-]+)\]$", part)
        if m:
            obj = next(s for s in obj[m.group(1)] if s["name"] == m.group(2))
        elif isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = obj[part]
    return obj


class Run:
    def __init__(self, args):
        self.args = args
        self.arch = args.arch
        ks = kernels()
        self.kabi = ks[args.kver]
        self.out = args.out or os.path.join(ROOT, "build", "vm-test",
                                            f"{self.arch}-{args.kver}")
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out)
        self.tmp = tempfile.mkdtemp(prefix="pva-vm-")
        self.results = {}
        self.boots = 0
        self.ram_marks = {}
        self.monitor_path = os.path.join(self.tmp, "monitor.sock")
        self.ram_file = f"/dev/shm/pva-vm-{os.getpid()}-{self.arch}.ram"
        self.expected = []
        self.log_lines = []
        self.failures = []

    # ---- the guest image ----

    def build_initramfs(self, kver=None):
        """The initramfs for kernel KVER (default the run's): busybox, the
        modules, the tests, /init."""
        kver = kver or self.args.kver
        kabi = kernels()[kver]
        stage = os.path.join(self.tmp, f"root-{kver}")
        for d in ("bin", "dev", "proc", "sys", "tmp", "tests", "modules"):
            os.makedirs(os.path.join(stage, d))
        debarch = "amd64" if self.arch == "x86_64" else "arm64"
        shutil.copy(os.path.join(CACHE, f"busybox-{debarch}"),
                    os.path.join(stage, "bin", "busybox"))
        mods = os.path.join(ROOT, "build", "modules", f"{self.arch}-{kver}")
        for ko in (os.listdir(mods) if os.path.isdir(mods) else []):
            shutil.copy(os.path.join(mods, ko), os.path.join(stage, "modules"))
        gdir = os.path.join(ROOT, "build", "guest", self.arch)
        for prog in os.listdir(gdir):
            shutil.copy(os.path.join(gdir, prog), os.path.join(stage, "bin"))
        for prog in self.args.guest_prog:
            shutil.copy(prog, os.path.join(stage, "bin"))
        # extra modules of the guest kernel (e.g. a peer's driver), loaded
        # before the suite runs; busybox insmod wants them uncompressed
        load_extra = ""
        modules = self.args.modules + self.suite_directive("modules").split()
        if self.hostroot():
            modules = HOSTROOT_MODULES + modules
        if self.disk_mb():
            modules = ["virtio_blk", "crc32c_generic", "ext4"] + modules
        if modules:
            os.makedirs(os.path.join(stage, "modules", "extra"))
            kroot = os.path.join(CACHE, f"kernel-{kabi}-{debarch}")
            for name, path in guest_modules(kroot, f"{kabi}-{debarch}",
                                            modules):
                dst = os.path.join(stage, "modules", "extra", name + ".ko")
                if path.endswith(".xz"):
                    with lzma.open(path) as i, open(dst, "wb") as o:
                        shutil.copyfileobj(i, o)
                else:
                    shutil.copy(path, dst)
                load_extra += f"insmod /modules/extra/{name}.ko\n"
        for f in ("lib.sh", "clipdata.py", self.args.suite):
            shutil.copy(os.path.join(ROOT, "tests", "vm", f),
                        os.path.join(stage, "tests"))
        suite = os.path.basename(self.args.suite)
        if self.suite_directive("clipdata") == "yes":
            # the contents the clipboard tests compare, as the harness
            # makes them (the arm64 userland has no python3)
            os.makedirs(os.path.join(stage, "tests", "clip"))
            for kind in clipdata.KINDS:
                with open(os.path.join(stage, "tests", "clip", kind), "wb") as f:
                    f.write(clipdata.content(kind))
        if self.hostroot() and self.suite_directive("install") == "yes":
            # pva's guest userspace as its installer puts it
            subprocess.run(["make", "-s", "-C", ROOT, "install-guest",
                            f"ARCH={self.arch}",
                            f"DESTDIR={os.path.join(stage, 'pva-root')}"],
                           check=True)
        if self.hostroot():
            progs = sorted(os.listdir(gdir)) + [os.path.basename(p) for p
                                                in self.args.guest_prog]
            self.write_hostroot_init(stage, load_extra, suite, progs)
        else:
            with open(os.path.join(stage, "init"), "w") as f:
                f.write(f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
{load_extra}echo PVA-BOOTED
cd /tests
. /tests/lib.sh
hostcmd boot
PVA_BOOT=$?
[ "$PVA_BOOT" -gt 0 ] || {{ echo PVA-UNEXPECTED-BOOT; poweroff -f; }}
PVA_ARCH={self.arch} PVA_BOOT=$PVA_BOOT sh /tests/{suite}
dump_dmesg
echo PVA-DONE
poweroff -f
""")
        os.chmod(os.path.join(stage, "init"), 0o755)
        # the suite declares its tests up front so missing ones are failures
        with open(os.path.join(ROOT, "tests", "vm", self.args.suite)) as f:
            for line in f:
                m = re.match(r"\s*t_run\s+([\w-]+)", line)
                if m:
                    self.expected.append(m.group(1))
        self.expected = list(dict.fromkeys(self.expected))
        initrd = os.path.join(self.tmp, f"initrd-{kver}.cpio")
        files = subprocess.run(["find", "."], cwd=stage, capture_output=True,
                               text=True, check=True).stdout
        with open(initrd, "wb") as out:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"],
                           cwd=stage, input=files.encode(), stdout=out,
                           check=True)
        return initrd

    def hostroot(self):
        """A host-root guest ('# vmtest-hostroot: yes', or --hostroot): the
        initramfs mounts a root read-only over 9p with a tmpfs overlay on
        top and runs the suite in it, so the suite can use real programs
        (Xorg, sway, xclip, ...): the host's own / on x86_64, the arm64
        userland of scripts/mkroot-arm64.sh on arm64 (no systemd, no
        python3 there)."""
        return self.args.hostroot or self.suite_directive("hostroot") == "yes"

    def disk_mb(self):
        """'# vmtest-disk: MB': the host-root overlay's changes go on a
        virtual disk of that size, so they survive the guest's reboots."""
        return int(self.suite_directive("disk", "0"))

    def boot_kernels(self):
        """'# vmtest-kernels: 6.1 6.12 ...': the kernel of each boot; the
        harness starts QEMU again for each, on the same disk."""
        return self.suite_directive("kernels").split() or None

    def root_dir(self):
        """What a host-root guest mounts as its root."""
        return "/" if self.arch == "x86_64" else os.path.join(CACHE, "root-arm64")

    def systemd_init(self):
        """A host-root guest that boots the host's systemd ('# vmtest-init:
        systemd'): logind, D-Bus, udev and systemd units as on a real
        system; the suite runs as pva-test.service on the console."""
        return self.hostroot() and self.suite_directive("init") == "systemd"

    # units of the host that have no business in a test guest
    MASKED_UNITS = ["timers.target", "systemd-timesyncd.service",
                    "systemd-pstore.service", "postgresql.service",
                    "e2scrub_reap.service", "seatd.service",
                    "serial-getty@ttyS0.service", "getty@tty1.service",
                    "systemd-networkd.service", "NetworkManager.service",
                    "ssh.service", "cron.service", "rsyslog.service"]

    def write_systemd_units(self, f, r):
        """Shell lines for the initramfs: pva-test.target and its service,
        and masks, in the overlay's /etc/systemd/system."""
        d = f"{r}/etc/systemd/system"
        f.write(f"mkdir -p {d}\n")
        for u in self.MASKED_UNITS:
            f.write(f"ln -sf /dev/null {d}/{u}\n")
        f.write(f"""cat > {d}/pva-test.target <<'EOU'
[Unit]
Description=pva test guest
Requires=basic.target
After=basic.target
Wants=pva-test.service systemd-logind.service dbus.service
AllowIsolate=yes
EOU
cat > {d}/pva-test.service <<'EOU'
[Unit]
Description=pva test suite
After=basic.target systemd-logind.service dbus.service systemd-udev-trigger.service
[Service]
Type=simple
Environment=HOME=/root TERM=linux PVA_HOSTROOT=1 PVA_SYSTEMD=1
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=/bin/sh /tests/pva-run.sh
StandardInput=tty-force
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
KillMode=process
EOU
""")

    def rw_mount(self):
        """Init lines: where the overlay's changes go."""
        if not self.disk_mb():
            return "mount -t tmpfs -o mode=0755 rw /rw\n"
        return ("mount -t ext4 /dev/vda /rw || "
                "{ echo 'PVA-HOSTROOT: no disk'; poweroff -f; }\n")

    def kmods_mount(self, r):
        """Init lines ('# vmtest-kmods: yes'): the running kernel's modules
        (from the cache, over 9p) in the root's /lib/modules, with their
        own overlay so depmod and DKMS can write there; not for a kernel
        installed in the guest itself (its modules are real files)."""
        if self.suite_directive("kmods") != "yes":
            return ""
        return f"""mkdir -p /cache
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose \\
	pvacache /cache || {{ echo "PVA-HOSTROOT: no cache"; poweroff -f; }}
k=$(uname -r)
if [ ! -d {r}/usr/lib/modules/$k/kernel ] && [ -d /cache/kernel-$k/lib/modules/$k ]; then
	mkdir -p {r}/usr/lib/modules/$k /rw/kmods/$k/upper /rw/kmods/$k/work
	mount -t overlay -o lowerdir=/cache/kernel-$k/lib/modules/$k:{r}/usr/lib/modules/$k,upperdir=/rw/kmods/$k/upper,workdir=/rw/kmods/$k/work \\
		kmods {r}/usr/lib/modules/$k || {{ echo "PVA-HOSTROOT: no modules"; poweroff -f; }}
fi
"""

    def write_hostroot_init(self, stage, load_extra, suite, progs):
        """The initramfs's /init for a host-root guest: modules, the host's
        root as an overlay at /newroot with pva's modules, tests and guest
        programs copied in, then the suite chrooted into it (pid 1 and the
        console stay the initramfs's, so hostcmd works as before), or, with
        systemd, the host's systemd booted in it (switch_root)."""
        r = "/newroot"
        systemd = self.systemd_init()
        cps = "".join(f"cp /bin/{p} {r}/usr/local/bin/\n" for p in progs)
        end = "systemctl poweroff --force --force\n" if systemd else ""
        with open(os.path.join(stage, "tests", "pva-run.sh"), "w") as f:
            f.write(f"""cd /tests
. /tests/lib.sh
hostcmd boot
PVA_BOOT=$?
[ "$PVA_BOOT" -gt 0 ] || {{ echo PVA-UNEXPECTED-BOOT; exit 1; }}
PVA_ARCH={self.arch} PVA_BOOT=$PVA_BOOT sh /tests/{suite}
dump_dmesg
echo PVA-DONE
{end}""")
        with open(os.path.join(stage, "init"), "w") as f:
            f.write(f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
{load_extra}mkdir -p /lower /rw {r}
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose \\
	hostroot /lower || {{ echo "PVA-HOSTROOT: cannot mount the host's root"; poweroff -f; }}
{self.rw_mount()}mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \\
	overlay {r} || {{ echo "PVA-HOSTROOT: no overlay"; poweroff -f; }}
{self.kmods_mount(r)}mkdir -p {r}/tests {r}/modules {r}/usr/local/bin
cp -a /tests/. {r}/tests/
cp -a /modules/. {r}/modules/
[ -d /pva-root ] && cp -a /pva-root/. {r}/
{cps}""")
            if systemd:
                self.write_systemd_units(f, r)
                # no container markers of the host: systemd would believe
                # it runs in a container and ignore the kernel's command line
                f.write(f"""rm -f {r}/.dockerenv {r}/run/.containerenv
mount -t tmpfs -o mode=0755 run {r}/run
mount -t tmpfs -o mode=1777 tmp {r}/tmp
echo PVA-BOOTED
umount /proc /sys
exec switch_root {r} /lib/systemd/systemd
""")
                return
            f.write(f"""mount -t proc proc {r}/proc
mount -t sysfs sys {r}/sys
mount -t devtmpfs dev {r}/dev
mkdir -p {r}/dev/pts {r}/dev/shm
mount -t devpts devpts {r}/dev/pts
mount -t tmpfs shm {r}/dev/shm
mount -t tmpfs -o mode=1777 tmp {r}/tmp
mount -t tmpfs -o mode=0755 run {r}/run
echo PVA-BOOTED
chroot {r} /usr/bin/env -i HOME=/root TERM=linux PVA_HOSTROOT=1 \\
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
	/bin/sh /tests/pva-run.sh
poweroff -f
""")

    def skip_hostroot(self):
        """A systemd suite on a guest that cannot boot the host's system:
        every test SKIPs, nothing boots."""
        why = f"(a systemd guest runs the host's x86_64 system, not on {self.arch})"
        n = 0
        with open(os.path.join(ROOT, "tests", "vm", self.args.suite)) as f:
            for line in f:
                m = re.match(r"\s*t_run\s+([\w-]+)", line)
                if m:
                    n += 1
                    print(f"  {self.arch}: SKIP {m.group(1)} {why}", flush=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        print(f"vm-test {self.arch} {self.args.kver}: 0 passed, 0 failed, "
              f"{n} skipped, 0 problems, 0 s {why}")
        return 0

    def qemu_cmd(self, initrd, sock, kver=None):
        debarch = "amd64" if self.arch == "x86_64" else "arm64"
        kabi = kernels()[kver or self.args.kver]
        kroot = os.path.join(CACHE, f"kernel-{kabi}-{debarch}")
        kernel = os.path.join(kroot, "boot", f"vmlinuz-{kabi}-{debarch}")
        # slub_debug: red zones and poisoning catch overruns and use after
        # free in the slab objects the driver allocates. A benchmark turns
        # it off ('# vmtest-slub-debug: off'): it slows every allocation.
        slub = self.suite_directive("slub-debug", "FZP")
        append = ("loglevel=4 panic=-1 oops=panic " +
                  ("" if slub == "off" else f"slub_debug={slub} ") +
                  self.args.append)
        if self.systemd_init():
            append += (" systemd.unit=pva-test.target systemd.show_status=false"
                       " systemd.log_level=notice")
        if self.arch == "x86_64":
            cmd = ["qemu-system-x86_64", "-M", "q35", "-cpu", "max"]
            append = "console=ttyS0 " + append
        else:
            cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57"]
            append = "console=ttyAMA0 " + append
        # the guest's RAM in a shared file, so pva-host can give ballooned
        # memory back (and the tests can see it)
        cmd += ["-object", f"memory-backend-file,id=pvaram,size={self.args.mem}M,"
                f"mem-path={self.ram_file},share=on",
                "-machine", "memory-backend=pvaram"]
        cmd += ["-accel", "tcg", "-m", str(self.args.mem), "-smp",
                str(self.args.smp), "-nodefaults", "-display", "none",
                "-serial", "stdio", "-kernel", kernel,
                "-initrd", initrd, "-append", append,
                "-chardev", f"socket,path={sock},id=pva",
                "-device", f"ivshmem-doorbell,chardev=pva,vectors={self.args.vectors}"]
        if self.hostroot():
            cmd += ["-fsdev", f"local,id=hostroot,path={self.root_dir()},"
                    "security_model=none,readonly=on,multidevs=remap",
                    "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"]
        if self.disk_mb():
            cmd += ["-drive", f"file={self.disk},if=virtio,format=raw,cache=unsafe"]
        if self.suite_directive("datadisk"):
            data = os.path.join(self.tmp, "data.img")
            if not os.path.exists(data):
                with open(data, "wb") as f:
                    f.truncate(int(self.suite_directive("datadisk")) << 20)
            cmd += ["-drive", f"file={data},if=virtio,format=raw,cache=unsafe"]
        if self.suite_directive("nic") == "yes":
            cmd += ["-nic", "user,model=virtio-net-pci"]
        if self.suite_directive("kmods") == "yes":
            cmd += ["-fsdev", f"local,id=pvacache,path={CACHE},security_model=none,"
                    "readonly=on,multidevs=remap",
                    "-device", "virtio-9p-pci,fsdev=pvacache,mount_tag=pvacache"]
        iso = self.suite_directive("cdrom")
        if iso:
            cmd += ["-drive", f"file={os.path.join(ROOT, iso)},if=none,id=cd0,"
                    "media=cdrom,readonly=on,format=raw"]
            if self.arch == "x86_64":
                cmd += ["-device", "ide-cd,drive=cd0"]
            else:
                cmd += ["-device", "virtio-scsi-pci,id=scsi0",
                        "-device", "scsi-cd,drive=cd0"]
        if self.suite_directive("boots", "1") == "1" or self.boot_kernels():
            cmd.append("-no-reboot")
        if self.args.monitor:
            cmd += ["-monitor", f"unix:{self.monitor_path},server=on,wait=off"]
        return cmd + self.args.qemu_extra + self.args.qemu_arg

    def suite_directive(self, name, default=""):
        """A suite's '# vmtest-NAME: VALUE' line."""
        path = os.path.join(ROOT, "tests", "vm", self.args.suite)
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    m = re.match(r"#\s*vmtest-" + name + r":\s*(.*)", line)
                    if m:
                        return m.group(1).strip()
        return default

    def suite_host_args(self):
        """pva-host options the suite needs ('# vmtest-host-args: ...');
        @FREEPORT@ becomes a free TCP port (self.free_port)."""
        args = self.suite_directive("host-args")
        if "@FREEPORT@" in args:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.free_port = s.getsockname()[1]
            args = args.replace("@FREEPORT@", str(self.free_port))
        return args.split()

    def vnc_action(self, words):
        """vnc-check [fnv HEX] [size WxH]: what a VNC viewer of pva-host's
        view gets; vnc-resize W H: a viewer asks for that size."""
        v = RFB("127.0.0.1", self.free_port,
                resize=words[0] == "vnc-resize")
        try:
            if words[0] == "vnc-resize":
                v.set_desktop_size(int(words[1]), int(words[2]))
                v.sync()
                return 0
            w, h, px = v.screen()
        finally:
            v.close()
        got = {"fnv": rfb_fnv(px), "size": f"{w}x{h}"}
        self.note(f"vnc view: {got}")
        if self.args.show_host:
            print(f"host> VNC view on 127.0.0.1:{self.free_port}: {w}x{h}",
                  flush=True)
        for what, want in zip(words[1::2], words[2::2]):
            if got[what] != want:
                self.note(f"vnc view: {what} {got[what]}, want {want}")
                return 1
        return 0

    # ---- host-side actions the guest asks for ----

    def host_request(self, line):
        """One "PVA-HOST: <cmd> PVA-LEN <n>" line -> the answer line. A line
        kernel messages cut into has the wrong length: not run, retried."""
        m = re.search(r"PVA-HOST: (.*) PVA-LEN (\d+)\s*$", line)
        if not m or len(m.group(1).encode()) != int(m.group(2)):
            self.note(f"garbled host request, asking again: {line!r}")
            return "PVA-HOST-RETRY"
        return f"PVA-HOST-DONE {self.host_action(m.group(1).strip())}"

    def host_action(self, cmd):
        words = cmd.split()
        if self.args.show_host and words[0] == "hostctl":
            print(f"host> pva-hostctl {' '.join(words[1:])}", flush=True)
        try:
            if words[0] == "boot":
                # which boot this is; 0 = one more than the suite wants
                self.boots += 1
                want = (len(self.boot_kernels()) if self.boot_kernels() else
                        int(self.suite_directive("boots", "1")))
                return self.boots if self.boots <= want else 0
            if words[0] == "hostctl":
                r = self.host.ctl(*words[1:])
                self.note(f"hostctl {' '.join(words[1:])} -> {r.returncode}\n"
                          f"{r.stdout}{r.stderr}")
                if self.args.show_host:
                    print(r.stdout + r.stderr, end="", flush=True)
                return r.returncode
            if words[0] in ("kill-worker", "restart-worker"):
                old = self.host.worker_pid()
                if not old:
                    return 1
                if words[0] == "kill-worker":
                    os.kill(old, signal.SIGKILL)
                    self.host.kills += 1
                else:
                    self.host.ctl("restart")
                return 0 if self.host.wait_new_worker(old) else 1
            if words[0] == "status-field":
                st = self.host.status()
                val = json_path(st, words[1])
                self.note(f"status {words[1]} = {val!r}")
                want = " ".join(words[2:])
                return 0 if str(val).lower() == want.lower() else 1
            if words[0] == "status-cmp":
                # status-cmp PATH OP VALUE, OP: eq ne lt le gt ge
                val = json_path(self.host.status(), words[1])
                op, want = words[2], " ".join(words[3:])
                self.note(f"status {words[1]} = {val!r}, want {op} {want}")
                if op in ("eq", "ne") and not re.fullmatch(r"-?\d+", want):
                    same = str(val).lower() == want.lower()
                    return 0 if same == (op == "eq") else 1
                a, b = float(val), float(want)
                ok = {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b,
                      "gt": a > b, "ge": a >= b}[op]
                return 0 if ok else 1
            if words[0].startswith("ram-"):
                return self.ram_action(words)
            if words[0] == "bench-balloon":
                return self.bench_balloon(*words[1:])
            if words[0] == "qemu-vnc-resize":
                return self.qemu_vnc_resize(*words[1:])
            if words[0] == "agent-bench":	# bench/run-agent.sh
                return self.agent_bench(words[1:])
            if words[0] == "status-min":
                val = json_path(self.host.status(), words[1])
                self.note(f"status {words[1]} = {val!r}, want >= {words[2]}")
                return 0 if int(val) >= int(words[2]) else 1
            if words[0] == "hostfs":
                return self.shares.action(words[1:])
            if words[0] == "share-add":	# NAME [ro]: a new directory
                path = self.shares.add(words[1], words[2:] == ["ro"])
                r = self.host.ctl("share", "add", words[1], path,
                                  *(["--ro"] if words[2:] == ["ro"] else []))
                self.note(f"share add -> {r.returncode} {r.stdout}{r.stderr}")
                return r.returncode
            if words[0] in ("vnc-check", "vnc-resize"):
                return self.vnc_action(words)
            if words[0] == "screenshot":
                return self.screenshot(words[1:])
            if words[0] in ("clip-set", "clip-check"):
                return self.clip_action(words)
            if words[0] in ("hostctl-bg", "bg-wait", "bg-expect"):
                return self.bg_action(words)
            if words[0] == "time-near":
                # time-near EPOCH TOLERANCE: the guest's clock is the host's
                diff = time.time() - float(words[1])
                self.note(f"time-near: guest {words[1]}, host - guest = {diff:.3f} s")
                return 0 if abs(diff) <= float(words[2]) else 1
            if words[0] == "guest-info":
                return self.guest_info(words[1], " ".join(words[2:]))
            if words[0] == "host-log":
                # does the host log contain a pattern (since the start)?
                with open(os.path.join(self.out, "pva-host.log")) as f:
                    return 0 if re.search(" ".join(words[1:]), f.read()) else 1
        except Exception as e:  # a failed action is a failed test, not a crash
            self.note(f"host action '{cmd}' failed: {e!r}")
            return 1
        self.note(f"unknown host action '{cmd}'")
        return 2

    def clip_action(self, words):
        """clip-set KIND [TYPE]: the host copies clipdata KIND (as TYPE);
        clip-check KIND [TYPE] [primary]: the host's clipboard (the
        guest's, when it copied last) is exactly KIND."""
        kind = words[1]
        typ = words[2] if len(words) > 2 and words[2] != "-" else None
        extra = ["--type", typ] if typ else []
        if "primary" in words[3:]:
            extra.append("--primary")
        want = clipdata.content(kind)
        if words[0] == "clip-set":
            r = self.host.ctl_bytes(["clipboard", "set"] + extra, want)
            self.note(f"clipboard set {kind} ({len(want)} bytes) -> "
                      f"{r.returncode} {r.stderr.decode(errors='replace')}")
            return r.returncode
        r = self.host.ctl_bytes(["clipboard", "get", "--timeout", "60"] + extra,
                                b"")
        got = r.stdout
        self.note(f"clipboard get {kind}: {r.returncode}, {len(got)} bytes, "
                  f"want {len(want)}; {r.stderr.decode(errors='replace')}")
        if r.returncode:
            return r.returncode
        if got != want:
            i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                     min(len(got), len(want)))
            self.note(f"clipboard {kind}: differs at byte {i}")
            return 1
        return 0

    def bg_action(self, words):
        """hostctl-bg NAME ARGS...: pva-hostctl ARGS in the background (it
        may outlive the guest: shutdown, reboot); bg-wait NAME RC SECONDS:
        it ended with RC; bg-expect NAME RC: it must, checked at the end
        of the run."""
        bg = self.__dict__.setdefault("bg", {})
        name = words[1]
        if words[0] == "hostctl-bg":
            res = {}

            def work():
                r = self.host.ctl(*words[2:])
                res["rc"], res["out"] = r.returncode, r.stdout + r.stderr
                self.note(f"background hostctl {' '.join(words[2:])} -> "
                          f"{r.returncode}: {res['out'].strip()}")
            t = threading.Thread(target=work, daemon=True)
            t.start()
            bg[name] = (t, res)
            return 0
        if name not in bg:
            return 2
        if words[0] == "bg-expect":
            self.__dict__.setdefault("bg_expect", {})[name] = int(words[2])
            return 0
        t, res = bg[name]
        t.join(float(words[3]) if len(words) > 3 else 60)
        return 0 if res.get("rc") == int(words[2]) else 1

    def check_bg(self):
        """The background commands a suite said must succeed."""
        for name, rc in self.__dict__.get("bg_expect", {}).items():
            t, res = self.bg[name]
            t.join(60)
            if res.get("rc") != rc:
                self.failures.append(f"background pva-hostctl '{name}': "
                                     f"exit {res.get('rc')}, want {rc}: "
                                     f"{res.get('out', '').strip()}")

    def guest_info(self, key, want):
        """guest-info KEY VALUE: pva-hostctl guest reports KEY as VALUE
        ('-' for absent)."""
        r = self.host.ctl("--json", "guest")
        try:
            info = json.loads(r.stdout).get("info", {})
        except ValueError:
            info = {}
        got = info.get(key, "-")
        self.note(f"guest info {key} = {got!r}, want {want!r}")
        return 0 if got == want else 1

    def screenshot(self, words):
        """screenshot HEAD NAME [fnv HEX] [nonblack MIN] [size WxH]
        [solid RRGGBB]: take a screenshot of HEAD into the log directory
        and check it."""
        head, name, checks = words[0], words[1], words[2:]
        path = os.path.join(self.out, name + ".png")
        r = self.host.ctl("--json", "display", "screenshot", "--head", head,
                          path)
        self.note(f"screenshot {head} {name} -> {r.returncode}\n{r.stdout}{r.stderr}")
        if self.args.show_host:
            print(f"host> screenshot of head {head}: {path}", flush=True)
        if r.returncode:
            return r.returncode
        ans = json.loads(r.stdout)
        w, h = png_size(path)	# the file itself must be a valid PNG
        if (w, h) != (ans["width"], ans["height"]):
            self.note(f"screenshot {name}: the PNG is {w}x{h}")
            return 1
        for what, want in zip(checks[::2], checks[1::2]):
            if what == "fnv" and ans["fnv"] != want:
                self.note(f"screenshot {name}: fnv {ans['fnv']}, want {want}")
                return 1
            if what == "nonblack" and ans["nonblack"] < int(want):
                self.note(f"screenshot {name}: {ans['nonblack']} pixels not black, want >= {want}")
                return 1
            if what == "size" and f"{w}x{h}" != want:
                self.note(f"screenshot {name}: {w}x{h}, want {want}")
                return 1
            if what == "solid" and ans["fnv"] != solid_fnv(int(want, 16), w * h):
                self.note(f"screenshot {name}: not every pixel is #{want} "
                          f"({ans['nonblack']} of {w * h} not black)")
                return 1
        return 0

    def ram_allocated(self):
        """Bytes of the guest's RAM file the host holds now."""
        return os.stat(self.ram_file).st_blocks * 512

    def ram_settle(self, limit):
        """Wait until the RAM the host holds stops changing (free page
        reporting works in batches, seconds apart on a loaded machine)."""
        end = time.monotonic() + limit
        last, still = self.ram_allocated(), 0
        while time.monotonic() < end:
            time.sleep(0.5)
            now = self.ram_allocated()
            still = still + 1 if abs(now - last) < (2 << 20) else 0
            last = now
            if still >= 6:
                self.note(f"ram settled at {now >> 20} MiB")
                return 0
        self.note(f"ram still changing after {limit:.0f} s ({last >> 20} MiB)")
        return 1

    def ram_action(self, words):
        """ram-settle [SECONDS]; ram-mark NAME;
        ram-dropped|ram-grown|ram-growth-max NAME MIB."""
        if words[0] == "ram-settle":
            return self.ram_settle(float(words[1]) if len(words) > 1 else 30)
        now = self.ram_allocated()
        if words[0] == "ram-mark":
            self.ram_marks[words[1]] = now
            self.note(f"ram mark {words[1]}: {now >> 20} MiB allocated")
            return 0
        mark, mib = self.ram_marks[words[1]], int(words[2])
        delta = (now - mark) / (1 << 20)
        self.note(f"ram {words[0]} {words[1]}: {mark >> 20} -> {now >> 20} MiB "
                  f"({delta:+.1f}), limit {mib}")
        if words[0] == "ram-dropped":
            return 0 if -delta >= mib else 1
        if words[0] == "ram-grown":
            return 0 if delta >= mib else 1
        if words[0] == "ram-growth-max":
            return 0 if delta <= mib else 1
        return 2

    def hmp(self, command):
        """One QEMU monitor command; its output."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.monitor_path)
        out = b""
        while b"(qemu)" not in out:
            out += s.recv(4096)
        s.sendall(command.encode() + b"\n")
        out = b""
        while out.count(b"(qemu)") < 1:
            out += s.recv(4096)
        s.close()
        return out.decode(errors="replace")

    def balloon_actual(self, transport):
        """Bytes in the balloon now, as the host sees it."""
        if transport == "pva":
            st = self.host.request({"cmd": "balloon-status"})
            return st["actual"]
        m = re.search(r"actual=(\d+)", self.hmp("info balloon"))
        # QEMU reports the guest's memory, not the balloon's size
        return (self.args.mem - int(m.group(1))) << 20

    def bench_balloon(self, label, transport, mib):
        """Take the balloon (pva or virtio) to MIB MiB, timed on the host,
        and measure what the RAM file gave back; one line of results."""
        mib, want = int(mib), int(mib) << 20
        before, start = self.ram_allocated(), self.balloon_actual(transport)
        t0 = time.time()
        if transport == "pva":
            self.host.request({"cmd": "balloon-set", "size": want})
        else:
            self.hmp(f"balloon {self.args.mem - mib}")
        while self.balloon_actual(transport) != want:
            if time.time() - t0 > 180:
                self.note(f"bench-balloon {label} {transport}: timed out")
                return 1
            time.sleep(0.002)
        secs = time.time() - t0
        returned = (before - self.ram_allocated()) / (1 << 20)
        line = (f"BENCH-BALLOON {label} {transport} moved_mib={abs(want - start) >> 20} "
                f"seconds={secs:.3f} returned_mib={returned:.1f}")
        self.note(line)
        print(line, flush=True)
        with open(os.path.join(self.out, "balloon-bench.txt"), "a") as f:
            f.write(line + "\n")
        return 0

    def qemu_vnc_resize(self, w, h):
        """qemu-vnc-resize W H: ask QEMU's own VNC server (a '-vnc
        unix:PATH,...' QEMU argument of the run) for a W x H desktop with
        RFB SetDesktopSize, as a viewer does when its window is resized;
        QEMU passes it to the display device (virtio-gpu: the guest's
        preferred mode). One connection for the whole run, set up at the
        first request; answers once QEMU has replied to the request."""
        import struct
        w, h = int(w), int(h)
        s = getattr(self, "qemu_vnc", None)

        def read(n):
            buf = b""
            while len(buf) < n:
                chunk = s.recv(n - len(buf))
                if not chunk:
                    raise ConnectionError("QEMU's VNC server hung up")
                buf += chunk
            return buf

        if s is None:
            args = self.args.qemu_extra + self.args.qemu_arg
            path = args[args.index("-vnc") + 1].split(",")[0]
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(path.removeprefix("unix:"))
            read(12)
            s.sendall(b"RFB 003.008\n")
            if 1 not in read(read(1)[0]):
                raise ValueError("QEMU's VNC server wants authentication")
            s.sendall(b"\x01")			# security: None
            if read(4) != bytes(4):
                raise ValueError("VNC security handshake failed")
            s.sendall(b"\x01")			# ClientInit: shared
            read(20)				# ServerInit: size, format
            read(struct.unpack(">I", read(4))[0])	# name
            # SetEncodings: ExtendedDesktopSize, which SetDesktopSize needs
            s.sendall(struct.pack(">BxHi", 2, 1, -308))
            self.qemu_vnc = s
        s.setblocking(False)			# drop what the server sent
        try:					# since (size changes)
            while s.recv(65536):
                pass
        except BlockingIOError:
            pass
        s.settimeout(10)
        s.sendall(struct.pack(">BxHHBxIHHHHI", 251, w, h, 1, 0, 0, 0, w, h, 0))
        while True:				# until the answer to it
            kind = read(1)[0]
            if kind != 0:
                raise ValueError(f"unexpected VNC server message {kind}")
            n = struct.unpack(">xH", read(3))[0]
            for _ in range(n):
                x, y, _, _, enc = struct.unpack(">HHHHi", read(12))
                if enc != -308:
                    raise ValueError(f"unexpected VNC encoding {enc}")
                read(16 * read(4)[0])
                if x == 1:			# the answer; y: its status
                    self.note(f"qemu-vnc-resize {w}x{h}: status {y}")
                    return 0 if y in (0, 4) else 1	# 4: forwarded

    # ---- the desktop-agent benchmark (bench/run-agent.sh) ----

    def agent_bench(self, words):
        """agent-bench clip|vport SIZE ROUND: SIZE bytes of UTF-8 text
        host -> guest -> host, timed here, checked byte for byte. clip:
        the host copies (clipboard-set), the guest's clip-echo pastes and
        copies it back, the host sees the guest's grab (clipboard-watch)
        and pastes (clipboard-get). vport: the same bytes through the
        virtserialport whose chardev is the run's '-chardev
        socket,id=agentvp,path=P,server=on' (the guest echoes them).
        agent-bench vport-connect: connect to that socket (first).
        agent-bench resize W H ROUND: display-resize, then wait until the
        session's DISPLAY_STATE for that layout is on the host. Requests go
        straight to pva-host's control socket (no pva-hostctl process in
        the timed path). One "AGENTBENCH ..." line per measurement in
        agent-bench.txt; any mismatch or timeout fails the action."""
        import selectors
        mime = "text/plain;charset=utf-8"
        st = self.__dict__.setdefault("agent_bench_state", {})
        ctl_path = os.path.join(self.host.rundir, "ctl.sock")

        def call(req, fd=None):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(60)
            buf = b""
            try:
                s.connect(ctl_path)
                line = json.dumps(req).encode() + b"\n"
                if fd is None:
                    s.sendall(line)
                else:	# the content's memfd comes with the request
                    socket.send_fds(s, [line], [fd])
                while not buf.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            finally:
                s.close()
            ans = json.loads(buf)
            if not ans.get("ok"):
                raise RuntimeError(f"{req['cmd']}: {ans.get('error')}")
            return ans

        def text(size, rnd):
            # numbered lines, so a lost, doubled or moved chunk shows
            key = (size, rnd)
            if st.get("text_key") != key:
                head = f"pva agent bench: round {rnd}, {size} bytes\n"
                lines = (f"{i:07d} Grüße aus dem Host, ünïcödé ✓ €: the quick "
                         f"brown fox jumps over the lazy dog\n"
                         for i in range(size // 64 + 2))
                b = (head + "".join(lines)).encode()[:size]
                b = b.decode("utf-8", "ignore").encode()	# whole characters
                st["text"], st["text_key"] = b + b"." * (size - len(b)), key
            return st["text"]

        def memfd(data=b""):
            fd = os.memfd_create("pva-agentbench", os.MFD_CLOEXEC)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            return fd

        def read_fd(fd, limit):
            out, off = bytearray(), 0
            while True:
                chunk = os.pread(fd, limit + 1 - off, off)
                if not chunk:
                    return bytes(out)
                out += chunk
                off += len(chunk)

        def differ(got, want, what):
            if got == want:
                return
            i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                     min(len(got), len(want)))
            raise RuntimeError(f"{what}: {len(got)} bytes came back for "
                               f"{len(want)}, first difference at byte {i}")

        def watch_event(deadline):
            """The next event of the run's clipboard-watch."""
            w = st["watch"]
            while b"\n" not in w["buf"]:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no clipboard event in time")
                w["sock"].settimeout(left)
                chunk = w["sock"].recv(65536)
                if not chunk:
                    raise ConnectionError("pva-host closed clipboard-watch")
                w["buf"] += chunk
            line, w["buf"] = w["buf"].split(b"\n", 1)
            return json.loads(line)

        def result(line):
            self.note(line)
            with open(os.path.join(self.out, "agent-bench.txt"), "a") as f:
                f.write(line + "\n")
            return 0

        what = words[0]
        if what == "clip":
            size, rnd = int(words[1]), int(words[2])
            want = text(size, rnd)
            if "watch" not in st:	# one watch for the run, set up untimed
                ws = socket.socket(socket.AF_UNIX)
                ws.connect(ctl_path)
                ws.sendall(b'{"cmd": "clipboard-watch"}\n')
                st["watch"] = {"sock": ws, "buf": b""}
                while watch_event(time.monotonic() + 10).get("selection") != "primary":
                    pass	# the state it starts with: agent, clipboard, primary
            sfd, gfd = memfd(want), memfd()
            try:
                t0 = time.monotonic()
                ans = call({"cmd": "clipboard-set", "type": mime}, sfd)
                t_set = time.monotonic()
                if ans["owner"] != "host" or not ans.get("guest_agent"):
                    raise RuntimeError(f"clipboard-set: {ans}")
                seen = ans["guest_serial"]
                deadline = t0 + 30
                while True:	# earlier events (older serials) pass by
                    ev = watch_event(deadline)
                    if ev.get("event") == "agent" and not ev.get("connected"):
                        raise RuntimeError("the guest's agent went away")
                    if ev.get("event") == "owner" and \
                            ev.get("selection") == "clipboard" and \
                            ev.get("owner") == "guest" and \
                            ev.get("guest_serial", 0) > seen:
                        break
                t_grab = time.monotonic()
                if mime not in ev.get("types", []):
                    raise RuntimeError(f"the guest offers {ev.get('types')}")
                ans = call({"cmd": "clipboard-get", "type": mime,
                            "timeout_ms": 30000}, gfd)
                got = read_fd(gfd, size)
                t1 = time.monotonic()
            finally:
                os.close(sfd)
                os.close(gfd)
            if ans.get("owner") != "guest":
                raise RuntimeError(f"clipboard-get answered from {ans.get('owner')}")
            differ(got, want, f"clipboard {size} round {rnd}")
            return result(
                f"AGENTBENCH clip size={size} round={rnd} ms={(t1 - t0) * 1e3:.3f} "
                f"set_ms={(t_set - t0) * 1e3:.3f} grab_ms={(t_grab - t0) * 1e3:.3f} "
                f"get_ms={(t1 - t_grab) * 1e3:.3f}")
        if what == "vport-connect":	# before the guest opens its end
            args = self.args.qemu_extra + self.args.qemu_arg
            spec = next(a for a in args if a.startswith("socket,") and
                        "id=agentvp" in a.split(","))
            path = next(o[5:] for o in spec.split(",") if o.startswith("path="))
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.setblocking(False)
            st["vport"] = s
            return 0
        if what == "vport":
            size, rnd = int(words[1]), int(words[2])
            want = text(size, rnd)
            s = st["vport"]
            try:	# nothing may be left over from the last round
                stray = s.recv(65536)
                raise RuntimeError(f"vport: {len(stray)} stray bytes"
                                   if stray else "vport: QEMU closed the port")
            except BlockingIOError:
                pass
            view, got, sent = memoryview(want), bytearray(), 0
            sel = selectors.DefaultSelector()
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            try:
                t0 = time.monotonic()
                while len(got) < size:	# send and echo overlap
                    left = t0 + 30 - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"vport: {len(got)} of {size} bytes "
                                           f"back after 30 s")
                    for _, mask in sel.select(left):
                        if mask & selectors.EVENT_WRITE and sent < size:
                            try:
                                sent += s.send(view[sent:sent + 65536])
                            except BlockingIOError:
                                pass
                            if sent == size:
                                sel.modify(s, selectors.EVENT_READ)
                        if mask & selectors.EVENT_READ:
                            try:
                                chunk = s.recv(1 << 20)
                            except BlockingIOError:
                                continue
                            if not chunk:
                                raise ConnectionError("vport: QEMU closed the port")
                            got += chunk
                t1 = time.monotonic()
            finally:
                sel.close()
            differ(bytes(got), want, f"vport {size} round {rnd}")
            return result(f"AGENTBENCH vport size={size} round={rnd} "
                          f"ms={(t1 - t0) * 1e3:.3f}")
        if what == "resize":
            w, h, rnd = int(words[1]), int(words[2]), int(words[3])
            # pva-host stamps DISPLAY_STATE with CLOCK_REALTIME
            t0 = time.time()
            ans = call({"cmd": "display-resize", "width": w, "height": h})
            t_ans = time.time()
            gen = ans["generation"]
            while True:	# its own time stamp times it, not this loop
                sess = call({"cmd": "display-heads"}).get("session", {})
                if sess.get("generation") == gen:
                    break
                if time.time() > t0 + 30:
                    raise TimeoutError(f"no DISPLAY_STATE for layout {gen}")
                time.sleep(0.005)
            head = (sess.get("heads") or [{}])[0]
            if sess.get("status") != 0 or (head.get("width"), head.get("height")) != (w, h):
                raise RuntimeError(f"the session shows {sess} for {w}x{h}")
            return result(
                f"AGENTBENCH resize size={w}x{h} round={rnd} "
                f"state_ms={(sess['time'] - t0) * 1e3:.3f} "
                f"answer_ms={(t_ans - t0) * 1e3:.3f}")
        raise ValueError(f"agent-bench: unknown measurement {what!r}")

    def note(self, text):
        with open(os.path.join(self.out, "harness.log"), "a") as f:
            f.write(text.rstrip() + "\n")

    # ---- the run ----

    def run_qemu(self, cmd, console, deadline, start):
        """One QEMU process, until it exits: the console logged and
        scanned, the guest's host requests answered. True if it timed out."""
        self.note("qemu: " + " ".join(cmd))
        qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, bufsize=0)
        timer = threading.Timer(max(1, deadline - time.time()), qemu.kill)
        timer.start()
        buf = b""
        try:
            while True:
                chunk = qemu.stdout.read1(4096) if hasattr(qemu.stdout, "read1") \
                    else os.read(qemu.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    self.console_line(raw.decode("utf-8", "replace").rstrip("\r"),
                                      console, qemu, start)
        finally:
            timed_out = not timer.is_alive() and not self.done
            timer.cancel()
            try:
                qemu.wait(30)
            except subprocess.TimeoutExpired:
                qemu.kill()
        return timed_out

    def console_line(self, line, console, qemu, start):
        console.write(line + "\n")
        console.flush()
        if self.args.show_console and not self.in_dmesg and \
                "PVA-DMESG-BEGIN" not in line and "PVA-HOST" not in line:
            print(f"guest| {line}", flush=True)
        if "PVA-BOOTED" in line:
            self.booted = True
            self.note(f"booted after {time.time() - start:.1f} s")
        if "PVA-DMESG-BEGIN" in line:
            self.in_dmesg = True
            return
        if "PVA-DMESG-END" in line:
            self.in_dmesg = False
        if self.in_dmesg:
            self.dmesg.append(line)
            return
        if "PVA-DONE" in line:
            self.done = True
        m = re.search(r"PVA-RESULT: ([\w-]+) (PASS|FAIL|SKIP)(.*)", line)
        if m:
            self.results[m.group(1)] = (m.group(2), m.group(3).strip())
            print(f"  {self.arch}: {m.group(2):4} {m.group(1)} {m.group(3).strip()}",
                  flush=True)
        if "PVA-HOST: " in line and not line.lstrip().startswith("echo"):
            answer = self.host_request(line)
            qemu.stdin.write(f"{answer}\n".encode())
            qemu.stdin.flush()

    def run(self):
        if self.systemd_init() and self.arch != "x86_64":
            return self.skip_hostroot()
        if self.hostroot() and not os.path.isdir(self.root_dir()):
            print(f"  {self.arch}: no {self.root_dir()}: run scripts/setup.sh")
            return 1
        initrd = self.build_initramfs()
        rundir = os.path.join(self.tmp, "run")
        os.makedirs(rundir)
        mem = self.suite_directive("mem")
        if mem:
            self.args.mem = max(self.args.mem, int(mem))
        with open(self.ram_file, "wb") as f:
            f.truncate(self.args.mem << 20)
        layout = "q35" if self.arch == "x86_64" else "virt"
        self.shares = Shares(self.tmp, self.suite_directive("shares"),
                             self.note)
        self.host = Host(self.args.host, self.args.hostctl, rundir,
                         os.path.join(self.out, "pva-host.log"),
                         ["--guest-ram", self.ram_file, "--ram-layout", layout] +
                         self.shares.host_args() + self.suite_host_args() +
                         self.args.host_args)
        console = open(os.path.join(self.out, "console.log"), "w")
        # the kernel of each QEMU run: one, or a list ('vmtest-kernels')
        kvers = self.boot_kernels() or [self.args.kver]
        initrds = {self.args.kver: initrd}
        for k in kvers:
            if k not in initrds:
                initrds[k] = self.build_initramfs(k)
        if self.disk_mb():
            self.disk = os.path.join(self.tmp, "disk.img")
            with open(self.disk, "wb") as f:
                f.truncate(self.disk_mb() << 20)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0",
                            self.disk], check=True)
        self.dmesg, self.in_dmesg, self.done, self.booted = [], False, False, False
        start = time.time()
        deadline = start + self.args.timeout
        timed_out = False
        try:
            for run, kver in enumerate(kvers):
                if run:
                    # the guest rebooted: the next kernel, the same disk
                    self.note(f"QEMU run {run + 1}: kernel {kver}")
                    print(f"  {self.arch}: boot {run + 1}, kernel {kver}",
                          flush=True)
                timed_out = self.run_qemu(
                    self.qemu_cmd(initrds[kver], os.path.join(rundir, "qemu.sock"),
                                  kver), console, deadline, start)
                if self.done or timed_out:
                    break
            self.check_bg()
        finally:
            console.close()
            host_rc = self.host.stop()
        dmesg, done, booted = self.dmesg, self.done, self.booted

        if not booted:
            self.failures.append("the guest did not boot")
        if timed_out:
            self.failures.append(f"timed out after {self.args.timeout} s")
        if not done:
            self.failures.append("the guest did not finish the suite")
        for name in self.expected:
            if name not in self.results:
                self.failures.append(f"{name}: no result")
        for name, (res, why) in self.results.items():
            if res == "FAIL":
                self.failures.append(f"{name}: {why}")
        with open(os.path.join(self.out, "console.log")) as f:
            console_lines = f.read().splitlines()
        if any("PVA-UNEXPECTED-BOOT" in l for l in console_lines):
            self.failures.append("the guest rebooted unexpectedly (panic?)")
        bad = [l for l in dmesg + console_lines if BAD_KERNEL.search(l)]
        if bad:
            self.failures.append("guest kernel log has errors:\n    " +
                                 "\n    ".join(bad[:20]))
        with open(os.path.join(self.out, "dmesg.log"), "w") as f:
            f.write("\n".join(dmesg) + "\n")
        with open(os.path.join(self.out, "pva-host.log")) as f:
            hostlog = f.read()
        crashes = re.findall(r"worker killed by signal (\d+)", hostlog)
        unexpected = [s for s in crashes if s != "9"]
        if unexpected or len(crashes) > self.host.kills:
            self.failures.append(f"pva-host worker crashed (signals {crashes}, "
                                 f"{self.host.kills} kills by the harness)")
        if "ERROR: AddressSanitizer" in hostlog or "runtime error:" in hostlog:
            self.failures.append("pva-host sanitizer report (see pva-host.log)")
        if host_rc not in (0, None):
            self.failures.append(f"pva-host exited with status {host_rc}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        if os.path.exists(self.ram_file):
            os.unlink(self.ram_file)
        passed = sum(1 for r, _ in self.results.values() if r == "PASS")
        failed = sum(1 for r, _ in self.results.values() if r == "FAIL")
        skipped = sum(1 for r, _ in self.results.values() if r == "SKIP")
        for f in self.failures:
            print(f"  {self.arch}: FAIL {f}")
        print(f"vm-test {self.arch} {self.args.kver}: {passed} passed, "
              f"{failed} failed, {skipped} skipped, "
              f"{len(self.failures)} problems, {time.time() - start:.0f} s "
              f"(logs in {os.path.relpath(self.out, ROOT)})")
        return 0 if not self.failures else 1


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--arch", default="x86_64", choices=["x86_64", "arm64"])
    p.add_argument("--kver", default="6.1", choices=["6.1", "6.12"])
    p.add_argument("--suite", default="spine.sh",
                   help="the guest suite: a file in tests/vm, or a path")
    p.add_argument("--host", default=os.path.join(ROOT, "build", "host-asan", "pva-host"))
    p.add_argument("--hostctl", default=os.path.join(ROOT, "build", "host", "pva-hostctl"))
    p.add_argument("--host-args", nargs="*", default=[])
    p.add_argument("--mem", type=int, default=512)
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--vectors", type=int, default=8)
    p.add_argument("--timeout", type=int, default=900)
    p.add_argument("--append", default="")
    p.add_argument("--show-host", action="store_true",
                   help="print host actions and their output (demo)")
    p.add_argument("--monitor", action="store_true",
                   help="a QEMU monitor for host actions (benchmarks)")
    p.add_argument("--show-console", action="store_true",
                   help="print the guest console (demo)")
    p.add_argument("--qemu-extra", nargs="*", default=[])
    p.add_argument("--qemu-arg", action="append", default=[],
                   help="one more QEMU argument; repeat it, and write "
                        "--qemu-arg=-device for ones that start with '-'")
    p.add_argument("--modules", nargs="*", default=[],
                   help="guest kernel modules to load (with dependencies) "
                        "before the suite")
    p.add_argument("--hostroot", action="store_true",
                   help="run the suite in the host's root over 9p (x86_64; "
                        "also '# vmtest-hostroot: yes' in the suite)")
    p.add_argument("--guest-prog", action="append", default=[],
                   help="one more program for the guest's /bin; repeat it")
    p.add_argument("--out", help="log directory (default "
                   "build/vm-test/ARCH-KVER)")
    args = p.parse_args()
    if not os.path.exists(args.host):
        args.host = os.path.join(ROOT, "build", "host", "pva-host")
    return Run(args).run()


if __name__ == "__main__":
    sys.exit(main())
