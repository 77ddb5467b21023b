"""Born effective charges (LoremBEC) through the real i-PI 3.3 driven dynamics and through
lorem_gpu.Calculator, checked against `lorem-gpu predict` on the same geometries.

The model is the example LoremBEC checkpoint (examples/bec/model), the structure the start of
its i-PI example (a water trimer).
"""

from __future__ import annotations

import re

import numpy as np
from ase import units
from ase.io import read

from conftest import EXAMPLES, driver_argv, ipi_input, predict, record, run_ipi, socket_prefix

BEC_MODEL = EXAMPLES / "bec" / "model"
START = EXAMPLES / "bec" / "ipi_eda" / "start.xyz"
STEPS = 6
# constant field (atomic units, Hartree/(e Bohr)); about (0.26, -0.15, 0.36) V/Å
FIELD_AU = np.array([5e-3, -3e-3, 7e-3])


def born_charges(frame) -> np.ndarray:
    """The (N, 3, 3) Born charges of a frame `predict` wrote (ase.io.read puts the
    `born_effective_charges` column, a property ASE knows, into the calculator's results)."""
    z = frame.calc.results["born_effective_charges"]
    return np.asarray(z, dtype=float).reshape(len(frame), 3, 3)


def read_bin_frames(path, key: str, natoms: int):
    """Every frame of a multi-frame i-PI `bin` trajectory (units: atomic units).

    i-PI writes each frame as h (9 float64), N (int64), 3N float64, len(names) (int64), the
    names joined by '|' (UTF-32) and a title of fixed width (UTF-32) with no length, so the
    frames are cut at the title's known width and each title is checked.
    """
    data = path.read_bytes()
    title = ("Step:  %10d  Bead:   %5d " % (0, 0)) + f"{key}{{atomic_unit}}  cell{{atomic_unit}}"
    frames = []
    off = 0
    while off < len(data):
        h = np.frombuffer(data, np.float64, 9, off).reshape(3, 3)
        off += 72
        n = int(np.frombuffer(data, np.int64, 1, off)[0])
        assert n == natoms, f"{path}: frame with {n} atoms"
        off += 8
        q = np.frombuffer(data, np.float64, 3 * n, off).copy()
        off += 24 * n
        nchar = int(np.frombuffer(data, np.int64, 1, off)[0])
        off += 8
        names = data[off : off + 4 * nchar].decode("utf-32-le").split("|")
        off += 4 * nchar
        text = data[off : off + 4 * len(title)].decode("utf-32-le")
        off += 4 * len(title)
        m = re.fullmatch(r"Step:\s+(\d+)\s+Bead:\s+0\s+" + re.escape(title.split()[-2])
                         + r"\s+cell\{atomic_unit\}", text)
        assert m, f"{path}: unexpected frame title {text!r}"
        frames.append((int(m.group(1)), h, q, names))
    return frames


def read_bec_extras(path, natoms: int):
    """The `extras` trajectory with extra_type='BEC': per step, 3N rows of 3 numbers."""
    blocks = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"\s*#EXTRAS\(BEC\)# Step:\s+(\d+)", lines[i])
        assert m, f"{path}: unexpected line {lines[i]!r}"
        rows = [[float(x) for x in line.split()] for line in lines[i + 1 : i + 1 + 3 * natoms]]
        blocks.append((int(m.group(1)), np.array(rows)))
        i += 1 + 3 * natoms
    return blocks


def eda_motion(field_au, asr_threshold=None) -> str:
    amp = ", ".join(f"{x:.17g}" for x in field_au)
    asr = f"<asr_threshold>{asr_threshold}</asr_threshold>" if asr_threshold else ""
    # freq 0 and no envelope (peak 0): a constant field E(t) = amp
    return f"""<motion mode='driven_dynamics'>
      <driven_dynamics mode='eda-nvt'>
        <timestep units='femtosecond'>0.5</timestep>
        <thermostat mode='svr'><tau units='femtosecond'>50</tau></thermostat>
        <efield><amp>[ {amp} ]</amp><freq>0</freq></efield>
        <bec mode='driver'/>
        {asr}
      </driven_dynamics>
    </motion>"""


