#!/usr/bin/env python3
"""Molecular dynamics through real i-PI with `lorem-gpu driver`: steps per second and where a
step's time goes (the evaluation, the driver's socket work, i-PI's own work).

    python Benchmarks/md_ipi.py [--bin .build/release/lorem-gpu] [--steps 20] [--json out.json]

Needs `ipi` and `ase` (python/requirements-ci.txt pins them). For each case it writes an i-PI
input into a temporary folder, starts i-PI and one driver on a unix socket, and reads the
driver's closing line, which splits the mean step (first step excluded: it builds the device
programs) into evaluation, driver socket work and server time. Cases:

- water box, 32 molecules (96 atoms, periodic), NVE, 1 bead;
- NaCl rocksalt 8x8x8 (4,096 atoms, periodic), NVE, 1 bead;
- the water box with 8 path-integral beads (NVT, PILE-L), once with <batch_size>8</batch_size>
  (one device batch of 8 structures per step) and once unbatched (8 exchanges per step);
- the same for the Na+(H2O)3 cluster of examples/md/ipi_pimd (10 atoms, a molecule).

Structures come from `lorem-gpu bench --save-structures` (the same systems `bench` times), the
model is the built-in one, float32 on the default OpenCL device.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ase.io import read, write

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"(\d+) step\(s\), (\d+) structure\(s\); first evaluation ([\d.]+) s, then per step: evaluation ([\d.]+) ms"
                  r"(?: \(batch of (\d+)\))?, driver socket work ([\d.]+) ms, server ([\d.]+) ms")

INPUT = """<simulation verbosity='low'>
  <output prefix='sim'><properties stride='10' filename='out'> [ step, conserved{{electronvolt}}, potential{{electronvolt}} ] </properties></output>
  <total_steps>{steps}</total_steps> <prng><seed>31415</seed></prng>
  <ffsocket name='lorem' mode='unix' pbc='false'><address>{address}</address>{batch}</ffsocket>
  <system>
    <initialize nbeads='{beads}'><file mode='ase' units='angstrom'>start.xyz</file>
      <velocities mode='thermal' units='kelvin'>300</velocities></initialize>
    <forces><force forcefield='lorem'/></forces>
    <motion mode='dynamics'><dynamics mode='{mode}'><timestep units='femtosecond'>0.25</timestep>{thermostat}</dynamics></motion>
    <ensemble><temperature units='kelvin'>300</temperature></ensemble>
  </system>
</simulation>
"""


def run_case(binary, atoms, steps, beads, batch, label):
    address = f"lorem_bench_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write(tmp / "start.xyz", atoms)
        thermostat = ("<thermostat mode='pile_l'><tau units='femtosecond'>100</tau></thermostat>" if beads > 1 else "")
        (tmp / "input.xml").write_text(INPUT.format(
            steps=steps, address=address, beads=beads, mode="nvt" if beads > 1 else "nve", thermostat=thermostat,
            batch=f"<batch_size>{batch}</batch_size>" if batch > 1 else ""))
        ipi = subprocess.Popen(["i-pi", "input.xml"], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        t0 = time.time()
        try:
            driver = subprocess.run([binary, "driver", "--template", str(tmp / "start.xyz"), "--unix", address],
                                    capture_output=True, text=True, timeout=3600)
            wall = time.time() - t0
            ipi.wait(timeout=60)
        finally:
            if ipi.poll() is None:
                ipi.kill()
                ipi.wait()
        if driver.returncode != 0:
            sys.exit(f"{label}: the driver failed:\n{driver.stderr}")
        match = LINE.search(driver.stderr)
        if not match:
            sys.exit(f"{label}: no closing line from the driver:\n{driver.stderr}")
        exchanges, structures, first, evaluation, _, socket_ms, server = match.groups()
        evaluation, socket_ms, server = float(evaluation), float(socket_ms), float(server)
        # i-PI evaluates the start and every step: steps + 1 force calls, each of `beads / batch` exchanges.
        exchanges_per_step = max(1, round(int(exchanges) / (steps + 1)))
        step_ms = exchanges_per_step * (evaluation + socket_ms + server)
        result = dict(case=label, atoms=len(atoms), beads=beads, batch_size=batch, steps=steps,
                      exchanges=int(exchanges), structures=int(structures), first_evaluation_s=float(first),
                      evaluation_ms=evaluation, driver_socket_ms=socket_ms, server_ms=server,
                      step_ms=step_ms, steps_per_s=1000 / step_ms, wall_s=wall)
        print(f"{label:44s} {len(atoms):6d} {beads:3d} {batch:3d}  {step_ms:10.1f} {1000 / step_ms:9.2f}"
              f" {evaluation:10.2f} {socket_ms:8.3f} {server:8.2f}", flush=True)
        return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=str(ROOT / ".build/release/lorem-gpu"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--big-steps", type=int, default=5, help="steps for the 4,096-atom box")
    parser.add_argument("--json", default=str(ROOT / "Benchmarks/out/md_ipi.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "systems.xyz"
        subprocess.run([args.bin, "bench", "--water", "32", "--cells", "8", "--save-structures", str(path), "-q"],
                       check=True, capture_output=True)
        systems = {a.info["system"]: a for a in read(path, ":")}
    water = next(a for name, a in systems.items() if name.startswith("water box"))
    nacl = next(a for name, a in systems.items() if name.startswith("NaCl"))
    cluster = read(ROOT / "examples/md/ipi_pimd/start.xyz")

    print(f"{'case':44s} {'atoms':>6s} {'bds':>3s} {'B':>3s}  {'ms/step':>10s} {'steps/s':>9s}"
          f" {'eval ms':>10s} {'sock ms':>8s} {'ipi ms':>8s}")
    results = [
        run_case(args.bin, water, args.steps, 1, 1, "water box, NVE"),
        run_case(args.bin, nacl, args.big_steps, 1, 1, "NaCl rocksalt 8x8x8, NVE"),
        run_case(args.bin, water, args.steps, 8, 8, "water box, PIMD 8 beads, batched"),
        run_case(args.bin, water, args.steps, 8, 1, "water box, PIMD 8 beads, unbatched"),
        run_case(args.bin, cluster, args.steps, 8, 8, "Na+(H2O)3 cluster, PIMD 8 beads, batched"),
        run_case(args.bin, cluster, args.steps, 8, 1, "Na+(H2O)3 cluster, PIMD 8 beads, unbatched"),
    ]
    for k, name in [(2, "water box"), (4, "cluster")]:
        ratio = results[k]["steps_per_s"] / results[k + 1]["steps_per_s"]
        print(f"8 beads, {name}: batched / unbatched steps per second = {ratio:.2f}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out.write_text(json.dumps(dict(commit=commit, date=time.strftime("%Y-%m-%d"), machine=platform.machine(),
                                   load_average=os.getloadavg(), results=results), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
