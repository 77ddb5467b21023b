#!/usr/bin/env python3
"""Two builds of lorem-gpu timed alternately in one run: `bench` and `predict` as users run them.

    python3 Benchmarks/compare_builds.py --baseline /path/to/old/lorem-gpu --current .build/release/lorem-gpu \
        --bench-args "--model random --cells 12,16 --water 4096 --repeats 2 --no-stages" \
        --predict-cells 12,16 --predict-water 4096 --rounds 2 --json Benchmarks/out/compare_builds.json

Machines are shared and noisy, so the builds take turns (baseline, current, baseline, current, …)
and only ratios from the same run are reported. For `bench`, each build's JSON gives the median
wall time per energy+forces evaluation; for `predict`, the wall time of the whole command
(reading, neighbour list, model, writing: what a user waits for) and its peak RSS from wait4.
predict's input frames are written once by the current build's `bench --save-structures`, one
file per system, and both builds predict them with the built-in model (`--model` to change it).
A build that fails on a system (out of memory, say) is recorded with its exit status.

Standard library only.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd):
    """Runs cmd; returns (exit status, wall seconds, peak RSS in MiB, stderr tail)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read()
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    return code, wall, usage.ru_maxrss / 1024, err[-600:]


def bench(binary, args, out):
    code, wall, rss, err = run([binary, "bench", "-q", *shlex.split(args), "--json", out])
    if code != 0:
        return {"exit": code, "stderr": err}
    doc = json.load(open(out))
    return {"exit": 0, "systems": {r["system"]: {"median_ms": r["median_ms"], "times_ms": r["times_ms"],
                                                 "peak_device_mib": r.get("peak_device_mib"),
                                                 "peak_rss_mib": r["peak_rss_mib"]} for r in doc["results"]}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="the older lorem-gpu binary")
    ap.add_argument("--current", required=True, help="the newer lorem-gpu binary")
    ap.add_argument("--baseline-name", default="baseline")
    ap.add_argument("--current-name", default="current")
    ap.add_argument("--bench-args", default="", help="bench options (quoted); empty skips bench")
    ap.add_argument("--predict-cells", default="", help="NaCl supercells for predict, e.g. 12,16")
    ap.add_argument("--predict-water", default="", help="water boxes (molecules) for predict, e.g. 4096")
    ap.add_argument("--model", default="", help="predict's --model (default: the built-in model)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default="Benchmarks/out/compare_builds.json")
    a = ap.parse_args()
    builds = [(a.baseline_name, a.baseline), (a.current_name, a.current)]
    work = tempfile.mkdtemp(prefix="compare_builds.")
    inputs = []
    for flag, sizes in (("--cells", a.predict_cells), ("--water", a.predict_water)):
        for n in filter(None, sizes.split(",")):
            path = os.path.join(work, f"{flag[2:]}_{n}.xyz")
            subprocess.run([a.current, "bench", flag, n, "--save-structures", path], check=True,
                           stdout=subprocess.DEVNULL)
            inputs.append((f"{flag[2:]} {n}", path))
    record = {"baseline": a.baseline_name, "current": a.current_name, "bench_args": a.bench_args,
              "model": a.model or "built-in", "rounds": []}
    for r in range(a.rounds):
        entry = {}
        for name, binary in builds:
            print(f"round {r + 1}: {name}", file=sys.stderr, flush=True)
            e = {}
            if a.bench_args:
                e["bench"] = bench(binary, a.bench_args, os.path.join(work, f"bench_{name}_{r}.json"))
            for label, path in inputs:
                model = ["--model", a.model] if a.model else []
                code, wall, rss, err = run([binary, "predict", path, "--output", os.path.join(work, "out.xyz"), "--quiet", *model])
                e.setdefault("predict", {})[label] = {"exit": code, "wall_s": wall, "peak_rss_mib": rss,
                                                      **({"stderr": err} if code else {})}
            entry[name] = e
        record["rounds"].append(entry)
        # Written after every round, so a long run that is cut short still reports.
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        json.dump(record, open(a.json, "w"), indent=1)

    base, cur = a.baseline_name, a.current_name
    print(f"| what | {base} | {cur} | speed-up |")
    print("|---|---|---|---|")
    if a.bench_args:
        systems = record["rounds"][0][cur]["bench"].get("systems", {})
        for s in systems:
            t = {}
            for name in (base, cur):
                runs = [x[name]["bench"] for x in record["rounds"]]
                ok = [b["systems"][s]["median_ms"] for b in runs if b["exit"] == 0 and s in b["systems"]]
                t[name] = statistics.median(ok) / 1000 if ok else None
            ratio = f"{t[base] / t[cur]:.2f}×" if t[base] and t[cur] else "–"
            fmt = lambda v: f"{v:.2f} s" if v else "failed"
            print(f"| bench {s} | {fmt(t[base])} | {fmt(t[cur])} | {ratio} |")
    for label, _ in inputs:
        t, m = {}, {}
        for name in (base, cur):
            ok = [x[name]["predict"][label] for x in record["rounds"] if x[name]["predict"][label]["exit"] == 0]
            t[name] = statistics.median([p["wall_s"] for p in ok]) if ok else None
            m[name] = max([p["peak_rss_mib"] for p in ok]) if ok else None
        ratio = f"{t[base] / t[cur]:.2f}×" if t[base] and t[cur] else "–"
        fmt = lambda v, r: f"{v:.2f} s ({r / 1024:.1f} GiB RSS)" if v else "failed"
        print(f"| predict {label} | {fmt(t[base], m[base])} | {fmt(t[cur], m[cur])} | {ratio} |")


if __name__ == "__main__":
    main()
