#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Table of the shared-folder benchmark (bench/run-fs.sh): the median per
metric and filesystem over the rounds of bench/guest/fs-bench.sh, and how
pvasf compares with each peer, as a speed ratio (> 1: pvasf is faster),
checked against the targets: at least virtiofs on metadata, at least twice
virtio-9p (both cache modes) on data.

Usage: fs_report.py [--out OUT.md] [--note NOTE] CONSOLE_LOG...
Reads the "FSBENCH: FS ROUND METRIC VALUE UNIT" lines of the guest
consoles (more than one when run-fs.sh had to boot a second guest without
pvasf) and their FSBENCH-SKIP/-ERROR lines; writes the markdown table to
stdout and to OUT.md.
"""
import argparse
import os
import re
import statistics
import sys

FSES = ["pvasf", "9p-mmap", "9p-loose", "virtiofs"]
PEERS = FSES[1:]
# metric: (label, higher is better, kind)
METRICS = {
    "seq_write": ("sequential write, dd bs=1M conv=fsync", True, "data"),
    "seq_read": ("sequential read, dd bs=1M, cold", True, "data"),
    "rand_read_4k": ("random 4 KiB pread, cold", True, "data"),
    "create": ("create empty files", True, "meta"),
    "stat": ("stat them (right after create)", True, "meta"),
    "unlink": ("unlink them", True, "meta"),
    "untar": ("untar a source tree + sync", False, "meta"),
    "find_stat": ("find + stat of the tree, cold", False, "meta"),
    "rm_tree": ("rm -rf the tree", False, "meta"),
}
LINE = re.compile(r"FSBENCH: (\S+) (\d+) (\w+) ([0-9.]+) (\S+)")


def fmt(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out")
    p.add_argument("--note", default="")
    p.add_argument("logs", nargs="+")
    args = p.parse_args()
    vals, units, skips, errors, info = {}, {}, {}, [], ""
    for log in args.logs:
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
        if not any("PVA-DONE" in l for l in lines):
            bad = [l.split("] ", 1)[-1].strip() for l in lines
                   if re.search(r"BUG:|Oops|Kernel panic|RIP: 0010|pc : |"
                                r"blocked for more|timed out", l)]
            last = [l for l in lines if l.startswith("== ")]
            name = os.path.basename(os.path.dirname(os.path.abspath(log)))
            errors.append(f"the guest of {name} did not finish"
                          + (f" (in test {last[-1][3:]})" if last else "")
                          + (": " + " / ".join(list(dict.fromkeys(bad))[:4])
                             if bad else ""))
        for line in lines:
            m = LINE.search(line)
            if m:
                fs, _, metric, val, unit = m.groups()
                vals.setdefault((fs, metric), []).append(float(val))
                units[metric] = unit
                continue
            m = re.search(r"FSBENCH-SKIP: (\S+) (.*)", line)
            if m and "not selected" not in m.group(2):
                skips[m.group(1)] = m.group(2).strip()
            m = re.search(r"FSBENCH-ERROR: (.*)", line)
            if m and m.group(1).strip() not in errors:
                errors.append(m.group(1).strip())
            m = re.search(r"FSBENCH-INFO: (.*)", line)
            if m and not info:
                info = m.group(1).strip()
    kv = dict(w.split("=", 1) for w in info.split() if "=" in w)
    rounds = max((len(v) for v in vals.values()), default=0)

    def med(fs, metric):
        v = vals.get((fs, metric))
        return statistics.median(v) if v else None

    def rng(fs, metric):
        v = vals.get((fs, metric))
        if not v:
            return "–"
        if len(v) == 1:
            return fmt(v[0])
        return f"**{fmt(statistics.median(v))}** ({fmt(min(v))}–{fmt(max(v))})"

    def ratio(metric, peer):
        """pvasf's speed over the peer's (> 1: pvasf faster)."""
        a, b = med("pvasf", metric), med(peer, metric)
        if a is None or b is None or a == 0 or b == 0:
            return None
        return a / b if METRICS[metric][1] else b / a

    out = []
    note = args.note
    out.append(f"Shared folders, {note}; {rounds} rounds (median, min–max); "
               f"seq file {kv.get('mib', '?')} MiB, "
               f"{kv.get('files', '?')} files, tree of "
               f"{kv.get('tree_entries', '?')} entries "
               f"({int(kv.get('tree_bytes', 0)) >> 10} KiB tar); "
               f"guest {kv.get('kernel', '?')}, pvasf options "
               f"{kv.get('pvasf_opts', 'default')}.")
    out.append("")
    out.append("| metric | unit | " + " | ".join(FSES) + " | " +
               " | ".join(f"pvasf/{p}" for p in PEERS) + " | target |")
    out.append("|---|---|" + "---|" * (len(FSES) + len(PEERS) + 1))
    verdicts = []
    for metric, (label, higher, kind) in METRICS.items():
        if not any((fs, metric) in vals for fs in FSES):
            continue
        unit = units.get(metric, "")
        unit += "" if higher else " (lower is better)"
        ratios = {p: ratio(metric, p) for p in PEERS}
        cells = [f"{r:.2f}x" if r is not None else "–" for r in ratios.values()]
        if kind == "data":
            want = {"9p-mmap": 2.0, "9p-loose": 2.0}
            tdesc = "≥ 2x 9p"
        else:
            want = {"virtiofs": 1.0}
            tdesc = "≥ virtiofs"
        got = [ratios[p] for p in want]
        if any(r is None for r in got):
            verdict = "n/a"
        elif all(ratios[p] >= w for p, w in want.items()):
            verdict = "met"
        else:
            verdict = "**not met**"
        verdicts.append((metric, verdict))
        out.append(f"| {label} | {unit} | " +
                   " | ".join(rng(fs, metric) for fs in FSES) + " | " +
                   " | ".join(cells) + f" | {tdesc}: {verdict} |")
    out.append("")
    out.append("Ratios are pvasf's speed over the peer's (for times: the peer's "
               "time over pvasf's), from the medians; above 1 pvasf is faster.")
    for fs, why in skips.items():
        if not any(k[0] == fs for k in vals):
            out.append(f"Not measured: {fs}: {why}.")
    for e in errors:
        out.append(f"Error: {e}")
    met = sum(1 for _, v in verdicts if v == "met")
    out.append(f"Targets met: {met} of {len(verdicts)}"
               + ("" if all(v != "n/a" for _, v in verdicts)
                  else " (n/a: pvasf or the peer was not measured)") + ".")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    # a run with no result at all is a failure
    return 0 if vals else 1


if __name__ == "__main__":
    sys.exit(main())
