#!/usr/bin/env python3
"""lorem-gpu against lorem-jax 0.2.0 (CPU jax) on the identical checkpoint and structures.

Run through side_by_side.sh (it makes the venv and the release build), or from the repository
root with the venv's python:

    Benchmarks/.venv/bin/python Benchmarks/side_by_side.py [--model models/default] [--model random] ...

For every model and system, one after the other (never two lorem-jax processes at once):

1. `lorem-gpu bench --structures SYSTEM.xyz` (OpenCL, float32): one warm-up evaluation (program
   builds, buffers), then --repeats timed energy+forces evaluations in one process; the median is
   the per-evaluation time (process start and OpenCL program build are not in it). It runs before
   and again after lorem-jax, and both blocks are pooled, so a change of load on a shared machine
   during the lorem-jax run shows in both.
2. lorem-jax in a fresh python process: `lorem.calculator.Calculator.from_checkpoint(folder,
   skin=0)`, `setup(atoms)` (neighbour list + jax-pme preparation, timed separately), one warm-up
   call of the jitted predict function (JIT compilation), then timed calls of the same jitted
   function with `block_until_ready` (energy + forces), and the energy and forces through the
   ASE interface (`get_potential_energy`, `get_forces`, elemental baseline included).
3. Optionally `lorem-gpu bench --device reference` (float64 CPU reference engine).

lorem-gpu runs with `--long-range ewald` (exact Ewald, lorem-jax's definition); for periodic
systems of 200 atoms or more it also runs with its default `--long-range auto`, which uses PME
there (an extra column).

The ratio is lorem-jax's median (model call only: neighbour list and batching excluded, which
favours lorem-jax) over lorem-gpu's median (full evaluation including the neighbour list). The
CPU-time ratio (user + system CPU seconds per evaluation, all threads, of each process) is less
sensitive to other work on the machine.
Energies and forces of both are compared (lorem-jax runs in float32 as its calculator does).

--model takes a lorem-train checkpoint folder (models/default, Tests/Fixtures/models/*) or
`random`: lorem-jax's default hyper-parameters (`lorem.Lorem()`) with random weights, made here
as lorem-train would save them (see Tests/Fixtures/make_fixtures.py).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Benchmarks" / "out"

# name -> (lorem-gpu bench options that build it, periodic?)
SYSTEMS = {
    "nacl64": ["--cells", "2"],
    "nacl512": ["--cells", "4"],
    "cluster108": ["--water-clusters", "36"],
    "water192": ["--water", "64"],
}
DEFAULT_SYSTEMS = "nacl64,cluster108,water192,nacl512"

# lorem-gpu's --long-range auto switches from exact Ewald to PME at this many atoms
PME_THRESHOLD = 200

# float32 agreement: both engines run in float32 with different operation orders
TOL_ENERGY_REL = 1e-5  # |ΔE| / max(|E|, atoms · 1 eV)
TOL_FORCE_REL = 1e-3  # max|ΔF| / max(max|F|, 1 eV/Å)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------
# checkpoints


def random_default_checkpoint(folder, seed=0):
    """lorem.Lorem() (default hyper-parameters) with random weights, saved as lorem-train does.

    Every leaf is perturbed as in the fixtures (make_fixtures.perturb_params) so no layer is
    left at an all-zero initialisation; the baseline has random elemental energies."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import lorem
    from marathon.emit.checkpoint import save

    sys.path.insert(0, str(ROOT / "Tests" / "Fixtures"))
    from make_fixtures import ELEMENTS, perturb_params

    model = lorem.Lorem()
    params = model.init(jax.random.key(seed), *model.dummy_inputs())
    params = perturb_params(params, seed)
    rng = np.random.default_rng(seed)
    baseline = {"elemental": {int(z): float(rng.normal(-5.0, 3.0)) for z in ELEMENTS}}
    folder = Path(folder)
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    save(folder, params, {"step": 0}, model, baseline, {},
         info=f"lorem-jax default hyper-parameters, random weights (seed {seed}), for Benchmarks/side_by_side.py")
    return folder


# ----------------------------------------------------------------------------------------
# lorem-jax worker (runs in its own process, one at a time)


