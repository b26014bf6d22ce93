#!/usr/bin/env bash
# actbench beside PyTorch and JAX on the same jobs (not part of CI): 784-128-64-10,
# 784-512-256-10 and 784-1024-1024-10 at batch 32 and 256, relu, real MNIST from
# $ACTBENCH_DATA_DIR/mnist; prints a markdown table with ratios and numpy's sgemm beside our
# calibration product. See benches/compare_frameworks.py for what is timed.
#
#   benches/compare_frameworks.sh [--epochs N] [--threads T] [--rounds R] [--only 128-64,512-256]
#   benches/compare_frameworks.sh --cnn [--cnn-samples N] [--epochs N] [--threads T] [--rounds R]
#     (the tutorial's CNN on Fashion-MNIST, batch 32, relu, beside PyTorch and JAX)
#
# The first run makes a Python virtual environment in target/compare-venv (numpy, jax, optax and
# torch from PyPI; a few GB with PyTorch's dependencies) and builds actbench in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/compare-venv
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import torch, jax, optax, numpy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy jax optax torch
fi
cargo build --release --quiet
exec "$venv/bin/python" benches/compare_frameworks.py "$@"