def test_ipi_eda_bec_equals_predict(procs, lorem_bin, tmp_path):
    """eda-nvt under a constant field: the BEC i-PI receives and uses equal `predict`'s."""
    start = read(START)
    n = len(start)
    (tmp_path / "start.xyz").write_text(START.read_text())
    prefix = socket_prefix(tmp_path)
    traj = "".join(
        f"<trajectory stride='1' filename='{name}' format='bin'> {what} </trajectory>"
        for name, what in [("pos", "positions"), ("for", "forces"), ("efor", "Eforces"),
                           ("becx", "becx"), ("becy", "becy"), ("becz", "becz")])
    traj += "<trajectory stride='1' filename='bec' extra_type='BEC'> extras </trajectory>"
    # f64: the sum-rule residual is ~1e-16, so i-PI's default asr_threshold (1e-8) is kept
    xml = ipi_input(start="start.xyz", prefix=prefix, steps=STEPS, temperature=300.0,
                    properties="[ step, time, conserved, potential, temperature, Efield ]",
                    trajectories=traj, motion=eda_motion(FIELD_AU))
    elapsed, codes = run_ipi(procs, tmp_path, xml, [
        driver_argv(lorem_bin, tmp_path / "start.xyz", prefix, model=BEC_MODEL,
                    precision="f64")], prefix=prefix)
    assert codes == [0]

    pos = read_bin_frames(tmp_path / "sim.pos_0.bin", "positions", n)
    steps = [s for s, *_ in pos]
    assert len(pos) == STEPS + 1 and steps == sorted(set(steps)), steps  # step 0 and each step
    assert pos[0][3] == start.get_chemical_symbols()
    frames = []
    for _, h, q, _ in pos:
        a = start.copy()
        a.positions = q.reshape(-1, 3) * units.Bohr  # i-PI's atomic units, ASE's Bohr
        frames.append(a)
    # the cluster moved: these are distinct geometries
    assert np.abs(frames[-1].positions - frames[0].positions).max() > 1e-3

    ref = predict(lorem_bin, frames, tmp_path, model=BEC_MODEL, precision="f64", stress=False)
    z_ref = np.array([born_charges(r) for r in ref])
    f_ref = np.array([r.get_forces() for r in ref])
    scale = np.abs(z_ref).max()
    assert scale > 0.1  # a trained model: O(1) charges, not a vacuous comparison

    # 1. the extras the driver sent: {"BEC": (3N, 3)}, row 3i+a, column b = Z_i,ab
    extras = read_bec_extras(tmp_path / "sim.bec_0", n)
    assert [s for s, _ in extras] == steps
    d_extras = max(np.abs(b.reshape(n, 3, 3) - z).max() for (_, b), z in zip(extras, z_ref))
    # 2. the BEC i-PI holds and integrates with (becx/becy/becz: column b of the (3N, 3) array)
    cols = [read_bin_frames(tmp_path / f"sim.bec{c}_0.bin", f"bec{c}", n) for c in "xyz"]
    held = np.stack([np.array([q for _, _, q, _ in col]) for col in cols], axis=-1)
    d_held = np.abs(held.reshape(-1, n, 3, 3) - z_ref).max()
    # 3. the field forces i-PI adds: Eforces = Z . E (atomic units)
    efor = np.array([q for _, _, q, _ in read_bin_frames(tmp_path / "sim.efor_0.bin", "Eforces", n)])
    ef_ref = np.einsum("kiab,b->kia", z_ref, FIELD_AU).reshape(len(frames), -1)
    d_efor = np.abs(efor - ef_ref).max() / np.abs(ef_ref).max()
    # 4. the model forces (without the field term)
    forces = np.array([q for _, _, q, _ in read_bin_frames(tmp_path / "sim.for_0.bin", "forces", n)])
    forces = forces.reshape(len(frames), n, 3) * units.Hartree / units.Bohr
    d_f = np.abs(forces - f_ref).max() / np.abs(f_ref).max()
    # sum rule of what i-PI received
    asr = max(np.abs(b.reshape(n, 3, 3).sum(axis=0)).max() for _, b in extras)

    props = np.atleast_2d(np.loadtxt(tmp_path / "sim.out"))
    assert np.allclose(props[:, 5:8], FIELD_AU, rtol=0, atol=1e-15)  # the field i-PI applied
    record(f"i-PI eda-nvt, constant field, {len(frames)} frames of (H2O)3 with examples/bec/model "
           f"(f64): BEC extras vs predict {d_extras:.1e} e, i-PI's held BEC {d_held:.1e} e "
           f"(max |Z| {scale:.2f} e), field forces Z.E {d_efor:.1e} rel., model forces "
           f"{d_f:.1e} rel., sum rule |sum_i Z_i| {asr:.1e} e; {elapsed:.1f} s wall")
    assert d_extras < 1e-9 * scale
    assert d_held < 1e-9 * scale
    assert d_efor < 1e-9
    assert d_f < 1e-8
    assert asr < 1e-12


