"""SVG chart of mention volume, negative share and alerts over time (pure code, returns a string).

Two stacked panels share the time axis: mentions per bin with the detector's expected count, and the
negative share with its usual level. Alerts are vertical markers from the spike's start to its detection.
Long series are reduced to at most `max_points` columns (max count, mean share per column) so the SVG stays
small whatever the input size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from tocsin.sentiment.detector import Alert
from tocsin.sentiment.scan import SeriesPoint

WIDTH, HEIGHT = 960, 420
LEFT, RIGHT, TOP = 60, 20, 36
PANEL_H, GAP = 150, 40
COLOURS = {"volume": "#d97706", "negativity": "#dc2626"}


def _reduce(
    series: Sequence[SeriesPoint], max_points: int, share_span_s: int = 3600
) -> list[tuple[int, float, float, float | None, float]]:
    """(start, count, expected, share, usual share) per column.

    Count = the column's busiest bin (spikes stay visible), expected = mean. The share is pooled over the
    last `share_span_s` of counts (or the column, if wider): a 5-minute share of 3 posts is noise.
    """
    step = max(1, -(-len(series) // max_points))
    bin_seconds = series[1].start - series[0].start if len(series) > 1 else 300
    span = max(step, share_span_s // max(bin_seconds, 1))
    negative_sums = [0]
    scored_sums = [0]
    for point in series:
        negative_sums.append(negative_sums[-1] + point.negative)
        scored_sums.append(scored_sums[-1] + point.scored)
    out = []
    for offset in range(0, len(series), step):
        chunk = series[offset : offset + step]
        end = offset + len(chunk)
        first = max(0, end - span)
        scored = scored_sums[end] - scored_sums[first]
        share = (negative_sums[end] - negative_sums[first]) / scored if scored else None
        out.append(
            (
                chunk[0].start,
                max(p.count for p in chunk),
                sum(p.expected for p in chunk) / len(chunk),
                share,
                sum(p.baseline_share for p in chunk) / len(chunk),
            )
        )
    return out


def _polyline(points: list[tuple[float, float]], colour: str, width: float = 1.2, dash: str = "") -> str:
    if not points:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{extra} points="{coords}"/>'


def svg_head(width: int, height: int, title: str, *, left: int = LEFT, label: bool = False) -> list[str]:
    """The opening of a chart: the svg element, a white background and the title."""
    aria = f' role="img" aria-label="{escape(title)}"' if label else ""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11"{aria}>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]


def render_svg(
    series: Sequence[SeriesPoint], alerts: Sequence[Alert], title: str = "Mentions", max_points: int = 1200
) -> str:
    parts = svg_head(WIDTH, HEIGHT, title)
    if not series:
        parts.append(f'<text x="{LEFT}" y="{TOP + 40}">No mentions.</text></svg>')
        return "\n".join(parts)
    columns = _reduce(series, max_points)
    t0 = columns[0][0]
    t1 = max(series[-1].start, t0 + 1)
    plot_w = WIDTH - LEFT - RIGHT
    top_volume, top_share = TOP, TOP + PANEL_H + GAP

    def x_of(epoch: float) -> float:
        return LEFT + (epoch - t0) / (t1 - t0) * plot_w

    peak = max(max(c[1] for c in columns), max(c[2] for c in columns), 1.0)
    y_count = lambda value: top_volume + PANEL_H - value / peak * PANEL_H  # noqa: E731
    y_share = lambda value: top_share + PANEL_H - value * PANEL_H  # noqa: E731
    for top, label, high in (
        (top_volume, "mentions / bin", f"{peak:.0f}"),
        (top_share, "negative share (last hour)", "100%"),
    ):
        parts.append(
            f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_H}" fill="#f8fafc" stroke="#cbd5e1"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{top + 10}" text-anchor="end">{high}</text>')
        parts.append(f'<text x="{LEFT - 6}" y="{top + PANEL_H}" text-anchor="end">0</text>')
        parts.append(f'<text x="{LEFT + 4}" y="{top - 6}" fill="#475569">{label}</text>')
    for alert in alerts:
        start, end = x_of(alert.window_start.timestamp()), x_of(alert.detected_at.timestamp())
        colour = COLOURS.get(alert.kind, "#7c3aed")
        for top in (top_volume, top_share):
            parts.append(
                f'<rect x="{start:.1f}" y="{top}" width="{max(end - start, 1.5):.1f}" height="{PANEL_H}" '
                f'fill="{colour}" fill-opacity="0.18"/>'
            )
            parts.append(f'<line x1="{end:.1f}" y1="{top}" x2="{end:.1f}" y2="{top + PANEL_H}" stroke="{colour}"/>')
        parts.append(f"<title>{escape(alert.kind)} alert detected {alert.detected_at.isoformat()}</title>")
    parts.append(_polyline([(x_of(c[0]), y_count(c[1])) for c in columns], "#2563eb"))
    parts.append(_polyline([(x_of(c[0]), y_count(c[2])) for c in columns], "#64748b", 1.0, "4 3"))
    share_points = [(x_of(c[0]), y_share(c[3])) for c in columns if c[3] is not None]
    parts.append(_polyline(share_points, "#dc2626"))
    parts.append(_polyline([(x_of(c[0]), y_share(c[4])) for c in columns], "#64748b", 1.0, "4 3"))
    axis_y = top_share + PANEL_H + 16
    for fraction, anchor in ((0.0, "start"), (0.25, "middle"), (0.5, "middle"), (0.75, "middle"), (1.0, "end")):
        epoch = t0 + fraction * (t1 - t0)
        label = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%MZ")
        parts.append(f'<text x="{x_of(epoch):.1f}" y="{axis_y}" text-anchor="{anchor}">{label}</text>')
    legend_y = HEIGHT - 8
    legend = [
        ("#2563eb", "mentions"),
        ("#64748b", "expected / usual (dashed)"),
        ("#dc2626", "negative share"),
        (COLOURS["volume"], "volume alert"),
        (COLOURS["negativity"], "negativity alert"),
    ]
    x = LEFT
    for colour, text in legend:
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{legend_y}">{escape(text)}</text>')
        x += 30 + 6 * len(text)
    parts.append("</svg>")
    return "\n".join(part for part in parts if part)
