"""klkit.estimate: known answers, bias, interval coverage, reproducibility, errors.

References are closed forms (N(0,1) vs N(1,1): 0.5 nats; Gaussian entropies; KL of
5-D Gaussians; the die of the post), mpmath quadrature and direct sums with SciPy.
"""

from __future__ import annotations

import math
import re

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss

import klkit as kl
import klkit.estimate as ke

H_STD_NORMAL = 0.5 * math.log(2 * math.pi * math.e)
FAIR = np.full(6, 1 / 6)
LOADED = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])


def _mp_kl(logp, logq, lo, hi):
    with mp.workdps(25):
        return float(mp.quad(lambda x: mp.exp(logp(x)) * (logp(x) - logq(x)), [lo, 0, hi]))


def test_knn_kl_of_two_normals_is_one_half():
    g = np.random.default_rng(1)
    est = ke.kl_divergence(g.normal(0, 1, 8000), g.normal(1, 1, 8000), rng=0)
    assert est.method == "knn"
    assert est.n == (8000, 8000)
    assert abs(est.value - 0.5) < 4 * est.stderr
    assert est.ci_low < 0.5 < est.ci_high


def test_knn_kl_of_5d_gaussians_matches_the_closed_form():
    g = np.random.default_rng(2)
    d = 5
    mu, cov = np.full(d, 0.4), np.diag(np.linspace(0.6, 1.8, d))
    truth = float(
        kl.kl_divergence(
            kl.MultivariateNormal(np.zeros(d), covariance_matrix=np.eye(d)),
            kl.MultivariateNormal(mu, covariance_matrix=cov),
        )
    )
    x = g.multivariate_normal(np.zeros(d), np.eye(d), 6000)
    y = g.multivariate_normal(mu, cov, 6000)
    est = ke.kl_divergence(x, y, rng=0)
    assert abs(est.value - truth) < 4 * est.stderr, (est, truth)


def test_kozachenko_leonenko_entropy_and_bias_shrinking_with_n():
    g = np.random.default_rng(3)
    errors = {}
    for n in (60, 3000):
        values = [ke.entropy(g.normal(0, 1, n), groups=None).value for _ in range(30)]
        errors[n] = abs(float(np.mean(values)) - H_STD_NORMAL)
    assert errors[3000] < errors[60] / 2, errors
    assert errors[3000] < 0.02


def test_fair_and_loaded_die_from_ten_thousand_rolls():
    g = np.random.default_rng(4)
    fair = g.choice(np.arange(1, 7), 10_000, p=FAIR)
    loaded = g.choice(np.arange(1, 7), 10_000, p=LOADED)
    truth = float(np.sum(FAIR * np.log(FAIR / LOADED)))
    est = ke.kl_divergence(fair, loaded, rng=0)
    assert est.method == "plugin"
    assert est.ci_low < truth < est.ci_high
    h = ke.entropy(fair, rng=0)
    assert h.ci_low < math.log(6) < h.ci_high + 1e-3  # plug-in entropy is biased low


@pytest.mark.slow
def test_confidence_intervals_cover_the_truth_over_repeated_draws():
    g = np.random.default_rng(5)
    reps, n = 200, 200
    hit = {"knn kl": 0, "knn entropy": 0, "plugin kl": 0, "mc": 0}
    for r in range(reps):
        x, y = g.normal(0, 1, n), g.normal(1, 1, n)
        e = ke.kl_divergence(x, y, rng=r)
        hit["knn kl"] += e.ci_low <= 0.5 <= e.ci_high
        h = ke.entropy(x, rng=r)
        hit["knn entropy"] += h.ci_low <= H_STD_NORMAL <= h.ci_high
        a, b = g.choice(6, n, p=FAIR), g.choice(6, n, p=LOADED)
        p = ke.kl_divergence(a, b, rng=r)
        hit["plugin kl"] += p.ci_low <= 0.2425859731 <= p.ci_high
        m = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", n=500, rng=r)
        hit["mc"] += m.ci_low <= _NORMAL_LAPLACE <= m.ci_high
    coverage = {k: v / reps for k, v in hit.items()}
    assert all(c >= 0.9 for c in coverage.values()), coverage


