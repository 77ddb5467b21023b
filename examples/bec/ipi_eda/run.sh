#!/usr/bin/env bash
# Runs this folder's input.xml: i-PI driven dynamics plus `lorem-gpu driver` with the
# LoremBEC example model (see ../README.md). Extra arguments go to `lorem-gpu driver`
# (e.g. --precision f64 --device reference).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../md/ipi_run.sh" "$here" --model "$here/../model" "$@"
