#!/usr/bin/env bash
# Runs this folder's input.xml: i-PI plus `lorem-gpu driver` (see ../README.md).
# Extra arguments go to `lorem-gpu driver` (e.g. --precision f64 --device reference).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../ipi_run.sh" "$here" "$@"
