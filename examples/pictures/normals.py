"""KL as an area: two normal densities and the integrand p log(p/q), shaded.

The docs site draws this at build time (matplotlib's plot directive); run it alone with
``python examples/pictures/normals.py`` to write ``normals.png``.
"""

import scipy.stats

from klkit.plot import compare, save

fig = compare(scipy.stats.norm(0, 1), scipy.stats.norm(1, 2))  # D = 0.443 nats

if __name__ == "__main__":
    save(fig, "normals.png")
