#!/usr/bin/env bash
# The full test suite on a fresh machine: makes .venv, installs klkit with every
# backend the tests cover (PyTorch's CPU build, JAX, Dask, array-api-strict), lints,
# type-checks, checks the layer contract, runs the example, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# tests/docs/test_browser.py opens the built site in Debian's headless Chromium; the
# Korean pages need a Korean font (fonts-nanum), or Hangul is drawn as empty boxes
browser=(chromium fonts-nanum)
installed=$(dpkg-query -W -f='${db:Status-Status}\n' "${browser[@]}" 2>/dev/null |
    grep -cx installed || true)  # dpkg also knows removed packages: count the installed
if [ "$installed" -ne "${#browser[@]}" ]; then
    apt_log=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${browser[@]}"; } > "$apt_log" 2>&1; then
        cat "$apt_log" >&2
        echo "could not install ${browser[*]} (Debian packages, as root) for the browser tests" >&2
        exit 1
    fi
fi
python3 -m venv .venv
py=.venv/bin/python
$py -m pip install -q --upgrade pip
# exactly this version: the CPU build (an unpinned torch pulls a multi-GB CUDA build)
$py -m pip install -q torch==2.13.0
$py -m pip install -q -e ".[test,lint]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy src
.venv/bin/lint-imports  # the layer contract in pyproject.toml
$py examples/die.py > /dev/null
KLKIT_TEST_BACKENDS=numpy,array_api_strict,torch,jax,dask .venv/bin/pytest
# the benchmark at small sizes, so it never rots (it asserts nothing about time)
$py benchmarks/bench.py --quick > /dev/null
