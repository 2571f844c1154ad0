// Issue 2: the local runtime, driven with the official `e2b` SDK exactly as users do.
import { randomFillSync } from 'node:crypto';
import http from 'node:http';
import { Sandbox } from 'e2b';
import { withRuntime, onlySandbox, mib } from './harness.mjs';
import { waitSettled, status, resetPeak, sandboxTrees, sumMemory, memory, memAvailable, allProcesses } from './proc.mjs';
import { bwrapTrue, bashEcho, hostFileIO, bareSandboxMemory } from './baselines.mjs';
import { latencyRow, throughputRow, valueRow } from './rows.mjs';
import { MiB, mapLimit, summarize, timed } from './stats.mjs';

const GROUP = 'Local runtime (issue 2)';
const BWRAP_LABEL = 'bare `bwrap --unshare-all … /bin/true` spawn';

/** create → first commands.run('true'): total ms and the create part of it. */
async function runTrue(rt, track, release) {
  const t0 = performance.now();
  const sbx = track(await Sandbox.create(rt.opts));
  const created = performance.now();
  const r = await sbx.commands.run('true');
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`'true' exited ${r.exitCode}`);
  // Not part of the measurement: how much of the first run is a first time.
  const t1 = performance.now();
  await sbx.commands.run('true');
  const secondMs = performance.now() - t1;
  await release(sbx);
  return { ms, createMs: created - t0, secondMs };
}

/** create → first commands.run('true'), with or without a warm pool. */
function createBench(kind) {
  const warm = kind === 'warm';
  return {
    name: `create-${kind}`,
    group: GROUP,
    async run({ quick, log }) {
      const n = quick ? 5 : warm ? 30 : 20;
      return withRuntime({ pool: warm ? 1 : 0 }, async ({ rt, track, release }) => {
        const ours = [];
        const creates = [];
        const seconds = [];
        const base = [];
        let unsettled = 0;
        // One round first, not recorded: the first SDK request, page cache, JIT.
        for (let i = -1; i < n; i++) {
          const b = await bwrapTrue();
          // Warm: the pool has refilled and its sandbox is idle. Cold: the last one is gone.
          if (!(await waitSettled(rt.pid, { sandboxes: warm ? 1 : 0, minMs: warm ? 200 : 50 }))) unsettled++;
          const { ms, createMs, secondMs } = await runTrue(rt, track, release);
          if (i < 0) continue;
          ours.push(ms);
          creates.push(createMs);
          seconds.push(secondMs);
          base.push(b);
          log(`create-${kind} ${i + 1}/${n}: ${ms.toFixed(1)} ms, of which create ${createMs.toFixed(1)} ms (bwrap ${b.toFixed(1)} ms)`);
        }
        const c = summarize(creates);
        const details = [
          `create-${kind}: \`Sandbox.create\` alone p50 ${c.p50.toFixed(1)} ms, p90 ${c.p90.toFixed(1)} ms; the first \`commands.run('true')\` is the rest; ` +
            `a second \`commands.run('true')\` right after (not in the row) p50 ${summarize(seconds).p50.toFixed(1)} ms`,
        ];
        if (unsettled) details.push(`create-${kind}: ${unsettled} rounds started before the runtime was idle (waited 20 s)`);
        return {
          rows: [
            latencyRow(
              `create-${kind}`, GROUP,
              `create → first \`commands.run('true')\` done, ${warm ? 'warm (pool 1, refilled between rounds)' : 'cold (pool 0)'}`,
              ours, { label: BWRAP_LABEL, ms: base }, warm ? 25 : 250,
            ),
          ],
          details,
        };
      });
    },
  };
}

