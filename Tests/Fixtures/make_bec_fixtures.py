#!/usr/bin/env python3
"""Float64 reference fixtures for LoremBEC (Born effective charges) from lorem-jax 0.2.0.

Run from the repository root, in the venv of make_fixtures.py (same pinned requirements.txt):

    .venv-fixtures/bin/python Tests/Fixtures/make_bec_fixtures.py

Uses make_fixtures.py's machinery (x64 with the float32 Bernstein table, float64 jax-pme
batching, the same finite-difference checks) on the committed structures, for two LoremBEC
checkpoints with random weights:

    models/bec       T = 0, L = 2, lr (made by make_fixtures.py, not rewritten here)
    models/bec_mp1   T = 1, L = 2, lr (made here, seed 18, same perturbation as the others)
    models/bec_holdout  T = 1, L = 3, 24 features, cutoff 4.5, equivariant message passing and node
                     initialisation on (seed 19), on the holdout structures only

and writes reference/<model>__<structure>.json with make_fixtures.py's schema plus, per frame,
"apt" (N x 3 x 3, after the acoustic sum rule, lorem-jax's `predict(...)["apt"]`),
"electric_field" (V/A) and "forces_in_field" (`predict(..., electric_field=E)["forces"]`).
"""

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_fixtures as mf  # noqa: E402

NEW_MODELS = {
    "bec_mp1": ("LoremBEC", dict(num_message_passing=1, max_degree=2, lr=True), 18),
    # holdout: structures and a config no development run used; equivariant message passing and
    # node initialisation switched on (LoremBEC's defaults have them off)
    "bec_holdout": ("LoremBEC", dict(num_message_passing=1, max_degree=3, num_features=24, num_radial=12, cutoff=4.5,
                                     equivariant_message_passing=True, initialize_node_features=True), 19),
}
# model -> structures it gets references on
MODELS = {"bec": mf.MAIN_STRUCTURES, "bec_mp1": mf.MAIN_STRUCTURES, "bec_holdout": mf.HOLDOUT_STRUCTURES}
FIELD = [0.1, -0.2, 0.05]


def make_new_checkpoints():
    import jax
    import lorem
    from marathon.emit.checkpoint import save

    rng = np.random.default_rng(778)
    for name, (kind, kw, seed) in NEW_MODELS.items():
        model = getattr(lorem, kind)(**{**mf.COMMON, **kw})
        params = mf.perturb_params(model.init(jax.random.key(seed), *model.dummy_inputs()), seed)
        baseline = {"elemental": {int(Z): float(rng.normal(-5.0, 3.0)) for Z in mf.ELEMENTS}}
        folder = mf.MODELS_DIR / name
        if folder.exists():
            shutil.rmtree(folder)
        save(folder, params, {"step": 0}, model, baseline, {},
             info=f"lorem-gpu fixture model {name} (random weights, seed {seed})")


def main():
    os.environ["JAX_PLATFORMS"] = "cpu"
    import jax
    import jax.numpy as jnp
    from ase.io import read

    jax.config.update("jax_enable_x64", True)
    mf.install_betaln_patch()
    table = json.load(open(HERE / "bernstein_beta_f32.json"))["beta"]
    print(f"betaln patch: max |beta64 - beta32| = {mf.check_betaln_patch(table):.3e}")
    make_new_checkpoints()
    mf.install_f64_batching()
    rng = np.random.default_rng(4343)
    field = jnp.asarray(FIELD, dtype=jnp.float64)
    for name, structure_names in MODELS.items():
        calc, model, params64 = mf.load_f64(name)
        assert "born_effective_charges" in calc.implemented_properties, name
        fns = mf.make_fns(model)
        # LoremBEC.energy returns (E, (E_i, APT_i)): make_fixtures expects (E, E_i).
        energy = jax.jit(model.energy)
        fns["energy"] = lambda p, b: (lambda e, aux: (e, aux[0]))(*energy(p, b))
        in_field = jax.jit(lambda p, b: model.predict(p, b, stress=True, electric_field=field))
        for sname in structure_names:
            frames = []
            for fi, atoms in enumerate(read(mf.STRUCT_DIR / f"{sname}.xyz", ":")):
                frame, checks = mf.evaluate_frame(name, model, params64, calc, atoms, fns, rng=rng)
                n = len(atoms)
                batch = mf.batch_for(calc, atoms)
                res = fns["predict"](params64, batch)
                resE = in_field(params64, batch)
                apt = np.asarray(res["apt"][:n], dtype=np.float64)
                assert np.abs(apt.sum(axis=0)).max() < 1e-12, "acoustic sum rule"
                assert abs(float(resE["energy"][0]) - frame["energy"]) < 1e-12
                frame = {"index": fi, **frame, "apt": apt.tolist(), "electric_field": FIELD,
                         "forces_in_field": np.asarray(resE["forces"][:n], dtype=np.float64).tolist()}
                df = np.asarray(resE["forces"][:n]) - np.asarray(res["forces"][:n])
                assert np.abs(df - apt @ np.asarray(FIELD)).max() < 1e-12, "F += Z.E (column index contracts)"
                frames.append(frame)
                print(f"  {name}__{sname}[{fi}]: E = {frame['energy']:.8f}, max|APT| = {np.abs(apt).max():.3e}, "
                      + ", ".join(f"{k} {v:.2e}" for k, v in checks.items()))
            cutoff = float(model.cutoff)
            doc = {"model": name, "checkpoint": f"models/{name}", "structure": sname,
                   "structure_file": f"structures/{sname}.xyz",
                   "settings": {"precision": "float64 (jax_enable_x64), float32 weights cast to float64",
                                "bernstein_beta": "float32 (bernstein_beta_f32.json)", "cutoff": cutoff,
                                "neighbor_list_cutoff": cutoff, "lr_wavelength": cutoff / 8.0, "smearing": cutoff / 4.0},
                   "frames": frames}
            with open(mf.REF_DIR / f"{name}__{sname}.json", "w") as f:
                json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
