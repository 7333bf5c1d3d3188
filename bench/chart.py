"""The benchmark's chart: per backend, cold start (ms) and warm invocation (µs) of each
route, function vs monolith vs floor, as horizontal bars in one SVG file."""

from __future__ import annotations

from html import escape
from typing import Any

SIDES = (("function", "#2b7bb9"), ("monolith", "#d9822b"), ("floor", "#8a8a8a"))
METRICS = (("cold", "cold_ms", "ms"), ("warm", "warm_us", "µs"))
BAR, GAP, LABEL, PANEL, PAD = 9, 10, 250, 330, 12


def _value(record: dict[str, Any], side: str, field: str) -> float:
    key = field if side == "function" else f"{side}_{field}"
    return float(record[key])


def render_svg(records: list[dict[str, Any]]) -> str:
    backends = list(dict.fromkeys(r["backend"] for r in records))
    rows = [(b, [r for r in records if r["backend"] == b]) for b in backends]
    row_height = len(SIDES) * BAR + GAP
    height = PAD * 2 + 40 + sum(30 + len(group) * row_height for _, group in rows)
    width = LABEL + len(METRICS) * (PANEL + PAD) + PAD
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    x = LABEL
    for side, color in SIDES:
        out.append(f'<rect x="{x}" y="{PAD}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{PAD + 9}">{side}</text>')
        x += 90
    y = PAD + 30
    for backend, group in rows:
        out.append(f'<text x="{PAD}" y="{y + 12}" font-weight="bold">{escape(backend)}</text>')
        for index, (title, _field, unit) in enumerate(METRICS):
            left = LABEL + index * (PANEL + PAD)
            out.append(f'<text x="{left}" y="{y + 12}" font-weight="bold">{title} ({unit})</text>')
        y += 20
        for record in group:
            out.append(f'<text x="{PAD}" y="{y + 16}">{escape(record["route"])}</text>')
            for index, (_title, field, _unit) in enumerate(METRICS):
                left = LABEL + index * (PANEL + PAD)
                top = max(_value(r, s, field) for r in group for s, _ in SIDES) or 1.0
                for offset, (side, color) in enumerate(SIDES):
                    value = _value(record, side, field)
                    length = max(1.0, (PANEL - 60) * value / top)
                    bar_y = y + offset * BAR
                    out.append(
                        f'<rect x="{left}" y="{bar_y}" width="{length:.1f}" height="{BAR - 1}" '
                        f'fill="{color}"/>'
                    )
                    out.append(
                        f'<text x="{left + length + 3:.1f}" y="{bar_y + BAR - 1}" '
                        f'font-size="9">{value:.0f}</text>'
                    )
            y += row_height
        y += 10
    out.append("</svg>")
    return "\n".join(out) + "\n"