const exec = {
  name: 'exec',
  group: GROUP,
  async run({ quick, log }) {
    const n = quick ? 30 : 200;
    return withRuntime({ pool: 0 }, async ({ rt, track }) => {
      const sbx = track(await Sandbox.create(rt.opts));
      await waitSettled(rt.pid, { sandboxes: 1 });
      const echo = async () => {
        const { ms, value } = await timed(() => sbx.commands.run('echo hi'));
        if (value.stdout !== 'hi\n') throw new Error(`echo printed ${JSON.stringify(value.stdout)}`);
        return ms;
      };
      for (let i = 0; i < 10; i++) {
        await echo();
        await bashEcho();
      }
      const ours = [];
      const base = [];
      for (let i = 0; i < n; i++) {
        ours.push(await echo());
        base.push(await bashEcho());
      }
      const ownHome = [];
      for (let i = 0; i < 5; i++) ownHome.push(await bashEcho({ ownHome: true }));
      log(`exec: p50 ${summarize(ours).p50.toFixed(1)} ms`);
      return {
        rows: [
          latencyRow('exec', GROUP, "`commands.run('echo hi')` round trip, live sandbox", ours,
            { label: "host `spawn('/bin/bash', ['-l','-c','echo hi'])` to exit, empty HOME", ms: base }, 15),
        ],
        details: [
          `exec baseline: with this root's own HOME (its ~/.profile runs \`pyenv init\` and cargo's env) the same spawn takes p50 ${summarize(ownHome).p50.toFixed(1)} ms (n=5); the row uses an empty HOME, so /etc/profile only, like a sandbox user's fresh home`,
        ],
      };
    });
  },
};

