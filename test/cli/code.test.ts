// e2b-toolkit run-python (file, stdin, live streaming, results) and exec (exit codes), against a
// real server and sandbox.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { cliEnv, errorCodeOf, jsonOf, runCli, spawnCli, startServer } from './cli.js';

let server: ToolkitServer;
let env: Record<string, string | undefined>;
let tmp: string;

beforeAll(async () => {
  server = await startServer('code');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-code-'));
  const created = await runCli(['sandbox', 'create', '--timeout', '600'], { env: cliEnv(server) });
  env = cliEnv(server, { E2B_TOOLKIT_SANDBOX: created.stdout.trim() });
});

afterAll(async () => {
  if (env) await runCli(['sandbox', 'kill'], { env });
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('e2b-toolkit run-python', () => {
  it('runs a file: stdout and stderr on their streams, the last value on stdout, state kept between runs', async () => {
    const file = path.join(tmp, 'first.py');
    fs.writeFileSync(file, 'import sys\nx = 20\nprint("to stdout")\nprint("to stderr", file=sys.stderr)\nx + 1\n');
    const r = await runCli(['run-python', file], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'to stdout\n21\n', stderr: 'to stderr\n' });

    // The kernel keeps x; the code comes from stdin this time.
    const again = await runCli(['run-python', '-'], { env, input: 'print(x * 2)\n' });
    expect(again).toMatchObject({ code: 0, stdout: '40\n', stderr: '' });
  });

  it('streams output while the code still runs', async () => {
    // The code waits for a file that only a second CLI call creates, after the first line has
    // arrived: the line cannot have come at the end of the run.
    const code = 'import os, time\nprint("first", flush=True)\nwhile not os.path.exists("/tmp/go"): time.sleep(0.05)\nprint("second")\n';
    const run = spawnCli(['run-python', '-'], { env, input: code });
    await run.waitFor('stdout', 'first\n');
    expect(run.stdout()).not.toContain('second');
    expect((await runCli(['exec', 'touch /tmp/go'], { env })).code).toBe(0);
    expect(await run.exited).toMatchObject({ code: 0, stdout: 'first\nsecond\n' });
  });

  it('Ctrl-C interrupts the code (exit 130) and frees the kernel for the next run', async () => {
    const run = spawnCli(['run-python', '-', '--timeout', '600'], { env, input: 'import time\nprint("looping", flush=True)\nwhile True: time.sleep(0.05)\n' });
    await run.waitFor('stdout', 'looping\n');
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(130);
    // The loop would hold the kernel for 600 s had it not been interrupted.
    expect(await runCli(['run-python', '-'], { env, input: 'print("next")' })).toMatchObject({ code: 0, stdout: 'next\n' });
  });

  it('saves PNG results with --save-results and summarises them on stderr', async () => {
    const dir = path.join(tmp, 'results');
    const code = 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 1, 9])\nplt.title("t")\nplt.show()\n';
    const r = await runCli(['run-python', '-', '--save-results', dir], { env, input: code });
    expect(r.code).toBe(0);
    const saved = fs.readdirSync(dir);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(/_0\.png$/);
    expect(fs.readFileSync(path.join(dir, saved[0])).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(r.stderr).toMatch(/^\[result 0\] .*png.*\(line chart\) -> saved .*_0\.png$/m);

    // --json: one document with the results (PNG as base64) and where they were saved.
    const j = await runCli(['--json', 'run-python', '-', '-o', dir], { env, input: code + 'print("done")\n' });
    expect(j.code).toBe(0);
    const doc = jsonOf(j);
    expect(doc).toMatchObject({ status: 'success', stdout: 'done\n', stderr: '', sandbox_id: env.E2B_TOOLKIT_SANDBOX });
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({ index: 0, chart: { type: 'line', title: 't' } });
    expect(doc.results[0].formats).toEqual(expect.arrayContaining(['png', 'chart', 'text']));
    expect(Buffer.from(doc.results[0].png, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(fs.existsSync(doc.results[0].saved_path)).toBe(true);
    expect(j.stderr).toBe('');
  });

  it('exits 1 with the traceback on stderr when the code raises', async () => {
    const r = await runCli(['run-python', '-'], { env, input: 'print("before")\n1 / 0\n' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('before\n');
    expect(r.stderr).toContain('ZeroDivisionError');
    expect(r.stderr).not.toContain('\x1b['); // no colour codes off a terminal

    const j = await runCli(['--json', 'run-python', '-'], { env, input: 'raise ValueError("bad value")\n' });
    expect(j.code).toBe(1);
    expect(jsonOf(j)).toMatchObject({ status: 'error', error: { name: 'ValueError', value: 'bad value' } });
  });

  it('fails clearly for a missing file and a run past its timeout', async () => {
    const missing = await runCli(['run-python', path.join(tmp, 'nope.py')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^e2b-toolkit: cannot read .*nope\.py: no such file or directory \(enoent\)\n$/);

    const slow = await runCli(['run-python', '-', '--timeout', '1'], { env, input: 'import time\ntime.sleep(30)\n' });
    expect(slow.code).toBe(1);
    expect(errorCodeOf(slow)).toBe('deadline_exceeded');
  });
});

describe('e2b-toolkit exec', () => {
  it('prints the output and exits with the command\'s exit code', async () => {
    expect(await runCli(['exec', 'echo out; echo err >&2'], { env })).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(await runCli(['exec', 'exit 7'], { env })).toMatchObject({ code: 7, stdout: '', stderr: '' });
    // Words after -- are the command; --cwd and --env apply.
    const r = await runCli(['exec', '--cwd', '/tmp', '-e', 'GREETING=hi there', '--', 'echo', '"$GREETING"', '$(pwd)', '-n'], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'hi there /tmp -n\n' });
  });

  it('--json gives the exit code and output, and keeps the exit status', async () => {
    const r = await runCli(['--json', 'exec', 'printf abc; exit 3'], { env });
    expect(r.code).toBe(3);
    expect(jsonOf(r)).toMatchObject({ status: 'error', exit_code: 3, stdout: 'abc', stderr: '', stdout_bytes: 3, sandbox_id: env.E2B_TOOLKIT_SANDBOX });
  });

  it('reports a missing working directory as an error, not an exit code', async () => {
    const r = await runCli(['exec', '--cwd', '/no/such/dir', 'true'], { env });
    expect(r.code).toBe(1);
    // One error line naming the directory. (Its code should be not_found per the protos; the
    // server currently answers internal, see the report.)
    expect(r.stderr).toMatch(/^e2b-toolkit: .*\/no\/such\/dir.* \([a-z_]+\)\n$/);
  });
});
