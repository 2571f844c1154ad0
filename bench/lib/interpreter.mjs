// Issue 3: the code interpreter, driven with the official `@e2b/code-interpreter` SDK.
import { Sandbox as CI } from '@e2b/code-interpreter';
import { withRuntime, onlySandbox, mib } from './harness.mjs';
import { waitSettled, sumMemory, cmdline } from './proc.mjs';
import { ipython, ipythonCold } from './baselines.mjs';
import { latencyRow, valueRow } from './rows.mjs';
import { summarize, timed } from './stats.mjs';

const GROUP = 'Code interpreter (issue 3)';
const COLD_IPYTHON = 'host `python3` start + IPython + `run_cell(\'print(1)\')` to exit';

const PLOT = `import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(0, 10, 1000)
plt.figure()
plt.plot(x, np.sin(x), label='sin')
plt.title('1,000 points')
plt.show()`;

async function runOk(sbx, code) {
  const e = await sbx.runCode(code);
  if (e.error) throw new Error(`runCode(${JSON.stringify(code.slice(0, 40))}) failed: ${e.error.name}: ${e.error.value}`);
  return e;
}

const ciExec = {
  name: 'ci-exec',
  group: GROUP,
  async run({ quick, log }) {
    const n = quick ? 30 : 200;
    const ours = await withRuntime({ pool: 0 }, async ({ rt, track }) => {
      const sbx = track(await CI.create(rt.opts));
      await runOk(sbx, 'x = 1');
      await waitSettled(rt.pid, { sandboxes: 1 });
      const once = async () => {
        const { ms, value } = await timed(() => runOk(sbx, 'x+1'));
        if (value.text !== '2') throw new Error(`x+1 gave ${JSON.stringify(value.text)}`);
        return ms;
      };
      for (let i = 0; i < 10; i++) await once();
      const ms = [];
      for (let i = 0; i < n; i++) ms.push(await once());
      return ms;
    });
    const base = await ipython('exec', n);
    log(`ci-exec: p50 ${summarize(ours).p50.toFixed(1)} ms (IPython ${summarize(base.ms).p50.toFixed(3)} ms)`);
    return {
      rows: [
        latencyRow('ci-exec', GROUP, "`runCode('x+1')` round trip, warm kernel", ours,
          { label: "IPython `run_cell('x+1')` in-process (/usr/bin/python3)", ms: base.ms }, 10),
      ],
    };
  },
};

function ciCreateBench(kind) {
  const warm = kind === 'warm';
  return {
    name: `ci-create-${kind}`,
    group: GROUP,
    async run({ quick, log }) {
      const n = quick ? (warm ? 4 : 3) : warm ? 15 : 10;
      return withRuntime({ pool: warm ? 1 : 0 }, async ({ rt, track, release }) => {
        const ours = [];
        const base = [];
        let unsettled = 0;
        for (let i = -1; i < n; i++) {
          const b = await ipythonCold();
          // Warm: the pool sandbox's kernel has started (it imports IPython, matplotlib,
          // numpy and pandas) and gone idle; at least 1.5 s after the last hand-over.
          const settled = await waitSettled(rt.pid, { sandboxes: warm ? 1 : 0, minMs: warm ? 1500 : 50, quietMs: 400, maxMs: 30_000 });
          if (!settled) unsettled++;
          const t0 = performance.now();
          const sbx = track(await CI.create(rt.opts));
          const e = await runOk(sbx, 'print(1)');
          const ms = performance.now() - t0;
          if (e.logs.stdout.join('') !== '1\n') throw new Error(`print(1) printed ${JSON.stringify(e.logs.stdout)}`);
          await release(sbx);
          if (i < 0) continue;
          ours.push(ms);
          base.push(b);
          log(`ci-create-${kind} ${i + 1}/${n}: ${ms.toFixed(1)} ms (python+IPython ${b.toFixed(1)} ms)`);
        }
        return {
          rows: [
            latencyRow(`ci-create-${kind}`, GROUP,
              `create → first \`runCode('print(1)')\` done, ${warm ? 'warm (pool 1, kernel started)' : 'cold (pool 0)'}`,
              ours, { label: COLD_IPYTHON, ms: base }, warm ? 60 : undefined),
          ],
          details: unsettled ? [`ci-create-${kind}: ${unsettled} rounds started before the runtime was idle`] : [],
        };
      });
    },
  };
}

