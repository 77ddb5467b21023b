"""Generate the GFN2-xTB training data for the default lorem-gpu model.

Three families of small gas-phase (non-periodic) systems where long-range
electrostatics matter, all labelled with GFN2-xTB (tblite):

  (a) SN2  Cl- + CH3Cl -> ClCH3 + Cl-          (total charge -1)
  (b) NaCl clusters, charged and neutral       (NaCl, Na2Cl+, NaCl2-, Na2Cl2,
                                                Na4Cl3+, Na3Cl4-, Na4Cl4)
  (c) (H2O)n + Na+ / Cl-, n = 2..6               (total charge +1 / -1)

Outputs (all fixed seeds, fully reproducible):

  training/data/{train,valid,test}.xyz   80/10/10 split of everything
  examples/sn2_scan.xyz                  15-frame relaxed scan of the SN2
                                         reaction coordinate (not in the data)
  examples/nacl_cluster.xyz              relaxed NaCl clusters (not in the data)

Every frame carries info["energy"] (eV), info["charge"] (total charge, e) and
arrays["forces"] (eV/A).  Usage (from the repository root):

  python training/make_data.py
"""

import os

# tblite is OpenMP-parallel; threaded reductions make relaxations, MD and
# borderline SCF convergence differ run to run.  One thread is deterministic.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time
import warnings
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import molecule
from ase.calculators.calculator import CalculationFailed
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixBondLengths
from ase.io import write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.optimize import BFGS
from ase import units
from tblite.ase import TBLite

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "training" / "data"
EXAMPLES = ROOT / "examples"

SEED = 20261125
rng = np.random.default_rng(SEED)

N_CALLS = 0
N_FAILED = 0
F_MAX = 20.0


def xtb(charge):
    return TBLite(method="GFN2-xTB", charge=charge, max_iterations=500, verbosity=0)


def label(atoms, charge, tag):
    """Return a copy of atoms with GFN2-xTB energy/forces attached."""
    global N_CALLS, N_FAILED
    a = Atoms(atoms.numbers, positions=atoms.positions, pbc=False)
    a.calc = xtb(charge)
    N_CALLS += 1
    try:
        e = a.get_potential_energy()
        f = a.get_forces()
    except CalculationFailed as err:
        # SCF not converged (happens for stretched ion pairs); frame is skipped
        N_FAILED += 1
        print(f"  skipped {tag}: {err}")
        return None
    out = Atoms(atoms.numbers, positions=atoms.positions, pbc=False)
    out.info["charge"] = int(charge)
    out.info["system"] = tag
    out.calc = SinglePointCalculator(out, energy=float(e), forces=f.copy())
    return out


def relax(atoms, charge, fmax=0.02, steps=300, constraint=None):
    a = atoms.copy()
    a.set_constraint()
    if constraint is not None:
        a.set_constraint(constraint)
    a.calc = xtb(charge)
    BFGS(a, logfile=None).run(fmax=fmax, steps=steps)
    a.set_constraint()
    return a


def rattled(atoms, sigma):
    a = atoms.copy()
    a.positions = a.positions + rng.normal(scale=sigma, size=a.positions.shape)
    return a


def too_close(atoms, dmin=0.7):
    d = atoms.get_all_distances()
    d[np.diag_indices_from(d)] = 10.0
    return d.min() < dmin


# -- (a) SN2 -------------------------------------------------------------------
# atoms: 0 C, 1-3 H, 4 Cl (leaving, "a"), 5 Cl (incoming, "b"); axis = z.
# reaction coordinate xi = d(C-Cl_a) - d(C-Cl_b)


def sn2_start(d_b):
    r_ch, ang = 1.09, np.deg2rad(108.0)  # H-C-Cl_a angle
    pos = [[0.0, 0.0, 0.0]]
    for k in range(3):
        phi = 2 * np.pi * k / 3
        pos.append(
            [r_ch * np.sin(ang) * np.cos(phi), r_ch * np.sin(ang) * np.sin(phi), -r_ch * np.cos(ang)]
        )
    # H's sit on the +z side (opposite Cl_a at -z), facing the incoming Cl_b
    pos = np.array(pos)
    pos = np.vstack([pos, [[0, 0, -1.80], [0, 0, d_b]]])
    return Atoms("CH3Cl2", positions=pos)


def sn2_relaxed_scan(d_values):
    """Relaxed scan: C-Cl_b distance fixed, everything else optimised.

    Each point starts from the previous one, so the path goes continuously from
    reactant complex through the (symmetric) transition state to products.
    """
    frames = []
    current = sn2_start(d_values[0])
    for d in d_values:
        a = current.copy()
        # move Cl_b along the C->Cl_b direction to the target distance
        v = a.positions[5] - a.positions[0]
        a.positions[5] = a.positions[0] + v / np.linalg.norm(v) * d
        a = relax(a, -1, fmax=0.03, steps=200, constraint=FixBondLengths([(0, 5)]))
        frames.append(a)
        current = a
    return frames


