#!/usr/bin/env bash
# Train a lorem-gpu model with lorem-train (lorem-jax 0.2.0, CPU): the default model
# (training/, the default folder) or another folder laid out the same way (examples/bec).
#
#   PYTHON=.venv-train/bin/python training/train.sh [FOLDER]   # from the repo root
#
# FOLDER holds model.yaml, settings.yaml, prepare_data.py and the data it reads. Creates
# FOLDER/run/ (ignored by git): the prepared data sets, a copy of model.yaml/settings.yaml and
# lorem-train's run/ folder with the checkpoints
# (run/checkpoints/<metric>/model/{model.yaml,baseline.yaml,model.msgpack}).
set -euo pipefail
HERE="$(cd "${1:-$(dirname "$0")}" && pwd)"
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
