"""Each example of examples/md runs (shortened with LOREM_EXAMPLE_STEPS)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, log_tail, record

MD = REPO / "examples" / "md"


def example_env(tmp_path: Path, steps: int) -> dict:
    env = dict(os.environ)
    env["LOREM_EXAMPLE_STEPS"] = str(steps)
    env["LOREM_EXAMPLE_OUT"] = str(tmp_path / "out")
    # i-pi must be found on PATH, as after `pip install ipi` in an activated venv
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_example(procs, tmp_path, argv, steps, timeout=240):
    log = tmp_path / "example.log"
    p = procs.start(argv, log, cwd=tmp_path, env=example_env(tmp_path, steps))
    try:
        code = p.wait(timeout=timeout)
    except Exception:
        raise AssertionError(f"{argv[0]} did not finish in {timeout} s:\n" + log_tail(log))
    assert code == 0, f"{argv} failed ({code}):\n" + log_tail(log)
    return log.read_text(), p.pid


def properties(path: Path) -> np.ndarray:
    return np.atleast_2d(np.loadtxt(path, comments="#"))


@pytest.mark.parametrize("folder,prefix,steps,beads", [
    ("md/ipi_nvt", "nvt", 40, 1),
    ("md/ipi_pimd", "pimd", 20, 8),
    ("bec/ipi_eda", "eda", 40, 1),
])
def test_ipi_example(procs, lorem_bin, tmp_path, folder, prefix, steps, beads):
    example = Path(folder).name
    text, pid = run_example(procs, tmp_path, [REPO / "examples" / folder / "run.sh"], steps)
    out = tmp_path / "out"
    props = properties(out / f"{prefix}.out")
    assert props[-1, 0] == steps and np.all(np.isfinite(props))
    assert all((out / f"{prefix}.pos_{b}.extxyz").is_file() for b in range(beads))
    driver_log = (out / "driver.log").read_text()
    if beads > 1:
        assert f"batches of {beads}" in driver_log, driver_log
    if example == "ipi_eda":
        # driven dynamics: the Born charges came back as extras, one block per output step
        bec = (out / f"{prefix}.bec_0").read_text()
        assert bec.count("#EXTRAS(BEC)#") == steps // 20 + 1, bec[:200]
    assert "done:" in text
    assert not Path(f"/tmp/ipi_lorem_{example}_{pid}").exists()  # run.sh's socket is gone
    record(f"example {folder}: {steps} steps OK; last line: "
           + " ".join(f"{x:.6g}" for x in props[-1]))


def test_ase_md_example(procs, lorem_bin, tmp_path):
    text, _ = run_example(procs, tmp_path, [sys.executable, MD / "ase_md.py"], 20)
    import ase.io

    frames = ase.io.read(tmp_path / "out" / "ase_md.xyz", ":")
    assert len(frames) == 2  # steps 0 and 20
    assert "20 steps in" in text
    record("example ase_md.py: " + text.strip().splitlines()[-1])


def test_relax_example(procs, lorem_bin, tmp_path):
    log = tmp_path / "example.log"
    env = example_env(tmp_path, 500)
    del env["LOREM_EXAMPLE_STEPS"]  # run to convergence (about 20 BFGS steps)
    p = procs.start([sys.executable, MD / "relax.py"], log, cwd=tmp_path, env=env)
    assert p.wait(timeout=240) == 0, log_tail(log)
    text = log.read_text()
    assert "converged after" in text and "NOT converged" not in text, text
    import ase.io

    relaxed = ase.io.read(tmp_path / "out" / "relaxed.xyz")
    assert len(relaxed) == 8
    record("example relax.py: " + [line for line in text.splitlines() if "converged" in line][-1])
