"""The lägesbild's figures as SVG: weekday × hour heatmaps, the trend chart and the map of areas by level.

Pure functions from the dataclasses in coordination.lagesbild (and the areas' outlines, read by the caller) to
SVG bytes, drawn once per request with matplotlib and shown both on the page and in the PDF. No pyplot: a
Figure of its own per call keeps requests in different threads apart. Text stays text in the SVG
(svg.fonttype "none"): it scales on a projector, and the PDF's text layer carries the labels.
"""

import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import matplotlib
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from coordination.lagesbild import AreaPicture, Level, Trend

__all__ = [
    "LEVEL_COLOURS",
    "AreaShape",
    "area_map_svg",
    "first_busy_hour",
    "heatmap_svg",
    "trend_svg",
    "weekday_names",
]

# High contrast on a projector and in print; the same hues as the site's --green, --amber and --red.
LEVEL_COLOURS = {Level.GREEN: "#2e7d32", Level.YELLOW: "#f2c200", Level.ORANGE: "#e06c00", Level.RED: "#c62828"}
NAVY = "#17324d"
GREY = "#8a99a8"
LIGHT = "#b7c4d1"

STYLE = {
    "svg.fonttype": "none",  # <text>, not glyph outlines: readable, searchable, small
    "svg.hashsalt": "narvaro-lagesbild",  # the same figure gives the same bytes (stable ids, cacheable)
    "font.family": ["DejaVu Sans"],
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.edgecolor": NAVY,
    "text.color": "#14212e",
    "axes.labelcolor": "#14212e",
    "xtick.color": "#14212e",
    "ytick.color": "#14212e",
}

NOTES_CMAP = LinearSegmentedColormap.from_list("notes", ["#ffffff", "#f6b38f", "#c62828", "#5c0a0a"])
PRESENCE_CMAP = LinearSegmentedColormap.from_list("presence", ["#ffffff", "#9fd3cf", "#0b7a75", "#063f3c"])
DENSITY_CMAP = LinearSegmentedColormap.from_list("density", ["#1a0a3340", "#1a0a33e6"], N=64)
AREA_ALPHA = 0.85  # overlapping areas: the one on top keeps its own level colour


@dataclass(frozen=True)
class AreaShape:
    """An area's outline for the map: every ring (outer and holes) of every polygon, as (lon, lat) pairs."""

    area_id: int
    rings: Sequence[Sequence[tuple[float, float]]]
    label_at: tuple[float, float]  # a point inside the area, for its name


def weekday_names() -> list[str]:
    """Monday first, short, in the active language."""
    return [_("Mån"), _("Tis"), _("Ons"), _("Tor"), _("Fre"), _("Lör"), _("Sön")]


# --- drawing helpers ----------------------------------------------------------------------------


def _svg(figure: Figure, prefix: str) -> bytes:
    """The figure as an inline-ready <svg> element, its ids prefixed so several figures share one page."""
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue().decode()
    text = text[text.index("<svg") :].strip()  # drop the XML declaration and DOCTYPE: the SVG goes inside HTML
    # matplotlib numbers its ids per figure (patch_1, axes_1, ...): prefix them so two figures never clash.
    text = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    text = text.replace("<svg ", f'<svg role="img" class="chart" data-chart="{prefix}" ', 1)
    return text.encode()


def _number(value: float, decimals: int = 1, *, whole_as_is: bool = True) -> str:
    """A whole number as it is, anything else rounded half up, in the active language (9, 4,5)."""
    if whole_as_is and float(value).is_integer():
        return number_format(int(value))
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number_format(exact, decimals)


def _figure(width: float, height: float) -> Figure:
    # Fixed margins, set by each chart: constrained layout measured every label twice and cost half the time.
    return Figure(figsize=(width, height), dpi=96)


# --- heatmaps -----------------------------------------------------------------------------------


def first_busy_hour(*matrices: Sequence[Sequence[float]], latest: int = 12) -> int:
    """The hour the heatmaps start at: noon, or the first hour with any figure when that is earlier.

    Evening work fills 17-24; hours 0-11 would take half the width and stay empty most weeks.
    """
    hours = [hour for matrix in matrices for row in matrix for hour, value in enumerate(row) if value]
    return min([latest, *hours])


