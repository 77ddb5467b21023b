"""Harmonic IR spectrum of a molecule from the LoremBEC example model (and GFN2-xTB).

Frequencies from the finite-difference Hessian (ASE Vibrations, central
differences of 0.005 A); IR intensities from the Born effective charges,

    I_k = (N_A pi / 3 c^2) |d mu / d Q_k|^2,   d mu_b / d Q_k = sum_ia Z_i,ab e_ia,k / sqrt(m_i)

(mass-weighted normal mode e_k), in km/mol.  The model's Z and Hessian come from
lorem_gpu.Calculator (`lorem-gpu driver`, float64); with --xtb the GFN2-xTB Hessian
is computed with tblite and Z is read from the structure's `apt` column.

  python examples/bec/harmonic_ir.py                 # ipi_eda/start_xtb.xyz, model only
  python examples/bec/harmonic_ir.py --xtb           # side by side with GFN2-xTB
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from ase import units
from ase.io import read
from ase.vibrations import Vibrations

HERE = Path(__file__).resolve().parent
# |d mu/dQ|^2 in e^2/amu -> km/mol: 42.2561 km/mol per (D/A)^2/amu, 1 e = 4.80320 D/A
KM_PER_MOL = 42.2561 * 4.80320**2
CM1 = units._hbar * 1e10 / np.sqrt(units._e * units._amu) / (units._hplanck * units._c / units._e) / 100


def hessian(atoms, calc, delta=0.005):
    a = atoms.copy()
    a.calc = calc
    with tempfile.TemporaryDirectory() as tmp:
        vib = Vibrations(a, name=os.path.join(tmp, "vib"), delta=delta, nfree=2)
        vib.run()
        return vib.get_vibrations().get_hessian_2d()


def spectrum(atoms, hess, z):
    """Frequencies (cm^-1, the 3N-6 largest) and intensities (km/mol)."""
    m = np.repeat(atoms.get_masses(), 3)
    w2, modes = np.linalg.eigh(hess / np.sqrt(np.outer(m, m)))
    freq = np.sign(w2) * np.sqrt(np.abs(w2)) * CM1
    dmu = z.reshape(-1, 3).T @ (modes / np.sqrt(m)[:, None])  # (3, 3N)
    inten = (dmu**2).sum(axis=0) * KM_PER_MOL
    return freq[6:], inten[6:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("structure", nargs="?", default=str(HERE / "ipi_eda" / "start_xtb.xyz"))
    p.add_argument("--model", default=str(HERE / "model"))
    p.add_argument("--xtb", action="store_true", help="also GFN2-xTB (needs tblite)")
    args = p.parse_args()

    from lorem_gpu import Calculator

    atoms = read(args.structure)
    atoms.pbc = False
    with Calculator.from_checkpoint(args.model, precision="f64") as calc:
        a = atoms.copy()
        a.calc = calc
        z_model = np.asarray(calc.get_property("born_effective_charges", a))
        f_model = a.get_forces()
        h_model = hessian(atoms, calc)
    cols = [spectrum(atoms, h_model, z_model)]
    print(f"model: max |F| = {np.abs(f_model).max():.3f} eV/A at this geometry")
    if args.xtb:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from tblite.ase import TBLite

        z_xtb = atoms.arrays["apt"].reshape(-1, 3, 3)
        h_xtb = hessian(atoms, TBLite(method="GFN2-xTB", verbosity=0, accuracy=1e-3))
        cols.insert(0, spectrum(atoms, h_xtb, z_xtb))
        print(f"Born charges model vs xTB: max |dZ| = {np.abs(z_model - z_xtb).max():.3f} e, "
              f"MAE {np.abs(z_model - z_xtb).mean():.4f} e")
        print(f"{'mode':>4}  {'xTB cm-1':>9} {'km/mol':>7}  {'model cm-1':>10} {'km/mol':>7}")
    else:
        print(f"{'mode':>4}  {'model cm-1':>10} {'km/mol':>7}")
    for k in range(len(cols[0][0])):
        row = "  ".join(f"{c[0][k]:9.0f} {c[1][k]:7.1f}" for c in cols)
        print(f"{k + 7:>4}  {row}")


if __name__ == "__main__":
    main()
