// Code-interpreter results (wire protocol §4.2, §4.3) through the unmodified
// @e2b/code-interpreter SDK: every MIME type a result can carry, DataFrames, and the
// chart JSON extracted from matplotlib figures of each kind.
import { describe, expect, test } from 'vitest';
import { Sandbox, type Result } from '@e2b/code-interpreter';
import { useRuntime, useSandbox } from '../support/runtime.js';

const h = useRuntime();
let sbx: Sandbox;
useSandbox(() => Sandbox.create(h.opts), (s) => (sbx = s));

/** The single result of a run that must succeed. */
async function only(code: string): Promise<Result> {
  const e = await sbx.runCode(code);
  expect(e.error).toBeUndefined();
  expect(e.results).toHaveLength(1);
  expect(e.results[0].extra).toEqual({});
  return e.results[0];
}

/** The chart of a figure shown with plt.show() (a display result, not the main one). */
async function chart(code: string): Promise<any> {
  const r = await only(`import matplotlib.pyplot as plt\nimport numpy as np\n${code}\nplt.show()`);
  expect(r.isMainResult).toBe(false);
  expect(r.png).toBeTruthy();
  expect(r.chart).toBeTruthy();
  return r.chart;
}

const bytes = (b64: string) => Buffer.from(b64, 'base64');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('result types', () => {
  test('text', async () => {
    const r = await only('6 * 7');
    expect(r).toMatchObject({ text: '42', isMainResult: true });
    expect(r.formats()).toEqual([]);
  });

  test('png, from IPython.display.Image and from a figure', async () => {
    const r = await only(
      'import io\nfrom PIL import Image as PILImage\nfrom IPython.display import Image\n' +
        'buf = io.BytesIO()\nPILImage.new("RGB", (3, 2), "red").save(buf, "PNG")\nImage(data=buf.getvalue(), format="png")',
    );
    expect(r.formats()).toEqual(['png']);
    expect(r.png).not.toMatch(/^data:|\s/);
    const png = bytes(r.png!);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(png.readUInt32BE(16)).toBe(3); // IHDR width
    expect(png.readUInt32BE(20)).toBe(2); // IHDR height

    const fig = await only('import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()');
    expect(bytes(fig.png!).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  test('jpeg', async () => {
    const r = await only(
      'import io\nfrom PIL import Image as PILImage\nfrom IPython.display import Image\n' +
        'buf = io.BytesIO()\nPILImage.new("RGB", (4, 4), "blue").save(buf, "JPEG")\nImage(data=buf.getvalue(), format="jpeg")',
    );
    expect(r.formats()).toEqual(['jpeg']);
    const jpeg = bytes(r.jpeg!);
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
  });

  test('svg, html, markdown, latex, javascript', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const s = await only(`from IPython.display import SVG\nSVG('${svg}')`);
    expect(s.formats()).toEqual(['svg']);
    expect(s.svg).toBe(svg);

    const html = await only('from IPython.display import HTML\nHTML("<h1>Title</h1><p>é</p>")');
    expect(html.formats()).toEqual(['html']);
    expect(html.html).toBe('<h1>Title</h1><p>é</p>');

    const md = await only('from IPython.display import Markdown\nMarkdown("# Heading\\n\\n*emphasis*")');
    expect(md.formats()).toEqual(['markdown']);
    expect(md.markdown).toBe('# Heading\n\n*emphasis*');

    const latex = await only('from IPython.display import Latex\nLatex(r"$\\frac{a}{b}$")');
    expect(latex.formats()).toEqual(['latex']);
    expect(latex.latex).toBe('$\\frac{a}{b}$');

    const js = await only('from IPython.display import Javascript\nJavascript("console.log(1 + 1)")');
    expect(js.formats()).toEqual(['javascript']);
    expect(js.javascript).toBe('console.log(1 + 1)');
  });

  test('json is an object', async () => {
    const r = await only('from IPython.display import JSON\nJSON({"a": 1, "b": [1, 2.5, None], "c": {"d": "e"}})');
    expect(r.formats()).toEqual(['json']);
    expect(r.json).toEqual({ a: 1, b: [1, 2.5, null], c: { d: 'e' } });
  });

  test('pdf', async () => {
    const r = await only(
      'import io\nfrom matplotlib.figure import Figure\n' +
        'class Doc:\n    def _repr_pdf_(self):\n        buf = io.BytesIO()\n        fig = Figure()\n        fig.add_subplot().plot([1, 2])\n' +
        '        fig.savefig(buf, format="pdf")\n        return buf.getvalue()\nDoc()',
    );
    expect(r.formats()).toEqual(['pdf']);
    const pdf = bytes(r.pdf!);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-8).toString('latin1')).toMatch(/%%EOF\s*$/);
  });

  test('an object with several representations has them all', async () => {
    const r = await only(
      'class Multi:\n    def _repr_html_(self): return "<i>m</i>"\n    def _repr_markdown_(self): return "*m*"\n' +
        '    def _repr_latex_(self): return "$m$"\n    def __repr__(self): return "Multi()"\nMulti()',
    );
    expect(r.formats()).toEqual(['html', 'markdown', 'latex']);
    expect(r).toMatchObject({ text: 'Multi()', html: '<i>m</i>', markdown: '*m*', latex: '$m$' });
  });

  test('a DataFrame has data {column: [values]} and html', async () => {
    const r = await only(
      'import pandas as pd\npd.DataFrame({"name": ["a", "b", "c"], "n": [1, 2, 3], "x": [0.5, None, 2.0]})',
    );
    expect(r.formats()).toEqual(['html', 'data']);
    expect(r.data).toEqual({ name: ['a', 'b', 'c'], n: [1, 2, 3], x: [0.5, null, 2.0] });
    expect(r.html).toContain('<table');
    expect(r.html).toContain('<th>name</th>');
    expect(r.text).toContain('name');
  });
});

