"""References shared by tests/estimate: closed forms and mpmath quadrature.

Known answers: the entropy of N(0, 1); a fair and a loaded die (KL 0.2425859731 nats).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np

H_STD_NORMAL = 0.5 * math.log(2 * math.pi * math.e)
FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])


def mp_kl(logp, logq, lo, hi):
    with mp.workdps(25):
        return float(mp.quad(lambda x: mp.exp(logp(x)) * (logp(x) - logq(x)), [lo, 0, hi]))