_NORMAL_LAPLACE = _mp_kl(
    lambda x: -x * x / 2 - mp.log(mp.sqrt(2 * mp.pi)),
    lambda x: -abs(x) - mp.log(2),
    -mp.inf,
    mp.inf,
)


def test_the_same_seed_gives_the_same_estimate():
    g = np.random.default_rng(6)
    x, y = g.normal(0, 1, 500), g.normal(0.5, 1, 500)
    assert ke.kl_divergence(x, y, rng=7) == ke.kl_divergence(x, y, rng=7)
    a = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", rng=3, n=1000)
    b = ke.kl_divergence(
        kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", rng=np.random.default_rng(3), n=1000
    )
    assert a == b
    c = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Laplace(0.0, 1.0), method="mc", rng=4, n=1000)
    assert c.value != a.value


def test_duplicates_are_handled_not_log_zero():
    g = np.random.default_rng(8)
    x = np.round(g.normal(0, 1, 4000), 1)  # every value repeated many times
    y = np.round(g.normal(1, 1, 4000), 1)
    est = ke.kl_divergence(x, y, rng=0)
    assert math.isfinite(est.value)
    assert abs(est.value - 0.5) < 0.15
    assert math.isfinite(ke.entropy(x, rng=0).value)
    # two values, three copies each: the 3rd neighbour is the first at a positive distance
    assert math.isfinite(ke.entropy(np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0]), groups=None).value)
    with pytest.raises(ValueError, match=r"look discrete.*method='plugin'"):
        ke.entropy(np.ones(6))


def test_unseen_outcome_is_infinite_with_a_note_and_smoothing_fixes_it():
    x, y = np.array(["a", "a", "b", "c"]), np.array(["b", "b", "c", "c"])
    est = ke.kl_divergence(x, y)
    assert est.value == math.inf
    assert "outcome 'a' appears in p's samples but never in q's" in str(est)
    assert "smoothing=" in str(est)
    smooth = ke.kl_divergence(x, y, smoothing=1)
    # Laplace: (3, 2, 2) / 7 against (1, 3, 3) / 7
    fp, fq = np.array([3, 2, 2]) / 7, np.array([1, 3, 3]) / 7
    assert smooth.value == pytest.approx(float(np.sum(fp * np.log(fp / fq))), rel=1e-12)


def test_miller_madow_reduces_the_entropy_bias():
    g = np.random.default_rng(9)
    plain, corrected = [], []
    for _ in range(300):
        s = g.integers(0, 6, 30)
        plain.append(ke.entropy(s, groups=None).value)
        corrected.append(ke.entropy(s, groups=None, miller_madow=True).value)
    assert abs(np.mean(corrected) - math.log(6)) < abs(np.mean(plain) - math.log(6)) / 3


def test_distribution_pairs_exact_quad_and_monte_carlo():
    exact = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0))
    assert (exact.method, exact.value, exact.stderr) == ("exact", 0.5, 0.0)
    assert str(exact) == "0.5 nats ± 0 (95% CI 0.5–0.5, exact)"  # noqa: RUF001
    ref = _mp_kl(
        lambda x: -x * x / 2 - mp.log(mp.sqrt(2 * mp.pi)),
        lambda x: (
            mp.log(mp.gamma(2) / (mp.sqrt(3 * mp.pi) * mp.gamma(1.5))) - 2 * mp.log(1 + x * x / 3)
        ),
        -mp.inf,
        mp.inf,
    )
    quad = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.StudentT(3.0))
    assert quad.method == "quad"
    assert quad.value == pytest.approx(ref, rel=1e-9)
    assert quad.ci_low <= ref <= quad.ci_high or abs(quad.value - ref) < 1e-12
    mc = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.StudentT(3.0), method="mc", n=50_000, rng=0)
    assert abs(mc.value - ref) < 4 * mc.stderr
    assert mc.n == 50_000


def test_discrete_pairs_without_a_closed_form_are_summed():
    k = np.arange(0, 200)
    p, q = ss.poisson(3.0).pmf(k), ss.geom(0.3, loc=-1).pmf(k)
    ref = float(np.sum(p * np.log(p / q)))
    est = ke.kl_divergence(kl.Poisson(3.0), kl.Geometric(0.3))
    assert est.method == "quad"
    assert est.value == pytest.approx(ref, rel=1e-12)
    assert ke.kl_divergence(kl.Poisson(3.0), ss.geom(0.3)).value == math.inf  # mass at 0


