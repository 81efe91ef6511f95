from __future__ import annotations

import inspect

import klkit as kl

PUBLIC = {
    "Bernoulli",
    "Beta",
    "Binomial",
    "Dirichlet",
    "Gamma",
    "Geometric",
    "MultivariateNormal",
    "Poisson",
    "StudentT",
    "Breakdown",
    "DistributionError",
    "Exponential",
    "Family",
    "Laplace",
    "LogNormal",
    "Normal",
    "Uniform",
    "Labels",
    "LinearLogits",
    "LogProbs",
    "Logits",
    "__version__",
    "binary_cross_entropy",
    "cross_entropy",
    "entropy",
    "explain",
    "js_distance",
    "js_divergence",
    "kl_divergence",
}


def test_all_is_complete_and_sorted():
    assert set(kl.__all__) == PUBLIC
    assert list(kl.__all__) == sorted(kl.__all__)
    for name in kl.__all__:
        assert hasattr(kl, name)


def test_data_positional_options_keyword_only():
    for fn in (kl.entropy, kl.cross_entropy, kl.kl_divergence, kl.js_divergence, kl.js_distance):
        params = inspect.signature(fn).parameters
        data = [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        options = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY]
        assert data in (["p"], ["p", "q"])
        extra = {
            kl.js_distance: [],
            kl.cross_entropy: ["reduction", "where", "weight"],
        }.get(fn, ["reduction", "where"])
        assert options == ["base", "axis", "keepdims", "normalize", *extra, "validate"]
        assert params["axis"].default == -1
        assert params["base"].default is None
    bce = inspect.signature(kl.binary_cross_entropy).parameters
    assert [n for n, p in bce.items() if p.kind is p.KEYWORD_ONLY] == [
        "base",
        "weight",
        "pos_weight",
        "reduction",
        "where",
        "validate",
    ]
    ex = inspect.signature(kl.explain).parameters
    assert [n for n, p in ex.items() if p.kind is p.KEYWORD_ONLY] == [
        "base",
        "normalize",
        "outcomes",
        "lang",
    ]


def test_every_public_function_has_an_example():
    for name in kl.__all__:
        obj = getattr(kl, name)
        if (callable(obj) and not isinstance(obj, type)) or name in {
            "Labels",
            "LinearLogits",
            "Logits",
            "LogProbs",
        }:
            assert ">>>" in (obj.__doc__ or ""), name