def jax_worker(checkpoint, xyz, repeats, out):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import ase.io
    import jax
    from lorem.calculator import Calculator

    atoms = ase.io.read(xyz, index=0)
    t = time.perf_counter()
    calc = Calculator.from_checkpoint(checkpoint, skin=0.0)
    load_ms = (time.perf_counter() - t) * 1e3

    setup_ms = []
    for _ in range(2):
        t = time.perf_counter()
        calc.setup(atoms)
        jax.block_until_ready(calc.batch)
        setup_ms.append((time.perf_counter() - t) * 1e3)

    t = time.perf_counter()
    jax.block_until_ready(calc.predict_fn(calc.params, calc.batch))
    first_ms = (time.perf_counter() - t) * 1e3

    times = []
    cpu0 = cpu_seconds()
    for r in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(calc.predict_fn(calc.params, calc.batch))
        times.append((time.perf_counter() - t) * 1e3)
        print(f"  lorem-jax evaluation {r + 1}/{repeats}: {times[-1]:.1f} ms", file=sys.stderr, flush=True)
    cpu_ms = (cpu_seconds() - cpu0) * 1e3 / repeats

    atoms.calc = calc
    energy = float(atoms.get_potential_energy())
    forces = np.asarray(atoms.get_forces(), dtype=np.float64)
    doc = {
        "times_ms": times,
        "median_ms": float(np.median(times)),
        "min_ms": float(np.min(times)),
        "max_ms": float(np.max(times)),
        "cpu_ms_per_eval": cpu_ms,
        "first_call_ms": first_ms,
        "setup_ms": float(np.median(setup_ms)),
        "load_ms": load_ms,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "energy": energy,
        "forces": forces.tolist(),
        "pairs": int(np.asarray(calc.batch.sr.pair_mask).sum()),
    }
    with open(out, "w") as f:
        json.dump(doc, f)


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def run_jax(checkpoint, xyz, repeats, out):
    cmd = [sys.executable, __file__, "--jax-worker", str(checkpoint), str(xyz), str(repeats), str(out)]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    subprocess.run(cmd, check=True, env=env)
    return json.load(open(out))


# ----------------------------------------------------------------------------------------
# lorem-gpu


def run_gpu(binary, checkpoint, xyz, repeats, out, device=None, long_range="ewald"):
    cmd = [str(binary), "bench", "--model", str(checkpoint), "--structures", str(xyz), "--repeats", str(repeats),
           "--json", str(out), "-q", "--long-range", long_range]
    if device:
        cmd += ["--device", device]
    if device == "reference":
        cmd += ["--no-stages"]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    doc = json.load(open(out))
    (row,) = doc["results"]
    return {
        "engine": row["engine"],
        "times_ms": row["times_ms"],
        "long_range": long_range,
        "median_ms": row["median_ms"],
        "cpu_ms_per_eval": row["cpu_ms_per_eval"],
        "min_ms": row["min_ms"],
        "max_ms": row["max_ms"],
        "peak_rss_mib": row["peak_rss_mib"],
        "pairs": row["pairs"],
        "k_vectors": row.get("k_vectors"),
        "mesh_points": row.get("mesh_points"),
        "peak_device_mib": row.get("peak_device_mib"),
        "stages": row.get("stages", []),
        "energy": row["energies"][0],
        "forces": row["forces"][0],
        "stdout": proc.stdout,
    }


def pooled(before, after):
    """The two lorem-gpu blocks around a lorem-jax run as one measurement (both kept)."""
    times = before["times_ms"] + after["times_ms"]
    out = dict(after)
    out.update(times_ms=times, median_ms=float(np.median(times)), min_ms=min(times), max_ms=max(times),
               cpu_ms_per_eval=(before["cpu_ms_per_eval"] + after["cpu_ms_per_eval"]) / 2,
               peak_rss_mib=max(before["peak_rss_mib"], after["peak_rss_mib"]),
               median_ms_before=before["median_ms"], median_ms_after=after["median_ms"])
    return out


def agreement(a, b, atoms):
    fa, fb = np.asarray(a["forces"]), np.asarray(b["forces"])
    de = abs(a["energy"] - b["energy"])
    df = float(np.abs(fa - fb).max())
    ok = (de <= TOL_ENERGY_REL * max(abs(b["energy"]), atoms)
          and df <= TOL_FORCE_REL * max(float(np.abs(fb).max()), 1.0))
    return {"dE_per_atom": de / atoms, "dE_rel": de / max(abs(b["energy"]), 1e-300), "dF_max": df,
            "F_max": float(np.abs(fb).max()), "ok": bool(ok)}


# ----------------------------------------------------------------------------------------


def git_commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except Exception:
        return None