def xi(a):
    return a.get_distance(0, 4) - a.get_distance(0, 5)


def make_sn2():
    out = []
    d_grid = np.concatenate([np.linspace(8.0, 3.2, 13), np.linspace(3.05, 1.78, 17)])
    path = sn2_relaxed_scan(d_grid)
    for a in path:
        out.append(label(a, -1, "sn2_scan"))
        for sigma in (0.03, 0.06, 0.09):
            out.append(label(rattled(a, sigma), -1, "sn2_rattle"))
    # random perturbations of the two C-Cl distances (off the minimum-energy path)
    for _ in range(70):
        a = path[rng.integers(len(path))].copy()
        c = a.positions[0]
        for idx in (4, 5):
            v = a.positions[idx] - c
            d = np.linalg.norm(v) + rng.uniform(-0.25, 0.4)
            a.positions[idx] = c + v / np.linalg.norm(v) * max(d, 1.65)
        a = rattled(a, 0.05)
        if not too_close(a):
            out.append(label(a, -1, "sn2_perturbed"))
    return out


def make_sn2_example():
    # denser near the transition state; offset so it is not on the training grid
    d_grid = np.concatenate([np.linspace(7.5, 3.5, 6), np.linspace(3.2, 1.8, 9)]) + 0.013
    path = sn2_relaxed_scan(d_grid)
    frames = []
    for a in path:
        f = label(a, -1, "sn2_example")
        f.info["xi"] = float(xi(a))
        f.info["d_C_Cl_in"] = float(a.get_distance(0, 5))
        f.info["d_C_Cl_out"] = float(a.get_distance(0, 4))
        frames.append(f)
    return frames


# -- (b) NaCl clusters ---------------------------------------------------------


def cube(n_na_skip=(), n_cl_skip=()):
    """2x2x2 rock-salt fragment (Na4Cl4) with optional vacancies."""
    d = 2.55
    na, cl = [], []
    for i in range(2):
        for j in range(2):
            for k in range(2):
                (na if (i + j + k) % 2 == 0 else cl).append([i * d, j * d, k * d])
    na = [p for n, p in enumerate(na) if n not in n_na_skip]
    cl = [p for n, p in enumerate(cl) if n not in n_cl_skip]
    return Atoms("Na" * len(na) + "Cl" * len(cl), positions=na + cl)


NACL_CLUSTERS = {
    # name: (atoms, charge)
    "NaCl": (Atoms("NaCl", positions=[[0, 0, 0], [2.4, 0, 0]]), 0),
    "Na2Cl+": (Atoms("Na2Cl", positions=[[-2.5, 0, 0], [2.5, 0, 0], [0, 0.3, 0]]), 1),
    "NaCl2-": (Atoms("NaCl2", positions=[[0, 0.3, 0], [-2.5, 0, 0], [2.5, 0, 0]]), -1),
    "Na2Cl2": (Atoms("Na2Cl2", positions=[[0, 0, 0], [2.6, 2.6, 0], [2.6, 0, 0], [0, 2.6, 0]]), 0),
    "Na4Cl3+": (cube(n_cl_skip=(3,)), 1),
    "Na3Cl4-": (cube(n_na_skip=(0,)), -1),
    "Na4Cl4": (cube(), 0),
}


def make_nacl():
    out, relaxed = [], {}
    for name, (atoms, q) in NACL_CLUSTERS.items():
        a = relax(rattled(atoms, 0.02), q)
        relaxed[name] = (a, q)
        out.append(label(a, q, "nacl_" + name))
        n_rattle = 6 if len(a) <= 3 else 18
        for k in range(n_rattle):
            b = a.copy()
            b.positions = (b.positions - b.positions.mean(0)) * rng.uniform(0.92, 1.12)
            b = rattled(b, (0.05, 0.1, 0.2)[k % 3])
            if not too_close(b, 1.6):
                out.append(label(b, q, "nacl_" + name))
    # ion-pair separation scans: long-range Coulomb tails
    for name in ("NaCl", "Na2Cl+", "NaCl2-"):
        a, q = relaxed[name]
        for s in np.linspace(1.1, 2.6, 6):
            b = a.copy()
            b.positions = (b.positions - b.positions.mean(0)) * s
            out.append(label(rattled(b, 0.03), q, "nacl_" + name + "_stretch"))
    return out, relaxed


# -- (c) water clusters with an ion --------------------------------------------


