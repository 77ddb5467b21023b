"""Shared helpers: the lorem-gpu binary, `predict` as the reference, i-PI runs in tmp_path.

Every process a test starts goes through the ``procs`` fixture, which kills
whatever is still running at teardown, whether the test passed or failed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms, units

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FIXTURE_MODELS = REPO / "Tests" / "Fixtures" / "models"

# Numbers measured by the tests, printed in the terminal summary.
MEASURED: list[str] = []


def record(line: str) -> None:
    MEASURED.append(line)
    print(line)


def pytest_terminal_summary(terminalreporter):
    if MEASURED:
        terminalreporter.section("lorem-gpu measurements")
        for line in MEASURED:
            terminalreporter.write_line(line)


# ---------------------------------------------------------------------- binaries


def binary_path() -> Path:
    return Path(os.environ.get("LOREM_GPU_BIN") or REPO / ".build" / "release" / "lorem-gpu")


@pytest.fixture(scope="session")
def lorem_bin() -> str:
    path = binary_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"lorem-gpu binary not found at {path}: run `swift build -c release` or set "
            "LOREM_GPU_BIN"
        )
    out = subprocess.run([str(path), "driver", "--help"], capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0 or "--template" not in out.stdout + out.stderr:
        pytest.fail(f"{path} has no `driver` subcommand:\n{out.stdout}{out.stderr}")
    os.environ["LOREM_GPU_BIN"] = str(path)  # for lorem_gpu.Calculator
    return str(path)


def ipi_command() -> list[str]:
    bindir = Path(sys.executable).parent
    exe = shutil.which("i-pi", path=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    if exe is None:
        pytest.fail("i-pi executable not found (pip install ipi)")
    return [exe]


# ---------------------------------------------------------------------- processes


class Procs:
    """Start processes with their output in files; kill all of them at teardown."""

    def __init__(self):
        self.items: list[tuple[subprocess.Popen, Path]] = []

    def start(self, argv, log: Path, cwd=None, env=None) -> subprocess.Popen:
        f = open(log, "wb")
        try:
            p = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=env, stdout=f,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        finally:
            f.close()
        self.items.append((p, Path(log)))
        return p

    def kill_all(self):
        for p, _ in self.items:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        for p, _ in self.items:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()


@pytest.fixture
def procs():
    p = Procs()
    try:
        yield p
    finally:
        p.kill_all()


def log_tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------- predict


def write_extxyz_exact(path: Path, frames) -> None:
    """extxyz with every float at full double precision (ASE writes 8 decimals)."""
    with open(path, "w") as f:
        for a in frames:
            pbc = " ".join("T" if p else "F" for p in a.pbc)
            head = f'Properties=species:S:1:pos:R:3 pbc="{pbc}"'
            if a.cell.rank == 3:
                lat = " ".join(f"{x:.17g}" for x in a.cell[:].ravel())
                head = f'Lattice="{lat}" ' + head
            f.write(f"{len(a)}\n{head}\n")
            for s, (x, y, z) in zip(a.get_chemical_symbols(), a.positions):
                f.write(f"{s} {x:.17g} {y:.17g} {z:.17g}\n")


def predict(lorem_bin, frames, tmp_path: Path, model=None, precision="f64",
            device="opencl", stress=True, tag="predict", extra_args=()):
    """Run `lorem-gpu predict` on the frames (written at full precision); return read frames.

    ``extra_args`` go to `predict` as they are (e.g. ``["--electric-field", "0,0,0.1"]``)."""
    import ase.io

    inp = tmp_path / f"{tag}_in.xyz"
    out = tmp_path / f"{tag}_out.xyz"
    write_extxyz_exact(inp, frames)
    argv = [lorem_bin, "predict", str(inp), "-o", str(out), "--precision", precision,
            "--device", device, "-q"]
    if stress:
        argv.append("--stress")
    if model is not None:
        argv += ["--model", str(model)]
    argv += [str(a) for a in extra_args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"predict failed:\n{r.stdout}\n{r.stderr}"
    return ase.io.read(out, ":")


# ---------------------------------------------------------------------- structures


def nacl_cluster(index: int = 2) -> Atoms:
    """A frame of examples/nacl_cluster.xyz (2: the Na4Cl3+ cluster)."""
    import ase.io

    a = ase.io.read(EXAMPLES / "nacl_cluster.xyz", index)
    return Atoms(a.numbers, a.positions, pbc=False)


def boxed(atoms: Atoms, box: float = 30.0) -> Atoms:
    """A molecule centred in a big box (i-PI needs a cell), pbc still False."""
    a = atoms.copy()
    a.cell = [box, box, box]
    a.pbc = False
    a.center()
    return a


def triclinic_nacl(seed: int = 3) -> Atoms:
    """Rattled 8-atom NaCl in a triclinic cell in ASE's standard (lower-triangular) form.

    That form is what i-PI keeps (h upper triangular), so i-PI does not rotate it.
    """
    from ase.geometry import cellpar_to_cell

    import ase.io

    base = ase.io.read(EXAMPLES / "structures.xyz", 0)
    frac = base.get_scaled_positions()
    cell = cellpar_to_cell([5.9, 6.1, 5.8, 84.0, 97.0, 102.0])
    a = Atoms(base.numbers, cell=cell, pbc=True)
    a.set_scaled_positions(frac)
    rng = np.random.default_rng(seed)
    a.positions += rng.normal(scale=0.08, size=a.positions.shape)
    return a


def periodic_nacl(seed: int = 5) -> Atoms:
    """16-atom rock-salt NaCl box (2×1×1 of examples/structures.xyz's cell, expanded 10%
    so that no neighbour shell sits at the 5 Å cutoff), rattled by 0.1 Å."""
    import ase.io

    a = ase.io.read(EXAMPLES / "structures.xyz", 0)
    a = Atoms(a.numbers, a.positions * 1.1, cell=a.cell[:] * 1.1, pbc=True).repeat((2, 1, 1))
    rng = np.random.default_rng(seed)
    a.positions += rng.normal(scale=0.1, size=a.positions.shape)
    return a


# ---------------------------------------------------------------------- i-PI


def socket_prefix(tmp_path: Path) -> str:
    """A unix-socket prefix inside tmp_path, or a unique /tmp/ipi_ one if that is too long."""
    p = f"{tmp_path}/"
    if len(p) + 16 > 100:
        p = f"/tmp/ipi_{uuid.uuid4().hex[:10]}_"
    return p


def ipi_input(*, start: str, prefix: str, steps: int, nbeads: int = 1, batch_size: int = 1,
              properties: str, trajectories: str = "", temperature: float | None = 300.0,
              timestep_fs: float = 0.25, seed: int = 31415, motion: str | None = None,
              address: str = "lorem") -> str:
    vel = (f"<velocities mode='thermal' units='kelvin'>{temperature}</velocities>"
           if temperature else "")
    batch = f"<batch_size>{batch_size}</batch_size>" if batch_size > 1 else ""
    if motion is None:
        motion = (f"<motion mode='dynamics'><dynamics mode='nve'><timestep units='femtosecond'>"
                  f"{timestep_fs}</timestep></dynamics></motion>")
    return f"""<simulation verbosity='low' sockets_prefix='{prefix}' floatformat='%.16e'>
  <output prefix='sim'>
    <properties stride='1' filename='out'> {properties} </properties>
    {trajectories}
  </output>
  <total_steps>{steps}</total_steps>
  <prng><seed>{seed}</seed></prng>
  <ffsocket name='lorem' mode='unix' pbc='false'>
    <address>{address}</address>{batch}
  </ffsocket>
  <system>
    <initialize nbeads='{nbeads}'>
      <file mode='ase'>{start}</file>
      {vel}
    </initialize>
    <forces><force forcefield='lorem'/></forces>
    {motion}
    <ensemble><temperature units='kelvin'>{temperature or 300}</temperature></ensemble>
  </system>
