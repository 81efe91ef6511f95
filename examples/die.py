"""The founding post's example: a fair die against a loaded die.

Run: python examples/die.py
"""

import numpy as np

import klkit as kl

fair = np.full(6, 1 / 6)
loaded = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])

print("The world follows the fair die (P); we predict with the loaded die (Q).\n")
print(kl.explain(fair, loaded, base=2, outcomes=["1", "2", "3", "4", "5", "6"]))

h_fair = kl.cross_entropy(fair, fair, base=2)
h_loaded = kl.cross_entropy(fair, loaded, base=2)
print(
    f"\nPredicting the fair die with the fair die costs {h_fair:.4f} bits per roll "
    f"(its entropy, log2 6); with the loaded die it costs {h_loaded:.4f} bits: "
    f"the loaded die has the higher cross-entropy, by exactly "
    f"D(P||Q) = {kl.kl_divergence(fair, loaded, base=2):.4f} bits."
)
print(f"JS divergence (symmetric, at most 1 bit): {kl.js_divergence(fair, loaded, base=2):.4f}")
