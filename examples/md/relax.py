#!/usr/bin/env python3
"""BFGS geometry relaxation with ASE and lorem-gpu's Python calculator.

    python examples/md/relax.py                                  # rattled Na4Cl4, built-in model
    python examples/md/relax.py my.xyz --model CHECKPOINT --fmax 0.01
    python examples/md/relax.py crystal.xyz --model CHECKPOINT --cell   # also relax the cell

By default the rattled Na4Cl4 cluster of examples/nacl_cluster.xyz (frame 1) is relaxed with
the built-in model. --cell relaxes a 3D-periodic cell too (ASE's FrechetCellFilter, using the
stress). Needs `swift build -c release` (or LOREM_GPU_BIN) and `pip install ./python`.
$LOREM_EXAMPLE_STEPS caps the number of optimiser steps; the relaxed structure goes to
$LOREM_EXAMPLE_OUT (default: the current directory) as relaxed.xyz.
"""

import argparse
import os
import sys
from pathlib import Path

import ase.io
import numpy as np
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS

from lorem_gpu import Calculator

from example_support import REPO, find_binary  # this folder is on sys.path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("structure", nargs="?", default=str(REPO / "examples" / "nacl_cluster.xyz"),
                   help="structure file (extxyz)")
    p.add_argument("--index", type=int, default=None,
                   help="frame to relax (default: 1 for the built-in example, else the last)")
    p.add_argument("--model", help="lorem-train checkpoint (default: the built-in model)")
    p.add_argument("--device", help="opencl, opencl:P:D or reference (default: lorem-gpu's choice)")
    p.add_argument("--precision", default="f64", choices=["f32", "f64"],
                   help="f64 (default) gives smooth forces down to tight fmax")
    p.add_argument("--fmax", type=float, default=0.01, help="eV/Å")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--cell", action="store_true", help="relax the cell too (3D-periodic only)")
    args = p.parse_args()
    steps = int(os.environ.get("LOREM_EXAMPLE_STEPS", args.steps))
    out = Path(os.environ.get("LOREM_EXAMPLE_OUT", "."))
    out.mkdir(parents=True, exist_ok=True)

    index = args.index
    if index is None:
        index = 1 if Path(args.structure).name == "nacl_cluster.xyz" else -1
    atoms = ase.io.read(args.structure, index)
    for key in ("energy", "forces", "stress"):  # reference values would only confuse
        atoms.info.pop(key, None)
        atoms.arrays.pop(key, None)
    atoms.calc = None

    kwargs = dict(device=args.device, precision=args.precision, binary=find_binary())
    calc = (Calculator.from_checkpoint(args.model, **kwargs) if args.model
            else Calculator(**kwargs))
    with calc:
        atoms.calc = calc
        e0 = atoms.get_potential_energy()
        print(f"{atoms.get_chemical_formula()}: {len(atoms)} atoms, pbc={atoms.pbc.tolist()}, "
              f"E = {e0:.6f} eV, fmax = {fmax(atoms.get_forces()):.4f} eV/Å")
        target = atoms
        if args.cell:
            if not atoms.pbc.all():
                sys.exit("--cell needs a 3D-periodic structure")
            target = FrechetCellFilter(atoms)
            print(f"stress {atoms.get_stress()} eV/Å³")
        opt = BFGS(target, logfile="-")
        converged = opt.run(fmax=args.fmax, steps=steps)
        e1 = atoms.get_potential_energy()
        print(f"{'converged' if converged else 'NOT converged'} after {opt.nsteps} steps: "
              f"E = {e1:.6f} eV (ΔE = {e1 - e0:+.6f} eV), fmax = {fmax(atoms.get_forces()):.4f} eV/Å")
        if args.cell:
            print(f"cell lengths {atoms.cell.lengths()} Å, angles {atoms.cell.angles()}°, "
                  f"volume {atoms.get_volume():.3f} Å³")
        path = out / "relaxed.xyz"
        atoms.calc = None
        ase.io.write(path, atoms, format="extxyz")
        print(f"written {path}")
    return 0 if converged or "LOREM_EXAMPLE_STEPS" in os.environ else 1


def fmax(forces):
    return float(np.sqrt((np.asarray(forces) ** 2).sum(axis=1)).max())


if __name__ == "__main__":
    sys.exit(main())