</simulation>
"""


def run_ipi(procs: Procs, workdir: Path, xml: str, driver_argvs, *, prefix: str,
            address: str = "lorem", timeout: float = 180.0):
    """Run i-PI in workdir with the given drivers; return (seconds, driver return codes).

    The drivers are started once i-PI's socket exists; everything is killed on failure.
    """
    (workdir / "input.xml").write_text(xml)
    t0 = time.monotonic()
    ipi = procs.start(ipi_command() + ["input.xml"], workdir / "ipi.log", cwd=workdir)
    sock = Path(prefix + address)
    while not sock.exists():
        if ipi.poll() is not None:
            raise AssertionError(f"i-PI exited with {ipi.returncode}:\n"
                                 + log_tail(workdir / "ipi.log"))
        if time.monotonic() - t0 > 60:
            raise AssertionError("i-PI did not open its socket:\n" + log_tail(workdir / "ipi.log"))
        time.sleep(0.05)
    drivers = []
    for i, argv in enumerate(driver_argvs):
        drivers.append(procs.start(argv, workdir / f"driver{i}.log", cwd=workdir))
    deadline = t0 + timeout
    while ipi.poll() is None:
        for i, d in enumerate(drivers):
            if d.poll() not in (None, 0):
                raise AssertionError(
                    f"driver {i} exited with {d.returncode}:\n" + log_tail(workdir / f"driver{i}.log")
                    + "\n--- i-PI ---\n" + log_tail(workdir / "ipi.log"))
        if time.monotonic() > deadline:
            raise AssertionError(f"i-PI did not finish within {timeout} s:\n"
                                 + log_tail(workdir / "ipi.log"))
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    assert ipi.returncode == 0, f"i-PI failed ({ipi.returncode}):\n" + log_tail(workdir / "ipi.log")
    codes = []
    for i, d in enumerate(drivers):
        try:
            codes.append(d.wait(timeout=30))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"driver {i} did not exit after i-PI finished:\n"
                                 + log_tail(workdir / f"driver{i}.log"))
    assert not sock.exists(), f"i-PI left its socket {sock}"
    return elapsed, codes


def driver_argv(lorem_bin, template: Path, prefix: str, *, address="lorem", model=None,
                precision="f64", device="opencl", long_range=None):
    argv = [lorem_bin, "driver", "--template", str(template), "--unix", address,
            "--socket-prefix", prefix, "--precision", precision, "--device", device,
            "--connect-timeout", "60"]
    if model is not None:
        argv += ["--model", str(model)]
    if long_range is not None:
        argv += ["--long-range", long_range]
    return argv


def read_properties(path: Path) -> np.ndarray:
    return np.atleast_2d(np.loadtxt(path, comments="#"))


def read_bin_frame(path: Path):
    """The single frame of an i-PI `bin` trajectory: (h in a.u., q in a.u. flat, names)."""
    from ipi.utils.io.backends.io_binary import read_binary

    with open(path, "rb") as f:
        _title, cell, q, names, _m = read_binary(f)
    return np.asarray(cell).reshape(3, 3), np.asarray(q, dtype=float), names


def bohr_to_ang(x):
    return np.asarray(x) * units.Bohr