const ciPlot = {
  name: 'ci-plot',
  group: GROUP,
  async run({ quick, log }) {
    const n = quick ? 3 : 10;
    const { ours, first, chartType } = await withRuntime({ pool: 0 }, async ({ rt, track }) => {
      const sbx = track(await CI.create(rt.opts));
      await runOk(sbx, 'print(1)');
      await waitSettled(rt.pid, { sandboxes: 1 });
      let chartType;
      const once = async () => {
        const { ms, value } = await timed(() => runOk(sbx, PLOT));
        const r = value.results.find((x) => x.png && x.chart);
        if (!r) throw new Error(`the plot gave no result with both png and chart: ${JSON.stringify(value.results.map((x) => x.formats()))}`);
        const points = r.chart.elements?.[0]?.points?.length;
        if (points !== 1000) throw new Error(`the chart has ${points} points, expected 1000`);
        chartType = r.chart.type;
        return ms;
      };
      const first = await once();
      const ms = [];
      for (let i = 0; i < n; i++) ms.push(await once());
      return { ours: ms, first, chartType };
    });
    const base = await ipython('plot', n);
    log(`ci-plot: p50 ${summarize(ours).p50.toFixed(1)} ms (IPython ${summarize(base.ms).p50.toFixed(1)} ms)`);
    return {
      rows: [
        latencyRow('ci-plot', GROUP, 'matplotlib line plot, 1,000 points: `runCode` round trip with png + chart', ours,
          { label: 'IPython `run_cell` of the same plot + `savefig` PNG, in-process (Agg)', ms: base.ms }),
      ],
      details: [`ci-plot: first plot in a fresh kernel ${first.toFixed(1)} ms; chart type '${chartType}' with 1,000 points and a PNG every time`],
    };
  },
};

const kernelMemory = {
  name: 'kernel-memory',
  group: GROUP,
  async run({ log }) {
    const m = await withRuntime({ pool: 0 }, async ({ rt, track }) => {
      const sbx = track(await CI.create(rt.opts));
      await runOk(sbx, 'x = 1');
      await waitSettled(rt.pid, { sandboxes: 1, quietMs: 500 });
      const kernels = onlySandbox(rt).filter((p) => cmdline(p.pid).some((a) => a.endsWith('kernel_driver.py')));
      if (kernels.length !== 1) throw new Error(`expected one kernel_driver.py process, found ${kernels.length}`);
      return sumMemory(kernels);
    });
    const base = await ipython('exec', 5);
    log(`kernel-memory: RSS ${mib(m.rss).toFixed(1)} MiB, PSS ${mib(m.pss).toFixed(1)} MiB`);
    const label = 'host IPython shell after `x = 1` (no matplotlib/numpy/pandas)';
    return {
      rows: [
        valueRow('kernel-rss', GROUP, 'idle warm kernel (kernel_driver.py), RSS', 'MiB', mib(m.rss), { label, value: mib(base.rss) }),
        valueRow('kernel-pss', GROUP, 'idle warm kernel (kernel_driver.py), PSS', 'MiB', mib(m.pss), { label, value: mib(base.pss) }),
        valueRow('kernel-anon', GROUP, '… of which anonymous (Pss_Anon)', 'MiB', mib(m.anon), { label, value: mib(base.anon) }),
      ],
    };
  },
};

export const interpreterBenches = [ciExec, ciCreateBench('warm'), ciCreateBench('cold'), ciPlot, kernelMemory];
