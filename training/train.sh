#!/usr/bin/env bash
# Train the default lorem-gpu model with lorem-train (lorem-jax 0.2.0, CPU).
#
#   PYTHON=.venv-train/bin/python training/train.sh            # from the repo root
#
# Creates training/run/ (ignored by git): the prepared data sets, a copy of
# model.yaml/settings.yaml and lorem-train's run/ folder with the checkpoints
# (run/checkpoints/<metric>/model/{model.yaml,baseline.yaml,model.msgpack}).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python}"
# absolute path: we cd into the run folder below
case "$PYTHON" in */*) PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")";; esac
RUN="${RUN:-$HERE/run}"

if [ -e "$RUN/run" ]; then
  echo "$RUN/run exists: lorem-train would resume from it; remove $RUN to start over" >&2
fi
mkdir -p "$RUN"
cp "$HERE/model.yaml" "$HERE/settings.yaml" "$RUN/"
"$PYTHON" "$HERE/prepare_data.py" "$RUN"

cd "$RUN"
export DATASETS="$RUN"
export JAX_PLATFORMS=cpu
time "$PYTHON" -c "from lorem.train import main; main()"
