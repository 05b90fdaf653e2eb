"""Helpers for the reproducible re-analysis of Parrish et al. (2018).

One module per concern (see the book's *Methods overview* for the map from the
paper's methods to these modules).
"""

__version__ = "0.1.0"
