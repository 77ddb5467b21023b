"""The real i-PI 3.3 server driving the real `lorem-gpu driver` over unix sockets."""

from __future__ import annotations

import os

import numpy as np
import pytest
from ase import units

from conftest import (FIXTURE_MODELS, boxed, driver_argv, ipi_input, nacl_cluster,
                      periodic_nacl, predict, read_bin_frame, read_properties, record,
                      run_ipi, socket_prefix, triclinic_nacl)

MP1 = FIXTURE_MODELS / "mp1_L2"
DRIFT_LIMIT = 2e-4  # eV/atom over 200 steps of 0.25 fs


def nve_drift(procs, lorem_bin, tmp_path, atoms, *, label, precision, model=None):
    start = tmp_path / "start.xyz"
    atoms.write(start, format="extxyz")
    prefix = socket_prefix(tmp_path)
    xml = ipi_input(start="start.xyz", prefix=prefix, steps=200,
                    properties="[ step, time, conserved, potential, kinetic_md, temperature ]")
    elapsed, codes = run_ipi(procs, tmp_path, xml, [
        driver_argv(lorem_bin, start, prefix, model=model, precision=precision)], prefix=prefix)
    assert codes == [0]
    out = read_properties(tmp_path / "sim.out")
    assert out.shape[0] == 201 and out[-1, 0] == 200
    conserved = out[:, 2] * units.Hartree
    n = len(atoms)
    dev = np.abs(conserved - conserved[0]) / n
    drift_end = (conserved[-1] - conserved[0]) / n
    jump = np.abs(np.diff(conserved)).max() / n
    t_end = out[-1, 1] * units._aut * 1e15  # atomic time units -> fs
    temp = out[:, 5].mean() * units.Hartree / units.kB
    record(f"i-PI NVE {label} ({n} atoms, {precision}): 200 steps x 0.25 fs = {t_end:.1f} fs, "
           f"<T> = {temp:.0f} K, conserved-energy drift end-start = {drift_end:+.2e} eV/atom, "
           f"max |E(t)-E(0)| = {dev.max():.2e} eV/atom, largest one-step change {jump:.1e} eV/atom, "
           f"fluctuation of potential "
           f"{np.ptp(out[:, 3]) * units.Hartree / n:.2e} eV/atom; {elapsed:.1f} s wall "
           f"({1000 * elapsed / 200:.1f} ms/step incl. start-up)")
    # the potential moves far more than the conserved energy: the test is not vacuous
    assert np.ptp(out[:, 3]) * units.Hartree / n > 10 * dev.max()
    assert dev.max() < DRIFT_LIMIT


def test_nve_periodic_conserves_energy(procs, lorem_bin, tmp_path):
    nve_drift(procs, lorem_bin, tmp_path, periodic_nacl(), label="periodic rocksalt NaCl",
              precision="f32")


def test_nve_molecule_conserves_energy(procs, lorem_bin, tmp_path):
    nve_drift(procs, lorem_bin, tmp_path, boxed(nacl_cluster(2)),
              label="Na4Cl3+ cluster (default model)", precision="f64")


