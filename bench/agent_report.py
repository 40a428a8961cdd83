#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tables of the desktop-agent benchmark (bench/run-agent.sh).

Usage: agent_report.py [--out OUT.md] [--note NOTE] LOG_DIR
Reads LOG_DIR/agent-bench.txt (the host's timings, vmtest's agent-bench
action: "AGENTBENCH clip|vport|resize key=value...") and LOG_DIR/console.log
(the guest suite bench/agent-bench.sh: "AGENTBENCH-K: [ SECONDS]
agentbench: ..." kernel log marks, "AGENTBENCH-MEM: ROLE PID RSS ANON PSS"
in KiB, "PVA-RESULT:" lines). Round 0 and resize 0 are warm-ups and left
out. Writes markdown to stdout and to OUT.md; exits 1 when the guest suite
failed or a figure is missing.
"""
import argparse
import os
import re
import statistics
import sys

HOST = re.compile(r"AGENTBENCH (clip|vport|resize) (.*)")
KMARK = re.compile(r"AGENTBENCH-K: \[\s*([0-9.]+)\] agentbench: (.*)")
MEM = re.compile(r"AGENTBENCH-MEM: (\S+) (\d+) (\d+) (\d*) ?(\d+)$")
X11 = re.compile(r"AGENTBENCH-X11: bytes=(\d+) ms=([0-9.]+)")
RESULT = re.compile(r"PVA-RESULT: ([\w-]+) (PASS|FAIL|SKIP)(.*)")

CLIP_TARGET_MS = {1048576: 100}	# the target: < 100 ms for 1 MiB
RESIZE_TARGET_MS = 500
MEM_TARGET_KIB = 5 * 1024


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


def size_name(n):
    if n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def kv(text):
    return dict(w.split("=", 1) for w in text.split() if "=" in w)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out")
    p.add_argument("--note", default="")
    p.add_argument("logdir")
    args = p.parse_args()
    problems = []

    host = []
    try:
        with open(os.path.join(args.logdir, "agent-bench.txt")) as f:
            for line in f:
                m = HOST.match(line.strip())
                if m:
                    host.append((m.group(1), kv(m.group(2))))
    except FileNotFoundError:
        problems.append("no host timings (agent-bench.txt)")
    try:
        with open(os.path.join(args.logdir, "console.log"), errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        problems.append("no guest console log: the guest did not run")
        lines = []
    marks, mem, results, x11 = [], [], {}, {}
    for line in lines:
        if line.lstrip().startswith("echo"):
            continue
        m = KMARK.search(line)
        if m:
            marks.append((float(m.group(1)), m.group(2).split()))
            continue
        m = MEM.search(line)
        if m:
            mem.append((m.group(1), int(m.group(2)), int(m.group(3)),
                        int(m.group(4)) if m.group(4) else None,
                        int(m.group(5))))
            continue
        m = X11.search(line)
        if m:
            x11.setdefault(int(m.group(1)), []).append(float(m.group(2)))
            continue
        m = RESULT.search(line)
        if m:
            results[m.group(1)] = (m.group(2), m.group(3).strip())
    done = any("PVA-DONE" in l for l in lines)
    if not done:
        problems.append("the guest did not finish the suite: figures are partial")
    for name, (res, why) in results.items():
        if res == "FAIL":
            problems.append(f"guest test {name} failed: {why}")

    # ---- clipboard: host timings ----
    clip = {}		# (transport, size) -> {metric: [ms]}
    for kind, f in host:
        if kind in ("clip", "vport") and int(f["round"]) > 0:
            d = clip.setdefault((kind, int(f["size"])), {})
            for k, v in f.items():
                if k.endswith("ms"):
                    d.setdefault(k, []).append(float(v))
    # guest side of each pva round, from the kernel log marks
    guest = {}		# size -> {interval: [ms]}
    cur = None
    for t, w in marks:
        if w[0] == "clip-req":
            size, rnd = int(w[1]), int(w[2])
            cur = {"size": size, "round": rnd, "req": t}
        elif cur and w[0] == "clip" and w[1] in ("owner", "got", "grab", "served"):
            cur.setdefault(w[1], t)
            if w[1] == "served" and cur["round"] > 0:
                g = guest.setdefault(cur["size"], {})
                for a, b, name in (("owner", "got", "owner_got"),
                                   ("grab", "served", "grab_served")):
                    if a in cur and b in cur:
                        g.setdefault(name, []).append((cur[b] - cur[a]) * 1000)
                cur = None
    sizes = sorted({s for _, s in clip})

    out = []
    if args.note:
        out.append(f"_{args.note}_\n")
    early = len(problems)
    for pr in problems:
        out.append(f"**{pr}**\n")
    if sizes:
        out.append("Clipboard round trip host → guest → host, ms on the host's "
               "clock (median of the rounds, min–max), content checked byte "
               "for byte; ratio pva/virtio-serial: below 1, pva is faster.\n")
        out.append("| content | pva clipboard | virtio-serial echo | ratio pva/v-s | "
                   "target | n |")
        out.append("|---|---|---|---|---|---|")
    else:
        problems.append("no clipboard figures")
    for s in sizes:
        a = clip.get(("clip", s), {}).get("ms", [])
        b = clip.get(("vport", s), {}).get("ms", [])
        ratio = (f"{fmt(statistics.median(a) / statistics.median(b))}x"
                 if a and b else "–")
        tgt = CLIP_TARGET_MS.get(s)
        if tgt is None:
            verdict = "–"
        elif not a:
            verdict = f"< {tgt} ms: no figure"
            problems.append(f"no clipboard figure for {size_name(s)}")
        else:
            verdict = (f"< {tgt} ms: " +
                       ("met" if statistics.median(a) < tgt else "**not met**"))
        out.append(f"| {size_name(s)} of UTF-8 text | {cell(a)} | {cell(b)} | "
                   f"{ratio} | {verdict} | {len(a)}/{len(b)} |")
    out.append("")
    if any(("clip", s) in clip for s in sizes):
        out.append("Where pva's round trip goes, ms (median, min–max): host "
                   "clock, then guest kernel log clock.\n")
        out.append("| interval | " + " | ".join(size_name(s) for s in sizes) + " |")
        out.append("|---" * (1 + len(sizes)) + "|")
        rows = [
            ("host: clipboard-set sent → its answer", "host", "set_ms"),
            ("host: clipboard-set sent → the guest's grab seen (clipboard-watch)",
             "host", "grab_ms"),
            ("host: the guest's grab seen → clipboard-get's content here",
             "host", "get_ms"),
            ("guest: clip-echo sees pva-agent's grab (XFixes) → has read "
             "the host's content", "guest", "owner_got"),
            ("guest: clip-echo takes CLIPBOARD → has served it all to pva-agent",
             "guest", "grab_served"),
        ]
        for label, where, key in rows:
            vals = [clip.get(("clip", s), {}).get(key, []) if where == "host"
                    else guest.get(s, {}).get(key, []) for s in sizes]
            out.append(f"| {label} | " + " | ".join(cell(v) for v in vals) + " |")
        if x11:
            out.append("| for scale, X11 alone: a second client pastes from "
                       "clip-echo (`clip-echo --paste`) | " +
                       " | ".join(cell(x11.get(s, [])) for s in sizes) + " |")
        out.append("")

    # ---- resize ----
    res_host = {}	# metric -> [ms]
    for kind, f in host:
        if kind == "resize" and int(f["round"]) > 0:
            for k in ("state_ms", "answer_ms"):
                res_host.setdefault(k, []).append(float(f[k]))
    res_guest = []
    req = None
    for t, w in marks:
        if w[0] == "req":
            req = (t, int(w[1]), w[2])
        elif w[0] == "screen" and req and w[1] == req[2]:
            if req[1] > 0:
                res_guest.append((t - req[0]) * 1000)
            req = None
    if res_guest or res_host:
        med = statistics.median(res_guest) if res_guest else None
        verdict = ("no figure" if med is None else
                   "met" if med < RESIZE_TARGET_MS else "**not met**")
        out.append(f"Resize, ms (median, min–max), n = {len(res_guest)}; "
                   f"target < {RESIZE_TARGET_MS} ms for the X server to have "
                   f"the size: {verdict}.\n")
        out.append("| interval | clock | pva |")
        out.append("|---|---|---|")
        out.append("| mark before the request → RRScreenChangeNotify with the new "
                   "size at clip-echo | guest kernel log | "
                   f"{cell(res_guest)} |")
        out.append("| display-resize sent → the session's DISPLAY_STATE on the "
                   f"host | host | {cell(res_host.get('state_ms', []))} |")
        out.append("| display-resize sent → its answer (for scale) | host | "
                   f"{cell(res_host.get('answer_ms', []))} |")
        out.append("")
    else:
        problems.append("no resize figures")

    # ---- memory ----
    if mem:
        out.append(f"Memory, idle after the runs, MiB (KiB / 1024); target "
                   f"< {MEM_TARGET_KIB >> 10} MiB each.\n")
        out.append("| process | VmRSS | RssAnon | Pss | target |")
        out.append("|---|---|---|---|---|")
        for role, pid, rss, anon, pss in mem:
            if role == "clip-echo":
                verdict = "– (the benchmark's client, for scale)"
            else:
                over = [n for n, v in (("VmRSS", rss), ("Pss", pss))
                        if v >= MEM_TARGET_KIB]
                verdict = "met" if not over else f"**not met** ({', '.join(over)})"
            out.append(f"| {role} (pid {pid}) | {rss / 1024:.2f} | "
                       f"{'–' if anon is None else f'{anon / 1024:.2f}'} | "
                       f"{pss / 1024:.2f} | {verdict} |")
        out.append("")
    else:
        problems.append("no memory figures")

    for pr in problems[early:]:
        out.append(f"- problem: {pr}")
    text = "\n".join(out).rstrip() + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