describe('charts', () => {
  test('line: points, labels, axis labels with units, ticks, scale', async () => {
    const c = await chart(
      'x = np.linspace(0, 10, 5)\nplt.plot(x, 2 * x, label="double")\nplt.plot(x, x ** 2)\n' +
        'plt.xlabel("Time (s)")\nplt.ylabel("Distance [m]")\nplt.title("Motion")\nplt.legend()',
    );
    expect(c).toMatchObject({ type: 'line', title: 'Motion', x_label: 'Time (s)', y_label: 'Distance [m]', x_unit: 's', y_unit: 'm' });
    expect(c.x_scale).toBe('linear');
    expect(c.y_scale).toBe('linear');
    expect(c.elements).toEqual([
      { label: 'double', points: [[0, 0], [2.5, 5], [5, 10], [7.5, 15], [10, 20]] },
      { label: expect.stringMatching(/^Line \d$/), points: [[0, 0], [2.5, 6.25], [5, 25], [7.5, 56.25], [10, 100]] },
    ]);
    expect(c.x_ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(c.x_tick_labels).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(c.y_ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(c.y_tick_labels).toEqual(['0', '20', '40', '60', '80', '100']);
  });

  test('scatter', async () => {
    const c = await chart('plt.scatter([1, 2, 3], [3, 1, 2], label="pts")\nplt.scatter([4, 5], [1, 1], label="more")\nplt.xlabel("Mass (kg)")');
    expect(c).toMatchObject({ type: 'scatter', title: null, x_label: 'Mass (kg)', x_unit: 'kg', y_label: null, x_scale: 'linear' });
    expect(c.elements).toEqual([
      { label: 'pts', points: [[1, 3], [2, 1], [3, 2]] },
      { label: 'more', points: [[4, 1], [5, 1]] },
    ]);
    expect(c.x_ticks.length).toBe(c.x_tick_labels.length);
    expect(c.x_ticks.every((t: unknown) => typeof t === 'number')).toBe(true);
  });

  test('bar: label, group, value', async () => {
    const c = await chart(
      'plt.bar(["a", "b", "c"], [3, 5, 1], label="2023")\nplt.bar(["a", "b", "c"], [1, 1, 2], bottom=[3, 5, 1], label="2024")\n' +
        'plt.title("Sales")\nplt.ylabel("Units (k)")\nplt.legend()',
    );
    expect(c).toMatchObject({ type: 'bar', title: 'Sales', y_label: 'Units (k)', y_unit: 'k' });
    expect(c.elements).toEqual([
      { label: 'a', group: '2023', value: 3 },
      { label: 'b', group: '2023', value: 5 },
      { label: 'c', group: '2023', value: 1 },
      { label: 'a', group: '2024', value: 1 },
      { label: 'b', group: '2024', value: 1 },
      { label: 'c', group: '2024', value: 2 },
    ]);
  });

  test('pie: labels and angles summing to 360', async () => {
    const c = await chart('plt.pie([1, 2, 3], labels=["x", "y", "z"])\nplt.title("Share")');
    expect(c.type).toBe('pie');
    expect(c.title).toBe('Share');
    expect(c.elements.map((e: any) => e.label)).toEqual(['x', 'y', 'z']);
    expect(c.elements.map((e: any) => e.angle)).toEqual([60, 120, 180]);
    expect(c.elements.reduce((s: number, e: any) => s + e.angle, 0)).toBeCloseTo(360, 6);
    expect(c.elements.every((e: any) => e.radius === 1)).toBe(true);
  });

  test('box and whisker: quartiles, median, whiskers and outliers match numpy', async () => {
    const e = await sbx.runCode(
      'import json\nimport matplotlib.pyplot as plt\nimport numpy as np\n' +
        'data = {"A": [1, 2, 3, 4, 5, 6, 7, 8, 9, 100], "B": [2.5, 3, 4, 5, 6, 7.5]}\n' +
        'fig, ax = plt.subplots()\nax.boxplot(list(data.values()), labels=list(data))\nax.set_ylabel("Score")\n' +
        'expected = []\nfor name, d in data.items():\n    q1, med, q3 = np.percentile(d, [25, 50, 75])\n    iqr = q3 - q1\n' +
        '    inside = [v for v in d if q1 - 1.5 * iqr <= v <= q3 + 1.5 * iqr]\n' +
        '    expected.append({"label": name, "min": min(inside), "first_quartile": q1, "median": med, "third_quartile": q3,\n' +
        '                     "max": max(inside), "outliers": [v for v in d if v not in inside]})\n' +
        'print(json.dumps(expected))\nplt.show()',
    );
    expect(e.error).toBeUndefined();
    const expected = JSON.parse(e.logs.stdout.join(''));
    const c: any = e.results[0].chart;
    expect(c).toMatchObject({ type: 'box_and_whisker', y_label: 'Score' });
    expect(c.elements).toHaveLength(2);
    c.elements.forEach((el: any, i: number) => {
      const want = expected[i];
      expect(el.label).toBe(want.label);
      for (const k of ['min', 'first_quartile', 'median', 'third_quartile', 'max']) expect(el[k]).toBeCloseTo(want[k], 6);
      expect(el.outliers).toEqual(want.outliers);
    });
    expect(c.elements[0].outliers).toEqual([100]);
  });

  test('superchart: subplots with a suptitle', async () => {
    const c = await chart(
      'fig, (left, right) = plt.subplots(1, 2)\nleft.plot([1, 2], [3, 4], label="up")\nleft.set_title("Left")\n' +
        'right.bar(["p", "q"], [1, 2])\nright.set_title("Right")\nfig.suptitle("Both")',
    );
    expect(c.type).toBe('superchart');
    expect(c.title).toBe('Both');
    expect(c.elements).toHaveLength(2);
    expect(c.elements[0]).toMatchObject({ type: 'line', title: 'Left', elements: [{ label: 'up', points: [[1, 3], [2, 4]] }] });
    expect(c.elements[1]).toMatchObject({ type: 'bar', title: 'Right' });
    expect(c.elements[1].elements.map((e: any) => [e.label, e.value])).toEqual([['p', 1], ['q', 2]]);
  });

  test('log scale', async () => {
    const c = await chart('plt.plot([1, 10, 100], [1, 100, 10000])\nplt.yscale("log")');
    expect(c.type).toBe('line');
    expect(c.x_scale).toBe('linear');
    expect(c.y_scale).toBe('log');
    expect(c.elements[0].points).toEqual([[1, 1], [10, 100], [100, 10000]]);
    expect(c.y_ticks).toEqual([1, 10, 100, 1000, 10000]);
  });

  test('datetime x axis', async () => {
    const c = await chart(
      'import datetime\ndays = [datetime.datetime(2024, 1, d) for d in (1, 2, 3)]\nplt.plot(days, [1, 4, 9])\nplt.xlabel("Date")',
    );
    expect(c.type).toBe('line');
    expect(c.x_scale).toBe('datetime');
    expect(c.y_scale).toBe('linear');
    expect(c.elements[0].points).toEqual([
      ['2024-01-01T00:00:00', 1],
      ['2024-01-02T00:00:00', 4],
      ['2024-01-03T00:00:00', 9],
    ]);
    expect(c.x_ticks.length).toBeGreaterThan(1);
    expect(c.x_ticks.every((t: unknown) => typeof t === 'string' && !Number.isNaN(Date.parse(t as string)))).toBe(true);
    expect(c.x_tick_labels).toHaveLength(c.x_ticks.length);
  });

  test('a figure of 50,000 points', async () => {
    const c = await chart('xs = np.arange(50_000)\nplt.plot(xs, xs * 2)');
    expect(c.type).toBe('line');
    expect(c.elements).toHaveLength(1);
    const points = c.elements[0].points;
    expect(points).toHaveLength(50_000);
    expect(points[0]).toEqual([0, 0]);
    expect(points[12_345]).toEqual([12_345, 24_690]);
    expect(points[49_999]).toEqual([49_999, 99_998]);
  });
});
