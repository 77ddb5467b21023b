"""SN2 energy profile: GFN2-xTB reference vs. the lorem model.

Reads examples/sn2_scan.xyz (relaxed scan Cl- + CH3Cl -> ClCH3 + Cl-, not part
of the training data), evaluates the model with lorem-jax's Calculator
(float32) and writes training/sn2_profile.csv.  Energies relative to the first
(most separated) frame are given in eV.

  python training/sn2_profile.py [--model DIR]
"""

import argparse
import csv
from pathlib import Path

import numpy as np
from ase.io import read

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(ROOT / "models" / "default"))
    p.add_argument("--out", default=str(ROOT / "training" / "sn2_profile.csv"))
    args = p.parse_args()

    from lorem.calculator import Calculator

    calc = Calculator.from_checkpoint(args.model)
    frames = read(ROOT / "examples" / "sn2_scan.xyz", index=":")

    rows = []
    for i, atoms in enumerate(frames):
        e_ref = atoms.get_potential_energy()
        f_ref = atoms.get_forces()
        a = atoms.copy()
        a.calc = calc
        e = a.get_potential_energy()
        f = a.get_forces()
        rows.append(
            [i, atoms.info["xi"], atoms.info["d_C_Cl_in"], atoms.info["d_C_Cl_out"],
             e_ref, e, np.abs(f - f_ref).mean()]
        )
    e0_ref, e0 = rows[0][4], rows[0][5]
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "xi_A", "d_C_Cl_in_A", "d_C_Cl_out_A", "E_xtb_eV", "E_model_eV",
                    "dE_xtb_eV", "dE_model_eV", "force_MAE_eV_per_A"])
        for r in rows:
            w.writerow([r[0], f"{r[1]:.4f}", f"{r[2]:.4f}", f"{r[3]:.4f}", f"{r[4]:.6f}",
                        f"{r[5]:.6f}", f"{r[4] - e0_ref:.5f}", f"{r[5] - e0:.5f}", f"{r[6]:.4f}"])
    print(f"{'xi/A':>7} {'dE xTB/eV':>10} {'dE model/eV':>12}")
    for r in rows:
        print(f"{r[1]:7.3f} {r[4] - e0_ref:10.4f} {r[5] - e0:12.4f}")
    d = np.array([(r[5] - e0) - (r[4] - e0_ref) for r in rows])
    print(f"relative-energy MAE over the scan: {np.abs(d).mean() * 1e3:.1f} meV; "
          f"barrier (max along scan) xTB {max(r[4] for r in rows) - e0_ref:.3f} eV, "
          f"model {max(r[5] for r in rows) - e0:.3f} eV")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