def heatmap_svg(
    matrix: Sequence[Sequence[float]],
    *,
    title: str,
    unit: str,
    kind: str = "notes",
    first_hour: int = 0,
    prefix: str = "heatmap",
) -> bytes:
    """A weekday (rows, Monday first) × hour matrix as a heatmap, hours `first_hour`-23; `kind` picks the colours."""
    rows = [list(row) + [0] * (24 - len(row)) for row in matrix] + [[0] * 24] * (7 - len(matrix))
    rows = [row[first_hour:24] for row in rows]
    columns = 24 - first_hour
    peak = max((max(row) for row in rows), default=0) or 1
    with matplotlib.rc_context(STYLE):
        figure = _figure(7.2, 3.6)
        ax = figure.add_axes((0.08, 0.16, 0.9, 0.72))
        cmap = NOTES_CMAP if kind == "notes" else PRESENCE_CMAP
        ax.imshow(rows, cmap=cmap, vmin=0, vmax=peak, aspect="auto", interpolation="nearest")
        ax.set_title(f"{title} ({unit})", loc="left")
        ax.set_yticks(range(7), weekday_names())
        step = 1 if columns <= 12 else (2 if columns <= 18 else 3)
        ticks = range(0, columns, step)
        ax.set_xticks(ticks, [f"{first_hour + x:02d}" for x in ticks])
        ax.set_xlabel(_("Timme"))
        # Thin white lines between cells, so neighbouring hours read apart on a projector.
        ax.vlines([x - 0.5 for x in range(1, columns)], -0.5, 6.5, colors="white", linewidth=1)
        ax.hlines([y - 0.5 for y in range(1, 7)], -0.5, columns - 0.5, colors="white", linewidth=1)
        size = 12 if columns <= 12 else (10 if columns <= 18 else 8)
        for y, row in enumerate(rows):
            for x, value in enumerate(row):
                if value:
                    colour = "white" if value > peak * 0.55 else "#14212e"
                    ax.text(
                        x,
                        y,
                        _number(value, 0 if value >= 10 else 1),
                        ha="center",
                        va="center",
                        fontsize=size,
                        color=colour,
                    )
        # Every cell carries its number, so no colour bar (one axes less to lay out on every request).
        return _svg(figure, prefix)


# --- trend --------------------------------------------------------------------------------------


def trend_svg(trends: Mapping[str, Trend], *, labels: Mapping[str, str], title: str, prefix: str = "trend") -> bytes:
    """Horizontal bars per category: this period against the mean of the four before (and last year when known)."""
    keys = [key for key in trends if trends[key].current or trends[key].previous_mean or trends[key].last_year]
    keys.sort(key=lambda key: trends[key].current, reverse=True)
    any_last_year = any(trends[key].last_year is not None for key in keys)
    height = 1.4 + 0.55 * max(len(keys), 1) * (1.35 if any_last_year else 1)
    with matplotlib.rc_context(STYLE):
        figure = _figure(7.2, height)
        # Room on the left for the longest category name (about 0.11 inch a character at this size).
        longest = max((len(str(labels.get(key, key))) for key in keys), default=10)
        left = min(0.45, (0.25 + 0.11 * longest) / 7.2)
        ax = figure.add_axes((left, 0.9 / height, 0.97 - left, 1 - 1.45 / height))
        ax.set_title(title, loc="left")
        if not keys:
            ax.text(0.5, 0.5, _("Inga noteringar i perioden eller de fyra före."), ha="center", va="center")
            ax.set_axis_off()
            return _svg(figure, prefix)
        bars = 3 if any_last_year else 2
        step = 0.8 / bars
        positions = range(len(keys))
        current = [trends[key].current for key in keys]
        before = [trends[key].previous_mean for key in keys]
        ax.barh([p - step for p in positions], before, height=step, color=LIGHT, label=_("Snitt fyra perioder före"))
        ax.barh(list(positions), current, height=step, color=NAVY, label=_("Denna period"))
        if any_last_year:
            last = [trends[key].last_year or 0 for key in keys]
            ax.barh([p + step for p in positions], last, height=step, color=GREY, label=_("Samma vecka i fjol"))
        top = max(current + before) or 1
        for p, key in zip(positions, keys, strict=True):
            change = trends[key].change
            sign = "+" if change > 0 else ("−" if change < 0 else "±")
            shown = f"{_number(trends[key].current)} ({sign}{_number(abs(change), whole_as_is=False)})"
            ax.text(trends[key].current + top * 0.02, p, shown, va="center")
        ax.set_yticks(list(positions), [str(labels.get(key, key)) for key in keys])
        ax.invert_yaxis()  # the largest first, at the top
        ax.set_xlim(0, top * 1.3)
        ax.set_xlabel(_("Antal noteringar"))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="lower right", frameon=False, fontsize=11)
        return _svg(figure, prefix)


# --- map ----------------------------------------------------------------------------------------


