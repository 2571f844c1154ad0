// What the same work costs with no runtime in the way, measured in the same run as the
// runtime's numbers: a bare bwrap spawn, a bash spawn, host file I/O, IPython in-process.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, sumMemory, readStat } from './proc.mjs';
import { sleep } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PYTHON = '/usr/bin/python3';
const BASELINE_PY = path.resolve(here, '../baseline_ipython.py');

/** The isolation floor: every namespace, the system read-only, nothing else. */
export const BARE_BWRAP = [
  '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
  '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--unshare-all', '--',
];

/** Spawns a command and resolves with ms from spawn to exit (and output closed). */
export function timeSpawn(cmd, args, { stdout = false, env } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ ms, out });
    });
  });
}

export const bwrapTrue = () => timeSpawn('bwrap', [...BARE_BWRAP, '/bin/true']).then((r) => r.ms);

// A login shell reads /etc/profile and then ~/.profile; root's here runs `pyenv init` and
// cargo's env, which a sandbox user's fresh home does not have. By default the baseline
// gets an empty HOME, so it costs what a login shell costs, not what this root's dotfiles do.
let emptyHome;
function makeEmptyHome() {
  if (!emptyHome) {
    const dir = fsSync.mkdtempSync(path.join(os.tmpdir(), 'e2b-bench-home-'));
    process.on('exit', () => fsSync.rmSync(dir, { recursive: true, force: true }));
    emptyHome = dir;
  }
  return emptyHome;
}

export async function bashEcho({ ownHome = false } = {}) {
  const env = ownHome ? process.env : { ...process.env, HOME: makeEmptyHome() };
  const r = await timeSpawn('/bin/bash', ['-l', '-c', 'echo hi'], { stdout: true, env });
  if (r.out !== 'hi\n') throw new Error(`bash printed ${JSON.stringify(r.out)}`);
  return r.ms;
}

/** Host file I/O of the same bytes on /tmp: ms to write, ms to read back. */
export async function hostFileIO(data) {
  const file = path.join('/tmp', `e2b-bench-${process.pid}.bin`);
  try {
    let t0 = performance.now();
    await fs.writeFile(file, data);
    const writeMs = performance.now() - t0;
    t0 = performance.now();
    const back = await fs.readFile(file);
    const readMs = performance.now() - t0;
    if (back.length !== data.byteLength) throw new Error('host read back a different size');
    return { writeMs, readMs };
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** Memory of a bare bwrap sandbox running sleep: the namespaces' own cost. */
export async function bareSandboxMemory() {
  const child = spawn('bwrap', [...BARE_BWRAP, '/bin/sleep', '60'], { stdio: 'ignore' });
  let procs = [];
  try {
    await sleep(300);
    procs = [readStat(child.pid), ...descendants(child.pid)].filter(Boolean);
    return sumMemory(procs);
  } finally {
    // The sandbox's init and sleep outlive the outer bwrap: end them all, by pid.
    for (const p of procs.length ? procs : [{ pid: child.pid }]) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Runs baseline_ipython.py exec|plot and returns its JSON. */
export async function ipython(mode, n) {
  const r = await timeSpawn(PYTHON, [BASELINE_PY, mode, String(n)], { stdout: true });
  return JSON.parse(r.out.trim().split('\n').pop());
}

/** A fresh Python process that starts IPython and runs print(1): ms to exit. */
export async function ipythonCold() {
  const r = await timeSpawn(PYTHON, [BASELINE_PY, 'cold'], { stdout: true });
  if (r.out !== '1\n') throw new Error(`python printed ${JSON.stringify(r.out)}`);
  return r.ms;
}
