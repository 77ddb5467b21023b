"""Evaluate a lorem checkpoint against the GFN2-xTB reference data.

Uses lorem-jax's ASE Calculator exactly as users run it (float32), and prints
energy MAE/RMSE per atom and force MAE/RMSE (per Cartesian component), for the
whole split and per system family.

  python training/evaluate.py                          # models/default on test
  python training/evaluate.py --model DIR --split valid test
"""

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from ase.io import read

ROOT = Path(__file__).resolve().parent.parent


def family(atoms):
    s = atoms.info.get("system", "")
    if s.startswith("sn2"):
        return "sn2"
    if s.startswith("nacl"):
        return "nacl"
    if s.startswith("water"):
        return "water+ion"
    return "other"


def evaluate(calc, frames):
    rows = []
    for atoms in frames:
        e_ref = atoms.get_potential_energy()
        f_ref = atoms.get_forces()
        a = atoms.copy()
        a.calc = calc
        e = a.get_potential_energy()
        f = a.get_forces()
        rows.append((family(atoms), len(atoms), e - e_ref, (f - f_ref).ravel()))
    return rows


def metrics(rows):
    de = np.array([r[2] / r[1] for r in rows])  # eV/atom
    df = np.concatenate([r[3] for r in rows])  # eV/A
    return {
        "n": len(rows),
        "E_MAE": np.abs(de).mean() * 1e3,
        "E_RMSE": np.sqrt((de**2).mean()) * 1e3,
        "F_MAE": np.abs(df).mean() * 1e3,
        "F_RMSE": np.sqrt((df**2).mean()) * 1e3,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--model", default=str(ROOT / "models" / "default"))
    p.add_argument("--split", nargs="+", default=["test"])
    args = p.parse_args()

    from lorem.calculator import Calculator

    calc = Calculator.from_checkpoint(args.model)  # float32, as users run it

    header = f"{'split':<6} {'family':<10} {'n':>4}  {'E MAE':>8} {'E RMSE':>8}  {'F MAE':>8} {'F RMSE':>8}"
    print("energy: meV/atom, forces: meV/A")
    print(header)
    print("-" * len(header))
    for split in args.split:
        frames = read(ROOT / "training" / "data" / f"{split}.xyz", index=":")
        rows = evaluate(calc, frames)
        groups = defaultdict(list)
        for r in rows:
            groups[r[0]].append(r)
        for name, rs in [("all", rows)] + sorted(groups.items()):
            m = metrics(rs)
            print(
                f"{split:<6} {name:<10} {m['n']:>4}  {m['E_MAE']:8.2f} {m['E_RMSE']:8.2f}"
                f"  {m['F_MAE']:8.1f} {m['F_RMSE']:8.1f}"
            )


if __name__ == "__main__":
    main()
