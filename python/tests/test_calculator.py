"""lorem_gpu.Calculator: the ASE calculator that serves `lorem-gpu driver` over a unix socket."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError
from ase.optimize import BFGS

from conftest import (FIXTURE_MODELS, nacl_cluster, periodic_nacl, predict, record,
                      triclinic_nacl)
from lorem_gpu import Calculator, DriverError

MP1 = FIXTURE_MODELS / "mp1_L2"


def private_dirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "lorem-gpu-*"))) | set(
        glob.glob("/tmp/lorem-gpu-*"))


def gone(pid: int) -> bool:
    """True when the process no longer exists (or is a zombie nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def assert_cleaned(driver, dirs_before):
    """The driver process has exited and no socket, template or log is left."""
    assert driver is not None
    proc = driver.process
    assert proc.poll() is not None, "driver process still running"
    assert gone(proc.pid)
    assert driver._state.tmpdir is None and driver._state.socket_path is None
    assert private_dirs() <= dirs_before, f"left behind: {private_dirs() - dirs_before}"


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def compare(atoms, ref, *, e_rel, f_abs, s_abs=None, label=""):
    e = atoms.get_potential_energy()
    f = atoms.get_forces()
    de = abs(e - ref.get_potential_energy()) / abs(ref.get_potential_energy())
    df = float(np.max(np.abs(f - ref.get_forces())))
    fscale = max(1.0, float(np.max(np.abs(ref.get_forces()))))
    line = f"{label}: |dE|/|E| = {de:.2e}, max|dF| = {df:.2e} eV/Å"
    assert de <= e_rel, line
    assert df <= f_abs * fscale, line
    if s_abs is not None:
        s = atoms.get_stress()
        ds = float(np.max(np.abs(s - ref.get_stress())))
        line += f", max|dσ| = {ds:.2e} eV/Å³"
        sscale = max(1e-3, float(np.max(np.abs(ref.get_stress()))))
        assert ds <= s_abs * sscale, line
    record(line)


# ---------------------------------------------------------------------- no real engine needed


def test_missing_binary_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("LOREM_GPU_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="LOREM_GPU_BIN"):
        Calculator()
    monkeypatch.setenv("LOREM_GPU_BIN", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="nope"):
        Calculator()


def fake_binary(tmp_path, body):
    path = tmp_path / "fake-lorem-gpu"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_driver_dying_at_startup_raises_with_its_stderr(tmp_path):
    before = private_dirs()
    exe = fake_binary(tmp_path, 'echo "error: this model does not know element Xx" >&2; exit 3')
    calc = Calculator(binary=exe)
    atoms = nacl_cluster()
    atoms.calc = calc
    t0 = time.monotonic()
    with pytest.raises(DriverError) as err:
        atoms.get_potential_energy()
    assert time.monotonic() - t0 < 10
    assert "status 3" in str(err.value)
    assert "does not know element Xx" in str(err.value)
    assert private_dirs() <= before


def test_driver_that_never_connects_times_out_and_is_killed(tmp_path):
    before = private_dirs()
    exe = fake_binary(tmp_path, "echo waiting >&2; exec sleep 60")
    calc = Calculator(binary=exe, startup_timeout=1.0)
    calc.parameters  # noqa: B018
    with pytest.raises(DriverError, match="did not connect"):
        calc.get_potential_energy(nacl_cluster())
    assert private_dirs() <= before


FAKE_CLIENT = """
import socket, struct, sys, time
args = sys.argv[2:]
path = args[args.index("--socket-prefix") + 1] + args[args.index("--unix") + 1]
mode = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b
state = "NEEDINIT"
while True:
    h = recv(12).strip()
    if h == b"STATUS":
        s.sendall(state.encode().ljust(12))
    elif h == b"INIT":
        _, n = struct.unpack("<ii", recv(8)); recv(n); state = "READY"
    elif h == b"POSDATA":
        recv(144); n = struct.unpack("<i", recv(4))[0]; recv(24 * n)
        if mode == "hang":
            time.sleep(300)
        state = "HAVEDATA"
    elif h == b"GETFORCE":
        e = float("nan") if mode == "nan" else 0.0
        s.sendall(b"FORCEREADY".ljust(12) + struct.pack("<di", e, n) + bytes(24 * n + 72)
                  + struct.pack("<i", 2) + b"{}")
        state = "READY"
    elif h == b"EXIT":
        sys.exit(0)
"""


@pytest.mark.parametrize("mode,message", [("hang", "no answer"), ("nan", "non-finite")])
def test_misbehaving_driver_is_an_error_not_a_hang(tmp_path, mode, message):
    script = tmp_path / "client.py"
    script.write_text(FAKE_CLIENT)
    exe = fake_binary(tmp_path, f'exec "{sys.executable}" "{script}" {mode} "$@"')
    before = private_dirs()
    calc = Calculator(binary=exe, timeout=2.0)
    atoms = nacl_cluster()
    atoms.calc = calc
    t0 = time.monotonic()
    with pytest.raises(DriverError, match=message):
        atoms.get_potential_energy()
    assert time.monotonic() - t0 < 20
    assert calc.driver is None
    assert private_dirs() <= before


def test_lorem_jax_keywords(lorem_bin):
    with pytest.raises(ValueError, match="LoremBEC"):
        Calculator.from_checkpoint(MP1, bec=True)
    # bec defaults to what the checkpoint is (lorem-jax's rule)
    assert "born_effective_charges" in Calculator.from_checkpoint(
        FIXTURE_MODELS / "bec").implemented_properties
    assert "born_effective_charges" not in Calculator.from_checkpoint(MP1).implemented_properties
    with pytest.raises(NotImplementedError, match="inputs"):
        Calculator.from_checkpoint(MP1, inputs=("electric_field",))
    with pytest.raises(NotImplementedError):
        Calculator.from_model(object())
    with pytest.raises(NotImplementedError, match="baseline"):
        Calculator(add_offset=False)
    with pytest.raises(ValueError, match="contradicts"):
        Calculator.from_checkpoint(MP1, precision="f32", double_precision=True)
    with pytest.raises(TypeError, match="colour"):
        Calculator.from_checkpoint(MP1, colour="blue")
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        Calculator.from_checkpoint(FIXTURE_MODELS)
    calc = Calculator.from_checkpoint(MP1, double_precision=True, skin=0.5, properties=None)
    assert calc.precision == "f64"
    assert "stress" in calc.implemented_properties
    calc = Calculator.from_checkpoint(MP1, stress=False)
    assert "stress" not in calc.implemented_properties
    crystal = triclinic_nacl()
    crystal.calc = calc
    with pytest.raises(PropertyNotImplementedError):
        crystal.get_stress()
    calc.close()


# ---------------------------------------------------------------------- against `predict`


def test_periodic_f64_matches_predict(lorem_bin, tmp_path):
    crystal = triclinic_nacl()
    ref = predict(lorem_bin, [crystal], tmp_path, model=MP1, precision="f64")[0]
    before = private_dirs()
    with Calculator.from_checkpoint(MP1, device="opencl", precision="f64") as calc:
        crystal.calc = calc
        compare(crystal, ref, e_rel=1e-10, f_abs=1e-9, s_abs=1e-9,
                label="ASE calculator f64, triclinic NaCl (mp1_L2)")
        driver = calc.driver
    assert_cleaned(driver, before)
    assert driver.process.returncode == 0


def test_add_offset_false_subtracts_the_baseline(lorem_bin, tmp_path):
    crystal = triclinic_nacl()
    ref = predict(lorem_bin, [crystal], tmp_path, model=MP1, precision="f64")[0]
    baseline = {1: -1.4392540758556596, 6: -3.8758352992671736, 7: -11.425755205548704,
                8: -6.266049024740891, 11: -8.328762581796873, 17: -6.087431763624846}
    offset = sum(baseline[z] for z in crystal.numbers)
    with Calculator.from_checkpoint(MP1, precision="f64", add_offset=False) as calc:
        crystal.calc = calc
        e = crystal.get_potential_energy()
        assert np.allclose(crystal.get_forces(), ref.get_forces(), rtol=0, atol=1e-10)
    assert abs(e - (ref.get_potential_energy() - offset)) < 1e-9


def test_f32_within_float32_rounding(lorem_bin, tmp_path):
    crystal = triclinic_nacl()
    cluster = nacl_cluster()
    ref = predict(lorem_bin, [crystal], tmp_path, model=MP1, precision="f64", tag="c")[0]
    ref_mol = predict(lorem_bin, [cluster], tmp_path, precision="f64", tag="m")[0]
    with Calculator.from_checkpoint(MP1, device="opencl", precision="f32") as calc:
        crystal.calc = calc
        compare(crystal, ref, e_rel=1e-5, f_abs=1e-4, s_abs=1e-4,
                label="ASE calculator f32 vs predict f64, triclinic NaCl (mp1_L2)")
    with Calculator() as calc:  # built-in model, default precision f32
        cluster.calc = calc
        compare(cluster, ref_mol, e_rel=1e-5, f_abs=1e-4,
                label="ASE calculator f32 vs predict f64, Na4Cl3+ (default model)")
        with pytest.raises(PropertyNotImplementedError):
            cluster.get_stress()


def test_switching_structures_restarts_only_when_needed(lorem_bin, tmp_path):
    water = Atoms("OH2", positions=[[0, 0, 0.12], [0, 0.76, -0.47], [0, -0.76, -0.47]])
    na4cl3 = nacl_cluster(2)
    na4cl4 = nacl_cluster(1)
    na3cl4 = nacl_cluster(4)  # same size as Na4Cl3+, other species order
    crystal = periodic_nacl()
    boxed_crystal = crystal.copy()
    boxed_crystal.pbc = False  # same atoms, other periodicity
    frames = [na4cl3, na4cl4, water, na3cl4, crystal, boxed_crystal]
    refs = predict(lorem_bin, frames, tmp_path, precision="f64", stress=False)
    before = private_dirs()
    pids = []
    with Calculator(precision="f64") as calc:
        for frame, ref in zip(frames, refs):
            a = frame.copy()
            a.calc = calc
            compare(a, ref, e_rel=1e-10, f_abs=1e-9, label=f"switch {a.get_chemical_formula()}"
                    f" pbc={a.pbc.any()}")
            pids.append(calc.driver.pid)
            # moving atoms keeps the same driver
            a.positions[0] += 0.01
            a.get_potential_energy()
            assert calc.driver.pid == pids[-1]
        driver = calc.driver
    assert len(set(pids)) == len(frames), pids
    assert_cleaned(driver, before)


def test_bfgs_relaxation_converges(lorem_bin, tmp_path):
    atoms = nacl_cluster(3)  # Na4Cl3+, rattled
    with Calculator(precision="f64") as calc:
        atoms.calc = calc
        e0 = atoms.get_potential_energy()
        opt = BFGS(atoms, logfile=str(tmp_path / "bfgs.log"))
        converged = opt.run(fmax=0.05, steps=300)
        fmax = float(np.sqrt((atoms.get_forces() ** 2).sum(axis=1)).max())
        e1 = atoms.get_potential_energy()
    record(f"BFGS Na4Cl3+ (default model, f64): {opt.nsteps} steps, E {e0:.4f} -> {e1:.4f} eV, "
           f"fmax {fmax:.3f} eV/Å")
    assert converged and fmax < 0.05
    assert e1 < e0
    ref = predict(lorem_bin, [atoms], tmp_path, precision="f64", stress=False)[0]
    assert np.max(np.linalg.norm(ref.get_forces(), axis=1)) < 0.05


def test_wrong_element_error_carries_driver_stderr(lorem_bin):
    gold = Atoms("AuCl", positions=[[0, 0, 0], [0, 0, 2.3]])
    before = private_dirs()
    calc = Calculator()
    gold.calc = calc
    with pytest.raises(DriverError) as err:
        gold.get_potential_energy()
    text = str(err.value)
    assert "stderr" in text
    tail = text.split("stderr (last lines) ---", 1)[1]
    assert tail.strip() and tail.strip() != "(empty)", text
    assert "Au" in tail or "79" in tail, text
    assert private_dirs() <= before
    # the calculator still works for a valid structure afterwards
    ok = nacl_cluster()
    ok.calc = calc
    assert np.isfinite(ok.get_potential_energy())
    calc.close()


def test_killed_driver_gives_an_error_then_restarts(lorem_bin):
    atoms = nacl_cluster()
    with Calculator() as calc:
        atoms.calc = calc
        atoms.get_potential_energy()
        pid = calc.driver.pid
        os.kill(pid, signal.SIGKILL)
        # let it die completely first (exit status collected): a driver already gone before
        # the next call was once restarted silently instead of reported
        deadline = time.monotonic() + 10
        while calc.driver.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calc.driver.process.poll() == -signal.SIGKILL
        atoms.positions[0] += 0.02
        t0 = time.monotonic()
        with pytest.raises(DriverError, match="exited|closed|lost"):
            atoms.get_potential_energy()
        assert time.monotonic() - t0 < 10
        atoms.positions[0] += 0.02
        assert np.isfinite(atoms.get_potential_energy())
        assert calc.driver.pid != pid


@pytest.mark.parametrize("mode", ["exit", "with", "gc"])
def test_no_driver_left_after_interpreter_exit(lorem_bin, tmp_path, mode):
    """atexit (no close), a with block and garbage collection all stop the driver."""
    body = {
        "exit": "calc = Calculator(); atoms.calc = calc; atoms.get_potential_energy()\n"
                "report(calc)",
        "with": "with Calculator() as calc:\n    atoms.calc = calc; atoms.get_potential_energy()\n"
                "    report(calc)\nassert calc.driver is None",
        "gc": "calc = Calculator(); atoms.calc = calc; atoms.get_potential_energy()\n"
              "report(calc); proc = calc.driver.process\natoms.calc = None; del calc\n"
              "import gc; gc.collect(); proc.wait(timeout=20)",
    }[mode]
    script = textwrap.dedent("""
        import sys
        from ase import Atoms
        from lorem_gpu import Calculator
        atoms = Atoms("NaCl", positions=[[0, 0, 0], [0, 0, 2.4]])
        def report(calc):
            d = calc.driver
            print(d.pid, d._state.tmpdir, flush=True)
    """) + body + "\n"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, LOREM_GPU_BIN=lorem_bin))
    assert r.returncode == 0, r.stderr
    pid, tmpdir = r.stdout.split()
    deadline = time.monotonic() + 15
    while not gone(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(int(pid)), f"driver {pid} still running after the script exited ({mode})"
    assert not os.path.exists(tmpdir), f"{tmpdir} left behind ({mode})"
