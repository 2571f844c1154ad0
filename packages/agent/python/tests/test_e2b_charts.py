"""Tests for e2b_charts.chart_from_figure.

Run from the repository root with Debian's Python (it has matplotlib):
    /usr/bin/python3 -m unittest discover -s packages/agent/python/tests -v
"""

import datetime
import json
import os
import sys
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from e2b_charts import chart_from_figure  # noqa: E402

POINT_KEYS = {
    "type", "title", "elements", "x_label", "y_label", "x_unit", "y_unit",
    "x_ticks", "x_tick_labels", "x_scale", "y_ticks", "y_tick_labels", "y_scale",
}
CHART_2D_KEYS = {"type", "title", "elements", "x_label", "y_label", "x_unit", "y_unit"}


class ChartTestCase(unittest.TestCase):
    def tearDown(self):
        plt.close("all")

    def chart(self, fig):
        """Extract the chart and check it survives strict JSON encoding."""
        chart = chart_from_figure(fig)
        json.dumps(chart, allow_nan=False)
        return chart


class LineChartTest(ChartTestCase):
    def test_line_chart_elements_labels_and_units(self):
        x = np.linspace(0, 2 * np.pi, 100)
        fig, ax = plt.subplots()
        ax.plot(x, np.sin(x), label="sin(x)")
        ax.plot(x, np.cos(x))
        ax.plot(x, np.zeros_like(x), label="_hidden")
        ax.set_title("Waves")
        ax.set_xlabel("Time (s)")
        ax.set_ylabel("Amplitude [Hz]")

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "line")
        self.assertEqual(set(chart), POINT_KEYS)
        self.assertEqual(chart["title"], "Waves")
        self.assertEqual((chart["x_label"], chart["y_label"]), ("Time (s)", "Amplitude [Hz]"))
        self.assertEqual((chart["x_unit"], chart["y_unit"]), ("s", "Hz"))
        self.assertEqual((chart["x_scale"], chart["y_scale"]), ("linear", "linear"))

        labels = [element["label"] for element in chart["elements"]]
        self.assertEqual(labels, ["sin(x)", "Line 1", "Line 2"])
        points = chart["elements"][0]["points"]
        self.assertEqual(len(points), 100)
        self.assertEqual(points[0], [0.0, 0.0])
        self.assertAlmostEqual(points[25][1], np.sin(x[25]))
        self.assertTrue(all(type(v) is float for point in points for v in point))

    def test_ticks_are_visible_floats_with_string_labels(self):
        fig, ax = plt.subplots()
        ax.plot([0, 10], [0, 1])

        chart = self.chart(fig)

        self.assertEqual(chart["x_ticks"], [0.0, 2.0, 4.0, 6.0, 8.0, 10.0])
        self.assertEqual(chart["x_tick_labels"], ["0", "2", "4", "6", "8", "10"])
        self.assertEqual(len(chart["y_ticks"]), len(chart["y_tick_labels"]))
        self.assertTrue(all(isinstance(label, str) for label in chart["y_tick_labels"]))

    def test_unit_parsing(self):
        cases = {
            "Distance (km)": "km",
            "Speed [m/s]": "m/s",
            "Count": None,
            "Value (raw) of things": None,
            "Empty ()": None,
        }
        for label, unit in cases.items():
            with self.subTest(label=label):
                fig, ax = plt.subplots()
                ax.plot([1, 2])
                ax.set_xlabel(label)
                self.assertEqual(self.chart(fig)["x_unit"], unit)
                plt.close(fig)

    def test_missing_values_become_none(self):
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1.0, np.nan, np.inf])

        points = self.chart(fig)["elements"][0]["points"]

        self.assertEqual(points, [[0.0, 1.0], [1.0, None], [2.0, None]])

    def test_error_bars_and_reference_lines_are_not_series(self):
        fig, ax = plt.subplots()
        ax.errorbar([1, 2, 3], [2, 4, 6], yerr=0.5, capsize=3, label="measured")
        ax.axhline(3)
        ax.fill_between([1, 2, 3], [1, 3, 5], [3, 5, 7], alpha=0.2)

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "line")
        self.assertEqual([e["label"] for e in chart["elements"]], ["measured"])

    def test_fifty_thousand_points_are_fast(self):
        x = np.linspace(0, 100, 50_000)
        fig, ax = plt.subplots()
        ax.plot(x, np.sin(x))

        started = time.perf_counter()
        chart = self.chart(fig)
        elapsed = time.perf_counter() - started

        points = chart["elements"][0]["points"]
        self.assertEqual(len(points), 50_000)
        self.assertEqual(points[-1][0], 100.0)
        self.assertLess(elapsed, 2.0)


