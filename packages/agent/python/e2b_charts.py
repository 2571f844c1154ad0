"""Turn a matplotlib Figure into the chart JSON of E2B's code interpreter.

The public entry point is :func:`chart_from_figure`.  It returns the plain
``dict`` that is sent as ``result.chart`` (wire protocol §4.3):

* one Axes with data      -> that Axes' chart (line, scatter, bar, ...)
* several Axes with data  -> ``{"type": "superchart", "title", "elements"}``
* no data at all          -> ``None``

Everything returned is built from Python ``str``/``float``/``int``/``None``
so it can go straight into ``json.dumps``.  The extractor never raises: an
Axes that cannot be read becomes an ``unknown`` chart.

Dates are written as naive ISO-8601 strings in matplotlib's own time base
(UTC unless the user configured otherwise).
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from dataclasses import dataclass, field

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
from matplotlib.category import UnitData
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.patches import PathPatch, Wedge
from matplotlib.path import Path

__all__ = ["chart_from_figure"]


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def chart_from_figure(fig) -> dict | None:
    """Return the E2B chart dict for ``fig``, or ``None`` for a blank figure."""
    # Reading ticks can make matplotlib warn (e.g. logit scale over data
    # outside (0, 1)); those warnings would land in the user's output.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            axes = list(fig.get_axes())
        except Exception:
            return None
        charts = [c for c in map(_safe_chart_from_axes, axes) if c is not None]

    if not charts:
        return None
    if len(charts) == 1:
        return charts[0]
    return {"type": "superchart", "title": _figure_title(fig), "elements": charts}


def _safe_chart_from_axes(ax) -> dict | None:
    # One unreadable Axes must not lose the rest of the figure.
    try:
        return _chart_from_axes(ax)
    except Exception:
        return _unknown_chart(ax)


def _chart_from_axes(ax) -> dict | None:
    if not ax.get_visible() or _is_colorbar(ax):
        return None
    inventory = _Inventory.of(ax)
    if inventory.is_empty():
        return None

    if inventory.only("wedges"):
        return _pie_chart(ax, inventory.wedges)
    # A box plot is drawn from plain lines (plus PathPatches when
    # patch_artist=True), so it must be recognised before line charts.
    if inventory.only("lines", "path_patches"):
        boxes = _find_boxes(inventory.all_lines, inventory.path_patches)
        if boxes is not None:
            return _box_chart(ax, *boxes)
    if inventory.only("bar_containers"):
        return _bar_chart(ax, inventory.bar_containers)
    # Shaded areas (fill_between) and error bars decorate line and scatter
    # charts without changing what the chart is.
    if inventory.only("lines", "fills"):
        return _line_chart(ax, inventory.lines)
    if inventory.only("scatters", "fills"):
        return _scatter_chart(ax, inventory.scatters)
    return _unknown_chart(ax)


# --------------------------------------------------------------------------
# Sorting an Axes' artists into the buckets the classifier looks at
# --------------------------------------------------------------------------


@dataclass
class _Inventory:
    """The data-carrying artists of one Axes, grouped by kind."""

    lines: list = field(default_factory=list)
    scatters: list = field(default_factory=list)
    fills: list = field(default_factory=list)  # other collections
    bar_containers: list = field(default_factory=list)
    wedges: list = field(default_factory=list)
    path_patches: list = field(default_factory=list)
    other_patches: list = field(default_factory=list)
    images: list = field(default_factory=list)
    # Not a bucket: ``lines`` plus empty ones.  Box plots draw an empty
    # flier line for boxes without outliers, and its position matters.
    all_lines: list = field(default_factory=list)

    _BUCKETS = (
        "lines", "scatters", "fills", "bar_containers",
        "wedges", "path_patches", "other_patches", "images",
    )

    @classmethod
    def of(cls, ax) -> "_Inventory":
        inv = cls()
        decorations = _errorbar_decorations(ax)
        bar_rects = set()
        for container in ax.containers:
            if isinstance(container, BarContainer) and len(container):
                inv.bar_containers.append(container)
                bar_rects.update(id(rect) for rect in container)

        for line in ax.lines:
            if (
                _visible(line)
                and id(line) not in decorations
                and not _is_reference_line(ax, line)
            ):
                inv.all_lines.append(line)
        inv.lines = [line for line in inv.all_lines if len(line.get_xydata())]

        for collection in ax.collections:
            if not _visible(collection) or id(collection) in decorations:
                continue
            if _is_scatter(ax, collection):
                inv.scatters.append(collection)
            else:
                inv.fills.append(collection)

        for patch in ax.patches:
            if not _visible(patch) or id(patch) in bar_rects:
                continue
            if isinstance(patch, Wedge):
                inv.wedges.append(patch)
            elif isinstance(patch, PathPatch):
                inv.path_patches.append(patch)
            else:
                inv.other_patches.append(patch)

        inv.images = [image for image in ax.images if _visible(image)]
        return inv

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self._BUCKETS)

    def only(self, primary: str, *allowed: str) -> bool:
        """True when ``primary`` has artists and nothing outside ``allowed`` does."""
        if not getattr(self, primary):
            return False
        permitted = {primary, *allowed}
        return not any(
            getattr(self, name) for name in self._BUCKETS if name not in permitted
        )


def _visible(artist) -> bool:
    return bool(artist.get_visible())


def _errorbar_decorations(ax) -> set:
    """ids of error-bar caps and bar lines; only the data line is real data."""
    ids = set()
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            _data_line, caplines, barlinecols = container.lines
            ids.update(id(artist) for artist in (*caplines, *barlinecols))
    return ids


def _is_reference_line(ax, line) -> bool:
    # axhline/axvline are placed in axes coordinates along one side, so their
    # transform neither is nor ends in the data transform.  They mark a
    # value; they are not a data series.
    transform = line.get_transform()
    return transform is not ax.transData and not transform.contains_branch(ax.transData)


def _is_scatter(ax, collection) -> bool:
    # scatter() places its markers with offsets in data coordinates; other
    # PathCollections (e.g. contour levels in matplotlib < 3.8) do not.
    return (
        isinstance(collection, PathCollection)
        and collection.get_offset_transform() is ax.transData
    )


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


# --------------------------------------------------------------------------
# Chart builders
# --------------------------------------------------------------------------


def _base_chart(chart_type: str, ax) -> dict:
    return {"type": chart_type, "title": _axes_title(ax), "elements": []}


def _unknown_chart(ax) -> dict:
    try:
        title = _axes_title(ax)
    except Exception:
        title = None
    return {"type": "unknown", "title": title, "elements": []}


def _chart_2d(chart_type: str, ax, swap_axes: bool = False) -> dict:
    """Base chart plus axis labels and units.

    ``swap_axes`` is used for horizontal bars/boxes so that ``x_*`` always
    describes the category axis, as E2B does.
    """
    chart = _base_chart(chart_type, ax)
    x_label, y_label = _text_or_none(ax.get_xlabel()), _text_or_none(ax.get_ylabel())
    if swap_axes:
        x_label, y_label = y_label, x_label
    chart.update(
        x_label=x_label,
        y_label=y_label,
        x_unit=_unit_of(x_label),
        y_unit=_unit_of(y_label),
    )
    return chart


def _point_chart(chart_type: str, ax, series) -> dict:
    """Shared body of line and scatter charts.

    ``series`` yields ``(label, xy)`` with ``xy`` an (N, 2) float array in
    matplotlib's converted data units.
    """
    chart = _chart_2d(chart_type, ax)
    x_axis, y_axis = _AxisValues(ax.xaxis), _AxisValues(ax.yaxis)
    for prefix, axis in (("x", x_axis), ("y", y_axis)):
        ticks, tick_labels = axis.visible_ticks()
        chart[f"{prefix}_ticks"] = ticks
        chart[f"{prefix}_tick_labels"] = tick_labels
        chart[f"{prefix}_scale"] = axis.scale
    chart["elements"] = [
        {"label": label, "points": _points(x_axis, y_axis, xy)}
        for label, xy in series
    ]
    return chart


def _line_chart(ax, lines) -> dict:
    # errorbar() puts the user's label on its container, not on the line.
    container_labels = {
        id(c.lines[0]): c.get_label()
        for c in ax.containers
        if isinstance(c, ErrorbarContainer) and c.lines[0] is not None
    }
    series = (
        (
            _series_label(container_labels.get(id(line), line.get_label()), "Line", index),
            _xy(line.get_xydata()),
        )
        for index, line in enumerate(lines)
    )
    return _point_chart("line", ax, series)


def _scatter_chart(ax, collections) -> dict:
    series = (
        (_series_label(collection.get_label(), "Series", index), _xy(collection.get_offsets()))
        for index, collection in enumerate(collections)
    )
    return _point_chart("scatter", ax, series)


def _bar_chart(ax, containers) -> dict:
    horizontal = all(_orientation(c) == "horizontal" for c in containers)
    chart = _chart_2d("bar", ax, swap_axes=horizontal)
    for index, container in enumerate(containers):
        group = _series_label(container.get_label(), "Group", index, "_container")
        vertical = _orientation(container) == "vertical"
        category_axis = _AxisValues(ax.xaxis if vertical else ax.yaxis)
        for rect in container:
            if vertical:
                position = rect.get_x() + rect.get_width() / 2
                value = rect.get_height()
            else:
                position = rect.get_y() + rect.get_height() / 2
                value = rect.get_width()
            chart["elements"].append({
                "label": category_axis.label_at(position),
                "group": group,
                "value": _number(value),
            })
    return chart


def _orientation(container) -> str:
    return getattr(container, "orientation", None) or "vertical"


def _pie_chart(ax, wedges) -> dict:
    chart = _base_chart("pie", ax)
    for index, wedge in enumerate(wedges):
        label = wedge.get_label()
        chart["elements"].append({
            "label": f"Slice {index}" if _is_unlabelled(label) else str(label),
            # Wedge angles go through float32 in matplotlib, so 324 comes back
            # as 323.99999...; round away that noise.
            "angle": _rounded(abs(wedge.theta2 - wedge.theta1)),
            "radius": _rounded(wedge.r),
        })
    return chart


def _box_chart(ax, boxes, vertical: bool) -> dict:
    chart = _chart_2d("box_and_whisker", ax, swap_axes=not vertical)
    position_axis = _AxisValues(ax.xaxis if vertical else ax.yaxis)
    for box in boxes:
        chart["elements"].append({
            "label": position_axis.label_at(box.center),
            "min": _number(box.low),
            "first_quartile": _number(box.q1),
            "median": _number(box.median),
            "third_quartile": _number(box.q3),
            "max": _number(box.high),
            "outliers": [_number(v) for v in box.outliers],
        })
    return chart


# --------------------------------------------------------------------------
# Box plots: matplotlib keeps no container for them, so rebuild each box
# from the lines boxplot() draws.  For every box it draws, in this order:
# the box outline (a closed line, or a PathPatch with patch_artist=True),
# two whiskers, two caps, the median, the mean (optional) and the fliers
# (a marker-only line, empty when there are none).
# --------------------------------------------------------------------------


@dataclass
class _Box:
    """One box in (position, value) coordinates."""

    pos_lo: float
    pos_hi: float
    q1: float
    q3: float
    notch_median: float | None = None
    median: float | None = None
    median_index: int | None = None
    low: float | None = None
    high: float | None = None
    whiskers: int = 0
    outliers: list = field(default_factory=list)

    @property
    def center(self) -> float:
        return (self.pos_lo + self.pos_hi) / 2


@dataclass
class _Stroke:
    """A line's points in (position, value) coordinates."""

    points: np.ndarray
    marker_only: bool

    @property
    def is_segment(self) -> bool:
        return not self.marker_only and len(self.points) == 2