def _path(rings: Iterable[Sequence[tuple[float, float]]]) -> Path:
    """One compound path for every ring of an area (holes included), so each area is one <path>."""
    vertices: list[tuple[float, float]] = []
    codes: list[int] = []
    for ring in rings:
        if len(ring) < 3:
            continue
        vertices += list(ring)
        codes += [Path.MOVETO] + [Path.LINETO] * (len(ring) - 2) + [Path.CLOSEPOLY]
    return Path(vertices, codes)


def area_map_svg(
    areas: Sequence[AreaPicture],
    shapes: Mapping[int, AreaShape],
    note_points: Sequence[tuple[float, float]],
    *,
    title: str,
    prefix: str = "map",
) -> bytes:
    """The areas coloured by level, names on them, notes as a hexagonal density layer; no tiles needed.

    Every area with a shape becomes exactly one <path> inside a <g id="<prefix>-area-<id>">.
    """
    drawn = [(area, shapes[area.area_id]) for area in areas if area.area_id in shapes]
    # Large areas first, so a hotspot inside a district is drawn on top of it.
    drawn.sort(key=lambda pair: -_bbox_size(pair[1]))
    with matplotlib.rc_context(STYLE):
        figure = _figure(7.2, 6.0)
        ax = figure.add_axes((0.01, 0.01, 0.74, 0.9))
        ax.set_title(title, loc="left")
        ax.set_axis_off()
        if not drawn:
            ax.text(0.5, 0.5, _("Inga områden att visa."), ha="center", va="center", transform=ax.transAxes)
            return _svg(figure, prefix)
        for area, shape in drawn:
            patch = PathPatch(
                _path(shape.rings),
                facecolor=LEVEL_COLOURS[area.level],
                alpha=AREA_ALPHA if area.kind != "municipality" else 0.15,
                edgecolor=NAVY,
                linewidth=1.4,
                zorder=1,
            )
            patch.set_gid(f"area-{area.area_id}")
            ax.add_patch(patch)
        inside = list(note_points)
        xs = [point[0] for _area, shape in drawn for ring in shape.rings for point in ring]
        ys = [point[1] for _area, shape in drawn for ring in shape.rings for point in ring]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        pad_x, pad_y = (x1 - x0) * 0.04 or 0.001, (y1 - y0) * 0.04 or 0.001
        if inside:
            density = ax.hexbin(
                [p[0] for p in inside],
                [p[1] for p in inside],
                gridsize=32,
                extent=(x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y),
                mincnt=1,
                cmap=DENSITY_CMAP,
                linewidths=0,
                zorder=2,
            )
            density.set_gid("notes-density")
        _label_areas(ax, drawn, width=x1 - x0, height=y1 - y0)
        ax.set_xlim(x0 - pad_x, x1 + pad_x)
        ax.set_ylim(y0 - pad_y, y1 + pad_y)
        # Degrees of longitude shrink towards the pole: keep the map's proportions true at this latitude.
        ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
        levels = [level for level in Level if any(area.level == level for area, _shape in drawn)]
        handles = [
            Patch(facecolor=LEVEL_COLOURS[level], alpha=AREA_ALPHA, edgecolor=NAVY, label=level.label)
            for level in levels
        ]
        if inside:
            # A legend entry, not a colour bar: cheaper to draw, and "darker = more" is all the meeting needs.
            handles.append(Patch(facecolor=DENSITY_CMAP(1.0), label=_("Noteringar (mörkare = fler)")))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title=_("Nivå"))
        return _svg(figure, prefix)


def _label_areas(ax, drawn: list[tuple[AreaPicture, AreaShape]], *, width: float, height: float) -> None:
    """Each area's name inside it; the smallest first, and a larger area's name moved up if it would cover one."""
    placed: list[tuple[float, float]] = []
    for area, shape in sorted(drawn, key=lambda pair: _bbox_size(pair[1])):
        if area.kind == "municipality":
            continue
        x, y = shape.label_at
        if any(abs(x - px) < width * 0.15 and abs(y - py) < height * 0.06 for px, py in placed):
            ys = [point[1] for ring in shape.rings for point in ring]
            xs = [point[0] for ring in shape.rings for point in ring]
            x, y = (min(xs) + max(xs)) / 2, max(ys) - (max(ys) - min(ys)) * 0.08
        placed.append((x, y))
        ax.annotate(
            area.name,
            (x, y),
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            color="#14212e",
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
            zorder=3,
        )


def _bbox_size(shape: AreaShape) -> float:
    xs = [point[0] for ring in shape.rings for point in ring]
    ys = [point[1] for ring in shape.rings for point in ring]
    return (max(xs) - min(xs)) * (max(ys) - min(ys)) if xs else 0.0
