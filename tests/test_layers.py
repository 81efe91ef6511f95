"""The layout holds: layers import only downwards, every module is in a layer, no module
dodges a cycle with an import inside a function, and sizes stay readable.

The contract itself is import-linter's ``layers`` contract in ``pyproject.toml``; these
tests run it and check what it cannot see.
"""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "klkit"
OPTIONAL = {
    "dask",
    "distributed",
    "jax",
    "matplotlib",
    "mpl_toolkits",
    "numba",
    "pandas",
    "rich",
    "scipy",
    "torch",
    "typer",
}
"""Libraries klkit imports lazily, inside functions, so that ``import klkit`` stays light."""
WRAP_OPTIONAL = ("klkit.cli", "klkit.plot", "klkit.estimate", "klkit._backends._numba")
"""klkit's own modules that need an optional library, imported lazily for the same reason."""


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return [name.strip() for layer in contract["layers"] for name in layer.split("|")]


def _modules() -> list[pathlib.Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def test_the_layer_contract_is_kept():
    # import-linter's own command, in a fresh process, on this checkout's sources
    run = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    out = subprocess.run(
        [sys.executable, "-c", run, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_every_module_belongs_to_a_layer():
    layers = _layers()
    outside = []
    for path in _modules():
        name = ".".join(("klkit", *path.relative_to(SRC).with_suffix("").parts))
        name = name.removesuffix(".__init__")
        if name in ("klkit", "klkit.__main__"):
            continue  # the package root re-exports the public API; __main__ runs the CLI
        if not any(name == layer or name.startswith(layer + ".") for layer in layers):
            outside.append(name)
    assert not outside, f"modules in no layer of pyproject.toml's contract: {outside}"


def _function_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [(inner.lineno, alias.name) for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom) and inner.module:
                    found += [(inner.lineno, f"{inner.module}.{a.name}") for a in inner.names]
    return found


def test_no_import_inside_a_function_dodges_a_cycle():
    dodges = []
    for path in _modules():
        for line, module in _function_imports(ast.parse(path.read_text())):
            root = module.split(".")[0]
            if root == "klkit" and not module.startswith(WRAP_OPTIONAL):
                dodges.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
            elif root not in OPTIONAL | {"klkit", "importlib"}:
                dodges.append(f"{path.relative_to(ROOT)}:{line} imports {module} lazily")
    assert not dodges, "\n".join(dodges)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_over_600_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 600, f"{path.relative_to(SRC)} has {lines} lines"