def _find_boxes(lines, path_patches):
    """Return ``(boxes, vertical)`` if the artists form a box plot, else None."""
    outlines = [_closed_outline(line.get_xydata()) for line in lines]
    outlines += [_patch_outline(patch) for patch in path_patches]
    outlines = [o for o in outlines if o is not None]
    if not outlines:
        return None

    strokes = [
        _Stroke(_xy(line.get_xydata()), line.get_linestyle() in ("None", "none", "", " "))
        for line in lines
    ]
    best = None
    for vertical in (True, False):
        boxes = _match_boxes(outlines, strokes, vertical)
        score = sum(2 * (b.median is not None) + b.whiskers for b in boxes)
        if best is None or score > best[0]:
            best = (score, boxes, vertical)
    _score, boxes, vertical = best
    boxes = [b for b in boxes if b.median is not None]
    return (boxes, vertical) if boxes else None


def _closed_outline(xy):
    """Vertices of a closed polyline (a box drawn with patch_artist=False)."""
    xy = _xy(xy)
    if len(xy) < 5 or not np.isfinite(xy).all() or not np.allclose(xy[0], xy[-1]):
        return None
    return xy


def _patch_outline(patch):
    """Vertices of a box drawn as a PathPatch (patch_artist=True), closed."""
    path = patch.get_path()
    vertices = np.asarray(path.vertices, dtype=float)
    if path.codes is not None:
        # The CLOSEPOLY vertex is a placeholder, not a real point.
        vertices = vertices[np.asarray(path.codes) != Path.CLOSEPOLY]
    if len(vertices) < 4 or not np.isfinite(vertices).all():
        return None
    return np.vstack([vertices, vertices[:1]])


