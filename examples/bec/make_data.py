"""Generate the GFN2-xTB data set with Born effective charges for the LoremBEC example.

Small neutral gas-phase molecules and clusters of H, C and O (water, CO, CO2,
formaldehyde, methanol, formic acid, methane; water dimers to tetramers and
mixed water/methanol/formaldehyde/CO2 dimers), relaxed, sampled by short
Langevin MD and rattled, all labelled with GFN2-xTB (tblite):

  energy (eV), forces (eV/A), dipole (e*A) and the atomic polar tensors
  (Born effective charges, units of e)

      Z_i,ab = d mu_b / d R_i,a

  by central finite differences of the xTB dipole moment (displacement
  H_FD = 0.005 A of each atom along x, y, z; 6N extra SCF calculations per
  frame).  Row a = displacement/force direction, column b = dipole/field
  direction, the layout of lorem-jax's `apt` (F_i,a += sum_b Z_i,ab E_b).

Checks of the labels (printed, and quoted in MODEL_CARD.md):

  * acoustic sum rule: sum_i Z_i = (total charge) * I = 0 here;
  * an independent route, Z_i,ab = dF_i,a / dE_b by finite field (+-1e-3 a.u.)
    with tblite's "electric-field" interaction, on every frame;
  * rotation covariance Z(Q R) = Q Z(R) Q^T on a subset.

Outputs (fixed seed, single-threaded tblite, reproducible):

  examples/bec/data/{train,valid,test}.xyz   80/10/10 split; extxyz with info
      energy (in the calculator), dipole, system; arrays forces and `apt`
      (9 values per atom, row-major Z_i,ab = apt[i, 3a+b])
  examples/bec/ipi_eda/start.xyz             relaxed (H2O)3 (not in the data),
      centred in a 30 A box, for the i-PI driven-dynamics example
  examples/bec/ipi_eda/start_xtb.xyz         the same geometry with its xTB
      energy, forces and apt (reference for comparisons)

Usage (from the repository root, in the venv of examples/bec/README.md):

  python examples/bec/make_data.py
"""

import os

# tblite is OpenMP-parallel; one thread makes relaxations and MD bit-reproducible.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time
import warnings
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.optimize import BFGS
from tblite.ase import TBLite
from tblite.interface import Calculator as XTBCalculator
from tblite.library import ffi

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
IPI = HERE / "ipi_eda"

SEED = 20261201
rng = np.random.default_rng(SEED)

H_FD = 0.005  # A, finite-difference displacement for the dipole derivatives
ACCURACY = 1e-3  # tblite SCF accuracy for the labels (default 1.0; 1e-3 = 1000x tighter)
FIELD_AU = 1e-3  # Hartree/(e*Bohr), finite field for the cross-check (= 0.0514 V/A)
F_MAX = 20.0  # eV/A, frames with a larger force component are dropped

BOHR = units.Bohr
HARTREE = units.Hartree

MONOMERS = ["H2O", "CO", "CO2", "H2CO", "CH3OH", "HCOOH", "CH4"]
CLUSTERS = {
    "(H2O)2": ["H2O", "H2O"],
    "(H2O)3": ["H2O", "H2O", "H2O"],
    "(H2O)4": ["H2O", "H2O", "H2O", "H2O"],
    "H2O-CH3OH": ["H2O", "CH3OH"],
    "H2O-H2CO": ["H2O", "H2CO"],
    "H2O-CO2": ["H2O", "CO2"],
    "(CH3OH)2": ["CH3OH", "CH3OH"],
}

STATS = {"scf_calls": 0}


# -- GFN2-xTB labels -------------------------------------------------------------


def xtb_api(numbers, positions, field_au=None):
    """A tblite API calculator (GFN2-xTB, neutral, tight SCF), optionally in a field."""
    calc = XTBCalculator("GFN2-xTB", np.asarray(numbers), np.asarray(positions) / BOHR)
    calc.set("verbosity", 0)
    calc.set("accuracy", ACCURACY)
    calc.set("max-iter", 500)
    if field_au is not None:
        # tblite 0.8.0's Python binding wants a C pointer here (its ASE wrapper's
        # electric_field= passes a numpy array and fails with a TypeError)
        field = np.ascontiguousarray(field_au, dtype=np.float64)
        calc._field_keepalive = field
        calc.add("electric-field", ffi.cast("double*", field.ctypes.data))
    return calc


def single_point(calc, positions, restart=None):
    """(energy eV, forces eV/A, dipole e*A, result) at positions (A)."""
    calc.update(positions=np.asarray(positions) / BOHR)
    res = calc.singlepoint(restart) if restart is not None else calc.singlepoint()
    STATS["scf_calls"] += 1
    e = float(res.get("energy")) * HARTREE
    f = -np.asarray(res.get("gradient")) * HARTREE / BOHR
    mu = np.asarray(res.get("dipole")) * BOHR
    return e, f, mu, res


