"""Convert examples/bec/data/{train,valid,test}.xyz into lorem-train's format.

lorem-train (marathon) reads memory-mapped DataSource folders; this writes
<run>/data/{train,valid,test}/ with marathon.grain.prepare, storing energy,
forces and the Born effective charges `apt` (per atom, shape (3, 3): the
extxyz column of 9 values is row-major Z_i,ab, a = displacement/force
direction, b = field/dipole direction).

  python examples/bec/prepare_data.py <run-folder>
"""

import sys
from pathlib import Path

from ase.io import read
from marathon.grain import prepare

PROPERTIES = {
    "energy": {"shape": (1,), "storage": "atoms.calc"},
    "forces": {"shape": ("atom", 3), "storage": "atoms.calc"},
    "apt": {"shape": ("atom", 3, 3), "storage": "atoms.arrays"},
}

here = Path(__file__).resolve().parent
out = Path(sys.argv[1]) / "data"
out.mkdir(parents=True, exist_ok=True)

for split in ("train", "valid", "test"):
    frames = read(here / "data" / f"{split}.xyz", index=":", format="extxyz")
    for atoms in frames:
        atoms.arrays["apt"] = atoms.arrays["apt"].reshape(len(atoms), 3, 3)
    prepare(frames, folder=out / split, properties=PROPERTIES)
    print(f"{split}: {len(frames)} structures -> {out / split}")