def _match_boxes(outlines, strokes, vertical: bool):
    """Build a box per outline and attach its whiskers, median and outliers.

    Coordinates are swapped for horizontal boxes so one code path handles
    both orientations: "pos" runs across the boxes, "val" along the data.
    """
    if not vertical:
        outlines = [o[:, ::-1] for o in outlines]
        strokes = [_Stroke(s.points[:, ::-1], s.marker_only) for s in strokes]

    boxes = {}
    for outline in outlines:
        box = _box_from_outline(outline)
        _attach_whiskers(box, strokes)
        _attach_median(box, strokes)
        _attach_outliers(box, strokes)
        # Calling boxplot() twice redraws boxes at the same positions; keep
        # one box per position (the latest) in first-seen order.
        boxes[round(box.center, 9)] = box
    return list(boxes.values())


def _box_from_outline(outline) -> _Box:
    pos, val = outline[:, 0].tolist(), outline[:, 1].tolist()
    pos_lo, pos_hi = min(pos), max(pos)
    # The quartiles are the edges running the full box width.  The bounding
    # box is not enough: a notch can reach past the quartiles.
    edges = [
        val[i]
        for i in range(len(outline) - 1)
        if _close(val[i], val[i + 1])
        and _close(min(pos[i], pos[i + 1]), pos_lo)
        and _close(max(pos[i], pos[i + 1]), pos_hi)
    ]
    q1, q3 = (min(edges), max(edges)) if edges else (min(val), max(val))
    box = _Box(pos_lo, pos_hi, q1, q3)
    # A notched outline passes through the median at its narrowest points.
    inner = [v for p, v in zip(pos, val) if not (_close(p, pos_lo) or _close(p, pos_hi))]
    box.notch_median = inner[0] if inner else None
    return box


