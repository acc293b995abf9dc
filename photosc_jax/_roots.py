"""Compatibility path: the bracketed root finder lives in `photosc_jax._numerics`."""

from ._numerics import bracketed_root as bracketed_root

__all__ = ["bracketed_root"]
