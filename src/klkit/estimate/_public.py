"""The public estimators; :mod:`klkit.estimate` documents them and their methods."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from klkit.estimate._density import (
    closed_form,
    draw,
    log_density,
    mean_and_se,
    on_a_line,
    own_log_density,
)
from klkit.estimate._inputs import (
    MC_DRAWS,
    Dist,
    NDArray,
    Samples,
    as_generator,
    as_input,
    check_dims,
    check_distribution_method,
    check_k,
    check_method,
    check_n,
    check_sample_method,
    mixed_kinds,
)
from klkit.estimate._intervals import (
    JS_RANGE,
    NONNEGATIVE,
    REAL_LINE,
    done,
    interval_options,
    resampled,
)
from klkit.estimate._knn import dequantize, knn_entropy, knn_kl
from klkit.estimate._pairs import pair_js, pair_kl
from klkit.estimate._plugin import (
    check_smoothing,
    count_labels,
    delta_se,
    entropy_of,
    outcomes,
    plugin_probs,
    unseen_note,
    xlogx_ratio,
)
from klkit.estimate._quad import quad_or_sum
from klkit.estimate._result import Estimate

__all__ = ["Method", "entropy", "js_divergence", "kl_divergence"]

Method = Literal["auto", "exact", "quad", "mc", "knn", "plugin"]


def entropy(
    x: Any,
    *,
    base: float | str | None = None,
    method: Method = "auto",
    k: int = 1,
    smoothing: float | None = None,
    miller_madow: bool = False,
    groups: int | None = 20,
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Estimate the entropy H(P) of samples (or of a distribution).

    Continuous samples: Kozachenko-Leonenko, ``psi(n) - psi(k) + log V_d +
    (d/n) sum log eps_i`` with ``eps_i`` the distance to the k-th neighbour (a
    differential entropy: it can be negative). Discrete samples: plug-in
    ``-sum p log p`` of the frequencies, plus ``(K - 1)/(2n)`` with
    ``miller_madow=True`` (K outcomes seen). A distribution: its closed form.

    The interval of a discrete entropy is cut to ``[0, inf)``; a differential
    entropy's is not cut. ``groups=None`` gives no interval.

    Examples
    --------
    >>> import numpy as np, klkit.estimate as ke
    >>> x = np.random.default_rng(0).normal(size=5000)
    >>> est = ke.entropy(x, rng=0)  # true: log(2 pi e)/2 = 1.419 nats
    >>> est.method, abs(est.value - 1.419) < 3 * est.stderr
    ('knn', True)
    """
    check_method(method, ("auto", "exact", "quad", "mc", "knn", "plugin"))
    smoothing = check_smoothing(smoothing)
    gen = as_generator(rng)
    src = as_input(x, "p")
    how = interval_options(
        groups, gen, base, confidence, NONNEGATIVE if src.discrete else REAL_LINE
    )
    if isinstance(src, Dist):
        check_distribution_method(method)
        if method in ("auto", "exact"):
            exact = closed_form("entropy", src, None)
            if exact is not None:
                return done(how, exact, 0.0, method="exact", n=None)
        if method in ("auto", "quad") and on_a_line(src):

            def terms(x: NDArray) -> NDArray:
                lp = log_density(src, x)
                out: NDArray = np.zeros_like(lp)
                keep = lp > -np.inf
                out[keep] = -np.exp(lp[keep]) * lp[keep]
                return out

            value, err = quad_or_sum(terms, src)
            if method == "quad" or not math.isnan(value):
                return done(how, value, err, method="quad", n=None, bound=True)
        n = MC_DRAWS if n is None else check_n(n)
        logs = -own_log_density(src, draw(src, n, gen))
        return done(how, *mean_and_se(logs), method="mc", n=n)
    chosen = check_sample_method(method, src)
    if chosen == "knn":
        check_k(k, src.n)
        spread, note = dequantize([src.data], gen)
        return resampled(
            lambda d: knn_entropy(d[0], k),
            spread,
            method="knn",
            n=src.n,
            note=note,
            how=how,
            min_points=k + 1,
        )
    support = sorted(count_labels(src.data), key=repr)

    def plug(d: Sequence[NDArray]) -> float:
        counts = count_labels(d[0])
        h = entropy_of(plugin_probs(counts, support, smoothing))
        if miller_madow:
            h += (sum(1 for s in support if counts.get(s, 0) > 0) - 1) / (2 * len(d[0]))
        return h

    return resampled(plug, [src.data], method="plugin", n=src.n, how=how)