class ScaleTest(ChartTestCase):
    def test_log_scale(self):
        fig, ax = plt.subplots()
        ax.plot([1, 10, 100, 1000], [1, 2, 3, 4])
        ax.set_xscale("log")

        chart = self.chart(fig)

        self.assertEqual(chart["x_scale"], "log")
        self.assertEqual(chart["y_scale"], "linear")
        self.assertEqual(chart["x_ticks"], [1.0, 10.0, 100.0, 1000.0])
        self.assertEqual(chart["x_tick_labels"], ["10^{0}", "10^{1}", "10^{2}", "10^{3}"])

    def test_other_named_scales(self):
        for scale in ("symlog", "asinh"):
            with self.subTest(scale=scale):
                fig, ax = plt.subplots()
                ax.plot([1, 2, 3])
                ax.set_yscale(scale)
                self.assertEqual(self.chart(fig)["y_scale"], scale)
                plt.close(fig)

    def test_datetime_scale(self):
        start = datetime.datetime(2023, 9, 1)
        dates = [start + datetime.timedelta(hours=i) for i in range(48)]
        fig, ax = plt.subplots()
        ax.plot(dates, np.arange(48), label="hourly")

        chart = self.chart(fig)

        self.assertEqual(chart["x_scale"], "datetime")
        self.assertEqual(chart["y_scale"], "linear")
        points = chart["elements"][0]["points"]
        self.assertEqual(points[0], ["2023-09-01T00:00:00", 0.0])
        self.assertEqual(points[47][0], "2023-09-02T23:00:00")
        self.assertTrue(chart["x_ticks"])
        for tick in chart["x_ticks"]:
            self.assertIsInstance(datetime.datetime.fromisoformat(tick), datetime.datetime)
        self.assertTrue(all(isinstance(t, float) for t in chart["y_ticks"]))

    def test_datetime_keeps_sub_second_precision(self):
        dates = [datetime.datetime(2024, 1, 1, 12, 0, 0, 250_000), datetime.datetime(2024, 1, 1, 12, 0, 1)]
        fig, ax = plt.subplots()
        ax.plot(dates, [1, 2])

        points = self.chart(fig)["elements"][0]["points"]

        self.assertEqual([p[0] for p in points], ["2024-01-01T12:00:00.250", "2024-01-01T12:00:01.000"])

    def test_pandas_monthly_time_series(self):
        import pandas as pd

        series = pd.Series([1, 2, 3], index=pd.date_range("2023-01-01", periods=3, freq="MS"))
        ax = series.plot()

        chart = self.chart(ax.figure)

        self.assertEqual(chart["x_scale"], "datetime")
        self.assertEqual(
            [p[0] for p in chart["elements"][0]["points"]],
            ["2023-01-01T00:00:00", "2023-02-01T00:00:00", "2023-03-01T00:00:00"],
        )

    def test_categorical_scale(self):
        fig, ax = plt.subplots()
        ax.plot(["a", "b", "c"], [1, 3, 2])

        chart = self.chart(fig)

        self.assertEqual(chart["x_scale"], "categorical")
        self.assertEqual(chart["elements"][0]["points"], [["a", 1.0], ["b", 3.0], ["c", 2.0]])
        self.assertEqual(chart["x_ticks"], ["a", "b", "c"])
        self.assertEqual(chart["x_tick_labels"], ["a", "b", "c"])

    def test_categorical_y_axis(self):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3, 4, 5], ["A", "B", "C", "D", "E"])

        chart = self.chart(fig)

        self.assertEqual((chart["x_scale"], chart["y_scale"]), ("linear", "categorical"))


class ScatterChartTest(ChartTestCase):
    def test_scatter_chart(self):
        fig, ax = plt.subplots()
        ax.scatter([1, 2, 3], [4, 5, 6], label="Dataset 1")
        ax.scatter([7], [8])
        ax.set_xlabel("X")

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "scatter")
        self.assertEqual(set(chart), POINT_KEYS)
        self.assertEqual(chart["x_label"], "X")
        first, second = chart["elements"]
        self.assertEqual(first, {"label": "Dataset 1", "points": [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]})
        self.assertEqual(second["label"], "Series 1")
        self.assertEqual(second["points"], [[7.0, 8.0]])

    def test_scatter_with_colorbar_is_not_a_superchart(self):
        fig, ax = plt.subplots()
        points = ax.scatter([1, 2], [3, 4], c=[0.1, 0.9])
        fig.colorbar(points)

        self.assertEqual(self.chart(fig)["type"], "scatter")


