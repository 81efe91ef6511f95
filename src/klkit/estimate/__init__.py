"""Estimates with error bars: from samples, or for distributions without a closed form.

``klkit.estimate.kl_divergence(x, y)`` takes samples (shape ``(n,)`` or ``(n, d)``),
distribution objects (klkit families or frozen ``scipy.stats`` distributions), or one
of each, and returns an :class:`Estimate`: the value, a standard error and a
confidence interval, the method used and the sample sizes.

Methods (``method="auto"`` picks from the input and reports its choice):

``"exact"``
    Two distributions with a closed form (:mod:`klkit`'s families); standard error 0.
``"quad"``
    Two 1-D distributions without one: adaptive quadrature (``scipy.integrate.quad``)
    for densities, a sum over the support for discrete laws. ``stderr`` is the
    integrator's error bound and the interval is value +- that bound.
``"mc"``
    Monte Carlo: ``n`` draws from P (default 100 000; ``rng=`` for reproducibility),
    the CLT standard error, a normal interval.
``"knn"``
    Continuous samples: the k-nearest-neighbour estimators of Kozachenko and
    Leonenko (entropy) and Wang, Kulkarni and Verdu (2009, KL) on SciPy's
    ``cKDTree`` (all cores). Repeated values (rounded measurements) are first spread
    uniformly within their resolution (the estimate's ``note`` says so); a tie that
    remains is counted inside the ball, with the matching ``psi`` correction of Wang
    et al., so no log(0) is ever taken. Samples
    against a distribution: the kNN entropy of the samples plus the distribution's
    log-density (KL); a distribution against samples: ``n`` draws from the
    distribution (default: as many as there are samples), then the sample estimator.
``"plugin"``
    Discrete samples (integers, booleans or strings): frequencies from counts, with
    ``smoothing=`` pseudo-counts (None, 1 for Laplace, 0.5 for Jeffreys, or any
    number) and optional Miller-Madow bias correction (``miller_madow=True``).

Intervals for sample-based estimates come from the delete-a-group jackknife
(``groups`` random groups, each left out once, drawn with ``rng``): unlike the
bootstrap it never duplicates points, which would shrink nearest-neighbour
distances to zero. The interval uses Student's t with ``groups - 1`` degrees of
freedom; ``groups=None`` skips it (no standard error, no interval). Results are in
nats, or in the unit of ``base`` (a number > 1 or a unit name such as ``"bits"``;
units are named as :func:`klkit.explain` names them).

Every interval is cut to the range the measure can take: ``[0, inf)`` for the KL
divergence and for the entropy of a discrete law, ``[0, log 2]`` for the
Jensen-Shannon divergence (in the unit of ``base``); a differential entropy can be
negative and is not cut. The estimate itself is never moved: a kNN KL of two close
samples may come out slightly below 0, with an interval that starts at 0.

Summing a discrete law over its support starts at its 1e-17 quantile and stops at
``KLKIT_MAX_SUPPORT`` points (an environment variable, default 10 000 000): a larger
sum is a ValueError that names the limit; use ``method="mc"`` or raise the limit.

This module needs SciPy (``pip install klkit[estimate]``); ``import klkit`` does not.
"""

# Modules, from the bottom: _scipy (the one SciPy import), _result (Estimate), _inputs
# (samples and distributions, option checks), _knn, _plugin, _intervals (jackknife,
# interval options, units), _density (SciPy laws: densities, draws, closed forms),
# _quad (quadrature and sums over a support), _pairs (two distributions) and _public
# (the three estimators).

from klkit.estimate._public import entropy, js_divergence, kl_divergence
from klkit.estimate._result import Estimate

__all__ = ["Estimate", "entropy", "js_divergence", "kl_divergence"]
