"""What the Python examples share: where they live and which lorem-gpu binary they use."""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def find_binary():
    """$LOREM_GPU_BIN, else the repository's release build, else PATH (the calculator's rule).

    Returns the path to pass as ``binary=``, or None to let lorem_gpu.Calculator look itself.
    """
    if os.environ.get("LOREM_GPU_BIN"):
        return None
    built = REPO / ".build" / "release" / "lorem-gpu"
    return str(built) if built.is_file() else None
