"""Charts drawn on the server as standalone SVG.

The output is one `<svg>` element with nothing outside it: no script, no
stylesheet, no web font, no external reference, only presentation attributes
(a page's Content-Security-Policy blocks inline `style`). So the same markup
works inline in a page, in an email, and in a PDF.

Accessible: `role="img"`, a `<title>` and a `<desc>` (by default a text
version of every value), and a `<title>` on each point for a tooltip.

    from saas.charts import line_chart

    svg = line_chart(
        ["Jun 2026", "Jul 2026", "Aug 2026"],
        {"Attitude": [4.2, None, 4.5], "Overall": [4.0, 4.1, 4.3]},
        y_min=1, y_max=5, title="Satisfaction, last 3 months",
    )
    # in Jinja: {{ svg }} (it is Markup; every label and name is escaped)

`None` in a series is a gap: the line breaks there. A point with no
neighbour is still drawn (as its marker).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale
# the lines also differ by their dash pattern
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "", "10 4")
FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif"

__all__ = ["line_chart", "y_position"]


# characters XML 1.0 forbids (control characters but tab and newlines, lone
# surrogates, U+FFFE/U+FFFF): escaping does not help, they make the SVG
# unreadable to an XML parser (an email client, a PDF renderer)
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(value: object) -> Markup:
    """Text for the SVG: characters XML cannot hold dropped, the rest escaped."""
    return escape(_NOT_XML.sub("", str(value)))


def _finite(value: float | None) -> float | None:
    """A value to draw: NaN and infinities are gaps, like None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _num(value: float) -> str:
    """A coordinate, short and locale-independent."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _default_ticks(y_min: float, y_max: float) -> list[float]:
    span = y_max - y_min
    if span <= 10 and float(y_min).is_integer() and float(y_max).is_integer():
        return [float(v) for v in range(int(y_min), int(y_max) + 1)]
    return [y_min + span * i / 4 for i in range(5)]


def y_position(value: float, *, y_min: float, y_max: float, top: float, bottom: float) -> float:
    """Where a value lands vertically: `top` for y_max, `bottom` for y_min;
    values outside the range are held at the edge."""
    clamped = min(max(value, y_min), y_max)
    return bottom - (clamped - y_min) / (y_max - y_min) * (bottom - top)


def _format(value: float | None, decimals: int) -> str:
    return "–" if value is None else f"{value:.{decimals}f}"


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    y_min: float,
    y_max: float,
    title: str,
    width: int = 640,
    height: int = 320,
    description: str | None = None,
    y_ticks: Sequence[float] | None = None,
    decimals: int = 2,
    no_data_text: str = "",
    chart_id: str | None = None,
) -> Markup:
    """A line chart: one x position per label, one line per series.

    labels: the x axis, in order (e.g. months). series: name -> one value per
    label, `None` where there is no value (a gap in the line). y_min/y_max: the
    vertical scale (values outside it are drawn at the edge). title: the
    accessible name, also printed above the plot. description: the `<desc>`;
    by default every value as text. y_ticks: grid lines (default: each whole
    number when the scale spans at most 10, else quarters). no_data_text:
    printed in the plot when every value is None. chart_id: prefix of the
    element ids (default: derived from the content), unique within a page.

    Returns Markup holding one standalone `<svg>` element.
    """
    if y_max <= y_min:
        raise ValueError("y_max must be greater than y_min")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    series = {name: [_finite(v) for v in values] for name, values in series.items()}
    ticks = list(y_ticks) if y_ticks is not None else _default_ticks(y_min, y_max)
    if chart_id is None:
        digest = hashlib.sha256(repr((title, list(labels), {k: list(v) for k, v in series.items()})).encode())
        chart_id = "chart-" + digest.hexdigest()[:10]
    chart_id = str(_esc(chart_id))
    if description is None:
        description = "; ".join(
            f"{name}: "
            + ", ".join(f"{label} {_format(v, decimals)}" for label, v in zip(labels, values, strict=True))
            for name, values in series.items()
        )

    # layout: title on top, legend under it, the plot, x labels at the bottom
    per_row = max(1, (width - 60) // 130)  # legend items on one line
    legend_rows = math.ceil(len(series) / per_row) if series else 0
    left, right = 44.0, float(width) - 16
    top = 30.0 + 18 * legend_rows + 8
    bottom = float(height) - 34
    if bottom - top < 40:
        raise ValueError("the chart is too small for its legend")
    count = len(labels)
    step = (right - left) / count if count else 0.0

    def x_at(i: int) -> float:
        return left + step * (i + 0.5)

    def y_at(v: float) -> float:
        return y_position(v, y_min=y_min, y_max=y_max, top=top, bottom=bottom)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="12" class="chart">',
        f'<title id="{chart_id}-title">{_esc(title)}</title>',
        f'<desc id="{chart_id}-desc">{_esc(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_num(left)}" y="18" font-size="14" font-weight="600" fill="#1f2933">{_esc(title)}</text>',
    ]

    # legend
    for n, name in enumerate(series):
        lx = left + 130 * (n % per_row)
        ly = 30 + 18 * (n // per_row)
        colour, dash = PALETTE[n % len(PALETTE)], DASHES[n % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<g class="legend-item"><line x1="{_num(lx)}" y1="{ly + 6}" x2="{_num(lx + 22)}" y2="{ly + 6}" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            f'<text x="{_num(lx + 28)}" y="{ly + 10}" fill="#1f2933">{_esc(name)}</text></g>'
        )

    # grid and y axis labels
    out.append('<g class="y-axis">')
    for tick in ticks:
        if not y_min <= tick <= y_max:
            continue
        ty = y_at(tick)
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(ty)}" x2="{_num(right)}" y2="{_num(ty)}" '
            f'stroke="#d9dee5" stroke-width="1"/>'
            f'<text x="{_num(left - 6)}" y="{_num(ty + 4)}" text-anchor="end" fill="#5b6472">'
            f"{_esc(_tick_label(tick))}</text>"
        )
    out.append("</g>")

    # x axis labels: every label when they fit, else every k-th (the last always shown)
    widest = max((len(label) for label in labels), default=0) * 6.5 + 6  # about 6.5 px a character at 12 px
    every = max(1, math.ceil(widest / step)) if step else 1
    out.append('<g class="x-axis">')
    out.append(
        f'<line x1="{_num(left)}" y1="{_num(bottom)}" x2="{_num(right)}" y2="{_num(bottom)}" '
        f'stroke="#5b6472" stroke-width="1"/>'
    )
    for i, label in enumerate(labels):
        if (count - 1 - i) % every:
            continue
        out.append(
            f'<text x="{_num(x_at(i))}" y="{_num(bottom + 18)}" text-anchor="middle" fill="#1f2933">'
            f"{_esc(label)}</text>"
        )
    out.append("</g>")

    # the lines: one path per run of consecutive values, so a None breaks the line
    has_data = False
    for n, (name, values) in enumerate(series.items()):
        colour, dash = PALETTE[n % len(PALETTE)], DASHES[n % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<g class="series" data-series="{_esc(name)}">')
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((x_at(i), y_at(float(v))))
        for run in runs:
            if len(run) > 1:
                d = " ".join(
                    ("M" if k == 0 else "L") + f"{_num(x)} {_num(y)}" for k, (x, y) in enumerate(run)
                )
                out.append(
                    f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5" '
                    f'stroke-linejoin="round"{dash_attr}/>'
                )
        for i, v in enumerate(values):
            if v is None:
                continue
            has_data = True
            out.append(
                f'<circle cx="{_num(x_at(i))}" cy="{_num(y_at(float(v)))}" r="3.5" fill="{colour}">'
                f"<title>{_esc(name)}, {_esc(labels[i])}: {_esc(_format(float(v), decimals))}</title>"
                f"</circle>"
            )
        out.append("</g>")

    if not has_data and no_data_text:
        out.append(
            f'<text x="{_num((left + right) / 2)}" y="{_num((top + bottom) / 2)}" text-anchor="middle" '
            f'fill="#5b6472" font-size="14" class="no-data">{_esc(no_data_text)}</text>'
        )
    out.append("</svg>")
    # every piece of text above went through _esc(); the rest is our own markup
    return Markup("".join(out))  # noqa: S704


def _tick_label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")
