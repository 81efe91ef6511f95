"""Backends: everything that knows one array library.

Namespaces and devices, Dask, NumPy blocks and short lists, Numba, torch, JAX.
"""