def test_js_of_distributions_and_of_samples():
    with mp.workdps(25):
        p = lambda x: mp.npdf(x, 0, 1)  # noqa: E731
        q = lambda x: mp.npdf(x, 1, 1)  # noqa: E731
        ref = float(
            mp.quad(
                lambda x: (
                    (
                        p(x) * mp.log(2 * p(x) / (p(x) + q(x)))
                        + q(x) * mp.log(2 * q(x) / (p(x) + q(x)))
                    )
                    / 2
                ),
                [-mp.inf, 0.5, mp.inf],
            )
        )
    est = ke.js_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0), base=2)
    assert est.unit == "bits"
    assert est.value == pytest.approx(ref / math.log(2), rel=1e-9)
    g = np.random.default_rng(10)
    s = ke.js_divergence(g.normal(0, 1, 4000), g.normal(1, 1, 3000), rng=0)
    assert s.method == "knn"
    assert abs(s.value - ref) < 4 * s.stderr
    d = ke.js_divergence(g.choice(6, 5000, p=FAIR), g.choice(6, 5000, p=LOADED), rng=0)
    assert d.ci_low < float(kl.js_divergence(FAIR, LOADED)) < d.ci_high


def test_samples_against_a_distribution_either_way():
    g = np.random.default_rng(11)
    x = g.normal(0, 1, 6000)
    est = ke.kl_divergence(x, kl.Normal(1.0, 1.0), rng=0)
    assert est.method == "knn"
    assert abs(est.value - 0.5) < 4 * est.stderr
    back = ke.kl_divergence(ss.norm(0, 1), g.normal(1, 1, 6000), rng=0)
    assert abs(back.value - 0.5) < 4 * back.stderr
    die = ke.kl_divergence(g.choice(np.arange(6), 10_000, p=FAIR), kl.Binomial(5, 0.5), rng=0)
    binom = ss.binom(5, 0.5).pmf(np.arange(6))
    assert die.ci_low < float(np.sum(FAIR * np.log(FAIR / binom))) < die.ci_high


def test_estimate_reads_well_and_converts_to_float():
    g = np.random.default_rng(12)
    est = ke.kl_divergence(g.normal(0, 1, 1000), g.normal(1, 1, 1000), rng=0)
    number = r"-?[\d.e+-]+"
    pattern = rf"^{number} nats ± {number} \(95% CI {number}\u2013{number}, kNN, n=1000/1000\)$"
    assert re.match(pattern, str(est)), str(est)
    assert float(est) == est.value
    bits = ke.kl_divergence(g.normal(0, 1, 1000), g.normal(1, 1, 1000), rng=0, base=2)
    assert bits.unit == "bits"
    assert "bits" in str(bits)


def test_torch_samples_are_accepted():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(2000, generator=g), torch.randn(2000, generator=g) + 1
    est = ke.kl_divergence(x, y, rng=0)
    ref = ke.kl_divergence(x.numpy(), y.numpy(), rng=0)
    assert est == ref


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: ke.kl_divergence(kl.Normal(np.zeros(3), 1.0), kl.Normal(0.0, 2.0), method="mc"),
            ValueError,
            r"single distributions; `Normal` parameter `loc` has shape \(3,\)",
        ),
        (lambda: ke.entropy(np.ones(5), method="fast"), ValueError, r"`method` must be one of"),
        (lambda: ke.entropy(np.arange(5.0), k=5), ValueError, r"`k` must be .* 1 to n - 1 = 4"),
        (
            lambda: ke.entropy(np.array([0.0, 1.0, np.nan, 2.0])),
            ValueError,
            r"`p` has nan in row 2; samples must be finite",
        ),
        (
            lambda: ke.kl_divergence(np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5])),
            ValueError,
            r"`p` is discrete and `q` is continuous",
        ),
        (
            lambda: ke.kl_divergence(np.zeros((10, 2)), np.zeros((10, 3))),
            ValueError,
            r"`p` samples have 2 dimension\(s\) and `q` samples 3",
        ),
        (
            lambda: ke.entropy(np.arange(5.0), method="plugin"),
            ValueError,
            r"method='plugin' does not apply to continuous \(floats\) samples",
        ),
        (lambda: ke.entropy(np.ones(1)), ValueError, r"n >= 2"),
    ],
)
def test_bad_input_is_a_precise_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_klkit_estimate_is_reachable_from_klkit():
    assert kl.estimate is ke


