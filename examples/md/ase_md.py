#!/usr/bin/env python3
"""Langevin molecular dynamics with ASE and lorem-gpu's Python calculator.

    python examples/md/ase_md.py                       # Cl-(H2O)4, built-in model, 300 K
    python examples/md/ase_md.py --model CHECKPOINT --structure my.xyz --steps 5000

Needs `swift build -c release` (or LOREM_GPU_BIN) and `pip install ./python`.
$LOREM_EXAMPLE_STEPS overrides --steps; the trajectory goes to $LOREM_EXAMPLE_OUT
(default: the current directory) as ase_md.xyz.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
from ase import units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

from lorem_gpu import Calculator

from example_support import HERE, find_binary  # this folder is on sys.path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--structure", default=str(HERE / "cl_water4.xyz"), help="start structure (extxyz)")
    p.add_argument("--model", help="lorem-train checkpoint (default: the built-in model)")
    p.add_argument("--device", help="opencl, opencl:P:D or reference (default: lorem-gpu's choice)")
    p.add_argument("--precision", default="f32", choices=["f32", "f64"])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--timestep", type=float, default=0.5, help="fs")
    p.add_argument("--temperature", type=float, default=300.0, help="K")
    p.add_argument("--friction", type=float, default=0.01, help="1/fs")
    p.add_argument("--interval", type=int, default=20, help="log and trajectory interval (steps)")
    args = p.parse_args()
    steps = int(os.environ.get("LOREM_EXAMPLE_STEPS", args.steps))
    out = Path(os.environ.get("LOREM_EXAMPLE_OUT", "."))
    out.mkdir(parents=True, exist_ok=True)

    atoms = ase.io.read(args.structure)
    kwargs = dict(device=args.device, precision=args.precision, binary=find_binary())
    if args.model:
        calc = Calculator.from_checkpoint(args.model, **kwargs)
    else:
        calc = Calculator(**kwargs)

    rng = np.random.default_rng(20261130)
    with calc:
        atoms.calc = calc
        MaxwellBoltzmannDistribution(atoms, temperature_K=args.temperature, rng=rng)
        Stationary(atoms)
        ZeroRotation(atoms)
        dyn = Langevin(atoms, timestep=args.timestep * units.fs, temperature_K=args.temperature,
                       friction=args.friction / units.fs, rng=rng)
        traj_path = out / "ase_md.xyz"
        if traj_path.exists():
            traj_path.unlink()
        t0 = time.perf_counter()

        def log():
            epot = atoms.get_potential_energy()
            ekin = atoms.get_kinetic_energy()
            print(f"{dyn.nsteps:6d} {dyn.nsteps * args.timestep / 1000:8.3f} ps  "
                  f"Epot {epot:12.4f} eV  Ekin {ekin:8.4f} eV  T {atoms.get_temperature():6.1f} K")
            ase.io.write(traj_path, atoms, format="extxyz", append=True)

        print(f"{len(atoms)} atoms ({atoms.get_chemical_formula()}), {steps} steps of "
              f"{args.timestep} fs at {args.temperature} K")
        dyn.attach(log, interval=args.interval)
        dyn.run(steps)
        if steps % args.interval:
            log()
        dt = time.perf_counter() - t0
    print(f"{steps} steps in {dt:.1f} s ({1000 * dt / max(steps, 1):.1f} ms/step); "
          f"trajectory: {traj_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
