"""`lorem-gpu predict` interrupted half-way leaves nothing behind.

predict streams its output batch by batch into a hidden temporary file beside the target and
renames it into place only at the end. A user's Ctrl-C (SIGINT), a batch system's SIGTERM or a
closed terminal's SIGHUP while that file is growing must remove it, leave an existing output
untouched, and still end the process by the signal (so shells and schedulers see the
interruption).
"""

from __future__ import annotations

import math
import signal
import time
from pathlib import Path

import pytest

from conftest import FIXTURE_MODELS, log_tail

MODEL = FIXTURE_MODELS / "mp1_L2"


def water_frames(n: int) -> str:
    out = []
    for k in range(n):
        a = 0.96 + 0.01 * (k % 7)
        out.append(f"3\nProperties=species:S:1:pos:R:3 step={k}\nO 0 0 0\nH {a} 0 0\nH -0.24 0.93 0.1\n")
    return "".join(out)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupted_predict_leaves_no_file(lorem_bin, procs, tmp_path: Path, sig):
    source = tmp_path / "in.xyz"
    source.write_text(water_frames(100_000))
    target = tmp_path / "out.xyz"
    target.write_text("previous result\n")
    log = tmp_path / "predict.log"
    p = procs.start([lorem_bin, "predict", "--model", MODEL, "--device", "reference",
                     "--batch-frames", "64", source, "-o", target], log)
    # Wait until the temporary output holds at least one batch, then interrupt.
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and p.poll() is None:
        partial = [f for f in tmp_path.glob(".out.xyz.tmp-*") if f.stat().st_size > 0]
        if partial:
            break
        time.sleep(0.01)
    assert partial, f"no partial output appeared while predict ran:\n{log_tail(log)}"
    p.send_signal(sig)
    assert p.wait(timeout=30) == -sig, log_tail(log)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xyz", "out.xyz", "predict.log"]
    assert target.read_text() == "previous result\n"


def test_streamed_output_is_complete(lorem_bin, procs, tmp_path: Path):
    """The same run left alone: every frame is written, in input order."""
    from ase.io import read

    source = tmp_path / "in.xyz"
    source.write_text(water_frames(2_000))
    target = tmp_path / "out.xyz"
    log = tmp_path / "predict.log"
    p = procs.start([lorem_bin, "predict", "--model", MODEL, "--device", "reference", "-q",
                     "--batch-frames", "64", source, "-o", target], log)
    assert p.wait(timeout=300) == 0, log_tail(log)
    frames = read(target, ":")
    assert [a.info["step"] for a in frames] == list(range(2_000))
    assert all(math.isfinite(a.get_potential_energy()) for a in frames)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.xyz", "out.xyz", "predict.log"]
