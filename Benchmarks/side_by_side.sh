#!/usr/bin/env bash
# lorem-gpu against lorem-jax 0.2.0 side by side (see side_by_side.py for what is measured).
#
#   Benchmarks/side_by_side.sh [side_by_side.py options, e.g. --model models/default --model random]
#
# Creates Benchmarks/.venv with Benchmarks/requirements.txt if it is missing, builds lorem-gpu in
# release (`swift build -c release`, incremental; set SCRATCH_PATH to use another build folder),
# and runs the script from the repository root. Results: a table on stdout and
# Benchmarks/out/side_by_side.json.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=Benchmarks/.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import lorem, ase, matplotlib" 2>/dev/null; then
    "$venv/bin/pip" install -r Benchmarks/requirements.txt
fi

scratch=${SCRATCH_PATH:-.build}
swift build -c release --scratch-path "$scratch" >&2
exec "$venv/bin/python" Benchmarks/side_by_side.py --lorem-gpu "$scratch/release/lorem-gpu" "$@"