def machine():
    info = {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def versions():
    from importlib.metadata import version

    return {p: version(p) for p in ["lorem-jax", "jax", "jaxlib", "e3x", "flax", "jax-pme", "ase", "numpy"]}


def available_gib():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append",
                   help="checkpoint folder or 'random' (repeatable; default: models/default)")
    p.add_argument("--systems", default=DEFAULT_SYSTEMS,
                   help=f"comma-separated subset of {', '.join(SYSTEMS)} (default: {DEFAULT_SYSTEMS})")
    p.add_argument("--lorem-gpu", default=str(ROOT / ".build" / "release" / "lorem-gpu"), help="lorem-gpu binary")
    p.add_argument("--repeats", type=int, default=10, help="timed lorem-gpu evaluations per system")
    p.add_argument("--jax-repeats", type=int, default=5, help="timed lorem-jax evaluations per system")
    p.add_argument("--jax-repeats-large", type=int, default=2,
                   help="timed lorem-jax evaluations for periodic systems of 500 atoms or more (~50 s and ~11 GiB each with the default hyper-parameters)")
    p.add_argument("--no-reference", action="store_true", help="skip the float64 reference engine")
    p.add_argument("--out", default=str(OUT / "side_by_side.json"), help="JSON output")
    args = p.parse_args()

    binary = Path(args.lorem_gpu)
    if not binary.exists():
        sys.exit(f"lorem-gpu binary {binary} not found: build it with `swift build -c release` (or use side_by_side.sh)")
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in systems:
        if s not in SYSTEMS:
            sys.exit(f"unknown system {s!r}: choose from {', '.join(SYSTEMS)}")
    work = OUT / "work"
    work.mkdir(parents=True, exist_ok=True)

    models = []
    for m in args.model or [str(ROOT / "models" / "default")]:
        if m == "random":
            log("making the random-weight default-hyper-parameter checkpoint")
            subprocess.run([sys.executable, __file__, "--make-random", str(work / "random_default")], check=True,
                           env=dict(os.environ, JAX_PLATFORMS="cpu"))
            models.append(("random weights, lorem-jax default hyper-parameters", work / "random_default"))
        else:
            path = Path(m)
            if not (path / "model" / "model.yaml").exists() and (path / "model.yaml").exists():
                path = path.parent
            if not (path / "model" / "model.yaml").exists():
                sys.exit(f"{m}: not a lorem-train checkpoint folder (no model/model.yaml)")
            try:
                label = str(path.resolve().relative_to(ROOT))
            except ValueError:
                label = m
            models.append((label, path))

    # the structures: written by lorem-gpu bench (the same builders as its table), read by both
    files = {}
    for s in systems:
        xyz = work / f"{s}.xyz"
        subprocess.run([str(binary), "bench", *SYSTEMS[s], "--save-structures", str(xyz)], check=True,
                       capture_output=True)
        files[s] = xyz

    import ase.io

    results = []
    for label, ckpt in models:
        for s in systems:
            atoms = ase.io.read(files[s], index=0)
            n = len(atoms)
            periodic = bool(atoms.pbc.any())
            name = atoms.info.get("system", s)
            log(f"[{label}] {name} ({n} atoms): lorem-gpu OpenCL f32, {args.repeats} repeats")
            load = {"before_lorem_gpu": os.getloadavg()[0]}
            gpu_before = run_gpu(binary, ckpt, files[s], args.repeats, work / "gpu.json", device="opencl")
            load["before_lorem_jax"] = os.getloadavg()[0]
            reps = args.jax_repeats_large if (periodic and n >= 500) else args.jax_repeats
            avail = available_gib()
            log(f"[{label}] {name}: lorem-jax, {reps} repeats after JIT"
                + (f" ({avail:.1f} GiB available)" if avail is not None else ""))
            jax_res = run_jax(ckpt, files[s], reps, work / "jax.json")
            load["after_lorem_jax"] = os.getloadavg()[0]
            log(f"[{label}] {name}: lorem-gpu OpenCL f32 again, {args.repeats} repeats")
            gpu = pooled(gpu_before, run_gpu(binary, ckpt, files[s], args.repeats, work / "gpu.json", device="opencl"))
            row = {"model": label, "checkpoint": str(ckpt), "system": name, "key": s, "atoms": n, "periodic": periodic,
                   "pairs": gpu["pairs"], "k_vectors": gpu["k_vectors"], "mesh_points": gpu["mesh_points"], "lorem_gpu_f32": gpu, "lorem_jax": jax_res,
                   "ratio_f32": jax_res["median_ms"] / gpu["median_ms"],
                   "ratio_f32_cpu_time": jax_res["cpu_ms_per_eval"] / gpu["cpu_ms_per_eval"],
                   "agreement_f32": agreement(gpu, jax_res, n),
                   "load_average_1min": load}
            if jax_res["pairs"] != gpu["pairs"]:
                log(f"  warning: pair counts differ (lorem-jax {jax_res['pairs']}, lorem-gpu {gpu['pairs']})")
            if periodic and n >= PME_THRESHOLD:
                log(f"[{label}] {name}: lorem-gpu OpenCL f32 with its default --long-range auto (PME at this size)")
                auto = run_gpu(binary, ckpt, files[s], args.repeats, work / "gpu.json", device="opencl", long_range="auto")
                auto.pop("stdout", None)
                row["lorem_gpu_f32_auto"] = auto
                row["ratio_f32_auto"] = jax_res["median_ms"] / auto["median_ms"]
                row["agreement_f32_auto"] = agreement(auto, jax_res, n)
            if not args.no_reference:
                log(f"[{label}] {name}: lorem-gpu float64 reference")
                ref = run_gpu(binary, ckpt, files[s], max(1, min(args.repeats, 3)), work / "ref.json", device="reference")
                row["lorem_gpu_reference_f64"] = ref
                row["ratio_reference"] = jax_res["median_ms"] / ref["median_ms"]
                row["agreement_reference"] = agreement(ref, jax_res, n)
                row["agreement_f32_vs_reference"] = agreement(gpu, ref, n)
            for r in ("lorem_gpu_f32", "lorem_gpu_reference_f64"):
                if r in row:
                    row[r].pop("stdout", None)
            results.append(row)
            a = row["agreement_f32"]
            log(f"  lorem-jax {jax_res['median_ms']:.1f} ms, lorem-gpu {gpu['median_ms']:.1f} ms, ratio {row['ratio_f32']:.1f}x, "
                f"|dE|/atom {a['dE_per_atom']:.2e} eV, max|dF| {a['dF_max']:.2e} eV/A {'OK' if a['ok'] else 'MISMATCH'}")

    doc = {
        "machine": machine(),
        "versions": versions(),
        "lorem_gpu_commit": git_commit(),
        "lorem_gpu_engine": results[0]["lorem_gpu_f32"]["engine"] if results else None,
        "settings": {"repeats": args.repeats, "jax_repeats": args.jax_repeats,
                     "jax_repeats_large": args.jax_repeats_large, "tolerance_energy_rel": TOL_ENERGY_REL,
                     "tolerance_force_rel": TOL_FORCE_REL,
                     "lorem_jax": "Calculator.from_checkpoint(skin=0), float32, jitted predict (energy+forces), neighbour list excluded",
                     "lorem_gpu": "bench --structures: full energy+forces evaluation incl. neighbour list, after one warm-up; "
                                  "one block before and one after lorem-jax, pooled"},
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    print(table(doc))
    log(f"wrote {out}")
    if not all(r["agreement_f32"]["ok"] for r in results):
        sys.exit("some systems disagree beyond the float32 tolerance (see the table)")


def table(doc):
    ref = any("lorem_gpu_reference_f64" in r for r in doc["results"])
    auto = any("lorem_gpu_f32_auto" in r for r in doc["results"])
    head = ("| model | system | atoms | lorem-jax ms | lorem-gpu f32 ms | ratio | CPU-time ratio |"
            + (" lorem-gpu f32 PME ms | ratio |" if auto else "")
            + (" reference f64 ms | ratio |" if ref else "")
            + " max abs dE/atom (eV) | max abs dF (eV/Å) | lorem-jax peak RSS | lorem-gpu peak RSS |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in doc["results"]:
        j, g, a = r["lorem_jax"], r["lorem_gpu_f32"], r["agreement_f32"]
        line = (f"| {r['model']} | {r['system']} | {r['atoms']} | {j['median_ms']:.1f} | {g['median_ms']:.1f} | "
                f"{r['ratio_f32']:.1f}× | {r['ratio_f32_cpu_time']:.1f}× |")
        if auto:
            au = r.get("lorem_gpu_f32_auto")
            line += f" {au['median_ms']:.1f} | {r['ratio_f32_auto']:.1f}× |" if au else " – | – |"
        if ref:
            rf = r.get("lorem_gpu_reference_f64")
            line += f" {rf['median_ms']:.1f} | {r['ratio_reference']:.1f}× |" if rf else " – | – |"
        line += (f" {a['dE_per_atom']:.1e} | {a['dF_max']:.1e} | {j['peak_rss_mib'] / 1024:.1f} GiB | "
                 f"{g['peak_rss_mib']:.0f} MiB |")
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--jax-worker":
        jax_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "--make-random":
        random_default_checkpoint(sys.argv[2])
    else:
        main()