def kl_divergence(
    p: Any,
    q: Any,
    *,
    base: float | str | None = None,
    method: Method = "auto",
    k: int = 1,
    smoothing: float | None = None,
    miller_madow: bool = False,
    groups: int | None = 20,
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Estimate D(P || Q) from samples of P and Q, distributions, or one of each.

    Continuous samples: Wang-Kulkarni-Verdu, ``(d/n) sum log(nu_i / rho_i) +
    log(m / (n - 1))`` with ``rho_i`` the k-th neighbour distance of ``x_i`` among
    the other x and ``nu_i`` among the y. Discrete samples: the plug-in
    ``sum p log(p/q)`` of the frequencies over every outcome seen; with
    ``miller_madow=True`` minus the first-order bias ``(K - 1)/(2n) +
    (sum p/q - 1)/(2m)``. Samples x against a distribution Q: ``-H_kNN(x) - mean
    log q(x)`` (or the plug-in against Q's pmf). A distribution P against samples:
    ``n`` draws from P (default: as many as there are samples). Two distributions:
    closed form, then quadrature (1-D), then Monte Carlo with ``n`` draws (default
    100 000).

    The interval is cut to ``[0, inf)``, where a KL divergence lies; the estimate
    itself is not moved (a kNN estimate of two close samples may be slightly below
    0). ``groups=None`` gives no interval.

    Examples
    --------
    >>> import numpy as np, klkit as kl, klkit.estimate as ke
    >>> g = np.random.default_rng(1)
    >>> est = ke.kl_divergence(g.normal(0, 1, 4000), g.normal(1, 1, 4000), rng=0)
    >>> est.method, abs(est.value - 0.5) < 0.1  # N(0,1) vs N(1,1): 0.5 nats
    ('knn', True)
    >>> print(ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0)))
    0.5 nats ± 0 (95% CI 0.5–0.5, exact)
    """
    check_method(method, ("auto", "exact", "quad", "mc", "knn", "plugin"))
    smoothing = check_smoothing(smoothing)
    gen = as_generator(rng)
    a, b = as_input(p, "p"), as_input(q, "q")
    how = interval_options(groups, gen, base, confidence, NONNEGATIVE)
    if isinstance(a, Dist) and isinstance(b, Dist):
        value, se, used, size = pair_kl(a, b, method, MC_DRAWS if n is None else check_n(n), gen)
        return done(how, value, se, method=used, n=size, bound=used == "quad")
    if isinstance(a, Dist):
        assert isinstance(b, Samples)
        a = Samples(draw(a, b.n if n is None else check_n(n), gen), a.discrete)
    if a.discrete != b.discrete:
        raise mixed_kinds(a, b)
    assert isinstance(a, Samples)
    chosen = check_sample_method(method, a)
    if isinstance(b, Dist):
        dist = b
        if chosen == "knn":
            check_k(k, a.n)
            if a.data.shape[1] != dist.dim:
                msg = f"`p` samples have {a.data.shape[1]} dimension(s) and `q` has {dist.dim}."
                raise ValueError(msg)

            def stat(d: Sequence[NDArray]) -> float:
                return -knn_entropy(d[0], k) - float(np.mean(log_density(dist, d[0])))

            data, note = dequantize([a.data], gen)
            return resampled(stat, data, method="knn", n=a.n, note=note, how=how, min_points=k + 1)
        support = outcomes(a.data)
        q_at = np.exp(log_density(dist, np.asarray(support, dtype=np.float64)))

        def plug(d: Sequence[NDArray]) -> float:
            freq = plugin_probs(count_labels(d[0]), support, smoothing)
            value = xlogx_ratio(freq, q_at)
            if miller_madow:
                value -= (int(np.sum(freq > 0)) - 1) / (2 * len(d[0]))
            return value

        full = plugin_probs(count_labels(a.data), support, smoothing)
        return resampled(
            plug,
            [a.data],
            method="plugin",
            n=a.n,
            note=unseen_note(support, full, q_at, "distribution"),
            fallback=lambda: delta_se(full, q_at, a.n, None),
            how=how,
        )
    if chosen == "knn":
        check_dims(a.data, b.data)
        check_k(k, min(a.n, b.n + 1))
        data, note = dequantize([a.data, b.data], gen)
        return resampled(
            lambda d: knn_kl(d[0], d[1], k),
            data,
            method="knn",
            n=(a.n, b.n),
            note=note,
            how=how,
            min_points=k + 1,
        )
    support = outcomes(a.data, b.data)

    def plugin(d: Sequence[NDArray]) -> float:
        fp, fq = (plugin_probs(count_labels(part), support, smoothing) for part in d)
        value = xlogx_ratio(fp, fq)
        if miller_madow and math.isfinite(value):
            seen = fp > 0
            value -= (int(np.sum(seen)) - 1) / (2 * len(d[0]))
            value -= (float(np.sum(fp[seen] / fq[seen])) - 1) / (2 * len(d[1]))
        return value

    fp, fq = (plugin_probs(count_labels(s.data), support, smoothing) for s in (a, b))
    return resampled(
        plugin,
        [a.data, b.data],
        method="plugin",
        n=(a.n, b.n),
        note=unseen_note(support, fp, fq, "samples"),
        fallback=lambda: delta_se(fp, fq, a.n, b.n),
        how=how,
    )


def js_divergence(
    p: Any,
    q: Any,
    *,
    base: float | str | None = None,
    method: Method = "auto",
    k: int = 1,
    smoothing: float | None = None,
    groups: int | None = 20,
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Estimate:
    """Estimate the Jensen-Shannon divergence ``H(M) - (H(P) + H(Q))/2``, ``M = (P + Q)/2``.

    Continuous samples: kNN entropies of each sample and of the pooled sample (the
    larger sample is subsampled, with ``rng``, so the pool is an equal mixture).
    Discrete samples: the plug-in JS of the frequencies. Distributions: exact
    (Bernoulli), quadrature (1-D) or Monte Carlo; a distribution against samples is
    replaced by as many draws from it. At most ``log 2`` nats (1 bit): the interval
    is cut to ``[0, log 2]`` in the unit of ``base`` (the estimate itself is not
    moved); a failed integral falls back to Monte Carlo.

    Examples
    --------
    >>> import klkit as kl, klkit.estimate as ke
    >>> est = ke.js_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0))
    >>> est.method, round(est.value, 4)
    ('quad', 0.1114)
    """
    check_method(method, ("auto", "exact", "quad", "mc", "knn", "plugin"))
    smoothing = check_smoothing(smoothing)
    gen = as_generator(rng)
    a, b = as_input(p, "p"), as_input(q, "q")
    how = interval_options(groups, gen, base, confidence, JS_RANGE)
    if isinstance(a, Dist) and isinstance(b, Dist):
        value, se, used, size = pair_js(a, b, method, MC_DRAWS if n is None else check_n(n), gen)
        return done(how, value, se, method=used, n=size, bound=used == "quad")
    if isinstance(a, Dist):
        assert isinstance(b, Samples)
        a = Samples(draw(a, b.n if n is None else check_n(n), gen), a.discrete)
    if isinstance(b, Dist):
        b = Samples(draw(b, a.n if n is None else check_n(n), gen), b.discrete)
    if a.discrete != b.discrete:
        raise mixed_kinds(a, b)
    chosen = check_sample_method(method, a)
    if chosen == "knn":
        check_dims(a.data, b.data)
        check_k(k, min(a.n, b.n))
        (x, y), note = dequantize([a.data[gen.permutation(a.n)], b.data[gen.permutation(b.n)]], gen)

        def stat(d: Sequence[NDArray]) -> float:
            s = min(len(d[0]), len(d[1]))
            pool = np.concatenate([d[0][:s], d[1][:s]])
            return knn_entropy(pool, k) - (knn_entropy(d[0], k) + knn_entropy(d[1], k)) / 2

        return resampled(
            stat, [x, y], method="knn", n=(a.n, b.n), note=note, how=how, min_points=k + 1
        )
    support = outcomes(a.data, b.data)

    def plugin(d: Sequence[NDArray]) -> float:
        fp, fq = (plugin_probs(count_labels(part), support, smoothing) for part in d)
        mix = (fp + fq) / 2
        return entropy_of(mix) - (entropy_of(fp) + entropy_of(fq)) / 2

    return resampled(plugin, [a.data, b.data], method="plugin", n=(a.n, b.n), how=how)
