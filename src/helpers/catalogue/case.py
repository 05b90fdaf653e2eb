"""One entry of the catalogue: a bad input, where it is met, the message it gives, its fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes
    ----------
    id : str
        Short identifier (test id).
    stage : str
        Where the pipeline meets it (questionnaire, events, BOLD, …).
    bad_input : str
        What is wrong, in words.
    error : type
        The exception raised (``UserWarning`` for inputs that are excluded with a warning).
    keywords : tuple of str
        Words the message must contain (file, participant, column/volume, rule).
    fix : str
        How to fix the input.
    run : callable
        ``run(dataset, workdir)``: break a copy in ``workdir`` and call the pipeline (raises).
    """

    id: str
    stage: str
    bad_input: str
    error: type
    keywords: tuple[str, ...]
    fix: str
    run: Callable[[Path, Path], object]