def test_readme_distribution_examples_run_and_print_what_they_say(capsys):
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("## Distributions and samples") : readme.index("## Command line")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    promised = re.findall(r"^print\(.*\)  # (.*)$", section, flags=re.MULTILINE)
    assert printed == promised


def test_n_sets_the_draws_from_a_distribution_against_samples():
    g = np.random.default_rng(13)
    y = g.normal(1, 1, 3000)
    assert ke.kl_divergence(kl.Normal(0.0, 1.0), y, rng=0).n == (3000, 3000)
    assert ke.kl_divergence(kl.Normal(0.0, 1.0), y, n=5000, rng=0).n == (5000, 3000)
    with pytest.raises(ValueError, match=r"`n` \(draws\) must be a whole number >= 2; got 1"):
        ke.kl_divergence(kl.Normal(0.0, 1.0), y, n=1)


# --- found in review: each of these was wrong before ------------------------------------


def test_quadrature_finds_mass_far_from_zero():
    with mp.workdps(25):
        ref = float(
            mp.quad(
                lambda x: (
                    mp.npdf(x, 50, 1)
                    * (
                        mp.log(mp.npdf(x, 50, 1))
                        - mp.log(mp.gamma(2) / (mp.sqrt(3 * mp.pi) * mp.gamma(1.5)))
                        + 2 * mp.log(1 + x * x / 3)
                    )
                ),
                [30, 45, 50, 55, 70],
            )
        )
    est = ke.kl_divergence(kl.Normal(50.0, 1.0), kl.StudentT(3.0))
    assert est.value == pytest.approx(ref, rel=1e-9)
    js = ke.js_divergence(kl.Normal(50.0, 1.0), kl.Normal(0.0, 1.0))
    assert js.value == pytest.approx(math.log(2), rel=1e-12)


def test_rounded_measurements_estimate_the_underlying_density():
    g = np.random.default_rng(14)
    for decimals in (2, 1):
        x = np.round(g.normal(0, 1, 5000), decimals)
        est = ke.entropy(x, rng=0)
        assert abs(est.value - H_STD_NORMAL) < 4 * est.stderr, (decimals, est)
        assert "resolution" in est.note
    a, b = np.round(g.normal(0, 1, 5000), 1), np.round(g.normal(1, 1, 5000), 1)
    est = ke.kl_divergence(a, b, rng=0)
    assert abs(est.value - 0.5) < 4 * est.stderr


def test_plugin_interval_survives_rare_outcomes():
    g = np.random.default_rng(0)
    x, y = g.poisson(3, 2000), g.poisson(3, 2000)
    est = ke.kl_divergence(x, y, rng=0)
    assert math.isfinite(est.stderr)
    assert est.ci_low <= 0.0 <= est.ci_high  # same law: KL 0
    against = ke.kl_divergence(kl.Poisson(3.0), g.poisson(3, 2000), rng=0)
    assert math.isfinite(against.stderr)


def test_dirichlet_densities_are_read_the_right_way_round():
    p, q = kl.Dirichlet(np.array([1.0, 2.0, 3.0])), kl.Dirichlet(np.array([2.0, 2.0, 2.0]))
    truth = float(kl.kl_divergence(p, q))
    mc = ke.kl_divergence(p, q, method="mc", n=20_000, rng=0)
    assert abs(mc.value - truth) < 4 * mc.stderr
    draws = np.random.default_rng(1).dirichlet([1.0, 2.0, 3.0], 3000)
    assert math.isfinite(ke.kl_divergence(draws, q, rng=0).value)