class BarChartTest(ChartTestCase):
    def test_bar_chart(self):
        fig, ax = plt.subplots()
        ax.bar(["Author A", "Author B", "Author C"], [100, 200, 300], label="Books Sold")
        ax.set_title("Book Sales")
        ax.set_xlabel("Authors")
        ax.set_ylabel("Sales (units)")

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "bar")
        self.assertEqual(set(chart), CHART_2D_KEYS)
        self.assertEqual(chart["title"], "Book Sales")
        self.assertEqual((chart["x_unit"], chart["y_unit"]), (None, "units"))
        self.assertEqual(chart["elements"], [
            {"label": "Author A", "group": "Books Sold", "value": 100.0},
            {"label": "Author B", "group": "Books Sold", "value": 200.0},
            {"label": "Author C", "group": "Books Sold", "value": 300.0},
        ])

    def test_unnamed_groups_and_hand_placed_ticks(self):
        x = np.arange(2)
        fig, ax = plt.subplots()
        ax.bar(x - 0.2, [1, 2], width=0.4)
        ax.bar(x + 0.2, [3, 4], width=0.4)
        ax.set_xticks(x, ["north", "south"])

        chart = self.chart(fig)

        self.assertEqual(
            [(e["label"], e["group"], e["value"]) for e in chart["elements"]],
            [("north", "Group 0", 1.0), ("south", "Group 0", 2.0),
             ("north", "Group 1", 3.0), ("south", "Group 1", 4.0)],
        )

    def test_horizontal_bars(self):
        fig, ax = plt.subplots()
        ax.barh(["x", "y"], [5, 7], label="h")
        ax.set_xlabel("Amount (kg)")
        ax.set_ylabel("Item")

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "bar")
        self.assertEqual([(e["label"], e["value"]) for e in chart["elements"]], [("x", 5.0), ("y", 7.0)])
        # Like E2B, x_* describes the category axis for horizontal bars.
        self.assertEqual((chart["x_label"], chart["y_label"]), ("Item", "Amount (kg)"))
        self.assertEqual(chart["y_unit"], "kg")


class PieChartTest(ChartTestCase):
    def test_pie_chart(self):
        fig, ax = plt.subplots()
        ax.pie([90, 10], labels=["No", "No, in blue"], autopct="%1.1f%%", startangle=90)
        ax.set_title("Will I wake up early tomorrow?")

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "pie")
        self.assertEqual(set(chart), {"type", "title", "elements"})
        self.assertEqual(chart["title"], "Will I wake up early tomorrow?")
        self.assertEqual(chart["elements"], [
            {"label": "No", "angle": 324.0, "radius": 1.0},
            {"label": "No, in blue", "angle": 36.0, "radius": 1.0},
        ])


class BoxAndWhiskerChartTest(ChartTestCase):
    DATA = {
        "Class A": [85, 90, 78, 92, 88],
        "Class B": [95, 89, 76, 91, 84, 87],  # 76 is below Q1 - 1.5 * IQR
        "Class C": [75, 82, 88, 79, 86],
    }
    OUTLIERS = {"Class B": [76]}

    def expected(self, label, values, outliers=()):
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        inliers = [v for v in values if v not in outliers]
        return {
            "label": label,
            "min": float(min(inliers)),
            "first_quartile": float(q1),
            "median": float(median),
            "third_quartile": float(q3),
            "max": float(max(inliers)),
            "outliers": [float(v) for v in outliers],
        }

    def test_box_plot_drawn_twice_with_patches(self):
        # The E2B sample draws the same boxes twice, once as patches.
        fig, ax = plt.subplots()
        ax.boxplot(self.DATA.values(), labels=self.DATA.keys())
        ax.boxplot(self.DATA.values(), labels=self.DATA.keys(), patch_artist=True)
        ax.set_title("Exam Scores Distribution")
        ax.set_xlabel("Class")
        ax.set_ylabel("Score")

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "box_and_whisker")
        self.assertEqual(set(chart), CHART_2D_KEYS)
        self.assertEqual(chart["title"], "Exam Scores Distribution")
        self.assertEqual((chart["x_label"], chart["y_label"]), ("Class", "Score"))
        self.assertEqual(
            chart["elements"],
            [
                self.expected(label, values, self.OUTLIERS.get(label, ()))
                for label, values in self.DATA.items()
            ],
        )

    def test_outliers_means_and_notches(self):
        values = [1, 2, 3, 4, 50]
        for options in ({}, {"showmeans": True}, {"showmeans": True, "meanline": True},
                        {"notch": True, "patch_artist": True}):
            with self.subTest(**options):
                fig, ax = plt.subplots()
                ax.boxplot([values, [2, 3, 4, 5]], labels=["skewed", "plain"], **options)
                elements = self.chart(fig)["elements"]
                self.assertEqual(elements, [
                    self.expected("skewed", values, outliers=[50]),
                    self.expected("plain", [2, 3, 4, 5]),
                ])
                plt.close(fig)

    def test_horizontal_box_plot(self):
        fig, ax = plt.subplots()
        ax.boxplot([[1, 2, 3, 4, 5]], vert=False, labels=["row"])

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "box_and_whisker")
        self.assertEqual(chart["elements"], [self.expected("row", [1, 2, 3, 4, 5])])


