"""SVG chart of the sentiment alerts attached to an incident (pure code, returns a string).

The mentions themselves are not kept (only pseudonymised alerts land on the timeline), so this draws what
is known: one lane per alert kind on a shared time axis; each alert is a band from the start of the spike
to its detection, and a bar at the detection whose height is the observed count against the dashed level
the baseline expected (each lane scaled to its largest figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from tocsin.sentiment.chart import COLOURS, svg_head
from tocsin.sentiment.detector import Alert

WIDTH, LEFT, RIGHT, TOP = 960, 90, 20, 34
LANE_H, LANE_GAP = 70, 18
KINDS = ("volume", "negativity")


def alerts_from_json(items: Sequence[dict[str, object]]) -> list[Alert]:
    """Alerts back from their JSON form (`Alert.to_json`, as stored on the timeline)."""

    def instant(value: object) -> datetime:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)

    def number(value: object) -> float | None:
        return float(value) if isinstance(value, int | float) else None

    return [
        Alert(
            kind=str(item["kind"]),
            window_start=instant(item["window_start"]),
            detected_at=instant(item["detected_at"]),
            count=int(number(item.get("count")) or 0),
            baseline=number(item.get("baseline")) or 0.0,
            score=number(item.get("score")) or 0.0,
            negative_share=number(item.get("negative_share")),
            baseline_share=number(item.get("baseline_share")),
            mentions=int(number(item.get("mentions")) or 0),
        )
        for item in items
    ]


def render_alerts_svg(alerts: Sequence[Alert], title: str = "Sentiment alerts") -> str:
    height = TOP + len(KINDS) * (LANE_H + LANE_GAP) + 34
    parts = svg_head(WIDTH, height, title, left=LEFT, label=True)
    if not alerts:
        parts.append(f'<text x="{LEFT}" y="{TOP + 30}">No sentiment alerts.</text></svg>')
        return "\n".join(parts)
    t0 = min(a.window_start for a in alerts).timestamp()
    t1 = max(a.detected_at for a in alerts).timestamp()
    pad = max((t1 - t0) * 0.05, 900.0)
    t0, t1 = t0 - pad, t1 + pad
    plot_w = WIDTH - LEFT - RIGHT
    peaks = {kind: max([1.0] + [max(a.count, a.baseline) for a in alerts if a.kind == kind]) for kind in KINDS}

    def x_of(moment: datetime) -> float:
        return LEFT + (moment.timestamp() - t0) / (t1 - t0) * plot_w

    for lane, kind in enumerate(KINDS):
        top = TOP + lane * (LANE_H + LANE_GAP)
        bottom = top + LANE_H
        colour, peak = COLOURS[kind], peaks[kind]
        parts.append(f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{LANE_H}" fill="#f8fafc" stroke="#cbd5e1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{top + LANE_H / 2 + 4:.0f}" text-anchor="end">{kind}</text>')
        parts.append(f'<text x="{LEFT - 6}" y="{top + 10}" text-anchor="end" fill="#475569">{peak:.0f}</text>')
        for alert in (a for a in alerts if a.kind == kind):
            start, end = x_of(alert.window_start), x_of(alert.detected_at)
            bar = alert.count / peak * (LANE_H - 6)
            expected = bottom - alert.baseline / peak * (LANE_H - 6)
            share = f", {alert.negative_share:.0%} negative" if alert.negative_share is not None else ""
            label = (
                f"{kind} spike from {alert.window_start:%Y-%m-%d %H:%MZ}, "
                f"detected {alert.detected_at:%Y-%m-%d %H:%MZ}: {alert.count} vs about {alert.baseline:.0f} "
                f"expected{share}"
            )
            parts.append(f"<g><title>{escape(label)}</title>")
            parts.append(
                f'<rect x="{start:.1f}" y="{top}" width="{max(end - start, 1.5):.1f}" height="{LANE_H}" '
                f'fill="{colour}" fill-opacity="0.15"/>'
            )
            parts.append(
                f'<rect x="{end - 4:.1f}" y="{bottom - bar:.1f}" width="8" height="{bar:.1f}" fill="{colour}"/>'
            )
            parts.append(
                f'<line x1="{end - 9:.1f}" y1="{expected:.1f}" x2="{end + 9:.1f}" y2="{expected:.1f}" '
                'stroke="#334155" stroke-width="1.5" stroke-dasharray="3 2"/>'
            )
            parts.append(f'<text x="{end + 7:.1f}" y="{bottom - bar + 10:.1f}">{alert.count}</text></g>')
    axis_y = TOP + len(KINDS) * (LANE_H + LANE_GAP) + 2
    for fraction, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        epoch = t0 + fraction * (t1 - t0)
        label = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%MZ")
        parts.append(f'<text x="{LEFT + fraction * plot_w:.1f}" y="{axis_y}" text-anchor="{anchor}">{label}</text>')
    legend_y = axis_y + 22
    parts.append(
        f'<text x="{LEFT}" y="{legend_y}" fill="#475569">band: spike start to detection; bar: mentions counted '
        "(negative ones for negativity; each lane to its own scale); dashed: expected by the baseline</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)