def _attach_whiskers(box: _Box, strokes) -> None:
    for stroke in strokes:
        if not stroke.is_segment:
            continue
        (p_a, v_a), (p_b, v_b) = stroke.points.tolist()
        if not (_close(p_a, box.center) and _close(p_b, box.center)):
            continue
        lo, hi = min(v_a, v_b), max(v_a, v_b)
        if _close(hi, box.q1) and box.low is None:
            box.low, box.whiskers = lo, box.whiskers + 1
        elif _close(lo, box.q3) and box.high is None:
            box.high, box.whiskers = hi, box.whiskers + 1
    # Without whiskers (whis=0 or hidden), the box edges are the extremes.
    box.low = box.q1 if box.low is None else box.low
    box.high = box.q3 if box.high is None else box.high


def _attach_median(box: _Box, strokes) -> None:
    # Candidates are flat segments inside the box.  Caps are flat too, but
    # sit at the whisker ends and are narrower than a plain box; a mean line
    # (meanline=True) is as wide but drawn after the median.
    best_key = None
    for index, stroke in enumerate(strokes):
        if not _is_flat_inside(box, stroke):
            continue
        (p_a, v_a), (p_b, _v_b) = stroke.points.tolist()
        if box.notch_median is not None and not _close(v_a, box.notch_median):
            continue
        at_whisker_end = _close(v_a, box.low) or _close(v_a, box.high)
        key = (not at_whisker_end, abs(p_b - p_a), -index)
        if best_key is None or key > best_key:
            best_key, box.median, box.median_index = key, v_a, index


