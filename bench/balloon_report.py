#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the balloon benchmark's result lines into a table.

Reads "BENCH-BALLOON LABEL TRANSPORT moved_mib=N seconds=S returned_mib=R"
lines (tests/vm/vmtest.py bench-balloon), and prints, per direction, the
median rate (MiB/s) of pva and virtio-balloon, their ratio, and the median
fraction of an inflate's memory that the host's RAM file gave back.

Usage: balloon_report.py RESULTS.txt OUT.md [DESCRIPTION]
"""
import re
import statistics
import sys


def main():
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) > 1 else 2
    runs = {}
    with open(sys.argv[1]) as f:
        for line in f:
            m = re.match(r"BENCH-BALLOON (\w+)-\d+ (\w+) moved_mib=(\d+) "
                         r"seconds=([\d.]+) returned_mib=(-?[\d.]+)", line)
            if m:
                runs.setdefault((m.group(1), m.group(2)), []).append(
                    (int(m.group(3)), float(m.group(4)), float(m.group(5))))
    if not runs:
        print("balloon_report: no results", file=sys.stderr)
        return 1
    head = ["metric", "pva", "virtio-balloon", "ratio pva/virtio", "target",
            "pva range", "virtio range", "n"]
    rows = []
    for d in ("inflate", "deflate"):
        rate = {t: [mib / s for mib, s, _ in runs.get((d, t), [])]
                for t in ("pva", "virtio")}
        med = {t: statistics.median(v) if v else None for t, v in rate.items()}
        ratio = med["pva"] / med["virtio"] if med["pva"] and med["virtio"] else None
        rows.append([f"{d} rate (MiB/s)", f"{med['pva']:.0f}" if med["pva"] else "-",
                     f"{med['virtio']:.0f}" if med["virtio"] else "-",
                     f"{ratio:.2f}" if ratio else "-",
                     (">= 1x: " + ("met" if ratio and ratio >= 1 else "NOT met")),
                     "-".join(f"{x:.0f}" for x in (min(rate['pva']), max(rate['pva'])))
                     if rate["pva"] else "-",
                     "-".join(f"{x:.0f}" for x in (min(rate['virtio']), max(rate['virtio'])))
                     if rate["virtio"] else "-",
                     f"{len(rate['pva'])}/{len(rate['virtio'])}"])
    frac = {t: [100 * r / mib for mib, _, r in runs.get(("inflate", t), [])]
            for t in ("pva", "virtio")}
    fm = {t: statistics.median(v) if v else None for t, v in frac.items()}
    rows.append(["inflate: memory returned to the host (%)",
                 f"{fm['pva']:.1f}" if fm["pva"] is not None else "-",
                 f"{fm['virtio']:.1f}" if fm["virtio"] is not None else "-", "-",
                 ">= 95 %: " + ("met" if fm["pva"] and fm["pva"] >= 95 else "NOT met"),
                 "-".join(f"{x:.1f}" for x in (min(frac['pva']), max(frac['pva'])))
                 if frac["pva"] else "-",
                 "-".join(f"{x:.1f}" for x in (min(frac['virtio']), max(frac['virtio'])))
                 if frac["virtio"] else "-",
                 f"{len(frac['pva'])}/{len(frac['virtio'])}"])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    with open(sys.argv[2], "w") as f:
        if len(sys.argv) > 3:
            f.write(f"Balloon benchmark: {sys.argv[3]}.\n\n")
        f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
    return 0 if all(r[1] != "-" and r[2] != "-" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
