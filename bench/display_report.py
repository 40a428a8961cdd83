#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tables of the display benchmark (bench/run-display.sh): full-screen
update throughput of pva_drm, bochs-display and virtio-gpu (median frames/s
over the rounds of bench/display-bench.sh, ratio pva/peer: above 1, pva is
faster) and the time from a host-side resize to the new mode in the guest
(median ms, ratio peer/pva: above 1, pva is faster).

Usage: display_report.py [--out OUT.md] [--note NOTE] CONSOLE_LOG
Reads the guest console's "DISPBENCH: DRIVER ROUND flip|dirty FPS" lines,
its DISPBENCH-NA/-SKIP/-FAIL lines, and the guest kernel log lines the
suite printed ("DISPBENCH-K: [ SECONDS] dispbench: req|ack|seen DRIVER I
WxH" marks and DRM's "generating hotplug event"); writes markdown to
stdout and to OUT.md.
"""
import argparse
import re
import statistics
import sys

DRIVERS = ["pva", "bochs", "virtio-gpu"]
PEERS = DRIVERS[1:]
MODES = {
    "flip": "page flip: draw the back buffer, PAGE_FLIP, wait for the event",
    "dirty": "front buffer + DIRTYFB (one clip, the whole screen; Xorg's way)",
}
LATENCIES = {
    "hotplug": "host request → the driver's hotplug event",
    "seen": "host request → a client's probe shows the new preferred mode",
    "ack": "host request → the host's answer back (console round trip, for scale)",
}
FPS = re.compile(r"DISPBENCH: (\S+) (\d+) (flip|dirty) ([0-9.]+)")
NA = re.compile(r"DISPBENCH-NA: (\S+) (\d+) (flip|dirty) (.*)")
OTHER = re.compile(r"DISPBENCH-(SKIP|FAIL): (.*)")
KMARK = re.compile(r"DISPBENCH-K: \[\s*([0-9.]+)\] dispbench: (req|ack|seen|fail) (\S+) (\d+) (\S+)")
KHOTPLUG = re.compile(r"DISPBENCH-K: \[\s*([0-9.]+)\] .*generating hotplug event")
WAIT = re.compile(r"DISPBENCH-WAIT: (\S+) (\d+) (\S+) (\d+)")


def fmt(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(vals):
    if not vals:
        return "–"
    m = statistics.median(vals)
    if len(vals) == 1:
        return f"**{fmt(m)}**"
    return f"**{fmt(m)}** ({fmt(min(vals))}–{fmt(max(vals))})"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out")
    p.add_argument("--note", default="")
    p.add_argument("log")
    args = p.parse_args()
    with open(args.log, errors="replace") as f:
        lines = f.read().splitlines()

    fps = {}		# (driver, mode) -> [fps]
    na = {}		# (driver, mode) -> reason
    notes = []
    marks = []		# (t, kind, driver, index, size)
    hotplugs = []	# t
    waits = {}		# (driver, index) -> ms of wait-preferred
    for line in lines:
        m = FPS.search(line)
        if m:
            fps.setdefault((m.group(1), m.group(3)), []).append(float(m.group(4)))
            continue
        m = NA.search(line)
        if m:
            na[(m.group(1), m.group(3))] = m.group(4).strip()
            continue
        m = KMARK.search(line)
        if m:
            marks.append((float(m.group(1)), m.group(2), m.group(3),
                          int(m.group(4)), m.group(5)))
            continue
        m = KHOTPLUG.search(line)
        if m:
            hotplugs.append(float(m.group(1)))
            continue
        m = WAIT.search(line)
        if m:
            waits[(m.group(1), int(m.group(2)))] = int(m.group(4))
            continue
        m = OTHER.search(line)
        if m and not line.lstrip().startswith("echo"):
            notes.append(f"{m.group(1).lower()}: {m.group(2).strip()}")
    done = any("PVA-DONE" in l for l in lines)

    # resizes: each request's marks, and the first hotplug event after it
    # (before the next request); index 0 is a warm-up
    lat = {}		# (driver, metric) -> [ms]
    marks.sort()
    reqs = [i for i, mk in enumerate(marks) if mk[1] == "req"]
    for n, i in enumerate(reqs):
        t0, _, drv, idx, size = marks[i]
        t_next = marks[reqs[n + 1]][0] if n + 1 < len(reqs) else float("inf")
        if idx == 0:
            continue
        for t, kind, d, j, _ in marks[i + 1:]:
            if t >= t_next:
                break
            if (d, j) == (drv, idx) and kind in ("ack", "seen"):
                lat.setdefault((drv, kind), []).append((t - t0) * 1000)
        hp = [t for t in hotplugs if t0 < t < t_next]
        if hp:
            lat.setdefault((drv, "hotplug"), []).append((hp[0] - t0) * 1000)
        else:
            notes.append(f"{drv} resize {idx} to {size}: no hotplug event")
    first_probe = {}	# driver -> resizes seen at wait-preferred's first probe
    for (drv, idx), ms in waits.items():
        if idx:
            first_probe.setdefault(drv, [0, 0])
            first_probe[drv][1] += 1
            first_probe[drv][0] += ms < 50	# it polls every 100 ms

    out = []
    if args.note:
        out.append(f"_{args.note}_\n")
    if not done:
        out.append("**The guest did not finish: the figures below are partial.**\n")
    drivers = [d for d in DRIVERS if any(k[0] == d for k in fps) or
               any(k[0] == d for k in na)]
    peers = [d for d in PEERS if d in drivers]
    out.append("Full-screen updates, frames/s (median of the rounds, min–max); "
               "ratio pva/peer: above 1, pva is faster.\n")
    out.append("| update | " + " | ".join(drivers) + " | " +
               " | ".join(f"pva/{d}" for d in peers) + " |")
    out.append("|---" * (1 + len(drivers) + len(peers)) + "|")
    for mode, label in MODES.items():
        row = [label]
        for d in drivers:
            row.append(cell(fps.get((d, mode), [])) if (d, mode) not in na
                       else f"n/a: {na[(d, mode)]}")
        for d in peers:
            a, b = fps.get(("pva", mode)), fps.get((d, mode))
            row.append(f"{statistics.median(a) / statistics.median(b):.2f}x"
                       if a and b else "–")
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    ldrivers = [d for d in DRIVERS if any(k[0] == d for k in lat)]
    lpeers = [d for d in PEERS if d in ldrivers]
    if ldrivers:
        n = {d: len(lat.get((d, "hotplug"), [])) for d in ldrivers}
        out.append("Resize, host request → guest, ms (median, min–max; guest "
                   "kernel log clock); ratio peer/pva: above 1, pva is "
                   "faster. n = " + ", ".join(f"{d} {n[d]}" for d in ldrivers) +
                   ".\n")
        out.append("| interval | " + " | ".join(ldrivers) + " | " +
                   " | ".join(f"{d}/pva" for d in lpeers) + " |")
        out.append("|---" * (1 + len(ldrivers) + len(lpeers)) + "|")
        for metric, label in LATENCIES.items():
            row = [label]
            for d in ldrivers:
                row.append(cell(lat.get((d, metric), [])))
            for d in lpeers:
                a, b = lat.get(("pva", metric)), lat.get((d, metric))
                row.append(f"{statistics.median(b) / statistics.median(a):.2f}x"
                           if a and b else "–")
            out.append("| " + " | ".join(row) + " |")
        out.append("")
        if first_probe:
            out.append("New mode already there at wait-preferred's first probe "
                       "(it starts when the host's answer is back, then polls "
                       "every 100 ms): " +
                       ", ".join(f"{d} {v[0]} of {v[1]}"
                                 for d, v in first_probe.items()) + ".\n")
    for n in notes:
        out.append(f"- {n}")
    text = "\n".join(out).rstrip() + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    ok = done and not any(n.startswith("fail") for n in notes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
