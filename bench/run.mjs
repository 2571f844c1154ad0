#!/usr/bin/env node
// `npm run bench`: speed and memory of the local runtime (issue 2), the code interpreter
// (issue 3) and the toolkit service (issues 4 and 5), each beside a baseline measured in the
// same run. Prints a table and rewrites bench/RESULTS.md (keeping its hand-written Notes section).
//
//   node bench/run.mjs                 everything (~5 minutes)
//   node bench/run.mjs --quick         a fast smoke pass: few rounds, 10 sandboxes instead of 50
//   node bench/run.mjs --only exec     one benchmark (or a comma-separated list; repeatable);
//                                      does not touch RESULTS.md unless --write is given
//   node bench/run.mjs --only toolkit  a whole section: local, interpreter or toolkit
//   node bench/run.mjs --verbose       every round as it happens (stderr), runtime warnings too
//
// Needs the build (npm run bench does it) and root, as the runtime does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { localBenches } from './lib/local.mjs';
import { interpreterBenches } from './lib/interpreter.mjs';
import { toolkitBenches } from './lib/toolkit-benches.mjs';
import { CLI, stopAllRuntimes } from './lib/runtime.mjs';
import { TOOLKIT_MAIN, stopAllToolkitServers } from './lib/toolkit-server.mjs';
import { machine as describeMachine } from './lib/machine.mjs';
import { textTable, markdown, existingNotes } from './lib/report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(here, 'RESULTS.md');
const AGENT = path.resolve(here, '../packages/agent/dist/agent.mjs');
const sections = { local: localBenches, interpreter: interpreterBenches, toolkit: toolkitBenches };
const benches = Object.values(sections).flat();

function usage(message) {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write(
    `usage: node bench/run.mjs [--quick] [--only name|section[,…]] [--write] [--verbose]\n` +
      `benchmarks: ${benches.map((b) => b.name).join(', ')}\n` +
      `sections: ${Object.keys(sections).join(', ')}\n`,
  );
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const o = { quick: false, only: [], write: undefined, verbose: !!process.env.BENCH_VERBOSE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--write') o.write = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--help' || a === '-h') usage();
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!v) usage('--only needs a benchmark name');
      for (const name of v.split(',').filter(Boolean)) o.only.push(...(sections[name]?.map((b) => b.name) ?? [name]));
    } else usage(`unknown argument '${a}'`);
  }
  const unknown = o.only.filter((n) => !benches.some((b) => b.name === n));
  if (unknown.length) usage(`unknown benchmark ${unknown.join(', ')}`);
  o.write ??= o.only.length === 0;
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (!fs.existsSync(CLI) || !fs.existsSync(AGENT) || !fs.existsSync(TOOLKIT_MAIN)) {
  process.stderr.write('bench: build first (npm run bench builds; or npm run build)\n');
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  process.stderr.write('bench: the local runtime must run as root, and so must the bench that measures it\n');
  process.exit(1);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, stopping the runtime and its sandboxes…\n`);
    Promise.all([stopAllRuntimes(), stopAllToolkitServers()]).finally(() => process.exit(130));
  });
}

const selected = opts.only.length ? benches.filter((b) => opts.only.includes(b.name)) : benches;
const started = new Date();
const machine = describeMachine();
const rows = [];
const details = [];
const failures = [];
const log = opts.verbose ? (line) => process.stderr.write(`  ${line}\n`) : () => {};

process.stderr.write(`bench: ${selected.length} benchmark(s)${opts.quick ? ' (quick)' : ''} on ${machine.cores} × ${machine.cpu}, load ${machine.load}\n`);
try {
  for (const bench of selected) {
    const t0 = Date.now();
    process.stderr.write(`▶ ${bench.name} … `);
    try {
      const r = await bench.run({ quick: opts.quick, log });
      rows.push(...r.rows);
      details.push(...(r.details ?? []));
      process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      if (interrupted) break;
      const cause = err?.cause ? `\ncause: ${err.cause?.stack ?? err.cause}` : '';
      const why = err?.cause ? ` (cause: ${String(err.cause?.message ?? err.cause).split('\n')[0]})` : '';
      failures.push({ name: bench.name, error: `${err?.stack ?? err}${cause}`, summary: `${String(err?.message ?? err).split('\n')[0]}${why}` });
      process.stderr.write(`FAILED (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${err?.message ?? err}\n${err?.stack ?? ''}${cause}\n`);
    }
  }
} finally {
  await Promise.all([stopAllRuntimes(), stopAllToolkitServers()]);
}
if (interrupted) process.exit(130);

const durationMs = Date.now() - started.getTime();
const loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
process.stdout.write(textTable(rows) + '\n');
for (const d of details) process.stdout.write(`  · ${d}\n`);
for (const f of failures) process.stdout.write(`  ✗ ${f.name}: ${f.summary}\n`);
process.stdout.write(`\n${(durationMs / 1000).toFixed(0)} s; load at end ${loadEnd}\n`);

if (opts.write) {
  fs.writeFileSync(RESULTS, markdown({ rows, details, failures, machine, started, durationMs, quick: opts.quick, loadEnd, notes: existingNotes(RESULTS) }));
  process.stdout.write(`wrote ${path.relative(process.cwd(), RESULTS) || RESULTS}\n`);
} else {
  process.stdout.write('RESULTS.md not rewritten (--only); pass --write to rewrite it with these rows only\n');
}
process.exit(failures.length ? 1 : 0);