def test_explicit_methods_are_honoured_or_refused():
    quad = ke.entropy(kl.Normal(0.0, 1.0), method="quad")
    assert quad.method == "quad"
    assert quad.value == pytest.approx(H_STD_NORMAL, rel=1e-12)
    with pytest.raises(ValueError, match=r"method='knn' estimates from samples"):
        ke.kl_divergence(kl.Normal(0.0, 1.0), kl.StudentT(3.0), method="knn")
    with pytest.raises(ValueError, match=r"method='mc' does not apply to continuous"):
        ke.kl_divergence(np.arange(5.0), kl.Normal(0.0, 1.0), method="mc")


def test_any_scipy_distribution_is_estimated_with_its_loc_and_scale():
    exact = ke.kl_divergence(ss.expon(loc=1.0), ss.expon())
    assert exact.method == "exact"
    assert exact.value == pytest.approx(1.0, rel=1e-14)  # log p/q = 1 on x >= 1
    shifted = ke.kl_divergence(ss.expon(loc=1.0), ss.gamma(2.0, loc=0.5))  # no closed form
    assert shifted.method == "quad"
    # by hand: log(p/q) = -(x - 1) + (x - 0.5) - log(x - 0.5) on x >= 1, so
    # KL = 0.5 - E[log(E + 0.5)] for E ~ Exp(1), which is log 0.5 + e^0.5 E1(0.5)
    assert shifted.value == pytest.approx(
        0.5 - (math.log(0.5) + math.exp(0.5) * float(mp.e1(0.5))), rel=1e-9
    )
    cauchy = ke.kl_divergence(ss.cauchy(), ss.norm())  # E[x^2] diverges: KL is +inf
    assert math.isinf(cauchy.stderr)
    assert "did not converge" in cauchy.note


def test_samples_against_a_distribution_name_an_impossible_outcome():
    est = ke.kl_divergence(np.array([0, 1, 2, 1, 0]), kl.Bernoulli(0.5))
    assert est.value == math.inf
    assert "outcome 2 appears in p's samples but has probability 0 under q" in str(est)


def test_samples_that_need_a_gradient_are_read():
    torch = pytest.importorskip("torch")
    x = torch.randn(500, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert ke.entropy(x, rng=0) == ke.entropy(x.detach().numpy(), rng=0)


@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        (ss.norm([0.0, 1.0], 1.0), ss.norm(), r"`p` is a batch of shape \(2,\)"),
        (ss.norm(), ss.cauchy([0.0, 1.0]), r"`q` is a batch of shape \(2,\)"),
        (ss.dirichlet([1.0, 2.0]), ss.dirichlet([1.0, 1.0, 1.0]), "2 outcomes and `q` has 3"),
        (ss.multivariate_normal([0.0, 0.0]), ss.norm(), "2 dimension\\(s\\) and `q` has 1"),
    ],
)
def test_batches_and_mismatched_spaces_are_refused_not_sampled(p, q, message):
    with pytest.raises(ValueError, match=message):
        ke.kl_divergence(p, q)


def test_a_dirichlet_is_only_compared_with_a_dirichlet_and_1d_mvn_is_sampled():
    with pytest.raises(ValueError, match="`p` is a Dirichlet, a law on the probability simplex"):
        ke.kl_divergence(ss.dirichlet([1.0, 2.0]), ss.multivariate_normal([0.0, 0.0]))
    est = ke.kl_divergence(ss.norm(), ss.multivariate_normal([0.0], [[2.0]]), rng=0)
    truth = 0.5 * (0.5 - 1 + math.log(2))  # N(0, 1) against N(0, 2)
    assert est.method == "mc"
    assert est.ci_low < truth < est.ci_high


# --- the trust issue: groups, ranges, units, limits, a missing SciPy ------------------------


def test_groups_none_skips_the_interval_and_small_groups_are_refused():
    x = np.random.default_rng(0).normal(size=200)
    est = ke.entropy(x, groups=None, rng=0)
    assert math.isnan(est.stderr)
    assert "no interval" in str(est)
    assert "nan" not in str(est)
    for groups in (0, 1, 2.5, True):
        with pytest.raises(ValueError, match=r"`groups` must be a whole number >= 2"):
            ke.entropy(x, groups=groups)
    with pytest.raises(ValueError, match=r"`confidence` must be a number between 0 and 1"):
        ke.entropy(x, confidence=95)


