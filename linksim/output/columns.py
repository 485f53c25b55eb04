"""Text columns of linksim's tables: one number format per column, intervals as ``±`` (means) or
compact brackets (rates), and tables cut to a terminal's width.

A mean column prints every value with the same decimals: enough to show two significant digits of
its smallest interval half-width (at most 6), or three significant digits of the values where they
have no interval; a column whose values reach 10⁶ or stay below 10⁻³ is in scientific notation. A
rate column prints ``1.23e-04 [1.18e-04, 1.29e-04]``. A missing value is ``-``.
"""
import math
from dataclasses import dataclass
from typing import Callable

__all__ = ["TABLE_WIDTH", "Column", "mean_format", "mean_cell", "rate_cell", "RATE_WIDTH", "render", "fit", "comment", "omitted"]

TABLE_WIDTH = 100  # characters of a default table, its "# " prefix included
RATE_WIDTH = len("1.23e-04 [1.18e-04, 1.29e-04]")


@dataclass
class Column:
    """A column: its title, width and how a row becomes its cell (``cell(row) -> str``)."""

    title: str
    width: int
    cell: Callable


def _finite(values) -> list[float]:
    return [abs(v) for v in values if v is not None and math.isfinite(v)]


def mean_format(values, half_widths=(), significant: int = 3) -> str:
    """The format spec of a mean column with these values and interval half-widths (e.g. ``".2f"``):
    two significant digits of the smallest half-width, or without one ``significant`` digits of the
    smallest value."""
    magnitudes, halves = _finite(values), [h for h in _finite(half_widths) if h > 0]
    largest = max(magnitudes, default=0.0)
    if largest >= 1e6 or 0 < largest < 1e-3:
        return f".{significant - 1}e"
    if halves:
        return f".{min(6, max(0, 1 - math.floor(math.log10(min(halves)))))}f"
    smallest = min((m for m in magnitudes if m > 0), default=1.0)
    return f".{min(6, max(0, significant - 1 - math.floor(math.log10(smallest))))}f"


def mean_cell(value, half, spec: str) -> str:
    """``22.97 ± 0.40`` (``± -`` without an interval)."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:{spec}} ± {half:{spec}}" if half is not None and math.isfinite(half) else f"{value:{spec}}"


def rate_cell(value, low, high) -> str:
    """``1.23e-04 [1.18e-04, 1.29e-04]``."""
    if value is None or not math.isfinite(value):
        return "-"
    bracket = f" [{low:.2e}, {high:.2e}]" if math.isfinite(low) and math.isfinite(high) else ""
    return f"{value:.2e}{bracket}"


def render(columns: list[Column], rows) -> list[str]:
    """Header, rule and one line per row, columns right-aligned and separated by ``|``; the header
    and rule lines start with ``# ``, rows with two spaces."""
    header = " | ".join(c.title.rjust(c.width) for c in columns)
    lines = ["# " + header, "# " + "-" * len(header)]
    for row in rows:
        lines.append("  " + " | ".join(c.cell(row).rjust(c.width) for c in columns))
    return lines


def fit(fixed_start: list[Column], optional: list[Column], fixed_end: list[Column], width: int = TABLE_WIDTH) -> tuple[list[Column], list[Column]]:
    """The columns that fit ``width`` characters: every fixed one, then the optional ones in order
    while they fit; returns ``(columns, left out)``."""
    def total(cols):
        return 2 + sum(c.width for c in cols) + 3 * (len(cols) - 1)

    chosen = []
    for k, column in enumerate(optional):
        if total(fixed_start + chosen + [column] + fixed_end) > width:
            return fixed_start + chosen + fixed_end, optional[k:]
        chosen.append(column)
    return fixed_start + chosen + fixed_end, []


def comment(text: str, width: int = TABLE_WIDTH) -> list[str]:
    """``text`` as ``# `` lines of at most ``width`` characters (continuations indented)."""
    import textwrap

    return textwrap.wrap(text, width, initial_indent="# ", subsequent_indent="#   ", break_on_hyphens=False) or ["#"]


def omitted(left_out: list[Column], width: int = TABLE_WIDTH) -> list[str]:
    """The note on the columns a default table leaves out: their titles while they fit one line."""
    if not left_out:
        return []
    titles, shown = [c.title for c in left_out], []
    for title in titles:
        if len(", ".join(shown + [title])) > width - 60:
            break
        shown.append(title)
    more = f" and {len(titles) - len(shown)} more" if len(shown) < len(titles) else ""
    return [f"# not shown: {', '.join(shown)}{more} (--wide shows every column)"]
