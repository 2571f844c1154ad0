// The local runtime under test, run as its own process (so that its memory is its own):
// `node packages/local/dist/cli.js`, configured by environment, stopped with SIGINT
// (which tears down every sandbox). Every runtime started here is stopped when the
// bench ends, however it ends.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(root, 'packages/local/dist/cli.js');

const running = new Set();

/**
 * Spawns a server script of the repository (its output kept: the last 40 lines, for error
 * reports, and echoed with BENCH_VERBOSE) → { child, tail, exited }.
 */
export function spawnServer(name, script, env) {
  const child = spawn(process.execPath, [script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name} ${child.pid}] ${line}\n`);
    }
  };
  child.stderr.on('data', keep);
  child.stdout.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, tail, exited };
}

/**
 * Starts a runtime and resolves once it prints E2B_API_URL.
 * @param {{ pool: number, maxSandboxes?: number, env?: Record<string,string> }} o
 */
export function startRuntime({ pool, maxSandboxes = 100, env = {} }) {
  const { child, tail, exited } = spawnServer('runtime', CLI, {
    E2B_LOCAL_PORT: '0',
    E2B_LOCAL_WARM_POOL: String(pool),
    E2B_LOCAL_MAX_SANDBOXES: String(maxSandboxes),
    E2B_LOCAL_LOG_LEVEL: process.env.E2B_LOCAL_LOG_LEVEL ?? 'warn',
    ...env,
  });
  const rt = {
    pid: child.pid,
    url: '',
    /** How it ended ({ code, signal }), once it has. */
    exit: undefined,
    /** Options for the official SDKs' create/connect. */
    opts: undefined,
    tail,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      running.delete(rt);
      if (!rt.alive) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(rt);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void rt.stop();
      reject(new Error(`the runtime did not start within 30 s:\n${tail.join('\n')}`));
    }, 30_000);
    child.stdout.on('data', (chunk) => {
      if (rt.url) return;
      out += chunk.toString('utf8');
      const m = /E2B_API_URL=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        rt.url = m[1];
        rt.opts = { apiKey: 'bench', apiUrl: rt.url, sandboxUrl: rt.url };
        resolve(rt);
      }
    });
    void exited.then(({ code, signal }) => {
      rt.exit = { code, signal };
      clearTimeout(timer);
      running.delete(rt);
      if (!rt.url) reject(Object.assign(new Error(`the runtime exited (${signal ?? code}) before listening:\n${tail.join('\n')}`), { signal }));
    });
  });
}

/** Stops every runtime still running. */
export async function stopAllRuntimes() {
  await Promise.all([...running].map((rt) => rt.stop()));
}

// Last resort on a hard exit: the runtime tears its sandboxes down on SIGINT by itself,
// and bwrap's --die-with-parent ends them if it cannot.
process.on('exit', () => {
  for (const rt of running) {
    try {
      process.kill(rt.pid, 'SIGINT');
    } catch {
      /* gone */
    }
  }
});
