#!/usr/bin/env python3
"""Regenerate the float64 reference fixtures of lorem-gpu from lorem-jax 0.2.0.

Run from the repository root:

    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install -r Tests/Fixtures/requirements.txt && .venv-fixtures/bin/python Tests/Fixtures/make_fixtures.py

Everything is deterministic (fixed seeds, CPU jax). Outputs (all under Tests/Fixtures/):

    bernstein_beta_f32.json        float32 Bernstein log-binomials beta_k for K = 2..64
    models/<name>/                 real lorem-train checkpoints (marathon.emit.checkpoint.save)
    structures/*.xyz               extxyz test structures (ase.io.write)
    reference/<model>__<structure>.json
                                   float64 energies / forces / virials / charges / potentials

The float64 references are computed with jax_enable_x64 and with
`jax.scipy.special.betaln` patched so that e3x's Bernstein log-binomials
(`-betaln(1+n-k, 1+k) - log(n+1)`) come out exactly equal to the float32 values
that the trained (float32) model uses; see README.md and docs/MATH.md §2.3.

Internal modes (used by the main run through subprocesses, x64 OFF):
    make_fixtures.py --beta-f32            print the float32 beta table as JSON
    make_fixtures.py --f32-check OUT.json  evaluate all fixtures with the stock
                                           float32 LOREMCalculator (skin=0)
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS_DIR = HERE / "models"
STRUCT_DIR = HERE / "structures"
REF_DIR = HERE / "reference"

ELEMENTS = [1, 6, 7, 8, 11, 17]  # H C N O Na Cl

COMMON = dict(num_features=16, num_radial=8, num_species=4, num_spherical_features=4)

# name -> (class, kwargs, seed)
MODEL_CONFIGS = {
    "mp0_L6": ("Lorem", dict(num_message_passing=0, max_degree=6, max_degree_lr=2, lr=True), 10),
    "mp1_L2": ("Lorem", dict(num_message_passing=1, max_degree=2), 11),
    "mp2_L3_noinit": (
        "Lorem",
        dict(num_message_passing=2, max_degree=3, initialize_node_features=False),
        12,
    ),
    "mp1_noneq": (
        "Lorem",
        dict(num_message_passing=1, equivariant_message_passing=False, max_degree=2),
        13,
    ),
    "mp1_lroff": ("Lorem", dict(num_message_passing=1, lr=False, max_degree=2), 14),
    "mp1_L4_lr1": (
        "Lorem",
        dict(num_message_passing=1, max_degree=4, max_degree_lr=1, num_radial=32, cutoff=4.0),
        15,
    ),
    "holdout_mp1_L3": (
        "Lorem",
        dict(num_message_passing=1, max_degree=3, num_features=24, num_radial=12, cutoff=4.5),
        16,
    ),
    "bec": ("LoremBEC", dict(num_message_passing=0, max_degree=2, lr=True), 17),
}

MAIN_STRUCTURES = ["bulk_triclinic", "slab", "molecule"]
HOLDOUT_STRUCTURES = ["bulk_holdout", "molecule_holdout"]
ALL_CUTOFFS = sorted({cfg[1].get("cutoff", 5.0) for cfg in MODEL_CONFIGS.values()})


def model_kwargs(name):
    kind, kw, seed = MODEL_CONFIGS[name]
    out = dict(COMMON)
    out.update(kw)
    return kind, out, seed


def reference_pairs():
    """(model, structure) pairs that get reference outputs."""
    pairs = []
    for name in MODEL_CONFIGS:
        if name == "bec":
            continue
        structs = HOLDOUT_STRUCTURES if name.startswith("holdout") else MAIN_STRUCTURES
        for s in structs:
            pairs.append((name, s))
    return pairs


# ----------------------------------------------------------------------------------------
# float32 beta table (subprocess, x64 off: exactly e3x's expression and op order)


def beta_f32_table():
    import jax
    import jax.numpy as jnp

    assert not jax.config.jax_enable_x64
    table = {}
    for K in range(2, 65):
        # verbatim from e3x/nn/functions/bernstein.py::_bernstein
        with jax.ensure_compile_time_eval():
            n = K - 1
            v = jnp.arange(n + 1)
            binomln = -jax.scipy.special.betaln(1 + n - v, 1 + v) - jnp.log(n + 1)
        assert binomln.dtype == jnp.float32
        table[str(K)] = [float(x) for x in np.asarray(binomln)]
    return table


# ----------------------------------------------------------------------------------------
# betaln patch for the float64 run


def install_betaln_patch():
    """Make e3x's x64 Bernstein log-binomials bit-equal (to ~1 float64 ulp) to float32.

    e3x computes  binomln = -betaln(1+n-v, 1+v) - log(n+1)  and looks up
    jax.scipy.special.betaln at call time. In float32 mode both betaln and log(n+1)
    are float32, so patching betaln alone to float32 still leaves log(n+1) in float64
    (an error of up to 2e-6 in beta). The patch therefore returns
        float64( betaln32(a,b) + log32(n+1) ) - log64(n+1)
    so that e3x's subsequent "- log(n+1)" cancels the float64 log and binomln equals
    the float32 value  -betaln32 - log32(n+1)  (checked against the table below).
    """
    import jax
    import jax.numpy as jnp

    orig = jax.scipy.special.betaln

    def betaln_f32(a, b):
        a = jnp.asarray(a)
        b = jnp.asarray(b)
        n1 = np.unique(np.asarray(a + b - 1))  # = n+1, concrete (compile-time eval)
        assert n1.size == 1
        n1 = int(n1[0])
        s32 = orig(a.astype(jnp.float32), b.astype(jnp.float32)) + jnp.log(jnp.float32(n1))
        assert s32.dtype == jnp.float32
        return s32.astype(jnp.float64) - jnp.log(jnp.float64(n1))

    betaln_f32._orig = orig
    jax.scipy.special.betaln = betaln_f32


def check_betaln_patch(table):
    import jax
    import jax.numpy as jnp

    worst = 0.0
    for K in range(2, 65):
        with jax.ensure_compile_time_eval():
            n = K - 1
            v = jnp.arange(n + 1)
            b = -jax.scipy.special.betaln(1 + n - v, 1 + v) - jnp.log(n + 1)
        assert b.dtype == jnp.float64
        worst = max(worst, float(np.abs(np.asarray(b) - np.array(table[str(K)])).max()))
    assert worst < 1e-13, worst
    return worst


# ----------------------------------------------------------------------------------------
# structures


def _min_dist_ok(atoms, dmin, cutoffs):
    from vesin import ase_neighbor_list

    rmax = max(cutoffs) + 0.1
    if atoms.pbc.any():
        d = ase_neighbor_list("d", atoms, rmax)
        if isinstance(d, tuple):
            d = d[0]
    else:
        pos = atoms.get_positions()
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)[np.triu_indices(len(atoms), 1)]
    if len(d) and d.min() < dmin:
        return False
    # keep every pair distance clear of every model cutoff so that the neighbour list
    # (strict r < c) is unambiguous in float32 and float64 alike
    for c in cutoffs:
        if len(d) and np.abs(d - c).min() < 2e-3:
            return False
    return True


def _natoms(formula):
    from ase.symbols import string2symbols

    return len(string2symbols(formula))


def _random_bulk(rng, symbols, lengths, angles_deg, jitter=0.0):
    from ase import Atoms
    from ase.geometry import cellpar_to_cell

    cell = cellpar_to_cell(list(lengths) + list(angles_deg))
    # make the cell a general (non-upper-triangular) matrix: rotate it randomly
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    cell = cell @ q.T
    for _ in range(10000):
        frac = rng.uniform(size=(_natoms(symbols), 3))
        atoms = Atoms(symbols, scaled_positions=frac, cell=cell, pbc=True)
        if _min_dist_ok(atoms, 1.0, ALL_CUTOFFS):
            return atoms
    raise RuntimeError("could not place atoms")


def _random_slab(rng, symbols, a, b, gamma_deg, vacuum, thickness):
    from ase import Atoms

    g = np.deg2rad(gamma_deg)
    v1 = np.array([a, 0.0, 0.0])
    v2 = np.array([b * np.cos(g), b * np.sin(g), 0.0])
    v3 = np.array([0.4, -0.3, thickness + vacuum])  # slightly tilted non-periodic vector
    cell = np.array([v1, v2, v3])
    for _ in range(10000):
        f = rng.uniform(size=(_natoms(symbols), 2))
        z = rng.uniform(0.0, thickness, size=_natoms(symbols)) + 2.0
        pos = f[:, :1] * v1 + f[:, 1:] * v2 + z[:, None] * np.array([0, 0, 1.0])
        atoms = Atoms(symbols, positions=pos, cell=cell, pbc=[True, True, False])
        if _min_dist_ok(atoms, 1.0, ALL_CUTOFFS):
            return atoms
    raise RuntimeError("could not place atoms")


def _random_molecule(rng, symbols, box):
    from ase import Atoms

    for _ in range(100000):
        pos = rng.uniform(-box / 2, box / 2, size=(_natoms(symbols), 3))
        atoms = Atoms(symbols, positions=pos, pbc=False)
        if _min_dist_ok(atoms, 1.0, ALL_CUTOFFS):
            return atoms
    raise RuntimeError("could not place atoms")


def make_structures():
    import ase.io

    rng = np.random.default_rng(20240601)
    frames = {}
    frames["bulk_triclinic"] = [
        _random_bulk(rng, "Na3Cl3O2H2", (4.6, 5.1, 5.4), (78.0, 96.0, 107.0)),
        _random_bulk(rng, "Na4Cl3O2H3", (5.9, 6.3, 6.6), (84.0, 99.0, 112.0)),
    ]
    frames["slab"] = [
        _random_slab(rng, "Na2Cl2O2H2", 5.07, 5.33, 68.0, 20.0, 3.5),
        _random_slab(rng, "Na2Cl3OH2", 5.21, 4.87, 105.0, 20.0, 3.0),
    ]
    frames["molecule"] = [
        _random_molecule(rng, "C2H3NO2", 3.6),
        _random_molecule(rng, "CH3N2OH", 3.8),
    ]
    frames["bulk_holdout"] = [
        _random_bulk(rng, "Na3Cl2O2H4", (4.9, 5.5, 4.8), (101.0, 83.0, 116.0)),
    ]
    frames["molecule_holdout"] = [
        _random_molecule(rng, "C3H3NO", 3.7),
    ]

    STRUCT_DIR.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, fr in frames.items():
        path = STRUCT_DIR / f"{name}.xyz"
        for a in fr:
            a.info.clear()
        ase.io.write(path, fr, format="extxyz")
        # use exactly what a reader of the file gets (extxyz rounds positions to 8 decimals)
        back = ase.io.read(path, index=":", format="extxyz")
        for a in back:
            assert _min_dist_ok(a, 0.9, ALL_CUTOFFS)
        out[name] = back
    return out


# ----------------------------------------------------------------------------------------
# models / checkpoints


def perturb_params(params, seed):
    """Add noise to EVERY leaf (biases and LayerNorm included), keep float32."""
    import jax
    from flax.traverse_util import flatten_dict, unflatten_dict

    rng = np.random.default_rng(1000 + seed)
    flat = flatten_dict(params)
    out = {}
    for path in sorted(flat):
        x = np.asarray(flat[path], dtype=np.float64)
        leaf = path[-1]
        parent = path[-2] if len(path) > 1 else ""
        if parent.startswith("LayerNorm") and leaf == "scale":
            y = x + rng.normal(0.0, 0.1, size=x.shape)  # init 1 -> 1 + N(0, 0.1)
        elif leaf == "bias":
            y = x + rng.normal(0.0, 0.1, size=x.shape)  # init 0 -> N(0, 0.1)
        else:
            std = float(x.std()) if x.size > 1 else 0.0
            scale = 0.3 * std if std > 0 else 0.1
            y = x + rng.normal(0.0, scale, size=x.shape)
        out[path] = np.asarray(y, dtype=np.float32)
    out = unflatten_dict(out)
    return jax.tree.map(lambda a: a, out)


def make_checkpoints():
    import jax
    import lorem
    from marathon.emit.checkpoint import save

    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(777)
    summary = {}
    for name in MODEL_CONFIGS:
        kind, kw, seed = model_kwargs(name)
        model = getattr(lorem, kind)(**kw)
        params = model.init(jax.random.key(seed), *model.dummy_inputs())
        for leaf in jax.tree_util.tree_leaves(params):
            assert leaf.dtype == np.float32, leaf.dtype
        params = perturb_params(params, seed)
        baseline = {"elemental": {int(Z): float(rng.normal(-5.0, 3.0)) for Z in ELEMENTS}}
        folder = MODELS_DIR / name
        if folder.exists():
            shutil.rmtree(folder)
        # exactly what lorem-train's save_checkpoints -> save_with_backup -> save writes
        save(
            folder,
            params,
            {"step": 0},
            model,
            baseline,
            {},
            info=f"lorem-gpu fixture model {name} (random weights, seed {seed})",
        )
        summary[name] = (model, params, baseline)
    return summary


def verify_checkpoints(summary):
    import jax
    from flax.traverse_util import flatten_dict
    from lorem.calculator import Calculator
    from marathon.io import to_dict

    for name, (model, params, baseline) in summary.items():
        calc = Calculator.from_checkpoint(MODELS_DIR / name)
        fa = flatten_dict(params)
        fb = flatten_dict(calc.params)
        assert set(fa) == set(fb), name
        for k in fa:
            assert np.asarray(fb[k]).dtype == np.float32
            assert np.array_equal(np.asarray(fa[k]), np.asarray(fb[k])), (name, k)
        assert calc.species_weights == baseline["elemental"]
        from marathon.io import from_dict, read_yaml

        assert from_dict(read_yaml(MODELS_DIR / name / "model/model.yaml")) == model
        print(f"  checkpoint {name}: loads OK ({len(fa)} leaves, bec={'born_effective_charges' in calc.implemented_properties})")


# ----------------------------------------------------------------------------------------
# float64 evaluation


def install_f64_batching():
    """lorem.batching.to_structure hard-codes float32; run the same jax-pme prepare in float64."""
    import lorem.batching as lb

    def to_structure_f64(atoms, cutoff, float_dtype=None, int_dtype=None, **kwargs):
        return lb.jaxpme_prepare(atoms, cutoff, dtype=np.float64, **kwargs)

    lb.to_structure = to_structure_f64


def load_f64(name):
    import jax
    from lorem.calculator import Calculator
    from marathon.io import from_dict, read_yaml

    folder = MODELS_DIR / name
    # skin=0: neighbour-list cutoff = model cutoff (training definition, strict r < c)
    calc = Calculator.from_checkpoint(folder, skin=0.0, stress=True)
    model = from_dict(read_yaml(folder / "model/model.yaml"))
    params64 = jax.tree.map(lambda x: np.asarray(x, dtype=np.float64), calc.params)
    return calc, model, params64


def batch_for(calc, atoms):
    calc.setup(atoms)
    b = calc.batch
    assert b.sr.positions.dtype == np.float64 and b.sr.cell.dtype == np.float64
    assert b.sr.smearing.dtype == np.float64
    return b


def evaluate_frame(name, model, params64, calc, atoms, fns, want_fd=True, rng=None):
    import jax
    import jax.numpy as jnp
    from ase.stress import full_3x3_to_voigt_6_stress
    from jaxpme.batched_mixed import Ewald

    batch = batch_for(calc, atoms)
    sr = batch.sr
    n = len(atoms)
    pbc = atoms.get_pbc()

    res = fns["predict"](params64, batch)
    etot, per_atom = fns["energy"](params64, batch)
    for v in jax.tree_util.tree_leaves(res):
        assert v.dtype == jnp.float64

    energy = float(res["energy"][0])
    per_atom = np.asarray(per_atom[:n], dtype=np.float64)
    assert abs(per_atom.sum() - energy) < 1e-10 * max(1.0, abs(energy))
    forces = np.asarray(res["forces"][:n], dtype=np.float64)
    offset = float(sum(calc.species_weights[int(Z)] for Z in atoms.get_atomic_numbers()))

    frame = {
        "num_atoms": n,
        "atomic_numbers": [int(z) for z in atoms.get_atomic_numbers()],
        "pbc": [bool(p) for p in pbc],
        "positions": atoms.get_positions().tolist(),
        "cell": atoms.get_cell()[:].tolist(),
        "num_pairs": int(np.asarray(sr.pair_mask).sum()),
    }
    if pbc.sum() == 2:
        frame["effective_cell"] = np.asarray(sr.effective_cell[0]).tolist()
    frame["energy"] = energy
    frame["energy_with_baseline"] = energy + offset
    frame["per_atom_energies"] = per_atom.tolist()
    frame["forces"] = forces.tolist()
    if pbc.all():
        W = np.asarray(res["stress"][0], dtype=np.float64)
        frame["virial"] = W.tolist()
        frame["volume"] = float(atoms.get_volume())
        frame["stress_ase"] = full_3x3_to_voigt_6_stress(W / atoms.get_volume()).tolist()

    if model.lr:
        T = model.num_message_passing
        _, inter = fns["intermediates"](params64, batch)
        it = inter["intermediates"]
        # LR charge head: MLP([2d, 1]) is MLP_{T+1}; spherical charges: TensorDense_1
        k = params64["params"][f"MLP_{T + 1}"]["Dense_0"]["kernel"]
        assert k.shape == (model.num_features, 2 * model.num_features), k.shape
        q0 = np.asarray(it[f"MLP_{T + 1}"]["__call__"][0])
        qs = np.asarray(it["TensorDense_1"]["__call__"][0])
        N = q0.shape[0]
        charges = np.concatenate([q0.reshape(N, 1), qs.reshape(N, -1)], axis=-1)
        assert charges.shape[1] == 1 + (model.max_degree_lr + 1) ** 2
        charges = charges * np.asarray(sr.atom_mask)[:, None]
        pots = fns["potentials"](jnp.asarray(charges), batch)
        frame["charges"] = charges[:n].tolist()
        frame["potentials"] = np.asarray(pots[:n]).tolist()

    checks = {}
    if want_fd:
        h = 1e-5
        efn = fns["etot"]
        errs = []
        scale = np.abs(forces).max()
        idx = [(i, a) for i in range(n) for a in range(3)]
        sel = rng.choice(len(idx), size=min(9, len(idx)), replace=False)
        for s in sel:
            i, a = idx[s]
            pos = sr.positions
            ep = efn(params64, batch._replace(sr=sr._replace(positions=pos.at[i, a].add(h))))
            em = efn(params64, batch._replace(sr=sr._replace(positions=pos.at[i, a].add(-h))))
            fd = -(float(ep) - float(em)) / (2 * h)
            errs.append(abs(fd - forces[i, a]))
        checks["fd_force_max_abs_err"] = max(errs)
        checks["max_abs_force"] = float(scale)
        if pbc.all():
            W = np.asarray(res["stress"][0])
            werr = []
            for a in range(3):
                for b in range(3):
                    vals = []
                    for sgn in (1, -1):
                        F = np.eye(3)
                        F[a, b] += sgn * h
                        F = jnp.asarray(F)
                        sr2 = sr._replace(positions=sr.positions @ F, cell=sr.cell @ F)
                        vals.append(float(efn(params64, batch._replace(sr=sr2))))
                    werr.append(abs((vals[0] - vals[1]) / (2 * h) - W[a, b]))
            checks["fd_virial_max_abs_err"] = max(werr)
            checks["max_abs_virial"] = float(np.abs(W).max())
    return frame, checks


def make_fns(model):
    import jax
    from jaxpme.batched_mixed import Ewald

    ewald = Ewald()

    def potentials(q, batch):
        return jax.vmap(
            lambda c: ewald.potentials(c, batch.sr, batch.nopbc, batch.pbc),
            in_axes=-1,
            out_axes=-1,
        )(q)

    def intermediates(params, batch):
        return model.apply(
            params,
            batch.atomic_numbers,
            batch.sr,
            batch.nopbc,
            batch.pbc,
            capture_intermediates=True,
            mutable=["intermediates"],
        )

    return {
        "predict": jax.jit(lambda p, b: model.predict(p, b, stress=True)),
        "energy": jax.jit(model.energy),
        "etot": jax.jit(lambda p, b: model.energy(p, b)[0]),
        "intermediates": intermediates,
        "potentials": jax.jit(potentials),
    }


def make_references(structures):
    REF_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4242)
    all_checks = {}
    cache = {}
    for name, sname in reference_pairs():
        if name not in cache:
            calc, model, params64 = load_f64(name)
            cache = {name: (calc, model, params64, make_fns(model))}
        calc, model, params64, fns = cache[name]
        frames = []
        for fi, atoms in enumerate(structures[sname]):
            frame, checks = evaluate_frame(name, model, params64, calc, atoms, fns, rng=rng)
            frame = {"index": fi, **frame}
            frames.append(frame)
            all_checks[f"{name}__{sname}[{fi}]"] = {"energy": frame["energy"], **checks}
        cutoff = float(model.cutoff)
        doc = {
            "model": name,
            "checkpoint": f"models/{name}",
            "structure": sname,
            "structure_file": f"structures/{sname}.xyz",
            "settings": {
                "precision": "float64 (jax_enable_x64), float32 weights cast to float64",
                "bernstein_beta": "float32 (bernstein_beta_f32.json)",
                "cutoff": cutoff,
                "neighbor_list_cutoff": cutoff,
                "lr_wavelength": cutoff / 8.0,
                "smearing": cutoff / 4.0,
            },
            "frames": frames,
        }
        with open(REF_DIR / f"{name}__{sname}.json", "w") as f:
            json.dump(doc, f, indent=1)
    return all_checks


def lr_contribution_check(structures):
    """Energy of mp1_L2 vs the same weights evaluated with lr=False."""
    import dataclasses
    import jax

    calc, model, params64 = load_f64("mp1_L2")
    model_nolr = dataclasses.replace(model, lr=False)
    out = {}
    for sname in MAIN_STRUCTURES:
        for fi, atoms in enumerate(structures[sname]):
            b = batch_for(calc, atoms)
            e1 = float(model.energy(params64, b)[0])
            p = {"params": {k: v for k, v in params64["params"].items()}}
            e0 = float(model_nolr.energy(p, b)[0])
            out[f"{sname}[{fi}]"] = (e1, e0, e1 - e0)
    return out


# ----------------------------------------------------------------------------------------
# float32 comparison (subprocess, stock calculator, x64 off)


def f32_check(out_path):
    import ase.io
    import jax
    from lorem.calculator import Calculator

    assert not jax.config.jax_enable_x64
    res = {}
    for name, sname in reference_pairs():
        frames = ase.io.read(STRUCT_DIR / f"{sname}.xyz", index=":")
        for fi, atoms in enumerate(frames):
            # stress only for 3D (the calculator divides by the volume)
            atoms.calc = Calculator.from_checkpoint(
                MODELS_DIR / name, skin=0.0, stress=bool(atoms.pbc.all())
            )
            r = {
                "energy_with_baseline": float(atoms.get_potential_energy()),
                "forces": atoms.get_forces().tolist(),
            }
            if atoms.pbc.all():
                r["stress_ase"] = atoms.get_stress().tolist()
            res[f"{name}__{sname}[{fi}]"] = r
    with open(out_path, "w") as f:
        json.dump(res, f)


def compare_f32(tmp):
    f32 = json.load(open(tmp))
    worst = {"energy_rel": 0.0, "forces_rel": 0.0, "stress_rel": 0.0}
    for name, sname in reference_pairs():
        doc = json.load(open(REF_DIR / f"{name}__{sname}.json"))
        for fr in doc["frames"]:
            r = f32[f"{name}__{sname}[{fr['index']}]"]
            e64 = fr["energy_with_baseline"]
            worst["energy_rel"] = max(worst["energy_rel"], abs(r["energy_with_baseline"] - e64) / abs(e64))
            F64 = np.array(fr["forces"])
            F32 = np.array(r["forces"])
            worst["forces_rel"] = max(worst["forces_rel"], np.abs(F32 - F64).max() / np.abs(F64).max())
            if "stress_ase" in fr:
                s64 = np.array(fr["stress_ase"])
                worst["stress_rel"] = max(
                    worst["stress_rel"], np.abs(np.array(r["stress_ase"]) - s64).max() / np.abs(s64).max()
                )
    return worst


# ----------------------------------------------------------------------------------------


def main():
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_ENABLE_X64="0")
    py = sys.executable

    # 1. float32 beta table (genuine float32 jax, separate process)
    table = json.loads(
        subprocess.run([py, __file__, "--beta-f32"], env=env, check=True, capture_output=True, text=True).stdout
    )
    with open(HERE / "bernstein_beta_f32.json", "w") as f:
        json.dump(
            {
                "description": "beta_k = -betaln(1+n-k, 1+k) - log(n+1), n = K-1, k = 0..K-1, "
                "evaluated by jax in float32 exactly as e3x basic_bernstein; float32 values as floats",
                "beta": table,
            },
            f,
            indent=1,
        )

    # 2. x64 + patched betaln
    os.environ["JAX_PLATFORMS"] = "cpu"
    import jax

    jax.config.update("jax_enable_x64", True)
    install_betaln_patch()
    err = check_betaln_patch(table)
    print(f"betaln patch: max |beta64 - beta32| = {err:.3e}")

    summary = make_checkpoints()
    verify_checkpoints(summary)

    structures = make_structures()
    install_f64_batching()
    checks = make_references(structures)
    print("per-frame checks (energy, FD errors):")
    for k, v in checks.items():
        print("  ", k, {kk: (f"{vv:.3e}" if isinstance(vv, float) else vv) for kk, vv in v.items()})
    worst_f = max(v["fd_force_max_abs_err"] for v in checks.values())
    worst_w = max(v.get("fd_virial_max_abs_err", 0.0) for v in checks.values())
    print(f"worst FD force err {worst_f:.3e}, worst FD virial err {worst_w:.3e}")

    print("LR contribution (mp1_L2: E(lr) , E(same weights, lr=False), diff):")
    for k, v in lr_contribution_check(structures).items():
        print("  ", k, v)

    # 3. float32 stock-calculator comparison
    run_f32_comparison()


def run_f32_comparison():
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_ENABLE_X64="0")
    py = sys.executable
    tmp = HERE / ".f32_check.json"
    subprocess.run([py, __file__, "--f32-check", str(tmp)], env=env, check=True)
    print("float32 calculator vs float64 fixtures (max relative):", compare_f32(tmp))
    tmp.unlink()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--beta-f32":
        print(json.dumps(beta_f32_table()))
    elif len(sys.argv) > 1 and sys.argv[1] == "--f32-check":
        f32_check(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--compare-only":
        run_f32_comparison()
    else:
        main()