class FigureLevelTest(ChartTestCase):
    def test_superchart(self):
        fig, axs = plt.subplots(1, 3)
        fig.suptitle("Multiple Charts")
        axs[0].plot(np.linspace(0, 10, 100), np.sin(np.linspace(0, 10, 100)))
        axs[0].set_title("Sine Wave")
        axs[1].scatter([0.1, 0.5], [0.2, 0.7], label="Dataset 1")
        axs[1].set_title("Scatter Plot")
        # axs[2] stays empty and is left out.

        chart = self.chart(fig)

        self.assertEqual(chart["type"], "superchart")
        self.assertEqual(set(chart), {"type", "title", "elements"})
        self.assertEqual(chart["title"], "Multiple Charts")
        first, second = chart["elements"]
        self.assertEqual((first["type"], first["title"]), ("line", "Sine Wave"))
        self.assertEqual(len(first["elements"][0]["points"]), 100)
        self.assertEqual((second["type"], second["title"]), ("scatter", "Scatter Plot"))

    def test_superchart_without_suptitle(self):
        fig, axs = plt.subplots(2)
        axs[0].plot([1, 2])
        axs[1].bar(["a"], [1])

        chart = self.chart(fig)

        self.assertIsNone(chart["title"])
        self.assertEqual([c["type"] for c in chart["elements"]], ["line", "bar"])

    def test_blank_figures_give_none(self):
        fig, _ax = plt.subplots()
        self.assertIsNone(self.chart(fig))
        self.assertIsNone(self.chart(plt.figure()))

        fig, ax = plt.subplots()
        ax.text(0.5, 0.5, "just words")
        self.assertIsNone(self.chart(fig))

    def test_unclassifiable_data_is_unknown(self):
        fig, ax = plt.subplots()
        ax.imshow(np.random.default_rng(0).random((4, 4)))
        ax.set_title("heat")
        self.assertEqual(self.chart(fig), {"type": "unknown", "title": "heat", "elements": []})

        fig, ax = plt.subplots()
        ax.plot([1, 2])
        ax.scatter([1], [2])
        self.assertEqual(self.chart(fig)["type"], "unknown")

    def test_never_raises(self):
        class BrokenAxes:
            def get_visible(self):
                return True

            def __getattr__(self, name):
                raise RuntimeError("broken")

        class FigureWithBrokenAxes:
            def get_axes(self):
                return [BrokenAxes()]

        self.assertEqual(
            chart_from_figure(FigureWithBrokenAxes()),
            {"type": "unknown", "title": None, "elements": []},
        )
        self.assertIsNone(chart_from_figure(None))

        # A scale that cannot place ticks for the data still yields the
        # data, without the extractor leaking warnings into user output.
        # x = 0 makes matplotlib's logit locator overflow.
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 2])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ax.set_xscale("logit")  # warns here: data outside (0, 1)
            caught.clear()
            chart = self.chart(fig)
        self.assertEqual(caught, [])
        self.assertEqual(chart["type"], "line")
        self.assertEqual(chart["x_scale"], "logit")
        self.assertEqual(chart["x_ticks"], [])


if __name__ == "__main__":
    unittest.main()
