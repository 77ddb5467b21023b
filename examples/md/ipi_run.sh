#!/usr/bin/env bash
# Run one i-PI example of this folder: i-PI (the server) plus `lorem-gpu driver` (the client).
#
#   examples/md/ipi_run.sh EXAMPLE_DIR [extra lorem-gpu driver options, e.g. --precision f64]
#
# EXAMPLE_DIR holds input.xml and start.xyz. Output goes to $LOREM_EXAMPLE_OUT (default
# EXAMPLE_DIR/run/, emptied first). $LOREM_EXAMPLE_STEPS overrides <total_steps>. The
# lorem-gpu binary is $LOREM_GPU_BIN, else the repository's .build/release/lorem-gpu, else
# lorem-gpu on PATH; i-pi comes from PATH (pip install ipi).
set -euo pipefail

caller="$PWD"  # the driver runs from here, so relative paths in its options (--model) work
example="$(cd "$1" && pwd)"
shift
repo="$(cd "$example/../../.." && pwd)"

bin="${LOREM_GPU_BIN:-}"
if [ -z "$bin" ]; then
  if [ -x "$repo/.build/release/lorem-gpu" ]; then
    bin="$repo/.build/release/lorem-gpu"
  elif command -v lorem-gpu > /dev/null; then
    bin="$(command -v lorem-gpu)"
  else
    echo "error: lorem-gpu not found: run 'swift build -c release' in $repo or set LOREM_GPU_BIN" >&2
    exit 1
  fi
fi
if ! command -v i-pi > /dev/null; then
  echo "error: i-pi not found on PATH: pip install ipi (3.3 or newer)" >&2
  exit 1
fi

out="${LOREM_EXAMPLE_OUT:-$example/run}"
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# a socket name of our own (i-PI and the driver both use the prefix /tmp/ipi_)
name="lorem_$(basename "$example")_$$"
socket="/tmp/ipi_$name"
sed -e "s|<address>[^<]*</address>|<address>$name</address>|" "$example/input.xml" > "$out/input.xml"
if [ -n "${LOREM_EXAMPLE_STEPS:-}" ]; then
  sed -i -e "s|<total_steps>[^<]*</total_steps>|<total_steps>$LOREM_EXAMPLE_STEPS</total_steps>|" \
    "$out/input.xml"
fi
cp "$example/start.xyz" "$out/start.xyz"
cd "$out"

ipi_pid=""
driver_pid=""
cleanup() {
  for pid in $driver_pid $ipi_pid; do
    kill "$pid" 2> /dev/null || true
  done
  rm -f "$socket"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "output in $out"
i-pi input.xml > ipi.log 2>&1 &
ipi_pid=$!

# the driver could also be started first (it retries for --connect-timeout seconds);
# waiting for the socket gives a clear message when i-PI fails to start
for _ in $(seq 600); do
  [ -S "$socket" ] && break
  if ! kill -0 "$ipi_pid" 2> /dev/null; then
    echo "error: i-PI stopped before opening its socket; ipi.log:" >&2
    tail -n 20 ipi.log >&2
    exit 1
  fi
  sleep 0.1
done

(cd "$caller" && exec "$bin" driver --template "$out/start.xyz" --unix "$name" "$@") 2> driver.log &
driver_pid=$!

status=0
# i-PI waits for a driver indefinitely: stop when the driver fails while i-PI is still running
while kill -0 "$ipi_pid" 2> /dev/null; do
  if ! kill -0 "$driver_pid" 2> /dev/null; then
    wait "$driver_pid" || status=$?
    if [ "$status" -ne 0 ]; then
      echo "error: lorem-gpu driver failed (status $status) while i-PI was running; driver.log:" >&2
      tail -n 20 driver.log >&2
      exit "$status"
    fi
    driver_pid=""
    break
  fi
  sleep 0.2
done
wait "$ipi_pid" || status=$?
ipi_pid=""
if [ "$status" -ne 0 ]; then
  echo "error: i-PI failed (status $status); ipi.log:" >&2
  tail -n 20 ipi.log >&2
  echo "driver.log:" >&2
  tail -n 20 driver.log >&2
  exit "$status"
fi
if [ -n "$driver_pid" ]; then
  wait "$driver_pid" || status=$?
fi
driver_pid=""
if [ "$status" -ne 0 ]; then
  echo "error: lorem-gpu driver failed (status $status); driver.log:" >&2
  tail -n 20 driver.log >&2
  exit "$status"
fi

grep -v '^#' ./*.out | tail -n 5
echo "done: $(grep -vc '^#' ./*.out) lines of properties in $(ls ./*.out), trajectory in $(ls ./*pos*)"