def apt_dipole_derivative(numbers, positions):
    """Energy, forces, dipole and Z_i,ab = d mu_b / d R_i,a (central differences)."""
    calc = xtb_api(numbers, positions)
    e, f, mu, res = single_point(calc, positions)
    n = len(numbers)
    z = np.zeros((n, 3, 3))
    for i in range(n):
        for a in range(3):
            p = np.array(positions, dtype=float)
            p[i, a] += H_FD
            mu_p = single_point(calc, p, res)[2]
            p[i, a] -= 2 * H_FD
            mu_m = single_point(calc, p, res)[2]
            z[i, a, :] = (mu_p - mu_m) / (2 * H_FD)
    return e, f, mu, z


def apt_finite_field(numbers, positions):
    """Z_i,ab = dF_i,a / dE_b from GFN2-xTB forces in a field of +-FIELD_AU along b."""
    n = len(numbers)
    z = np.zeros((n, 3, 3))
    for b in range(3):
        field = np.zeros(3)
        field[b] = FIELD_AU
        # forces in Hartree/Bohr, field in Hartree/(e*Bohr): dF/dE in e
        fp = single_point(xtb_api(numbers, positions, field), positions)[1]
        fm = single_point(xtb_api(numbers, positions, -field), positions)[1]
        z[:, :, b] = (fp - fm) / (HARTREE / BOHR) / (2 * FIELD_AU)
    return z


def labelled(atoms, tag):
    """Copy of atoms with xTB energy, forces, dipole and apt, or None if the SCF fails."""
    pos = atoms.get_positions()
    try:
        e, f, mu, z = apt_dipole_derivative(atoms.numbers, pos)
    except Exception as err:  # tblite raises on SCF non-convergence
        print(f"  skipped {tag}: {err}")
        return None
    out = Atoms(atoms.numbers, positions=pos, pbc=False)
    out.info["system"] = tag
    out.info["dipole"] = mu
    out.arrays["apt"] = z.reshape(len(out), 9)
    out.calc = SinglePointCalculator(out, energy=e, forces=f)
    return out


# -- structures ------------------------------------------------------------------


def ase_xtb():
    return TBLite(method="GFN2-xTB", verbosity=0, max_iterations=500)


def relax(atoms, fmax=0.03, steps=300):
    a = atoms.copy()
    a.calc = ase_xtb()
    BFGS(a, logfile=None).run(fmax=fmax, steps=steps)
    return Atoms(a.numbers, positions=a.positions)


def random_rotation():
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z],
        ]
    )


def min_intermolecular(a, b):
    d = np.linalg.norm(a.positions[:, None, :] - b.positions[None, :, :], axis=-1)
    return d.min()


def random_cluster(names):
    """Molecules with random orientations, each touching the cluster (1.7-2.6 A contact)."""
    for _ in range(1000):
        cluster = None
        for name in names:
            m = molecule(name)
            m.positions -= m.get_center_of_mass()
            m.positions = m.positions @ random_rotation().T
            if cluster is None:
                cluster = m
                continue
            placed = False
            for _try in range(200):
                u = rng.normal(size=3)
                u /= np.linalg.norm(u)
                shift = cluster.get_center_of_mass() + u * rng.uniform(2.0, 4.5)
                trial = m.copy()
                trial.positions += shift
                dmin = min_intermolecular(cluster, trial)
                if 1.7 <= dmin <= 2.6:
                    cluster = cluster + trial
                    placed = True
                    break
            if not placed:
                cluster = None
                break
        if cluster is not None:
            return cluster
    raise RuntimeError(f"could not build a cluster of {names}")


def rattled(atoms, sigma):
    a = atoms.copy()
    a.positions = a.positions + rng.normal(scale=sigma, size=a.positions.shape)
    return a


def too_close(atoms, dmin=0.65):
    d = atoms.get_all_distances()
    np.fill_diagonal(d, 10.0)
    return d.min() < dmin


def md_snapshots(atoms, temperature, n_snap, every):
    """Langevin MD (0.5 fs) from atoms; n_snap snapshots, one every `every` steps."""
    a = atoms.copy()
    a.calc = ase_xtb()
    MaxwellBoltzmannDistribution(a, temperature_K=temperature, rng=rng)
    md = Langevin(a, 0.5 * units.fs, temperature_K=temperature, friction=0.02, rng=rng)
    out = []
    for _ in range(n_snap):
        md.run(every)
        out.append(Atoms(a.numbers, positions=a.positions.copy()))
    return out


def sample(start, tag, *, temperatures, n_snap, every, sigmas):
    """Relaxed start + MD snapshots at each temperature + rattled copies."""
    frames = [(start, tag)]
    for t in temperatures:
        frames += [(s, tag) for s in md_snapshots(start, t, n_snap, every)]
    for s in sigmas:
        r = rattled(start, s)
        if not too_close(r):
            frames.append((r, tag))
    return frames


