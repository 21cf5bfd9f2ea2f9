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
from django.utils.html import escape
from django.utils.translation import gettext as _
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from coordination.lagesbild import AreaPicture, Level, Trend

__all__ = [
    "LEVEL_COLOURS",
    "AreaShape",
    "Hours",
    "area_map_svg",
    "evening_hours",
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


def _svg(figure: Figure, prefix: str, *, label: str) -> bytes:
    """The figure as an inline-ready <svg> element named `label` for screen readers (role img needs a
    name), its ids prefixed so several figures share one page."""
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue().decode()
    text = text[text.index("<svg") :].strip()  # drop the XML declaration and DOCTYPE: the SVG goes inside HTML
    # matplotlib numbers its ids per figure (patch_1, axes_1, ...): prefix them so two figures never clash.
    text = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    named = f'<svg role="img" aria-label="{escape(label)}" class="chart" data-chart="{prefix}" '
    text = text.replace("<svg ", named, 1)
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


# Hours before this belong to the evening before (a night walk ends at 02); hours from it start a new day.
NIGHT_ENDS = 6


@dataclass(frozen=True)
class Hours:
    """The columns both heatmaps show: `first`-23, then 00-`last_night` of the night after (if any)."""

    first: int = 0
    last_night: int | None = None

    @property
    def columns(self) -> list[int]:
        night = list(range(self.last_night + 1)) if self.last_night is not None else []
        return list(range(self.first, 24)) + night


def evening_hours(*matrices: Sequence[Sequence[float]], latest_start: int = 12) -> Hours:
    """From noon (or the first busy hour after 06 when earlier) to the last busy hour of the night after.

    Evening work fills 17-02; showing 00-11 first would take half the width and stay empty most weeks.
    """
    busy = {hour for matrix in matrices for row in matrix for hour, value in enumerate(row) if value}
    day = [hour for hour in busy if hour >= NIGHT_ENDS]
    night = [hour for hour in busy if hour < NIGHT_ENDS]
    return Hours(first=min([latest_start, *day]), last_night=max(night) if night else None)


def _evening_rows(rows: list[list[float]], hours: Hours) -> list[list[float]]:
    """Each weekday's row as an evening: its hours from `first`, then the next day's hours after midnight."""
    evenings = []
    for day in range(7):
        row = [rows[day][hour] for hour in range(hours.first, 24)]
        if hours.last_night is not None:
            row += [rows[(day + 1) % 7][hour] for hour in range(hours.last_night + 1)]
        evenings.append(row)
    return evenings


def heatmap_svg(
    matrix: Sequence[Sequence[float]],
    *,
    title: str,
    unit: str,
    kind: str = "notes",
    hours: Hours | None = None,
    prefix: str = "heatmap",
) -> bytes:
    """A weekday (rows, Monday first) × hour heatmap of evenings: a weekday's row runs on past midnight.

    `hours` (evening_hours of both matrices, so they read side by side) picks the columns; `kind`
    "notes" or "presence" the colours. The hours after midnight of a row are those of the next date.
    """
    hours = hours or Hours()
    rows = [list(row) + [0] * (24 - len(row)) for row in matrix] + [[0] * 24] * (7 - len(matrix))
    rows = _evening_rows(rows, hours)
    labels = hours.columns
    columns = len(labels)
    peak = max((max(row) for row in rows), default=0) or 1
    with matplotlib.rc_context(STYLE):
        figure = _figure(7.2, 3.6)
        ax = figure.add_axes((0.08, 0.16, 0.9, 0.72))
        cmap = NOTES_CMAP if kind == "notes" else PRESENCE_CMAP
        ax.imshow(rows, cmap=cmap, vmin=0, vmax=peak, aspect="auto", interpolation="nearest")
        ax.set_title(f"{title} ({unit})", loc="left")
        ax.set_yticks(range(7), weekday_names())
        step = 1 if columns <= 14 else (2 if columns <= 20 else 3)
        ticks = range(0, columns, step)
        ax.set_xticks(ticks, [f"{labels[x]:02d}" for x in ticks])
        ax.set_xlabel(
            _("Timme (efter midnatt räknas till kvällen före)") if hours.last_night is not None else _("Timme")
        )
        # Thin white lines between cells, so neighbouring hours read apart on a projector.
        ax.vlines([x - 0.5 for x in range(1, columns)], -0.5, 6.5, colors="white", linewidth=1)
        ax.hlines([y - 0.5 for y in range(1, 7)], -0.5, columns - 0.5, colors="white", linewidth=1)
        if hours.last_night is not None:
            ax.axvline(23.5 - hours.first, color=NAVY, linewidth=2)  # midnight
        size = 12 if columns <= 14 else (10 if columns <= 20 else 8)
        for y, row in enumerate(rows):
            for x, value in enumerate(row):
                if value:
                    colour = "white" if value > peak * 0.55 else "#14212e"
                    shown = _number(value, 0 if value >= 10 else 1)
                    ax.text(x, y, shown, ha="center", va="center", fontsize=size, color=colour)
        # Every cell carries its number, so no colour bar (one axes less to lay out on every request).
        return _svg(figure, prefix, label=title)


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
            return _svg(figure, prefix, label=title)
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
        return _svg(figure, prefix, label=title)


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
        ax = figure.add_axes((0.01, 0.01, 0.64, 0.9))
        ax.set_title(title, loc="left")
        ax.set_axis_off()
        if not drawn:
            ax.text(0.5, 0.5, _("Inga områden att visa."), ha="center", va="center", transform=ax.transAxes)
            return _svg(figure, prefix, label=title)
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
        ax.set_xlim(x0 - pad_x, x1 + pad_x)
        ax.set_ylim(y0 - pad_y, y1 + pad_y)
        # Degrees of longitude shrink towards the pole: keep the map's proportions true at this latitude.
        ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
        ax.apply_aspect()  # the axes' final box, so the labels know how many pixels a degree is
        box = ax.get_position()
        width_px, height_px = figure.get_size_inches() * figure.dpi * (box.width, box.height)
        scale = (width_px / (x1 - x0 + 2 * pad_x), height_px / (y1 - y0 + 2 * pad_y))
        numbered = _label_areas(ax, drawn, scale=scale)
        levels = [level for level in Level if any(area.level == level for area, _shape in drawn)]
        handles = [
            Patch(facecolor=LEVEL_COLOURS[level], alpha=AREA_ALPHA, edgecolor=NAVY, label=level.label)
            for level in levels
        ]
        if inside:
            # A legend entry, not a colour bar: cheaper to draw, and "darker = more" is all the meeting needs.
            handles.append(Patch(facecolor=DENSITY_CMAP(1.0), label=_("Noteringar (täthet)")))
        # Areas whose names would cover each other carry a number; the legend says which is which.
        handles += [Patch(facecolor="none", edgecolor="none", label=line) for line in numbered]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title=_("Nivå"))
        return _svg(figure, prefix, label=title)


