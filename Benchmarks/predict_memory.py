#!/usr/bin/env python3
"""Peak memory of `lorem-gpu predict` against the number of frames in its input.

    python3 Benchmarks/predict_memory.py [--bin .build/release/lorem-gpu] [--frames 1000 100000]
                                         [--baseline-bin OLD] [--json out.json]

predict streams: it reads a frame at a time, evaluates batches and writes them as it goes, so its
peak resident memory must not grow with the file. For each frame count this writes a file of
3-atom water molecules (a different geometry per frame), runs predict on it with the built-in model
(float32, the default OpenCL device) and reads the child's peak RSS from wait4(2). The check:
peak RSS for the largest file within 1.3x that for the smallest (exit status 1 otherwise).
`--baseline-bin` runs another build (e.g. the commit before streaming) on the same files, for the
record; its numbers are not checked.

Standard library only; no ASE needed.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.3


def water_frames(path: Path, n: int) -> None:
    with open(path, "w") as f:
        for k in range(n):
            a = 0.96 + 0.001 * (k % 97)
            b = 0.93 - 0.001 * (k % 89)
            f.write(f"3\nProperties=species:S:1:pos:R:3 step={k}\nO 0 0 0\nH {a:.4f} 0 0\nH -0.24 {b:.4f} 0.1\n")


def run(binary: str, source: Path, target: Path) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time (s) of one predict run."""
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "predict", "-q", str(source), "-o", str(target)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{binary} predict failed on {source}:\n{err}")
    return usage.ru_maxrss / 1024.0, wall  # ru_maxrss is in KiB on Linux


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release" / "lorem-gpu"))
    ap.add_argument("--baseline-bin", help="another build to measure on the same files (not checked)")
    ap.add_argument("--frames", type=int, nargs="+", default=[1_000, 100_000])
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sorted(args.frames):
            source = tmp / f"water_{n}.xyz"
            water_frames(source, n)
            row = {"frames": n, "input_MiB": round(source.stat().st_size / 2**20, 2)}
            for key, binary in [("current", args.bin), ("baseline", args.baseline_bin)]:
                if binary is None:
                    continue
                rss, wall = run(binary, source, tmp / "out.xyz")
                row[key] = {"peak_rss_MiB": round(rss, 1), "wall_s": round(wall, 2),
                            "frames_per_s": round(n / wall, 1)}
                print(f"{key:9s} {n:>8d} frames ({row['input_MiB']} MiB input): peak RSS {rss:8.1f} MiB, "
                      f"{wall:7.2f} s ({n / wall:.0f} frames/s)", flush=True)
            rows.append(row)

    first, last = rows[0]["current"]["peak_rss_MiB"], rows[-1]["current"]["peak_rss_MiB"]
    ratio = last / first
    ok = ratio <= LIMIT
    print(f"peak RSS {rows[-1]['frames']} frames / {rows[0]['frames']} frames: {ratio:.3f} "
          f"({'within' if ok else 'OVER'} the {LIMIT}x limit)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "benchmark": "predict_memory", "machine": platform.node(), "processor": platform.processor(),
            "limit_ratio": LIMIT, "ratio": round(ratio, 3), "rows": rows}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