/** GET /files through the runtime's proxy with node:http and no Accept-Encoding: ms. */
function rawRead(rt, sbx, path, bytes) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const url = `${rt.url}/files?path=${encodeURIComponent(path)}&username=user`;
    const headers = { 'E2b-Sandbox-Id': sbx.sandboxId, 'E2b-Sandbox-Port': '49983', 'X-Access-Token': sbx.envdAccessToken };
    http
      .get(url, { headers }, (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () => (n === bytes ? resolve(performance.now() - t0) : reject(new Error(`raw GET /files: ${res.statusCode}, ${n} bytes`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const files = {
  name: 'files',
  group: GROUP,
  async run({ quick, log }) {
    // Rounds per size, and a time budget after which a size stops early (at least one round).
    const sizes = [
      { bytes: 1 * MiB, label: '1 MiB', n: quick ? 5 : 20, budgetMs: 30_000 },
      { bytes: 100 * MiB, label: '100 MiB', n: quick ? 1 : 4, budgetMs: quick ? 30_000 : 90_000 },
    ];
    // Generous: the point is to measure a slow transfer, not to fail it.
    const io = { requestTimeoutMs: 600_000 };
    return withRuntime({ pool: 0 }, async ({ rt, track }) => {
      const sbx = track(await Sandbox.create(rt.opts));
      await waitSettled(rt.pid, { sandboxes: 1 });
      const agent = onlySandbox(rt).find((p) => p.comm === 'node');
      const rows = [];
      const details = [];
      const path = '/home/user/bench.bin';
      for (const { bytes, label, n, budgetMs } of sizes) {
        const data = randomFillSync(new Uint8Array(bytes));
        if (bytes <= 10 * MiB) {
          for (let i = 0; i < 3; i++) {
            await sbx.files.write(path, data.buffer, io);
            await sbx.files.read(path, { format: 'bytes', ...io });
          }
        }
        const rtBefore = status(rt.pid).rss;
        resetPeak(rt.pid);
        if (agent) resetPeak(agent.pid);
        const w = [], r = [], bw = [], br = [];
        const t0 = Date.now();
        for (let i = 0; i < n && (i === 0 || Date.now() - t0 < budgetMs); i++) {
          w.push((await timed(() => sbx.files.write(path, data.buffer, io))).ms);
          const read = await timed(() => sbx.files.read(path, { format: 'bytes', ...io }));
          r.push(read.ms);
          if (Buffer.compare(Buffer.from(read.value), Buffer.from(data)) !== 0) throw new Error(`${label} came back different`);
          const host = await hostFileIO(data);
          bw.push(host.writeMs);
          br.push(host.readMs);
          log(`files ${label} ${i + 1}/${n}: write ${w.at(-1).toFixed(0)} ms, read ${r.at(-1).toFixed(0)} ms`);
        }
        const rtPeak = status(rt.pid).hwm;
        const agentPeak = agent ? status(agent.pid).hwm : NaN;
        const raw = [];
        for (let i = 0; i < Math.min(3, r.length); i++) raw.push(await rawRead(rt, sbx, path, bytes));
        await sbx.files.remove(path);
        rows.push(
          throughputRow(`files-write-${label}`, GROUP, `\`files.write\` ${label}`, bytes, w, { label: 'host `fs.writeFile` to /tmp', ms: bw }),
          throughputRow(`files-read-${label}`, GROUP, `\`files.read\` ${label} (format bytes)`, bytes, r, { label: 'host `fs.readFile` from /tmp', ms: br }),
          valueRow(`files-peak-${label}`, GROUP, `runtime peak RSS (VmHWM) during the ${label} writes + reads`, 'MiB', mib(rtPeak),
            { label: 'runtime RSS just before', value: mib(rtBefore) }),
        );
        const mbps = (ms) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
        details.push(
          `files ${label}: ${w.length} round(s)${w.length < n ? ` of ${n} (time budget)` : ''}; the sandbox agent's peak RSS ${mib(agentPeak).toFixed(1)} MiB; ` +
            `for reference, \`GET /files\` of the same file through the runtime with node:http (no SDK, no fetch, no Accept-Encoding): ` +
            `p50 ${summarize(raw).p50.toFixed(0)} ms (${mbps(summarize(raw).p50)} MB/s)`,
        );
      }
      return { rows, details };
    });
  },
};

function describeError(err) {
  const cause = err?.cause ? ` (cause: ${err.cause.code ?? ''} ${err.cause.message ?? err.cause})` : '';
  return `${err?.name ?? 'Error'}: ${err?.message ?? err}${cause}`;
}

function describeBreakdown(byComm, count) {
  return Object.entries(byComm)
    .sort((a, b) => b[1].pss - a[1].pss)
    .map(([comm, m]) => `${comm} ×${m.count / count}: PSS ${mib(m.pss / count).toFixed(1)} MiB (anon ${mib(m.anon / count).toFixed(1)}, file ${mib(m.file / count).toFixed(1)}), RSS ${mib(m.rss / count).toFixed(1)} MiB`)
    .join('; ');
}

const idleMemory = {
  name: 'idle-memory',
  group: GROUP,
  async run({ log }) {
    return withRuntime({ pool: 0 }, async ({ rt, track }) => {
      const sbx = track(await Sandbox.create(rt.opts));
      await sbx.commands.run('true');
      await waitSettled(rt.pid, { sandboxes: 1, quietMs: 500 });
      const m = sumMemory(onlySandbox(rt));
      const bare = await bareSandboxMemory();
      log(`idle sandbox: PSS ${mib(m.pss).toFixed(1)} MiB, RSS ${mib(m.rss).toFixed(1)} MiB`);
      return {
        rows: [
          valueRow('idle-pss', GROUP, 'one idle sandbox, PSS of its processes', 'MiB', mib(m.pss), { label: 'bare bwrap sandbox running `sleep`', value: mib(bare.pss) }),
          valueRow('idle-anon', GROUP, '… of which anonymous (Pss_Anon: heap, stacks)', 'MiB', mib(m.anon), { label: 'bare bwrap sandbox running `sleep`', value: mib(bare.anon) }),
          valueRow('idle-rss', GROUP, 'one idle sandbox, RSS of its processes', 'MiB', mib(m.rss), { label: 'bare bwrap sandbox running `sleep`', value: mib(bare.rss) }),
        ],
        details: [`idle sandbox by process: ${describeBreakdown(m.byComm, 1)}`],
      };
    });
  },
};

const fifty = {
  name: 'fifty',
  group: GROUP,
  async run({ quick, log }) {
    const count = quick ? 10 : 50;
    const concurrency = 5;
    return withRuntime({ pool: 0, maxSandboxes: count + 10 }, async ({ rt, track }) => {
      await waitSettled(rt.pid, { sandboxes: 0 });
      const rtBefore = memory(rt.pid);
      const availBefore = memAvailable();

      const baseWall = await timed(() => mapLimit(Array.from({ length: count }), concurrency, () => bwrapTrue()));

      const t0 = performance.now();
      const created = await mapLimit(Array.from({ length: count }), concurrency, async () => {
        const { ms, value } = await timed(() => Sandbox.create(rt.opts));
        track(value);
        return { ms, sbx: value };
      });
      const wallMs = performance.now() - t0;
      const sandboxes = created.map((c) => c.sbx);
      log(`fifty: created ${count} in ${(wallMs / 1000).toFixed(2)} s`);

      const echoes = await Promise.all(
        sandboxes.map(async (s) => {
          const { ms, value } = await timed(() => s.commands.run('echo ok'));
          if (value.stdout !== 'ok\n') throw new Error(`echo ok printed ${JSON.stringify(value.stdout)}`);
          return ms;
        }),
      );
      const settled = await waitSettled(rt.pid, { sandboxes: count, quietMs: 1000, maxMs: 180_000 });
      const procs = allProcesses();
      const trees = sandboxTrees(rt.pid, procs);
      const m = sumMemory(trees.flatMap((t) => t.procs));
      const rtAfter = memory(rt.pid);
      const availAfter = memAvailable();
      const extra = m.pss + (rtAfter.pss - rtBefore.pss);

      // Not a measurement that matters: a failed kill is reported, and the runtime's
      // shutdown removes whatever is left.
      const kill = await timed(() => mapLimit(sandboxes, 10, (s) => s.kill().then(() => undefined, (err) => err)));
      const killErrors = kill.value.filter(Boolean);
      const details = [
        `${count} sandboxes: ${trees.length} found under the runtime; ${m.count} processes; sandbox PSS ${mib(m.pss).toFixed(0)} MiB (anon ${mib(m.anon).toFixed(0)}, file ${mib(m.file).toFixed(0)}), RSS ${mib(m.rss).toFixed(0)} MiB; ` +
          `runtime PSS ${mib(rtBefore.pss).toFixed(1)} → ${mib(rtAfter.pss).toFixed(1)} MiB (it can fall: node's pages are then shared with the agents); ` +
          `host MemAvailable fell ${mib(availBefore - availAfter).toFixed(0)} MiB (file pages count as available; other work on the machine included)`,
        `${count} sandboxes by process (per sandbox): ${describeBreakdown(m.byComm, count)}`,
        `${count} sandboxes: killed all (10 at a time) in ${(kill.ms / 1000).toFixed(2)} s`,
      ];
      if (killErrors.length) details.push(`${count} sandboxes: ${killErrors.length} kills failed, e.g. ${describeError(killErrors[0])}`);
      if (!settled) details.push(`${count} sandboxes: the tree was not quiet after 180 s; memory measured anyway`);
      return {
        rows: [
          valueRow('fifty-create', GROUP, `create ${count} sandboxes, ${concurrency} at a time: wall time`, 's', wallMs / 1000,
            { label: `${count} bare bwrap spawns, ${concurrency} at a time`, value: baseWall.ms / 1000 }),
          latencyRow('fifty-create-each', GROUP, `… each create, ${concurrency} in flight`, created.map((c) => c.ms)),
          latencyRow('fifty-echo', GROUP, `\`commands.run('echo ok')\` on all ${count} at once`, echoes),
          valueRow('fifty-total', GROUP, `${count} idle sandboxes: total extra memory (PSS + runtime growth)`, 'MiB', mib(extra)),
          valueRow('fifty-each', GROUP, `… per sandbox`, 'MiB', mib(extra / count)),
          valueRow('fifty-anon', GROUP, `… per sandbox, anonymous only (Pss_Anon)`, 'MiB', mib((m.anon + rtAfter.anon - rtBefore.anon) / count)),
        ],
        details,
      };
    });
  },
};

export const localBenches = [createBench('warm'), createBench('cold'), exec, files, idleMemory, fifty];
