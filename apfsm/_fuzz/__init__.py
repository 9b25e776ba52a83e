"""Internals of property testing (as Hypothesis's ``strategies/_internal``): what the public
faces ``apfsm.strategies``, ``apfsm.stateful`` and ``apfsm.testing`` are built from.

Everything here may import Hypothesis; nothing below this layer does.
"""

from .plans import CURRENT, Menu, Product, decoded

__all__ = ["CURRENT", "Menu", "Product", "decoded"]
