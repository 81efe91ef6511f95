"""The founding post's die as a picture: P and Q per face, and H(P,Q) = H(P) + D(P||Q).

The docs site draws this at build time (matplotlib's plot directive); run it alone with
``python examples/pictures/die.py`` to write ``die.png``.
"""

import numpy as np

from klkit.plot import decomposition, save

fair = np.full(6, 1 / 6)  # P: the world rolls a fair die
loaded = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5])  # Q: the prediction, a loaded die
fig = decomposition(
    fair, loaded, base=2, outcomes=list("123456"), labels=("fair die", "loaded die")
)

if __name__ == "__main__":
    save(fig, "die.png")