def test_ipi_step_matches_predict_triclinic(procs, lorem_bin, tmp_path):
    """Energy, forces, virial/stress and pressure through i-PI equal `predict` (f64)."""
    crystal = triclinic_nacl()
    start = tmp_path / "start.xyz"
    crystal.write(start, format="extxyz")
    prefix = socket_prefix(tmp_path)
    traj = ("<trajectory stride='1000' filename='pos' format='bin'> positions </trajectory>"
            "<trajectory stride='1000' filename='for' format='bin'> forces </trajectory>")
    xml = ipi_input(start="start.xyz", prefix=prefix, steps=1, temperature=None,
                    properties="[ step, potential, virial_md, pressure_md, volume ]",
                    trajectories=traj)
    _, codes = run_ipi(procs, tmp_path, xml, [
        driver_argv(lorem_bin, start, prefix, model=MP1, precision="f64")], prefix=prefix)
    assert codes == [0]

    # the geometry exactly as i-PI sent it (atomic units, converted with ASE's constants)
    h, q, names = read_bin_frame(tmp_path / "sim.pos_0.bin")
    sent = crystal.copy()
    sent.cell = h.T * units.Bohr
    sent.positions = q.reshape(-1, 3) * units.Bohr
    assert list(names) == crystal.get_chemical_symbols()
    assert np.allclose(sent.positions, crystal.positions, atol=1e-7)
    assert np.allclose(sent.cell[:], crystal.cell[:], atol=1e-7)
    ref = predict(lorem_bin, [sent], tmp_path, model=MP1, precision="f64")[0]

    props = read_properties(tmp_path / "sim.out")[0]
    assert props[0] == 0
    energy = props[1] * units.Hartree
    vir_over_v = props[2:8] * units.Hartree / units.Bohr ** 3  # xx yy zz xy xz yz, eV/Å³
    pressure = props[8] * units.Hartree / units.Bohr ** 3
    volume = props[9] * units.Bohr ** 3
    _, fq, _ = read_bin_frame(tmp_path / "sim.for_0.bin")
    forces = fq.reshape(-1, 3) * units.Hartree / units.Bohr

    e_ref = ref.get_potential_energy()
    f_ref = ref.get_forces()
    s_ref = ref.get_stress()  # xx yy zz yz xz xy, ASE sign: sigma = -W/V
    vir_ref = -s_ref[[0, 1, 2, 5, 4, 3]]
    p_ref = -s_ref[:3].mean()

    de = abs(energy - e_ref) / abs(e_ref)
    df = np.max(np.abs(forces - f_ref)) / np.max(np.abs(f_ref))
    ds = np.max(np.abs(vir_over_v - vir_ref)) / np.max(np.abs(vir_ref))
    dp = abs(pressure - p_ref) / abs(p_ref)
    dv = abs(volume - sent.get_volume()) / sent.get_volume()
    record(f"i-PI vs predict (f64, triclinic NaCl, mp1_L2): energy {de:.1e}, forces {df:.1e}, "
           f"virial/stress {ds:.1e}, pressure {dp:.1e} (relative; max over components)")
    assert dv < 1e-12
    assert de < 1e-8
    assert df < 1e-8
    assert ds < 1e-8
    assert dp < 1e-8
    assert np.max(np.abs(s_ref)) > 1e-4 and abs(p_ref) > 1e-5  # a non-trivial stress


def run_beads(procs, lorem_bin, tmp_path, start, batch_size, steps):
    prefix = socket_prefix(tmp_path)
    props = "[ step, conserved, " + ", ".join(f"potential(bead={b})" for b in range(4)) + " ]"
    traj = "<trajectory stride='1000' filename='for' format='bin'> forces </trajectory>"
    xml = ipi_input(start=start.name, prefix=prefix, steps=steps, nbeads=4,
                    batch_size=batch_size, properties=props, trajectories=traj)
    elapsed, codes = run_ipi(procs, tmp_path, xml, [
        driver_argv(lorem_bin, start, prefix, precision="f64")], prefix=prefix)
    assert codes == [0]
    out = read_properties(tmp_path / "sim.out")
    forces = [read_bin_frame(tmp_path / f"sim.for_{b}.bin")[1] for b in range(4)]
    return out, np.array(forces), elapsed


