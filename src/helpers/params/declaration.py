"""The declaration of one parameter (:class:`Param`): its type, allowed values or range, and meaning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """Declaration of one parameter.

    Attributes
    ----------
    kind : {"str", "path", "int", "float", "bool", "list[str]"}
        ``float`` accepts integers; ``int`` and ``float`` never accept booleans; ``path`` is a
        non-empty string (relative to the project root) or a path object.
    description : str
        What the parameter does (shown in messages and on the book's bad-input page).
    choices : tuple, optional
        The allowed values.
    low, high : float, optional
        Inclusive bounds for numbers.
    nullable : bool
        ``None`` is allowed (meaning stated in ``description``).
    check : callable, optional
        ``check(value) -> str | None``: an extra rule; returns the problem or None.
    rule_text : str, optional
        How to state ``check``'s rule in messages.
    """

    kind: str
    description: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    check: Callable[[Any], str | None] | None = None
    rule_text: str = ""

    def rule(self) -> str:
        """The rule in words, e.g. ``"int ≥ 1"`` or ``"one of 'hrf', 'hanning', 'none'"``."""
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = {
                "list[str]": "a non-empty list of distinct strings",
                "path": "a non-empty path",
                "str|dict": "a string or mapping",
            }.get(self.kind, self.kind)
            if self.low is not None and self.high is not None:
                text += f" in [{self.low:g}, {self.high:g}]"
            elif self.low is not None:
                text += f" ≥ {self.low:g}"
            elif self.high is not None:
                text += f" ≤ {self.high:g}"
        if self.rule_text:
            text += f", {self.rule_text}"
        return text + (" or None" if self.nullable else "")