def make_geometries():
    geoms = []
    for name in MONOMERS:
        start = relax(molecule(name))
        geoms += sample(start, name, temperatures=(300, 600), n_snap=8, every=30,
                        sigmas=(0.02, 0.04, 0.06, 0.08, 0.1))
    for name, parts in CLUSTERS.items():
        for _rep in range(2):
            start = relax(random_cluster(parts), fmax=0.05)
            geoms += sample(start, name, temperatures=(250, 400), n_snap=8, every=30,
                            sigmas=(0.03, 0.06))
    return geoms


# -- checks ----------------------------------------------------------------------


def check_labels(frames, n_rot=25):
    """Sum rule, finite-field agreement and rotation covariance of the apt labels."""
    asr = []
    ff_diff = []
    z_max = 0.0
    for f in frames:
        z = f.arrays["apt"].reshape(-1, 3, 3)
        z_max = max(z_max, np.abs(z).max())
        asr.append(np.abs(z.sum(axis=0)).max())
        zf = apt_finite_field(f.numbers, f.positions)
        ff_diff.append(np.abs(zf - z).max())
    asr = np.array(asr)
    ff_diff = np.array(ff_diff)

    rot = []
    for k in rng.choice(len(frames), size=min(n_rot, len(frames)), replace=False):
        f = frames[k]
        q = random_rotation()
        if rng.uniform() < 0.5:
            q = -q  # an improper rotation too: Z is a polar tensor (even under inversion)
        z = f.arrays["apt"].reshape(-1, 3, 3)
        zr = apt_dipole_derivative(f.numbers, f.positions @ q.T)[3]
        rot.append(np.abs(zr - q @ z @ q.T).max())
    rot = np.array(rot)
    return {
        "max |Z| component (e)": z_max,
        "sum rule: max |sum_i Z_i| per frame, max / median (e)": (asr.max(), np.median(asr)),
        "finite field vs dipole derivative: max |dZ| per frame, max / median (e)":
            (ff_diff.max(), np.median(ff_diff)),
        f"rotation (incl. improper), {len(rot)} frames: max |Z(QR) - Q Z Q^T| (e)": rot.max(),
    }


# -- main ------------------------------------------------------------------------


def boxed(atoms, box=30.0):
    a = Atoms(atoms.numbers, positions=atoms.positions, cell=[box, box, box], pbc=False)
    a.center()
    return a


def main():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    t0 = time.time()
    DATA.mkdir(parents=True, exist_ok=True)
    IPI.mkdir(parents=True, exist_ok=True)

    geoms = make_geometries()
    t_geo = time.time() - t0
    print(f"{len(geoms)} geometries (relaxations + MD: {t_geo:.0f} s)")

    frames = []
    for atoms, tag in geoms:
        f = labelled(atoms, tag)
        if f is not None:
            frames.append(f)
    n_all = len(frames)
    frames = [f for f in frames if np.abs(f.get_forces()).max() <= F_MAX]
    t_lab = time.time() - t0 - t_geo
    print(f"labelled {len(frames)} frames ({n_all - len(frames)} dropped with max |F| > {F_MAX}"
          f" eV/A; {STATS['scf_calls']} SCF calls, {t_lab:.0f} s)")

    t = time.time()
    checks = check_labels(frames)
    print(f"checks of the labels ({time.time() - t:.0f} s):")
    for k, v in checks.items():
        v = " / ".join(f"{x:.2e}" for x in np.atleast_1d(v))
        print(f"  {k}: {v}")

    perm = np.random.default_rng(SEED + 1).permutation(len(frames))
    n_test = n_valid = len(frames) // 10
    split = {
        "test": [frames[i] for i in perm[:n_test]],
        "valid": [frames[i] for i in perm[n_test : n_test + n_valid]],
        "train": [frames[i] for i in perm[n_test + n_valid :]],
    }
    for name, fr in split.items():
        write(DATA / f"{name}.xyz", fr, format="extxyz")
        sizes = [len(f) for f in fr]
        print(f"{name}: {len(fr)} frames, {sum(sizes)} atoms ({min(sizes)}-{max(sizes)} per frame)")

    # start structure of the i-PI example: a water trimer relaxed from a new random start
    trimer = relax(random_cluster(["H2O"] * 3), fmax=0.01)
    start = boxed(trimer)
    start.info["comment"] = ("(H2O)3 relaxed with GFN2-xTB (examples/bec/make_data.py; not in the "
                             "data set), centred in a 30 A box; pbc F: a molecule")
    write(IPI / "start.xyz", start, format="extxyz")
    ref = labelled(start, "(H2O)3 start")
    ref.cell = start.cell
    write(IPI / "start_xtb.xyz", ref, format="extxyz")

    tags = {}
    for f in frames:
        tags[f.info["system"]] = tags.get(f.info["system"], 0) + 1
    print("frames per system: " + ", ".join(f"{k} {v}" for k, v in tags.items()))
    print(f"total: {len(frames)} frames, {STATS['scf_calls']} SCF calls, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
