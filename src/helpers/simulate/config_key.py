"""Hashable form of a nested configuration, so in-process caches can be keyed by a config section.

:func:`freeze` turns dicts and lists into nested tuples (dict keys sorted); :func:`thaw` gives the
config back.  The twin's cached computations (the population moments of the scores, the coupling
weights, the shared maps of the build) are keyed this way.
"""

from __future__ import annotations

__all__ = ["freeze", "thaw"]


def freeze(obj):
    """Hashable copy of a nested dict/list config (for caching).

    Parameters
    ----------
    obj : object
        A config value: dicts and lists are converted recursively, anything else is kept.

    Returns
    -------
    object
        Dicts as ``("__dict__", ((key, value), …))`` with sorted keys, lists as tuples.
    """
    if isinstance(obj, dict):
        return ("__dict__", tuple(sorted((k, freeze(v)) for k, v in obj.items())))
    if isinstance(obj, (list, tuple)):
        return tuple(freeze(v) for v in obj)
    return obj


def thaw(obj):
    """Inverse of :func:`freeze` (tuples come back as lists).

    Parameters
    ----------
    obj : object
        A value made by :func:`freeze`.

    Returns
    -------
    object
        The nested dict/list config.
    """
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "__dict__":
        return {k: thaw(v) for k, v in obj[1]}
    if isinstance(obj, tuple):
        return [thaw(v) for v in obj]
    return obj