# A label's size in pixels at 96 dpi: about a bold 12 pt character's width, and a line's height with its box.
CHAR_PX, LABEL_PX = 9.5, 24


def _label_areas(ax, drawn: list[tuple[AreaPicture, AreaShape]], *, scale: tuple[float, float]) -> list[str]:
    """Each area's name inside it, the smallest first; a name that would cover another becomes a number.

    `scale` is pixels per map unit (x, y). Returns the legend lines of the numbered areas ("1  Busstationen").
    """
    placed: list[tuple[float, float, float]] = []  # centre x, y and half the width, in pixels
    numbered: list[str] = []

    def free(x: float, y: float, half: float) -> bool:
        px, py = x * scale[0], y * scale[1]
        return not any(abs(px - qx) < half + qh and abs(py - qy) < LABEL_PX for qx, qy, qh in placed)

    for area, shape in sorted(drawn, key=lambda pair: _bbox_size(pair[1])):
        if area.kind == "municipality":
            continue
        spots = _label_spots(shape)
        text, half = area.name, CHAR_PX * (len(area.name) + 1) / 2
        x, y = next((spot for spot in spots if free(*spot, half)), (None, None))
        if x is None:
            # No room for the name anywhere inside: a number, and the name in the legend.
            numbered.append(f"{len(numbered) + 1}  {area.name}")
            text, half = str(len(numbered)), CHAR_PX
            x, y = next((spot for spot in spots if free(*spot, half)), spots[0])
        placed.append((x * scale[0], y * scale[1], half))
        ax.annotate(
            text,
            (x, y),
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            color="#14212e",
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
            zorder=3,
        )
    return numbered


def _label_spots(shape: AreaShape) -> list[tuple[float, float]]:
    """Where a label may go: the area's own point first, then points inside it, nearest first."""
    path = _path(shape.rings)
    xs = [point[0] for ring in shape.rings for point in ring]
    ys = [point[1] for ring in shape.rings for point in ring]
    grid = [
        (min(xs) + (max(xs) - min(xs)) * i / 6, min(ys) + (max(ys) - min(ys)) * j / 6)
        for i in range(1, 6)
        for j in range(1, 6)
    ]
    inside = [spot for spot in grid if path.contains_point(spot)]
    x0, y0 = shape.label_at
    inside.sort(key=lambda spot: (spot[0] - x0) ** 2 + (spot[1] - y0) ** 2)
    return [shape.label_at, *inside]


def _bbox_size(shape: AreaShape) -> float:
    xs = [point[0] for ring in shape.rings for point in ring]
    ys = [point[1] for ring in shape.rings for point in ring]
    return (max(xs) - min(xs)) * (max(ys) - min(ys)) if xs else 0.0