def random_rotation():
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    a, b, c, d = q
    return np.array(
        [
            [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
            [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
            [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d],
        ]
    )


def solvated_ion(ion, n_water):
    """Ion at origin, n waters on a shell, O (Na+) or one H (Cl-) towards the ion."""
    r0 = 2.35 if ion == "Na" else 3.15
    water = molecule("H2O")  # O at index 0
    water.positions -= water.positions[0]
    for _ in range(200):
        a = Atoms(ion, positions=[[0, 0, 0]])
        ok = True
        for _w in range(n_water):
            u = rng.normal(size=3)
            u /= np.linalg.norm(u)
            r = r0 + rng.uniform(0.0, 0.4) + (1.2 if _w >= 4 else 0.0)
            w = water.copy()
            w.positions = w.positions @ random_rotation().T
            if ion == "Na":
                # dipole (bisector of H's) pointing away from the ion
                bis = w.positions[1:].mean(0)
                R = _align(bis / np.linalg.norm(bis), u)
            else:
                oh = w.positions[1]
                R = _align(oh / np.linalg.norm(oh), -u)
            w.positions = w.positions @ R.T + u * r
            a += w
            d = a.get_all_distances()
            np.fill_diagonal(d, 10.0)
            for s0 in range(1, len(a), 3):  # ignore pairs within one water
                d[s0 : s0 + 3, s0 : s0 + 3] = 10.0
            if d.min() < 1.5:
                ok = False
                break
        if ok:
            return a
    raise RuntimeError("could not place waters")


def _align(a, b):
    """Rotation matrix taking unit vector a onto unit vector b."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-8:
        return np.eye(3) if c > 0 else -np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def make_water():
    out = []
    for ion, q in (("Na", 1), ("Cl", -1)):
        for n in range(2, 7):
            for rep in range(2):
                a = solvated_ion(ion, n)
                a = relax(a, q, fmax=0.05, steps=150)
                out.append(label(a, q, f"water{n}_{ion}"))
                # short Langevin MD at 350 K, snapshots every 20 steps
                a.calc = xtb(q)
                MaxwellBoltzmannDistribution(a, temperature_K=350, rng=rng)
                md = Langevin(
                    a, 0.5 * units.fs, temperature_K=350, friction=0.02, rng=rng
                )
                for _s in range(10):
                    try:
                        md.run(20)
                    except CalculationFailed:
                        break
                    out.append(label(a, q, f"water{n}_{ion}"))
    return out


def main():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    t0 = time.time()
    DATA.mkdir(parents=True, exist_ok=True)
    EXAMPLES.mkdir(parents=True, exist_ok=True)

    # timing of a single labelling call
    probe = solvated_ion("Na", 6)
    t = time.time()
    for _ in range(5):
        label(probe, 1, "probe")
    print(f"one GFN2-xTB call, 19 atoms: {(time.time() - t) / 5 * 1e3:.1f} ms")

    sn2 = make_sn2()
    print(f"SN2: {len(sn2)} frames ({time.time() - t0:.0f} s)")
    nacl, relaxed = make_nacl()
    print(f"NaCl: {len(nacl)} frames ({time.time() - t0:.0f} s)")
    water = make_water()
    print(f"water+ion: {len(water)} frames ({time.time() - t0:.0f} s)")

    frames = [f for f in sn2 + nacl + water if f is not None]
    # drop the few extreme frames (max |F| > 20 eV/A) from large random kicks
    n_all = len(frames)
    frames = [f for f in frames if np.abs(f.get_forces()).max() <= F_MAX]
    print(f"dropped {n_all - len(frames)} frames with max |F| > {F_MAX} eV/A")
    perm = np.random.default_rng(SEED + 1).permutation(len(frames))
    n_test = n_valid = len(frames) // 10
    split = {
        "test": [frames[i] for i in perm[:n_test]],
        "valid": [frames[i] for i in perm[n_test : n_test + n_valid]],
        "train": [frames[i] for i in perm[n_test + n_valid :]],
    }
    for name, fr in split.items():
        write(DATA / f"{name}.xyz", fr, format="extxyz")
        print(f"{name}: {len(fr)} frames")

    write(EXAMPLES / "sn2_scan.xyz", make_sn2_example(), format="extxyz")
    ex = []
    for name in ("Na4Cl4", "Na4Cl3+", "Na3Cl4-"):
        a, q = relaxed[name]
        f = label(a, q, "nacl_example_" + name)
        ex.append(f)
        g = label(rattled(a, 0.08), q, "nacl_example_" + name + "_rattled")
        ex.append(g)
    write(EXAMPLES / "nacl_cluster.xyz", [f for f in ex if f is not None], format="extxyz")

    print(
        f"total: {len(frames)} frames, {N_CALLS} xTB labelling calls "
        f"({N_FAILED} failed/skipped), {time.time() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
