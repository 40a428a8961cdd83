#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the transport benchmark's guest console log into the results table.

Reads the "PVA-BENCH: TRANSPORT METRIC REP key=value..." lines that
bench/guest/bench.sh prints, takes the median over the repetitions of
every figure, and prints a table (pva, virtio-serial, their ratio and the
target) on stdout and as markdown to OUT.md.

Usage: report.py CONSOLE_LOG OUT.md [DESCRIPTION]
"""
import re
import statistics
import sys

# (metric, key, label, unit, lower is better, target ratio or None[,
# virtio-serial's metric to compare with, when it has no such mode])
ROWS = [
    ("rtt_64", "rtt_median_us", "round trip 64 B, median", "us", True, 0.5),
    ("rtt_64", "rtt_p99_us", "round trip 64 B, p99", "us", True, None),
    ("rtt_64k", "rtt_median_us", "round trip 64 KiB, median", "us", True, 0.5),
    ("rtt_64k", "rtt_p99_us", "round trip 64 KiB, p99", "us", True, None),
    ("g2h_64", "g2h_mib_s", "guest->host 64 B msgs", "MiB/s", False, 2.0),
    ("g2h_64k", "g2h_mib_s", "guest->host 64 KiB msgs", "MiB/s", False, 2.0),
    ("h2g_64", "h2g_mib_s", "host->guest 64 B msgs", "MiB/s", False, 2.0),
    ("h2g_64k", "h2g_mib_s", "host->guest 64 KiB msgs", "MiB/s", False, 2.0),
    # pva's batch mode (many messages per system call); virtio-serial has
    # no message boundaries, so it is compared with its 64 B figures
    ("g2h_64b", "g2h_mib_s", "guest->host 64 B msgs, pva batch mode", "MiB/s",
     False, 2.0, "g2h_64"),
    ("h2g_64b", "h2g_mib_s", "host->guest 64 B msgs, pva batch mode", "MiB/s",
     False, 2.0, "h2g_64"),
]
TRANSPORTS = ("pva", "virtio-serial")


def parse(path):
    """{(transport, metric, key): [value per repetition]}"""
    vals = {}
    line_re = re.compile(r"PVA-BENCH: (\S+) (\S+) (\d+) (.*)")
    with open(path, errors="replace") as f:
        for line in f:
            m = line_re.search(line)
            if not m:
                continue
            for k, v in re.findall(r"(\w+)=([\d.]+)", m.group(4)):
                vals.setdefault((m.group(1), m.group(2), k), []).append(float(v))
    return vals


def fmt(v):
    return "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def table(vals):
    rows = []
    for metric, key, label, unit, lower, target, *peer in ROWS:
        med, rng, n = {}, {}, {}
        for t in TRANSPORTS:
            m = peer[0] if peer and t == "virtio-serial" else metric
            xs = vals.get((t, m, key), [])
            med[t] = statistics.median(xs) if xs else None
            rng[t] = f"{fmt(min(xs))}-{fmt(max(xs))}" if xs else "-"
            n[t] = len(xs)
        a, b = med["pva"], med["virtio-serial"]
        ratio = a / b if a is not None and b else None
        if target is None or ratio is None:
            goal = "-"
        else:
            met = ratio <= target if lower else ratio >= target
            goal = f"{'<=' if lower else '>='} {target:g}x: " + \
                   ("met" if met else "NOT met")
        rows.append([label, unit, fmt(a), fmt(b),
                     "-" if ratio is None else f"{ratio:.2f}",
                     "lower" if lower else "higher", goal, rng["pva"],
                     rng["virtio-serial"], f"{n['pva']}/{n['virtio-serial']}"])
    return rows


HEAD = ["metric", "unit", "pva median", "virtio-serial median",
        "ratio pva/v-s", "better", "target", "pva range", "v-s range", "n"]


def main():
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) > 1 else 2
    vals = parse(sys.argv[1])
    if not vals:
        print(f"report: no PVA-BENCH lines in {sys.argv[1]}", file=sys.stderr)
        return 1
    rows = table(vals)
    widths = [max(len(r[i]) for r in rows + [HEAD]) for i in range(len(HEAD))]
    for r in [HEAD] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    with open(sys.argv[2], "w") as f:
        if len(sys.argv) > 3:
            f.write(f"Transport benchmark: {sys.argv[3]}.\n\n")
        f.write("| " + " | ".join(HEAD) + " |\n")
        f.write("|" + "---|" * len(HEAD) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write("\nRatio = pva / virtio-serial; round trips: lower is better, "
                "throughput: higher is better. Medians and ranges over the "
                "repetitions; n = repetitions measured (pva/virtio-serial).\n")
    incomplete = any(r[-1] == "0/0" or "0" in r[-1].split("/") for r in rows)
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
