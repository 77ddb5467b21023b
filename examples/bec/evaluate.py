"""Evaluate the LoremBEC example model against its GFN2-xTB reference data.

Prints energy MAE/RMSE per atom, force MAE/RMSE per Cartesian component and
Born-effective-charge MAE/RMSE per tensor component (e), for each split and
for monomers / clusters separately.  Two engines:

  lorem-jax   lorem-jax's ASE Calculator (float32), as users of lorem-jax run it
  lorem-gpu   `lorem-gpu predict` (OpenCL, --precision f32 or f64)

  python examples/bec/evaluate.py --split valid test                  # lorem-jax
  python examples/bec/evaluate.py --engine lorem-gpu --precision f64  # lorem-gpu

With both engines available, `--compare` also prints the largest difference
between them (lorem-jax float32 vs lorem-gpu).
"""

import argparse
import os
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from ase.io import read, write

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def family(atoms):
    s = atoms.info.get("system", "")
    return "cluster" if ("-" in s or s.startswith("(")) else "monomer"


def reference(frames):
    return [(a.get_potential_energy(), a.get_forces(), a.arrays["apt"].reshape(-1, 3, 3))
            for a in frames]


def predict_lorem_jax(model, frames):
    from lorem.calculator import Calculator

    calc = Calculator.from_checkpoint(model)  # float32, as users run it
    out = []
    for atoms in frames:
        a = atoms.copy()
        a.calc = calc
        e = a.get_potential_energy()
        f = a.get_forces()
        z = np.asarray(calc.results["born_effective_charges"]).reshape(-1, 3, 3)
        out.append((e, f, z))
    return out


def lorem_gpu_binary():
    b = os.environ.get("LOREM_GPU_BIN") or ROOT / ".build" / "release" / "lorem-gpu"
    return str(b)


def predict_lorem_gpu(model, frames, precision):
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.xyz", Path(tmp) / "out.xyz"
        bare = []
        for a in frames:
            b = a.copy()
            b.calc = None
            for k in list(b.arrays):
                if k not in ("numbers", "positions"):
                    del b.arrays[k]
            b.info = {}
            bare.append(b)
        write(inp, bare, format="extxyz")
        subprocess.run([lorem_gpu_binary(), "predict", "--model", str(model), "--precision",
                        precision, "-q", str(inp), "-o", str(outp)], check=True)
        pred = read(outp, ":")
    return [(p.get_potential_energy(), p.get_forces(),
             np.asarray(p.calc.results["born_effective_charges"]).reshape(-1, 3, 3))
            for p in pred]


def metrics(rows):
    n = np.array([r[0] for r in rows])
    de = np.array([r[1] for r in rows]) / n  # eV/atom
    df = np.concatenate([r[2].ravel() for r in rows])  # eV/A
    dz = np.concatenate([r[3].ravel() for r in rows])  # e
    return {
        "n": len(rows),
        "E_MAE": np.abs(de).mean() * 1e3,
        "E_RMSE": np.sqrt((de**2).mean()) * 1e3,
        "F_MAE": np.abs(df).mean() * 1e3,
        "F_RMSE": np.sqrt((df**2).mean()) * 1e3,
        "Z_MAE": np.abs(dz).mean(),
        "Z_RMSE": np.sqrt((dz**2).mean()),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--model", default=str(HERE), help="checkpoint folder (default: examples/bec)")
    p.add_argument("--split", nargs="+", default=["valid", "test"])
    p.add_argument("--engine", choices=["lorem-jax", "lorem-gpu"], default="lorem-jax")
    p.add_argument("--precision", choices=["f32", "f64"], default="f32",
                   help="lorem-gpu's precision")
    p.add_argument("--compare", action="store_true",
                   help="also run the other engine and print the largest differences")
    args = p.parse_args()

    def run(engine, frames):
        if engine == "lorem-jax":
            return predict_lorem_jax(args.model, frames)
        return predict_lorem_gpu(args.model, frames, args.precision)

    print(f"engine: {args.engine}" + (f" ({args.precision})" if args.engine == "lorem-gpu" else ""))
    print("energy: meV/atom, forces: meV/A, Born charges Z: e (per tensor component)")
    header = (f"{'split':<6} {'family':<8} {'n':>4}  {'E MAE':>7} {'E RMSE':>7}  {'F MAE':>7} "
              f"{'F RMSE':>7}  {'Z MAE':>7} {'Z RMSE':>7}")
    print(header)
    print("-" * len(header))
    worst = np.zeros(3)
    for split in args.split:
        frames = read(HERE / "data" / f"{split}.xyz", index=":")
        pred = run(args.engine, frames)
        ref = reference(frames)
        rows = [(len(a), pe - re, pf - rf, pz - rz)
                for a, (pe, pf, pz), (re, rf, rz) in zip(frames, pred, ref)]
        groups = defaultdict(list)
        for a, r in zip(frames, rows):
            groups[family(a)].append(r)
        for name, rs in [("all", rows)] + sorted(groups.items()):
            m = metrics(rs)
            print(f"{split:<6} {name:<8} {m['n']:>4}  {m['E_MAE']:7.2f} {m['E_RMSE']:7.2f}  "
                  f"{m['F_MAE']:7.1f} {m['F_RMSE']:7.1f}  {m['Z_MAE']:7.4f} {m['Z_RMSE']:7.4f}")
        if args.compare:
            other = "lorem-gpu" if args.engine == "lorem-jax" else "lorem-jax"
            for (e1, f1, z1), (e2, f2, z2) in zip(pred, run(other, frames)):
                worst = np.maximum(worst, [abs(e1 - e2), np.abs(f1 - f2).max(),
                                           np.abs(z1 - z2).max()])
    if args.compare:
        print(f"largest difference lorem-jax (f32) vs lorem-gpu ({args.precision}): "
              f"energy {worst[0]:.1e} eV, forces {worst[1]:.1e} eV/A, Z {worst[2]:.1e} e")


if __name__ == "__main__":
    main()
