"""Baselines for the code-interpreter benchmarks: IPython in-process, no sandbox, no agent,
no HTTP. Run with Debian's /usr/bin/python3 (it has IPython, matplotlib, numpy), the
interpreter the sandboxes' kernels use.

  baseline_ipython.py exec N    time run_cell('x+1') N times after run_cell('x = 1')
  baseline_ipython.py plot N    time run_cell(<1,000-point line plot, rendered to PNG>) N times
  baseline_ipython.py cold      run_cell('print(1)') once and exit: timed from outside, it is
                                the cost of starting Python + IPython for a first result

exec and plot print one JSON line: {"ms": [...], "rss", "pss", "anon", "file": bytes} (the
shell's own memory after the runs, from smaps_rollup: a floor for an idle kernel).
"""

import sys

PLOT = """
import numpy as np
import matplotlib.pyplot as plt
import io
x = np.linspace(0, 10, 1000)
fig = plt.figure()
plt.plot(x, np.sin(x), label='sin')
plt.title('1,000 points')
buf = io.BytesIO()
fig.savefig(buf, format='png')
plt.close(fig)
png_bytes = len(buf.getvalue())
"""


def memory():
    out = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss", "Pss_Anon", "Pss_File"):
                key = {"Pss_Anon": "anon", "Pss_File": "file"}.get(name, name.lower())
                out[key] = int(rest.split()[0]) * 1024
    return out


def shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def timed_cells(sh, code, n, warmup):
    import io
    import time
    from contextlib import redirect_stdout

    # The displayhook prints Out[..]; capture it as a kernel captures output.
    sink = io.StringIO()
    with redirect_stdout(sink):
        for _ in range(warmup):
            r = sh.run_cell(code)
            r.raise_error()
        ms = []
        for _ in range(n):
            t0 = time.perf_counter()
            sh.run_cell(code)
            ms.append((time.perf_counter() - t0) * 1000)
            sink.seek(0)
            sink.truncate()
    return ms


def main():
    import json

    mode = sys.argv[1]
    if mode == "cold":
        shell().run_cell("print(1)")
        return
    n = int(sys.argv[2])
    sh = shell()
    if mode == "exec":
        sh.run_cell("x = 1")
        ms = timed_cells(sh, "x+1", n, warmup=20)
    elif mode == "plot":
        import matplotlib

        matplotlib.use("Agg")
        ms = timed_cells(sh, PLOT, n, warmup=1)
        if not sh.user_ns.get("png_bytes"):
            raise SystemExit("the plot made no PNG")
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps({"ms": ms, **memory()}))


if __name__ == "__main__":
    main()
