// The results table (stdout) and bench/RESULTS.md. Everything in RESULTS.md above
// "## Notes" is regenerated on each run; the Notes section is hand-written and carried over.
import fs from 'node:fs';
import { verdict } from './rows.mjs';

export function fmt(value, unit) {
  if (value === undefined || value === null) return '—';
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = unit === 'MB/s' ? (abs >= 100 ? 0 : 1) : unit === 's' ? 2 : abs < 1 ? 3 : abs < 10 ? 2 : 1;
  return `${value.toFixed(digits)} ${unit}`;
}

const target = (row) => (row.target ? `${row.target.op} ${fmt(row.target.value, row.unit)}` : '—');

function groups(rows) {
  const out = new Map();
  for (const r of rows) {
    if (!out.has(r.group)) out.set(r.group, []);
    out.get(r.group).push(r);
  }
  return out;
}

const strip = (s) => s.replaceAll('`', '');

/** Whether a group's rows carry p99: only then does its table get p99 columns. */
const hasP99 = (list) => list.some((r) => r.p99 !== undefined || r.base?.p99 !== undefined);
const pct = (v, unit) => (v === undefined ? '—' : fmt(v, unit));

/** A plain-text table for the terminal. */
export function textTable(rows) {
  const lines = [];
  for (const [group, list] of groups(rows)) {
    const p99 = hasP99(list);
    const header = ['measurement', 'n', 'p50', 'p90', ...(p99 ? ['p99'] : []), 'baseline p50', 'baseline p90', ...(p99 ? ['baseline p99'] : []), 'target p50', 'result'];
    const body = list.map((r) => [
      strip(r.label).slice(0, 72),
      String(r.n),
      fmt(r.p50, r.unit),
      pct(r.p90, r.unit),
      ...(p99 ? [pct(r.p99, r.unit)] : []),
      r.base ? fmt(r.base.p50, r.unit) : '—',
      pct(r.base?.p90, r.unit),
      ...(p99 ? [pct(r.base?.p99, r.unit)] : []),
      target(r),
      verdict(r),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    lines.push('', group, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line));
  }
  return lines.join('\n');
}

function mdTable(list) {
  const p99 = hasP99(list);
  const rows = list.map((r) =>
    [
      r.label,
      String(r.n),
      fmt(r.p50, r.unit),
      pct(r.p90, r.unit),
      ...(p99 ? [pct(r.p99, r.unit)] : []),
      r.base ? r.base.label : '—',
      r.base ? fmt(r.base.p50, r.unit) : '—',
      pct(r.base?.p90, r.unit),
      ...(p99 ? [pct(r.base?.p99, r.unit)] : []),
      target(r),
      verdict(r) === 'met' ? '**met**' : verdict(r) === 'missed' ? '**missed**' : '—',
    ].map((c) => c.replaceAll('|', '\\|')),
  );
  const head = p99
    ? ['| Measurement | n | p50 | p90 | p99 | Baseline (same run) | Baseline p50 | Baseline p90 | Baseline p99 | Target (p50) | Met / missed |',
       '|---|--:|--:|--:|--:|---|--:|--:|--:|--:|:-:|']
    : ['| Measurement | n | p50 | p90 | Baseline (same run) | Baseline p50 | Baseline p90 | Target (p50) | Met / missed |',
       '|---|--:|--:|--:|---|--:|--:|--:|:-:|'];
  return [...head, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const METHOD = `- **Runtime under test.** Each benchmark starts its own runtime process,
  \`E2B_LOCAL_PORT=0 E2B_LOCAL_WARM_POOL=<0|1> E2B_LOCAL_LOG_LEVEL=warn node packages/local/dist/cli.js\`,
  reads \`E2B_API_URL=…\` from its output, drives it with the official SDKs exactly as users do
  (\`import { Sandbox } from 'e2b'\`, \`import { Sandbox as CI } from '@e2b/code-interpreter'\`, with
  \`{ apiKey, apiUrl: url, sandboxUrl: url }\`), and stops it with SIGINT (sandboxes are killed
  through the SDK first, in \`finally\`, also on error).
- **Times** are \`performance.now()\` around the SDK calls in the bench process: they include the
  SDK, HTTP to the runtime's proxy and HTTP/2 to the in-sandbox agent. p50/p90 interpolate
  linearly between samples. Each series has untimed warm-up rounds first.
- **Baselines run in the same run**, interleaved round by round where they are cheap (bare
  \`bwrap\`, \`bash -l -c\`, host file I/O); the IPython baselines run one \`/usr/bin/python3
  bench/baseline_ipython.py\` process right after the SDK rounds. Spawn baselines are timed from
  \`child_process.spawn\` to \`close\`.
- **Warm create.** Before each round the bench waits until the pool has refilled: the runtime
  has exactly one sandbox whose agent (node) and prewarmed kernel (python3) are running, and
  the runtime's whole process tree (from \`/proc/*/stat\` ppid links) used ≤ 2 CPU ticks (≈ 20 ms)
  over the last 300 ms (400 ms, and at least 1.5 s after the last hand-over, for the code
  interpreter). So each create is the hand-over of an idle, ready sandbox; the pool's
  replacement starts during the measured round, as it would for a user.
  **Cold create**: pool 0, the previous sandbox torn down and the tree quiet before the round.
- **Files.** \`files.write(path, ArrayBuffer)\` and \`files.read(path, { format: 'bytes' })\` of
  random bytes into \`/home/user\` (a tmpfs in the sandbox); the bytes are checked once per size.
  MB = 10⁶ bytes; the p50/p90 columns are the throughput at the p50 and p90 durations (so
  p90 is the slower tail). The host baseline is \`fs.writeFile\`/\`fs.readFile\` on /tmp (ext4,
  page cache). **Peak RSS**: \`5 > /proc/<runtime pid>/clear_refs\` resets VmHWM before the
  timed transfers, VmHWM is read after them.
- **Memory.** A sandbox's processes are a direct \`bwrap\` child of the runtime and all its
  descendants (ppid links in \`/proc/*/stat\`): outer bwrap, bwrap as the PID-namespace init,
  the node agent and the Python kernel every sandbox prewarms. RSS and PSS come from
  \`/proc/<pid>/smaps_rollup\`. PSS splits each shared page (node binary, Python libraries)
  among the processes mapping it, so PSS sums add up across sandboxes; RSS sums count shared
  pages again for every process. Not included: tmpfs file pages, kernel memory (page tables,
  sockets). "Idle" = after the first command, once the tree is quiet.
  **N sandboxes**: pool 0; \`Sandbox.create\` with 5 in flight; then \`commands.run('echo ok')\` on
  all at once (each checked); once the tree is quiet, *total extra memory* = PSS of all
  sandbox processes + the runtime's own PSS growth since before the first create.
- **Kernel memory**: the \`python3 … kernel_driver.py\` process of a sandbox after
  \`runCode('x = 1')\`, idle. The kernel preimports matplotlib (inline backend), numpy and pandas,
  so its baseline (a bare IPython shell) is a floor, not like for like.
- **Toolkit service.** Each toolkit benchmark starts its own server process,
  \`TOOLKIT_PORT=0 E2B_LOCAL_PORT=0 E2B_LOCAL_WARM_POOL=0 node services/toolkit/dist/main.js\`
  (the \`npm start\` entry point, with its embedded local runtime in the same process), reads
  its URL and the runtime's from its output, creates one sandbox through the service
  (\`CreateSandbox\`, template code-interpreter-v1) and connects the official SDKs to that same
  sandbox straight through the runtime (\`Sandbox.connect(id, { apiUrl, sandboxUrl })\`): the
  baselines are the same work on the same sandbox without the service. Clients: the TS client
  (\`createToolkitClients\` from \`e2b-toolkit\`, Connect over HTTP/1.1 and gRPC over h2c) and
  plain \`@grpc/grpc-js\` with the protos loaded at run time by \`@grpc/proto-loader\`, and
  the Python client (\`clients/python\`, in a worker process that times each call itself:
  \`bench/lib/python_client_worker.py\`; round trips only)
  (\`bench/lib/toolkit-clients.mjs\`: one entry per client row).
  **Round trips**: 200 rounds after 10 untimed; each round calls every client and the SDK
  once, the order rotating each round. *Added by the service* = row p50 − SDK p50 (the
  Details give the p50 of same-round differences too).
  **Tail latency**: one job per client, \`date +%s%N\` every 200 ms, started together with the
  same loop through the SDK (\`onStdout\`); latency = \`Date.now()\` at arrival − the printed time
  (one clock: sandboxes have no time namespace).
  **Flood**: \`seq … | head -c 200000000\` as a job, one \`TailJobLogs\` from offset 0 to \`Ended\`;
  the byte count, each chunk's offset and the sha256 (against the same command on the host)
  are checked; time from \`StartCommand\` to \`Ended\`. Baseline: \`commands.run\` with \`onStdout\`.
  **Files**: 1 GiB of random bytes, made in 256 KiB chunks as they are sent and hashed on both
  sides; \`UploadFile\` / \`DownloadFile\` over gRPC, SDK \`files.write(ReadableStream)\` /
  \`files.read({ format: 'stream' })\`. **Peak RSS** is VmHWM of the server process (runtime
  included) and of the bench process (the client), each reset (\`clear_refs\`) before the transfer.
  Throughput rows of one run (n = 1) have p50 = p90.
- \`--quick\` runs fewer rounds (and 10 instead of 50 sandboxes, 20 MB floods, 100 MiB files): a smoke pass, not numbers to quote.`;

const DEFAULT_NOTES = `_Hand-written. \`bench/run.mjs\` keeps this section as it is when it rewrites the file._`;

/** The hand-written Notes section of an existing RESULTS.md, without its heading. */
export function existingNotes(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return DEFAULT_NOTES;
  }
  const m = /^## Notes[ \t]*\n([\s\S]*)$/m.exec(text);
  return m ? m[1].trim() || DEFAULT_NOTES : DEFAULT_NOTES;
}

export function markdown({ rows, details, failures, machine, started, durationMs, quick, loadEnd, notes }) {
  const out = [
    '# Benchmark results',
    '',
    '<!-- Written by bench/run.mjs (npm run bench): regenerated on each run, except the hand-written Notes section at the end, which is carried over. -->',
    '',
    `- **Date:** ${started.toISOString()}`,
    `- **Run:** \`node bench/run.mjs${quick ? ' --quick' : ''}\`, ${(durationMs / 1000).toFixed(0)} s${quick ? ' (quick smoke pass: few rounds, 10 sandboxes instead of 50, smaller floods and files)' : ''}`,
    `- **Machine:** ${machine.cpu}, ${machine.cores} cores (\`nproc\`), ${machine.memory} RAM (MemTotal), Linux ${machine.kernel}`,
    `- **Software:** Node ${machine.node}, Python ${machine.python} (/usr/bin/python3), ${machine.bwrap}`,
    `- **Load average** (1/5/15 min) at start: ${machine.load}; at end: ${loadEnd}`,
    '',
  ];
  for (const [group, list] of groups(rows)) out.push(`## ${group}`, '', mdTable(list), '');
  if (details.length) out.push('## Details', '', ...details.map((d) => `- ${d}`), '');
  if (failures.length) {
    out.push('## Failures', '', ...failures.map((f) => `- \`${f.name}\`: ${f.summary}`), '');
  }
  out.push('## Method', '', METHOD, '', '## Notes', '', notes, '');
  return out.join('\n');
}