def test_kl_intervals_never_go_below_zero():
    # Two samples of one law: the kNN KL is 0 give or take noise, its interval at n = 40
    # is about +-0.8, so without the cut it would start below 0 (KL is never negative).
    for seed in range(3):
        g = np.random.default_rng(seed)
        est = ke.kl_divergence(g.normal(size=40), g.normal(size=40), rng=0)
        assert est.value - 2 * est.stderr < 0  # the uncut interval leaves [0, inf)
        assert 0 <= est.ci_low <= est.ci_high


def test_js_intervals_stay_below_log_2_and_discrete_entropy_above_0():
    x, y = np.array(["a"] * 39 + ["b"]), np.array(["b"] * 40)
    est = ke.js_divergence(x, y, rng=0)
    assert est.value + 2 * est.stderr > math.log(2)  # the uncut interval would pass log 2
    assert est.ci_high <= math.log(2)
    bits = ke.js_divergence(x, y, rng=0, base=2)
    assert bits.ci_high <= 1.0
    h = ke.entropy(np.array(["a"] * 39 + ["b"]), rng=0)
    assert h.value - 2 * h.stderr < 0
    assert h.ci_low >= 0


def test_units_are_named_as_explain_names_them():
    for base, unit in ((10, "bans"), (math.e, "nats"), (3, "log-base-3 units"), ("bits", "bits")):
        est = ke.kl_divergence(kl.Normal(0.0, 1.0), kl.Normal(1.0, 1.0), base=base)
        assert est.unit == unit == kl.explain([0.5, 0.5], [0.5, 0.5], base=base).unit
    with pytest.raises(ValueError, match=r"`base` must be a finite number > 1"):
        ke.entropy(np.arange(10.0), base=0.5)


def test_a_huge_discrete_support_is_summed_from_its_mass_or_refused(monkeypatch):
    # binom(1e10, 1/2) has no mass below 4.9e9: the sum starts at its 1e-17 quantile
    # (summing from 0 gave up after 1e8 points with 0 and no bound). Reference:
    # H = log(2 pi e n p q) / 2 + O(1/n); SciPy's own pmf is good to ~2e-5 at this n.
    est = ke.entropy(ss.binom(10**10, 0.5), method="quad")
    assert est.value == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 2.5e9), rel=1e-4)
    assert math.isfinite(est.stderr)
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "1000")
    with pytest.raises(ValueError, match=r"more than 1,000 points, the limit \(KLKIT_MAX"):
        ke.entropy(ss.poisson(1e6), method="quad")
    monkeypatch.setenv("KLKIT_MAX_SUPPORT", "many")
    with pytest.raises(ValueError, match="KLKIT_MAX_SUPPORT is 'many', not a limit"):
        ke.entropy(ss.poisson(4.0), method="quad")


def test_a_js_integral_that_fails_falls_back_to_monte_carlo():
    # N(0, 1e-320) is narrower than any grid: it and N(0, 1) are disjoint in effect,
    # so JS = log 2 (each half-KL against the mixture is log 2).
    est = ke.js_divergence(ss.norm(0, 1e-320), ss.norm(0, 1), rng=0)
    assert est.method == "mc"
    assert est.value == pytest.approx(math.log(2), rel=1e-12)
    # KL(N(0, s) || t(3)) with s = 1e-305: P is a spike at 0, so KL = -H(P) - log q(0)
    # to O(s^2), H(P) = log(2 pi e)/2 + log s. Quadrature cannot sum a density of 4e304;
    # Monte Carlo takes over.
    s = 1e-305
    est = ke.kl_divergence(ss.norm(0, s), ss.t(3), rng=0)
    truth = -(0.5 * math.log(2 * math.pi * math.e) + math.log(s)) - float(ss.t(3).logpdf(0))
    assert est.method == "mc"
    assert abs(est.value - truth) < 4 * est.stderr + 1e-9 * truth


def test_missing_scipy_is_one_line_naming_the_extra():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['scipy'] = None\n"
        "try:\n"
        "    import klkit.estimate\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "klkit.estimate needs SciPy; install it with: pip install 'klkit[estimate]'"
    )


# --- found by tests/test_cli_fuzz.py ---------------------------------------------------------


