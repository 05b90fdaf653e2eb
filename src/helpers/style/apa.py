"""Numbers as psychology journals print them (APA 7): no leading zero for quantities bounded by 1, a
true minus sign "−", ``p < .001`` below the printed precision."""

from __future__ import annotations

import math

#: The true minus sign (U+2212) that journals print.
MINUS = "−"


def format_r(r: float, decimals: int = 3) -> str:
    """APA-style r (or any quantity bounded by 1): no leading zero, true minus; ``—`` if missing.

    Parameters
    ----------
    r : float
        The value; None or non-finite gives ``"—"``.
    decimals : int, default 3
        Decimal places.

    Returns
    -------
    str
        E.g. ``"−.402"``; ``"1.000"`` keeps its leading digit; a value that rounds to zero has no sign.
    """
    if r is None or not math.isfinite(r):
        return "—"
    text = f"{abs(r):.{decimals}f}"
    text = text if text.startswith("1") else text[1:]  # "0.402" -> ".402"; "1.000" stays
    return (MINUS if r < 0 and float(text) != 0 else "") + text


def format_p(p: float, decimals: int = 3) -> str:
    """APA-style p: no leading zero; ``< .001`` below the printed precision; ``—`` if missing.

    Parameters
    ----------
    p : float
        The p value; None or non-finite gives ``"—"``.
    decimals : int, default 3
        Decimal places; values below 10^-decimals print as ``"< .001"`` (for 3).

    Returns
    -------
    str
        E.g. ``".044"``, ``"< .001"``, ``"1.000"``.
    """
    if p is None or not math.isfinite(p):
        return "—"
    floor = 10.0**-decimals
    if p < floor:
        return f"< {floor:.{decimals}f}".replace("0.", ".", 1)
    text = f"{p:.{decimals}f}"
    return text if text.startswith("1") else text.lstrip("0")


def format_number(x: float, decimals: int = 2) -> str:
    """Any other statistic: ``decimals`` places (integers as integers), true minus, thousands separated.

    Parameters
    ----------
    x : float
        The value; None or non-finite gives ``"—"``.
    decimals : int, default 2
        Decimal places of non-integer values (integer values below 1e15 print without decimals).

    Returns
    -------
    str
        E.g. ``"1,234"``, ``"−0.57"``.
    """
    if x is None or not math.isfinite(x):
        return "—"
    text = f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:,.{decimals}f}"
    return text.replace("-", MINUS)


def agrees(n: int, singular: str, plural: str) -> str:
    """The verb form that agrees with a count: ``agrees(1, "gives", "give")`` → ``"gives"``.

    For sentences whose subject sits between the count and the verb ("1 of them gives").

    Parameters
    ----------
    n : int
        The count.
    singular, plural : str
        The forms for one and for any other count.

    Returns
    -------
    str
    """
    return singular if int(n) == 1 else plural


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """A count with the form of the word that agrees with it: ``1 variant``, ``0 variants``, ``2 give``.

    Parameters
    ----------
    n : int
        The count.
    singular : str
        The word for one (a noun such as ``"variant"`` or a verb such as ``"gives"``).
    plural : str, default None
        The word for any other count; None: ``singular + "s"``.

    Returns
    -------
    str
        ``"<n> <word>"``.
    """
    return f"{int(n)} {singular if int(n) == 1 else plural or singular + 's'}"
