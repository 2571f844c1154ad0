// The Python client (clients/python) against a real toolkit server: runs its pytest suite
// (clients/python/tests) in a child process pointed at an in-process server.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { startTestServer } from '../support/toolkit.js';

const root = path.resolve(import.meta.dirname, '../..');
const PYTHON = '/usr/bin/python3';
const KEY = 'py-key-a';
const OTHER_KEY = 'py-key-b';

let server: ToolkitServer;

beforeAll(async () => {
  // With keys configured, a wrong key is rejected (UNAUTHENTICATED) and two keys are isolated.
  server = await startTestServer('python-client', { apiKeys: new Set([KEY, OTHER_KEY]), localRuntime: { warmPoolSize: 2 } });
});

afterAll(async () => {
  await server?.close();
});

/** Runs a command to completion without blocking the event loop (the server runs in this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it('passes the Python client test suite (pytest) against a real server', async () => {
  const generated = path.join(root, 'clients/python/e2b_toolkit/_gen/e2b_toolkit/v1/code_service_pb2.py');
  expect(fs.existsSync(generated), 'the Python stubs are missing: run `npm run build` first').toBe(true);
  const env = {
    ...process.env,
    PYTHONPATH: path.join(root, 'clients/python'),
    PYTHONDONTWRITEBYTECODE: '1',
    E2B_TOOLKIT_URL: server.url,
    E2B_TOOLKIT_API_KEY: KEY,
    E2B_TOOLKIT_TEST_OTHER_KEY: OTHER_KEY,
  };
  const { code, output } = await run(PYTHON, ['-m', 'pytest', 'clients/python/tests', '-q', '-p', 'no:cacheprovider'], env, 280_000);
  if (code !== 0) console.error(output);
  expect(code, `pytest failed:\n${output}`).toBe(0);
}, 300_000);
