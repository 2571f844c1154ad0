// The Go client (clients/go) end to end: generates its code from proto/, then runs its `go test`
// (create a sandbox, run a command and Python, tail a job, upload and download, errors,
// shutdown) against a real in-process toolkit server. Everything builds offline from the Go
// sources Debian ships (clients/go/offline.mjs). The children are spawned asynchronously: a
// blocking spawn would stall the server living in this process.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { startTestServer } from '../support/toolkit.js';

const goClientDir = path.resolve(import.meta.dirname, '../../clients/go');
// A cold build compiles grpc-go and protobuf-go from source (tens of seconds on 2 busy cores).
const GO_TIMEOUT_MS = 600_000;

let server: ToolkitServer;

beforeAll(async () => {
  server = await startTestServer('go-client-test', {
    localRuntime: { warmPoolSize: 2 },
  });
});

afterAll(async () => {
  await server?.close();
});

/** Runs a command to its end; resolves with its exit code and interleaved output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: goClientDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Fails with the command's output, so a broken Go build or test reads in the vitest report. */
async function expectSuccess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const { code, output } = await run(cmd, args, env);
  if (code !== 0) console.error(`${cmd} ${args.join(' ')} exited with ${code}:\n${output}`);
  expect(code, `${cmd} ${args.join(' ')}\n${output}`).toBe(0);
  return output;
}

it(
  'generates the Go client and passes its end-to-end test against the server',
  async () => {
    await expectSuccess(process.execPath, ['generate.mjs']);
    const output = await expectSuccess(process.execPath, ['offline.mjs', 'go', 'test', '-count=1', '-v', './...'], {
      ...process.env,
      TOOLKIT_URL: server.url,
      TOOLKIT_API_KEY: 'go-client-test',
    });
    // The end-to-end test skips itself without TOOLKIT_URL; make sure it really ran.
    expect(output).toMatch(/--- PASS: TestEndToEnd\b/);
    expect(output).not.toMatch(/--- SKIP/);
  },
  GO_TIMEOUT_MS,
);
