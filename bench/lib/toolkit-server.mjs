// The toolkit server under test, run as its own process so that its memory is its own and
// the bench's clients are not in it: `node services/toolkit/dist/main.js` (the `npm start`
// entry point) with the embedded local runtime, both on free ports, stopped with SIGINT
// (which ends its jobs and sandboxes). Every server started here is stopped when the bench
// ends, however it ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer } from './runtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLKIT_MAIN = path.join(root, 'services/toolkit/dist/main.js');

/** The key the bench's clients send; the server accepts any key on loopback. */
export const BENCH_KEY = 'bench';

const running = new Set();

/**
 * Starts a toolkit server and resolves once it has printed both its own URL and the
 * embedded runtime's (the official SDKs are pointed at the latter for the baselines).
 * @param {{ pool?: number, env?: Record<string,string> }} o
 */
export function startToolkitServer({ pool = 0, env = {} } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2b-bench-toolkit-'));
  const { child, tail, exited } = spawnServer('toolkit', TOOLKIT_MAIN, {
    TOOLKIT_PORT: '0',
    TOOLKIT_DATA_DIR: dataDir,
    E2B_LOCAL_PORT: '0',
    E2B_LOCAL_WARM_POOL: String(pool),
    E2B_LOCAL_LOG_LEVEL: process.env.E2B_LOCAL_LOG_LEVEL ?? 'warn',
    ...env,
  });
  const server = {
    pid: child.pid,
    /** The toolkit API (gRPC, Connect, gRPC-Web). */
    url: '',
    /** The embedded runtime, for the official SDKs. */
    runtimeUrl: '',
    /** Options for the official SDKs' create/connect against the embedded runtime. */
    sdkOpts: undefined,
    exit: undefined,
    tail,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      running.delete(server);
      if (server.alive) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  running.add(server);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void server.stop();
      reject(new Error(`the toolkit server did not start within 30 s:\n${tail.join('\n')}`));
    }, 30_000);
    child.stdout.on('data', (chunk) => {
      if (server.runtimeUrl) return;
      out += chunk.toString('utf8');
      const url = /e2b-toolkit listening on (\S+)/.exec(out);
      const rt = /export E2B_API_URL=(\S+)/.exec(out);
      const key = /export E2B_API_KEY=(\S+)/.exec(out);
      if (url && rt && key) {
        clearTimeout(timer);
        server.url = url[1];
        server.runtimeUrl = rt[1];
        server.sdkOpts = { apiKey: key[1], apiUrl: rt[1], sandboxUrl: rt[1] };
        resolve(server);
      }
    });
    void exited.then(({ code, signal }) => {
      server.exit = { code, signal };
      clearTimeout(timer);
      running.delete(server);
      if (!server.runtimeUrl) reject(new Error(`the toolkit server exited (${signal ?? code}) before listening:\n${tail.join('\n')}`));
    });
  });
}

/** Runs fn with a fresh toolkit server, stopped afterwards even when fn throws. */
export async function withToolkitServer(options, fn) {
  const server = await startToolkitServer(options);
  try {
    return await fn(server);
  } catch (err) {
    if (!server.alive) {
      const how = server.exit?.signal ?? `status ${server.exit?.code}`;
      err.message = `${err.message} (the toolkit server had exited: ${how})\nserver output:\n${tail(server)}`;
    }
    throw err;
  } finally {
    await server.stop();
  }
}

const tail = (server) => server.tail.join('\n');

/** Stops every toolkit server still running. */
export async function stopAllToolkitServers() {
  await Promise.all([...running].map((s) => s.stop()));
}

process.on('exit', () => {
  for (const s of running) {
    try {
      process.kill(s.pid, 'SIGINT');
    } catch {
      /* gone */
    }
  }
});