def _is_level_across(box: _Box, stroke: _Stroke) -> bool:
    """A level segment within the box's width: a cap, median or mean line."""
    if not stroke.is_segment:
        return False
    (p_a, v_a), (p_b, v_b) = stroke.points.tolist()
    return (
        _close(v_a, v_b)
        and _between(p_a, box.pos_lo, box.pos_hi)
        and _between(p_b, box.pos_lo, box.pos_hi)
    )


def _is_flat_inside(box: _Box, stroke: _Stroke) -> bool:
    """A level segment inside the box: a median candidate."""
    return _is_level_across(box, stroke) and _between(
        float(stroke.points[0, 1]), box.q1, box.q3
    )


def _attach_outliers(box: _Box, strokes) -> None:
    # The marker-only lines right after the median are the optional mean
    # marker and then the fliers, so the last of them holds the fliers.
    # The range check keeps a lone mean marker (showfliers=False) out.
    if box.median_index is None:
        return
    trailing = []
    for stroke in strokes[box.median_index + 1:]:
        if stroke.marker_only:
            trailing.append(stroke.points)
        elif not trailing and _is_level_across(box, stroke):
            continue  # a mean drawn as a line (meanline=True)
        else:
            break
    if trailing:
        box.outliers = [
            v for p, v in trailing[-1].tolist()
            if _close(p, box.center) and (v < box.low or v > box.high)
        ]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-12)


def _between(value: float, lo: float, hi: float) -> bool:
    return (lo <= value <= hi) or _close(value, lo) or _close(value, hi)


# --------------------------------------------------------------------------
# Axis handling: scale, ticks and conversion of data values
# --------------------------------------------------------------------------


# ISO strings (and Python's datetime) cover years 1 to 9999 only.
_FIRST_DATE = np.datetime64("0001-01-01T00:00:00", "us")
_END_DATE = np.datetime64("10000-01-01T00:00:00", "us")
_MICROS_PER_DAY = 86_400_000_000


class _AxisValues:
    """Knows how one axis encodes its values (numbers, dates or categories)."""

    def __init__(self, axis):
        self.axis = axis
        self.categories = _category_names(axis)
        self.period_freq = _pandas_period_freq(axis) if self.categories is None else None
        self.is_datetime = self.categories is None and (
            self.period_freq is not None or _is_datetime_axis(axis)
        )

    @property
    def scale(self) -> str:
        if self.is_datetime:
            return "datetime"
        if self.categories is not None:
            return "categorical"
        return str(self.axis.get_scale())

    def values(self, numbers) -> list:
        """Convert matplotlib's internal floats to JSON values for this axis."""
        numbers = np.asarray(numbers, dtype=float)
        if self.period_freq is not None:
            try:
                return _periods_to_iso(numbers, self.period_freq)
            except Exception:
                return _float_list(numbers)
        if self.is_datetime:
            return _dates_to_iso(numbers)
        if self.categories is not None:
            return [self._category(n) for n in numbers.tolist()]
        return _float_list(numbers)

    def visible_ticks(self) -> tuple[list, list]:
        """Major ticks inside the view limits, and their labels."""
        locs, labels = self._all_ticks()
        lo, hi = sorted(float(v) for v in self.axis.get_view_interval())
        slack = (hi - lo) * 1e-9
        keep = [i for i, loc in enumerate(locs.tolist()) if lo - slack <= loc <= hi + slack]
        ticks = self.values(locs[keep])
        if self.categories is None and not self.is_datetime:
            # Locators step in binary floats: 1.2000000000000002 -> 1.2.
            ticks = [_rounded(tick, 12) for tick in ticks]
        return ticks, [labels[i] for i in keep]

    def label_at(self, position: float) -> str:
        """Text for a bar or box at ``position``: its tick label if it has one."""
        if self.categories is not None:
            category = self._category(position)
            if isinstance(category, str):
                return category
        locs, labels = self._all_ticks()
        labelled = [(loc, label) for loc, label in zip(locs.tolist(), labels) if label]
        for loc, label in labelled:
            if _close(loc, position):
                return label
        # Hand-placed ticks (set_xticks, pandas' bar plots) label a group of
        # bars drawn beside the tick, so the nearest tick names the bar.
        if labelled and isinstance(self.axis.get_major_locator(), mticker.FixedLocator):
            return min(labelled, key=lambda item: abs(item[0] - position))[1]
        if self.is_datetime:
            return self.values([position])[0] or ""
        return _format_number(position)

    def _all_ticks(self) -> tuple[np.ndarray, list]:
        """All major tick locations and labels; none if the axis can't tick.

        Locators can fail on data the scale cannot show (a logit axis over
        values outside (0, 1)); the chart is still worth returning.
        """
        try:
            locs = np.asarray(self.axis.get_majorticklocs(), dtype=float).ravel()
        except Exception:
            return np.empty(0), []
        try:
            # Ask the formatter directly: get_ticklabels() returns labels for
            # both sides of the axis, or none if one side's labels are off.
            labels = list(self.axis.get_major_formatter().format_ticks(locs))
        except Exception:
            labels = [""] * len(locs)
        return locs, [_clean_text(str(label)) for label in labels]

    def _category(self, number: float):
        if not math.isfinite(number):
            return None
        index = round(number)
        if abs(number - index) < 1e-6 and 0 <= index < len(self.categories):
            return self.categories[index]
        return number