def test_two_points_give_an_estimate_without_an_interval():
    # each jackknife replicate would keep 1 point, too few for a nearest neighbour
    est = ke.entropy(np.array([0.0, 1.5]), rng=0)
    assert est.method == "knn"
    assert math.isnan(est.stderr)
    assert "no interval" in str(est)
    # kNN with k = 1 on two points: psi(2) - psi(1) + log 2 + log 1.5 (d = 1, V_1 = 2)
    assert est.value == pytest.approx(1.0 + math.log(2) + math.log(1.5), rel=1e-12)


@pytest.mark.parametrize("smoothing", [math.inf, math.nan, -1.0, "1"])
def test_smoothing_must_be_a_finite_pseudo_count(smoothing):
    with pytest.raises(ValueError, match=r"`smoothing` must be a finite pseudo-count >= 0"):
        ke.entropy(np.array([1, 2, 2, 3]), smoothing=smoothing)


def test_samples_whose_squared_distances_overflow_are_refused():
    with pytest.raises(ValueError, match=r"`p` has values up to 1e\+308 in size; .* Rescale"):
        ke.entropy(np.array([0.5, 1e308, 2.5]))


def test_a_law_float64_cannot_hold_is_refused_not_estimated():
    # gamma(825.7, loc=1e308): every draw rounds to 1e308, where P's density is 0
    with pytest.raises(ValueError, match=r"draws from scipy\.stats\.gamma have a zero"):
        ke.kl_divergence(ss.gamma(825.7, 1e308), ss.gamma(1.5), rng=0)


def test_a_spike_below_float64_resolution_is_sampled_not_missed():
    # lognorm(1e-150) is a point mass at 1 (its quantiles all round to 1.0), where
    # lognorm(2) has density 0.2: disjoint in effect, so JS = log 2 (quadrature over the
    # collapsed quantiles found ~0 before)
    est = ke.js_divergence(ss.lognorm(1e-150), ss.lognorm(2.0), rng=0)
    assert est.method == "mc"
    assert est.value == pytest.approx(math.log(2), rel=1e-12)


def test_a_kl_beyond_float64_is_inf_without_nan_or_warning():
    # (mu_p - mu_q)^2 / (2 s_q^2) = (1e308)^2 / 1800 overflows: KL = +inf
    est = ke.kl_divergence(ss.norm(-887.58), ss.norm(1e308, 30.0), method="quad")
    assert est.value == math.inf


def test_monte_carlo_terms_near_float64_max_do_not_overflow_their_mean():
    # KL(expon(loc=a) || expon(loc=b, scale=s)) = log s - 1 + (a + 1 - b) / s, by hand
    a, b, s = 1e308, 1e-320, 457.7258985715919
    est = ke.kl_divergence(ss.expon(a), ss.expon(b, s), method="mc", rng=0)
    assert est.value == pytest.approx(math.log(s) - 1 + (a + 1 - b) / s, rel=1e-12)


def test_a_binomial_with_a_float_count_is_drawn_or_refused_in_words():
    est = ke.entropy(ss.binom(10**6, 0.5), method="mc", rng=0)  # SciPy's own n: int
    # H = log(2 pi e n p q) / 2 + O(1/n), the normal approximation
    assert abs(est.value - 0.5 * math.log(2 * math.pi * math.e * 2.5e5)) < 4 * est.stderr
    with pytest.raises(ValueError, match=r"cannot draw from Binomial \(Cannot cast"):
        ke.entropy(ss.binom(1e6, 0.5), method="mc", rng=0)  # NumPy refuses a float count


def test_quantiles_scipy_gives_up_on_still_split_the_integral():
    # beta(0.5, 2).ppf(1e-12) warns that its root finding gave up; the split is fine.
    # H(Beta(a, b)) = log B(a, b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)
    a, b = 0.5, 2.0
    truth = (
        math.log(sp.beta(a, b))
        - (a - 1) * sp.digamma(a)
        - (b - 1) * sp.digamma(b)
        + (a + b - 2) * sp.digamma(a + b)
    )
    est = ke.entropy(ss.beta(a, b), method="quad")
    assert est.value == pytest.approx(truth, rel=1e-7)