def test_calculator_bec_and_field_forces(lorem_bin, tmp_path):
    """Calculator.from_checkpoint exposes (N,3,3) Born charges equal to `predict`'s, and
    `predict --electric-field` gives F = F0 + Z.E with the energy unchanged."""
    from lorem_gpu import Calculator

    atoms = read(START)
    atoms.rattle(0.05, seed=11)  # not the relaxed geometry: forces are not ~0
    n = len(atoms)
    field = np.array([0.3, -0.2, 0.5])  # V/Å
    field_arg = ",".join(f"{x:g}" for x in field)

    ref = predict(lorem_bin, [atoms], tmp_path, model=BEC_MODEL, precision="f64", stress=False)[0]
    ref_e = predict(lorem_bin, [atoms], tmp_path, model=BEC_MODEL, precision="f64", stress=False,
                    tag="field", extra_args=["--electric-field", field_arg])[0]
    z_ref = born_charges(ref)

    results = {}
    for precision in ("f64", "f32"):
        calc = Calculator.from_checkpoint(BEC_MODEL, precision=precision)
        assert "born_effective_charges" in calc.implemented_properties
        a = atoms.copy()
        a.calc = calc
        try:
            e = a.get_potential_energy()
            f = a.get_forces()
            z = calc.get_property("born_effective_charges", a)
        finally:
            calc.close()
        results[precision] = (e, f, np.asarray(z))

    e64, f64, z64 = results["f64"]
    assert z64.shape == (n, 3, 3)
    d_z64 = np.abs(z64 - z_ref).max()
    d_z32 = np.abs(results["f32"][2] - z_ref).max()
    # the field term, from the calculator's own Z (ASE side) against predict --electric-field
    f_field = f64 + np.einsum("iab,b->ia", z64, field)
    d_field = np.abs(ref_e.get_forces() - f_field).max()
    shift = np.abs(ref_e.get_forces() - ref.get_forces()).max()
    d_e = abs(ref_e.get_potential_energy() - ref.get_potential_energy())
    d_e_calc = abs(e64 - ref.get_potential_energy()) / abs(ref.get_potential_energy())
    record(f"Calculator BEC vs predict ((H2O)3, examples/bec/model): f64 {d_z64:.1e} e, "
           f"f32 {d_z32:.1e} e; predict --electric-field {field_arg} V/Å vs F0 + Z.E: "
           f"{d_field:.1e} eV/Å (field shifts forces by up to {shift:.2f} eV/Å), energy "
           f"change {d_e:.1e} eV")
    assert d_z64 < 1e-9
    assert d_z32 < 1e-4
    assert d_e_calc < 1e-10
    assert shift > 0.05
    assert d_field < 1e-9
    assert d_e < 1e-9
    # the field force sums to zero (sum rule) and Z satisfies it
    assert np.abs(np.einsum("iab,b->a", z64, field)).max() < 1e-9