def _category_names(axis) -> list | None:
    """Category strings by index when the axis holds string categories."""
    units = axis.get_units()
    if not isinstance(units, UnitData):
        return None
    names = [None] * len(units._mapping)
    for name, index in units._mapping.items():
        names[index] = str(name)
    return names


def _is_datetime_axis(axis) -> bool:
    converter = getattr(axis, "converter", None)
    date_converters = tuple(
        cls for cls in (
            getattr(mdates, "DateConverter", None),
            getattr(mdates, "_SwitchableDateConverter", None),
        ) if cls is not None
    )
    if date_converters and isinstance(converter, date_converters):
        return True
    # ax.xaxis_date() or a manually set date locator/formatter also count.
    return isinstance(axis.get_major_locator(), mdates.DateLocator) or isinstance(
        axis.get_major_formatter(),
        (mdates.DateFormatter, mdates.AutoDateFormatter, mdates.ConciseDateFormatter),
    )


def _pandas_period_freq(axis):
    """The period frequency when pandas drew a time series on this axis.

    ``Series.plot()`` on a DatetimeIndex stores period ordinals (months since
    1970 for monthly data, ...), not matplotlib dates; pandas' tick locator
    carries the frequency needed to turn them back into timestamps.
    """
    locator = axis.get_major_locator()
    if not type(locator).__module__.startswith("pandas."):
        return None
    return getattr(locator, "freq", None)


def _periods_to_iso(ordinals: np.ndarray, freq) -> list:
    pd = sys.modules["pandas"]  # pandas drew the axis, so it is imported
    valid = np.isfinite(ordinals)
    whole = np.where(valid, np.rint(ordinals), 0).astype(np.int64)
    if hasattr(pd.PeriodIndex, "from_ordinals"):  # pandas >= 2.2
        periods = pd.PeriodIndex.from_ordinals(whole, freq=freq)
    else:
        periods = pd.PeriodIndex(ordinal=whole, freq=freq)
    stamps = np.asarray(periods.to_timestamp()).astype("datetime64[us]")
    return _stamps_to_iso(stamps, valid)


def _dates_to_iso(days) -> list:
    """matplotlib date numbers (days since its epoch) -> ISO strings, vectorised."""
    days = np.asarray(days, dtype=float)
    epoch = np.datetime64(mdates.get_epoch(), "us")
    # Range-check in days first so the integer conversion cannot overflow.
    first = (_FIRST_DATE - epoch).astype(np.int64) / _MICROS_PER_DAY
    end = (_END_DATE - epoch).astype(np.int64) / _MICROS_PER_DAY
    valid = np.isfinite(days) & (days >= first) & (days < end)
    micros = np.zeros(days.shape, dtype=np.int64)
    micros[valid] = np.rint(days[valid] * _MICROS_PER_DAY).astype(np.int64)
    return _stamps_to_iso(epoch + micros.astype("timedelta64[us]"), valid)


