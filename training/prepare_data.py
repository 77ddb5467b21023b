"""Convert training/data/{train,valid,test}.xyz into lorem-train's format.

lorem-train (marathon) reads memory-mapped DataSource folders; this writes
<out>/data/{train,valid,test}/ with marathon.grain.prepare, storing only
energy and forces (the systems are non-periodic, there is no stress).

  python training/prepare_data.py <run-folder>
"""

import sys
from pathlib import Path

from ase.io import read
from marathon.grain import prepare

PROPERTIES = {
    "energy": {"shape": (1,), "storage": "atoms.calc"},
    "forces": {"shape": ("atom", 3), "storage": "atoms.calc"},
}

here = Path(__file__).resolve().parent
out = Path(sys.argv[1]) / "data"
out.mkdir(parents=True, exist_ok=True)

for split in ("train", "valid", "test"):
    frames = read(here / "data" / f"{split}.xyz", index=":", format="extxyz")
    prepare(frames, folder=out / split, properties=PROPERTIES)
    print(f"{split}: {len(frames)} structures -> {out / split}")
