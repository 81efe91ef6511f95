from __future__ import annotations

import subprocess
import sys


def test_import_klkit_loads_no_heavy_library():
    code = (
        "import sys, klkit, klkit._api._explain;"
        "heavy = {'torch', 'jax', 'dask', 'matplotlib', 'typer', 'rich', 'pandas', 'scipy',"
        " 'numba'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
