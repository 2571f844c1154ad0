// Bad input to the CLI: a dead server, a wrong or missing key, unknown ids, bad command lines.
// Each gets one line on stderr ("e2b-toolkit: <what> (<code>)"), no stack trace, and a non-zero
// exit status; --json adds an error document on stdout. Also: every protocol works.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { cliEnv, ERROR_LINE, errorCodeOf, jsonOf, runCli, startServer } from './cli.js';

let server: ToolkitServer;
let env: Record<string, string | undefined>;
let sandboxId: string;

beforeAll(async () => {
  server = await startServer('errors');
  sandboxId = (await runCli(['sandbox', 'create', '--timeout', '600'], { env: cliEnv(server) })).stdout.trim();
  env = cliEnv(server, { E2B_TOOLKIT_SANDBOX: sandboxId });
});

afterAll(async () => {
  if (env) await runCli(['sandbox', 'kill'], { env });
  await server?.close();
});

/** A loopback port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('e2b-toolkit errors', () => {
  it('a dead server: "cannot reach", unavailable, exit 1, for any protocol', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    for (const protocol of ['connect', 'grpc', 'grpc-web']) {
      const r = await runCli(['--protocol', protocol, 'sandbox', 'list'], { env: cliEnv(server, { E2B_TOOLKIT_URL: url }) });
      expect(r.code, protocol).toBe(1);
      expect(r.stderr, protocol).toMatch(ERROR_LINE);
      expect(r.stderr, protocol).toContain(`cannot reach the toolkit server at ${url}`);
      expect(errorCodeOf(r), protocol).toBe('unavailable');
      expect(r.stdout).toBe('');
    }
    // --url beats the environment; --json adds the error document.
    const j = await runCli(['--json', '--url', url, 'exec', 'true'], { env });
    expect(j.code).toBe(1);
    expect(jsonOf(j)).toMatchObject({ status: 'error', code: 'unavailable' });
  });

  it('a wrong or missing API key: unauthenticated', async () => {
    for (const key of ['wrong-key', undefined]) {
      const r = await runCli(['sandbox', 'list'], { env: cliEnv(server, { E2B_TOOLKIT_API_KEY: key }) });
      expect(r.code, String(key)).toBe(1);
      expect(r.stderr, String(key)).toMatch(ERROR_LINE);
      expect(errorCodeOf(r), String(key)).toBe('unauthenticated');
    }
    // The flag works as the variable does.
    expect((await runCli(['--api-key', 'wrong-key', 'exec', 'true'], { env })).code).toBe(1);
    expect((await runCli(['exec', 'true'], { env: { ...env, E2B_TOOLKIT_API_KEY: undefined } })).code).toBe(1);
  });

  it('an unknown sandbox id: not_found for every command that uses it', async () => {
    const other = cliEnv(server, { E2B_TOOLKIT_SANDBOX: 'nosuchsandbox' });
    for (const args of [['exec', 'true'], ['run-python', '-'], ['job', 'start', 'true'], ['upload', __filename], ['download', 'x', '/tmp'], ['url', '8000'], ['sandbox', 'kill']]) {
      const r = await runCli(args, { env: other, input: 'print(1)' });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(ERROR_LINE);
      expect(errorCodeOf(r), args.join(' ')).toBe('not_found');
    }
    const j = await runCli(['--json', 'exec', 'true'], { env: other });
    expect(jsonOf(j)).toMatchObject({ status: 'error', code: 'not_found', reason: 'SANDBOX_NOT_FOUND' });
  });

  it('bad command lines: usage, exit 2, one line', async () => {
    const cases = [['no-such-command'], ['exec'], ['sandbox', 'create', '--timeout', 'soon'], ['--protocol', 'carrier-pigeon', 'sandbox', 'list'], ['exec', '--bogus', 'true'], ['sandbox', 'create', '-m', 'novalue']];
    for (const args of cases) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(ERROR_LINE);
      expect(errorCodeOf(r), args.join(' ')).toBe('usage');
    }
    // A command group without its subcommand prints its help, exit 2; --help exits 0.
    const group = await runCli(['job'], { env });
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('Usage: e2b-toolkit job');
    const help = await runCli(['--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: e2b-toolkit');
    expect((await runCli(['--version'], { env })).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('no sandbox selected: says how to select one, exit 2', async () => {
    for (const args of [['exec', 'true'], ['run-python', '-'], ['upload', __filename], ['url', '80'], ['job', 'start', 'true']]) {
      const r = await runCli(args, { env: cliEnv(server), input: '' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe('e2b-toolkit: no sandbox selected: pass --sandbox ID or set E2B_TOOLKIT_SANDBOX (create one with "e2b-toolkit sandbox create") (no_sandbox)\n');
    }
  });

  it('works over grpc and grpc-web as over connect', async () => {
    for (const protocol of ['grpc', 'grpc-web']) {
      expect(await runCli(['--protocol', protocol, 'exec', 'echo via $0'], { env }), protocol).toMatchObject({ code: 0, stdout: expect.stringContaining('via') });
      const py = await runCli(['run-python', '-'], { env: { ...env, E2B_TOOLKIT_PROTOCOL: protocol }, input: 'print("py", 1 + 1)' });
      expect(py, protocol).toMatchObject({ code: 0, stdout: 'py 2\n' });
    }
  });
});