def _stamps_to_iso(stamps: np.ndarray, valid: np.ndarray) -> list:
    """datetime64[us] values -> ISO strings, None where ``valid`` is False."""
    micros = stamps.astype(np.int64)[valid]
    text = np.datetime_as_string(stamps, unit=_iso_unit(micros)).tolist()
    for index in np.flatnonzero(~valid).tolist():
        text[index] = None
    return text


def _iso_unit(micros: np.ndarray) -> str:
    # Print only as much precision as the data has: "...T12:00:00" rather
    # than "...T12:00:00.000000" for whole seconds.
    if not np.any(micros % 1_000_000):
        return "s"
    if not np.any(micros % 1_000):
        return "ms"
    return "us"


# --------------------------------------------------------------------------
# Small value helpers
# --------------------------------------------------------------------------


_UNIT_AT_END = re.compile(r"(?:\(([^()]*)\)|\[([^\[\]]*)\])\s*$")
_MATHDEFAULT = re.compile(r"\\mathdefault\{(.*)\}")


def _axes_title(ax) -> str | None:
    # The centre title is the usual one; fall back to left/right titles.
    for loc in ("center", "left", "right"):
        title = _text_or_none(ax.get_title(loc=loc))
        if title:
            return title
    return None


def _figure_title(fig) -> str | None:
    suptitle = getattr(fig, "_suptitle", None)
    return _text_or_none(suptitle.get_text()) if suptitle is not None else None


def _text_or_none(text) -> str | None:
    text = "" if text is None else str(text)
    return text if text.strip() else None


def _unit_of(label: str | None) -> str | None:
    """'Time (s)' -> 's', 'Speed [m/s]' -> 'm/s', otherwise None."""
    if not label:
        return None
    match = _UNIT_AT_END.search(label)
    if not match:
        return None
    unit = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    return unit or None


def _clean_text(text: str) -> str:
    """Tick label text without mathtext wrapping ('$\\mathdefault{10^{2}}$')."""
    if len(text) >= 2 and text.startswith("$") and text.endswith("$"):
        text = _MATHDEFAULT.sub(r"\1", text[1:-1])
    return text.replace("\u2212", "-")  # matplotlib's typographic minus


def _is_unlabelled(label) -> bool:
    # matplotlib marks artists without a user label with a leading underscore.
    return not label or str(label).startswith("_")


def _series_label(label, prefix: str, index: int, auto_prefix: str = "_child") -> str:
    """User label, or "<prefix> N" for unlabelled artists.

    N is taken from matplotlib's automatic label ("_child3", "_container1")
    when present, as E2B does, else the artist's position in its list.
    """
    if not _is_unlabelled(label):
        return str(label)
    match = re.fullmatch(re.escape(auto_prefix) + r"(\d+)", str(label))
    return f"{prefix} {match.group(1) if match else index}"


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rounded(value, digits: int = 6) -> float | None:
    """``value`` to ``digits`` significant digits (drops float32 noise)."""
    number = _number(value)
    return None if number is None else float(f"{number:.{digits}g}")


def _format_number(value: float) -> str:
    number = _number(value)
    if number is None:
        return ""
    if number.is_integer():
        return str(int(number))
    return f"{number:.10g}"


def _xy(data) -> np.ndarray:
    """Any (N, 2) point data (masked or not) as a float array with NaN gaps."""
    array = np.ma.filled(np.ma.asarray(data, dtype=float), np.nan)
    return array.reshape(-1, 2)


def _float_list(numbers: np.ndarray) -> list:
    values = numbers.tolist()
    bad = ~np.isfinite(numbers)
    if bad.any():
        for index in np.flatnonzero(bad).tolist():
            values[index] = None
    return values


def _points(x_axis: _AxisValues, y_axis: _AxisValues, xy: np.ndarray) -> list:
    xs = x_axis.values(xy[:, 0])
    ys = y_axis.values(xy[:, 1])
    return [[x, y] for x, y in zip(xs, ys)]
