"""SciPy, which every estimator needs: imported here once, or one line naming the extra.

``import klkit`` does not import this package, so it does not need SciPy.
"""

from __future__ import annotations

try:
    import scipy.integrate as si
    import scipy.special as sp
    import scipy.stats as ss
    from scipy.spatial import cKDTree
except ModuleNotFoundError as _missing:  # one line naming the extra, as the CLI says it
    if not (_missing.name or "").startswith("scipy"):
        raise
    _msg = "klkit.estimate needs SciPy; install it with: pip install 'klkit[estimate]'"
    raise ModuleNotFoundError(_msg, name=_missing.name) from None

__all__ = ["cKDTree", "si", "sp", "ss"]
