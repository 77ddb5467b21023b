#!/usr/bin/env python3
"""Time per atom against atoms, from `lorem-gpu bench --json` and/or side_by_side.py output.

    Benchmarks/.venv/bin/python Benchmarks/plot_bench.py bench.json [side_by_side.json] -o bench.png

A bench file gives one line per (model, system kind): median ms per energy+forces evaluation
divided by atoms. A side-by-side file gives, per model, lorem-jax, lorem-gpu OpenCL f32 and the
float64 reference on the same systems. Each file gets its own panel; both axes are logarithmic.
"""

import argparse
import json
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

KIND_LABELS = {"rocksalt": "NaCl rocksalt", "water": "water box", "water-cluster": "water cluster",
               "molecules": "small-molecule batch", "file": "file"}


def short_model(row):
    m = row.get("model", "")
    return {"default": "default model", "random": "default hyper-parameters, random weights"}.get(m, m)


def bench_panel(ax, doc):
    series = defaultdict(list)
    for r in doc["results"]:
        series[(short_model(r), r["kind"])].append((r["atoms"], r["median_ms"] / r["atoms"]))
    for (model, kind), pts in sorted(series.items()):
        pts.sort()
        ax.plot(*zip(*pts), "o-", label=f"{KIND_LABELS.get(kind, kind)} ({model})")
    engines = ", ".join(sorted(set(doc.get("engines", []))))
    ax.set_title(f"lorem-gpu bench: {engines}", fontsize=9)


def side_by_side_panel(ax, doc):
    series = defaultdict(list)
    for r in doc["results"]:
        n = r["atoms"]
        series[(r["model"], "lorem-jax (CPU jax)")].append((n, r["lorem_jax"]["median_ms"] / n, r["key"]))
        series[(r["model"], "lorem-gpu OpenCL f32")].append((n, r["lorem_gpu_f32"]["median_ms"] / n, r["key"]))
        if "lorem_gpu_f32_auto" in r:
            series[(r["model"], "lorem-gpu OpenCL f32, PME (auto)")].append(
                (n, r["lorem_gpu_f32_auto"]["median_ms"] / n, r["key"]))
        if "lorem_gpu_reference_f64" in r:
            series[(r["model"], "lorem-gpu reference f64")].append(
                (n, r["lorem_gpu_reference_f64"]["median_ms"] / n, r["key"]))
    markers = {"lorem-jax (CPU jax)": "s", "lorem-gpu OpenCL f32": "o", "lorem-gpu OpenCL f32, PME (auto)": "D",
               "lorem-gpu reference f64": "^"}
    for (model, engine), pts in sorted(series.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], markers[engine], ls="none", label=f"{engine}, {model}")
    labelled = {}
    for (model, engine), pts in series.items():
        if engine == "lorem-jax (CPU jax)":
            for n, t, key in pts:
                labelled[key] = max(labelled.get(key, (n, t)), (n, t), key=lambda p: p[1])
    for key, (n, t) in labelled.items():
        ax.annotate(key, (n, t), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_title("side by side with lorem-jax (same checkpoint and structures)", fontsize=9)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="bench or side-by-side JSON files")
    p.add_argument("-o", "--output", default="bench.png", help="PNG (or SVG) file")
    args = p.parse_args()
    docs = [json.load(open(f)) for f in args.inputs]
    fig, axes = plt.subplots(1, len(docs), figsize=(6.5 * len(docs), 4.8), squeeze=False)
    for ax, doc in zip(axes[0], docs):
        if doc["results"] and "lorem_jax" in doc["results"][0]:
            side_by_side_panel(ax, doc)
        else:
            bench_panel(ax, doc)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("atoms")
        ax.set_ylabel("ms per atom (energy + forces)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    machine = docs[0].get("machine", {})
    if machine:
        fig.suptitle(f"{machine.get('cpu', '')}, {machine.get('cores', '?')} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.output, dpi=130)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
