// Issues 4 and 5: what the toolkit service adds to a call. The same call goes through the
// service (each client of TOOLKIT_CLIENTS) and through the official SDK straight to the
// service's embedded runtime, on the same sandbox, interleaved round by round so that the
// machine's drift hits every series alike.
import { Sandbox } from 'e2b';
import { Sandbox as CI } from '@e2b/code-interpreter';
import { createToolkitClients } from 'e2b-toolkit';
import { TOOLKIT_CLIENTS } from './toolkit-clients.mjs';
import { withToolkitServer, BENCH_KEY } from './toolkit-server.mjs';
import { latencyRow, valueRow } from './rows.mjs';
import { summarize, quantile } from './stats.mjs';

export const GROUP = 'Toolkit service (issues 4 and 5)';
/** Target of issue 4: what the service may add to a round trip, at p50. */
const ADDED_TARGET_MS = 2;

/**
 * A toolkit server (child process, pool 0) with one sandbox created through the service,
 * and the official SDKs connected to that same sandbox straight through the runtime.
 * fn gets { server, sandboxId, sdk (e2b Sandbox), ci (code-interpreter Sandbox) }.
 */
export async function withToolkitSandbox({ metadata = {} } = {}, fn) {
  return withToolkitServer({ pool: 0 }, async (server) => {
    const admin = createToolkitClients({ baseUrl: server.url, apiKey: BENCH_KEY, protocol: 'connect', clientId: 'bench' });
    const { sandbox } = await admin.sandboxes.createSandbox({ clientId: 'bench', metadata, timeout: { seconds: 3600n } });
    const sandboxId = sandbox.sandboxId;
    const sdk = await Sandbox.connect(sandboxId, server.sdkOpts);
    const ci = await CI.connect(sandboxId, server.sdkOpts);
    return fn({ server, sandboxId, sdk, ci, admin });
  });
}

/**
 * Calls every series once per round, the order rotating each round (so no series is always
 * first after the idle gap); the first `warmup` rounds are not recorded. → ms per series id.
 */
export async function interleaved(series, rounds, warmup) {
  const ms = Object.fromEntries(series.map((s) => [s.id, []]));
  for (let i = -warmup; i < rounds; i++) {
    for (let k = 0; k < series.length; k++) {
      const s = series[(k + i + warmup) % series.length];
      const t0 = performance.now();
      const r = await s.call();
      // A client in another process times the call itself (see toolkit-clients.mjs).
      const elapsed = r?.elapsedMs ?? performance.now() - t0;
      if (i >= 0) ms[s.id].push(elapsed);
    }
  }
  return ms;
}

/** The row of a client through the service, and the row of what the service adds at p50. */
function overheadRows(id, what, client, ours, base) {
  const added = summarize(ours).p50 - summarize(base.ms).p50;
  // Paired (same round) differences: less noisy than the difference of medians, for the details.
  const paired = ours.map((v, i) => v - base.ms[i]);
  return {
    rows: [
      latencyRow(`${id}-${client.id}`, GROUP, `${what} round trip: ${client.label}`, ours, base, undefined, { withP99: true }),
      { ...valueRow(`${id}-${client.id}-added`, GROUP, '… added by the service (p50 − baseline p50)', 'ms', added, undefined, ADDED_TARGET_MS), n: ours.length },
    ],
    detail: `${client.id} ${paired.length} paired rounds: added p50 ${quantile(paired, 0.5).toFixed(2)} ms, p90 ${quantile(paired, 0.9).toFixed(2)} ms`,
  };
}

function roundTripBench({ name, what, baseLabel, n, quickN, sdkCall, toolkitCall }) {
  return {
    name,
    group: GROUP,
    async run({ quick, log }) {
      const rounds = quick ? quickN : n;
      return withToolkitSandbox({}, async ({ server, sandboxId, sdk, ci }) => {
        const opened = TOOLKIT_CLIENTS.map((c) => ({ client: c, handle: c.open(server) }));
        try {
          const series = [
            { id: 'sdk', call: () => sdkCall({ sdk, ci }) },
            ...opened.map(({ client, handle }) => ({ id: client.id, call: () => toolkitCall(handle, sandboxId) })),
          ];
          const ms = await interleaved(series, rounds, 10);
          const base = { label: baseLabel, ms: ms.sdk };
          const rows = [];
          const details = [];
          for (const { client } of opened) {
            const r = overheadRows(name, what, client, ms[client.id], base);
            rows.push(...r.rows);
            details.push(`${name}: ${r.detail}`);
            log(`${name} ${client.id}: p50 ${summarize(ms[client.id]).p50.toFixed(2)} ms (SDK ${summarize(ms.sdk).p50.toFixed(2)} ms)`);
          }
          return { rows, details };
        } finally {
          for (const { handle } of opened) handle.close();
        }
      });
    },
  };
}

const commandRoundTrip = roundTripBench({
  name: 'toolkit-command',
  what: "`run_command('true')`",
  baseLabel: "e2b SDK `commands.run('true')`, same sandbox, straight to the embedded runtime",
  n: 200,
  quickN: 30,
  async sdkCall({ sdk }) {
    const r = await sdk.commands.run('true');
    if (r.exitCode !== 0) throw new Error(`SDK: 'true' exited ${r.exitCode}`);
  },
  async toolkitCall(client, sandboxId) {
    const r = await client.runCommand(sandboxId, 'true');
    if (r.exitCode !== 0) throw new Error(`toolkit: 'true' exited ${r.exitCode}`);
    return r;
  },
});

const pythonRoundTrip = roundTripBench({
  name: 'toolkit-python',
  what: "`run_python_code('1')`",
  baseLabel: "@e2b/code-interpreter `runCode('1')`, same sandbox and kernel, straight to the runtime",
  n: 200,
  quickN: 30,
  async sdkCall({ ci }) {
    const e = await ci.runCode('1');
    if (e.error || e.text !== '1') throw new Error(`SDK: runCode('1') gave ${JSON.stringify(e.error ?? e.text)}`);
  },
  async toolkitCall(client, sandboxId) {
    const r = await client.runPython(sandboxId, '1');
    if (r.error || r.text !== '1') throw new Error(`toolkit: run_python_code('1') gave ${JSON.stringify(r.error ?? r.text)}`);
    return r;
  },
});

export const toolkitRoundTripBenches = [commandRoundTrip, pythonRoundTrip];