def test_batched_beads_equal_unbatched(procs, lorem_bin, tmp_path):
    """4 beads, <batch_size>4</batch_size> vs 1: same bead potentials and forces."""
    base = boxed(nacl_cluster(2))
    rng = np.random.default_rng(7)
    frames = []
    for _ in range(4):  # four different beads, so a mix-up shows
        a = base.copy()
        a.positions += rng.normal(scale=0.05, size=a.positions.shape)
        frames.append(a)
    (tmp_path / "b1").mkdir()
    (tmp_path / "b4").mkdir()
    import ase.io

    for d in ("b1", "b4"):
        ase.io.write(tmp_path / d / "beads.xyz", frames, format="extxyz")
    frames = ase.io.read(tmp_path / "b1" / "beads.xyz", ":")  # as i-PI reads them (8 decimals)
    steps = 10
    out1, f1, t1 = run_beads(procs, lorem_bin, tmp_path / "b1", tmp_path / "b1" / "beads.xyz",
                             1, steps)
    out4, f4, t4 = run_beads(procs, lorem_bin, tmp_path / "b4", tmp_path / "b4" / "beads.xyz",
                             4, steps)
    assert out1.shape == out4.shape == (steps + 1, 6)
    pots1 = out1[:, 2:6] * units.Hartree
    pots4 = out4[:, 2:6] * units.Hartree
    # the beads differ from each other
    assert np.ptp(pots1[0]) > 1e-3
    dpot = np.max(np.abs(pots4 - pots1)) / np.max(np.abs(pots1))
    dforce = np.max(np.abs(f4 - f1)) / np.max(np.abs(f1))
    ref = predict(lorem_bin, frames, tmp_path, precision="f64", stress=False)
    e_ref = np.array([r.get_potential_energy() for r in ref])
    dref = np.max(np.abs(pots1[0] - e_ref)) / np.max(np.abs(e_ref))
    record(f"4 beads, batch_size 4 vs 1 ({steps} steps, f64): potentials {dpot:.1e}, step-0 "
           f"forces {dforce:.1e} (relative); step 0 vs predict {dref:.1e}; "
           f"wall {t4:.1f} s vs {t1:.1f} s")
    assert dref < 1e-8
    assert dpot < 1e-9
    assert dforce < 1e-9


def test_ase_socketio_server_with_lorem_driver(lorem_bin, tmp_path, procs):
    """ASE's own SocketIOCalculator (server) with `lorem-gpu driver` as its client."""
    import uuid

    from ase.calculators.socketio import SocketIOCalculator

    crystal = triclinic_nacl()
    template = tmp_path / "template.xyz"
    crystal.write(template, format="extxyz")
    name = f"lorem_test_{uuid.uuid4().hex[:8]}"
    launched = []

    def launch(atoms, properties, port, unixsocket):
        argv = [lorem_bin, "driver", "--template", str(template), "--unix", unixsocket,
                "--model", str(MP1), "--precision", "f64", "--device", "opencl"]
        p = procs.start(argv, tmp_path / "driver.log")
        launched.append(p)
        return p

    refs = []
    frames = [crystal.copy()]
    moved = crystal.copy()
    moved.positions[2] += [0.05, -0.03, 0.02]
    moved.cell[:] *= 1.01
    frames.append(moved)
    refs = predict(lorem_bin, frames, tmp_path, model=MP1, precision="f64")
    results = []
    # ASE waits for its client without a timeout when it closes: a watchdog kills a hung driver
    import threading

    watchdog = threading.Timer(120, lambda: [p.kill() for p in launched])
    watchdog.start()
    try:
        with SocketIOCalculator(launch_client=launch, unixsocket=name, timeout=120) as calc:
            for frame in frames:
                a = frame.copy()
                a.calc = calc
                results.append((a.get_potential_energy(), a.get_forces(), a.get_stress()))
    finally:
        watchdog.cancel()
    assert len(launched) == 1
    assert launched[0].wait(timeout=30) == 0  # the server closed the socket: a clean exit
    assert not os.path.exists(f"/tmp/ipi_{name}")
    worst = 0.0
    for (e, f, s), ref in zip(results, refs):
        worst = max(worst,
                    abs(e - ref.get_potential_energy()) / abs(ref.get_potential_energy()),
                    np.max(np.abs(f - ref.get_forces())) / np.max(np.abs(ref.get_forces())),
                    np.max(np.abs(s - ref.get_stress())) / np.max(np.abs(ref.get_stress())))
    record(f"ASE SocketIOCalculator + lorem-gpu driver vs predict (f64, 2 triclinic frames): "
           f"max relative difference {worst:.1e}")
    assert worst < 1e-8
