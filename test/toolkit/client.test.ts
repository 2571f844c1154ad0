// The TS client (clients/ts): createToolkitClients and the reference-style wrapper
// (SandboxManager, E2BToolkit) against a real toolkit server with an embedded local runtime.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolkitClients, E2BToolkit, SandboxManager, type JobLogEvent, type ToolkitProtocol } from '../../clients/ts/src/index.js';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { startTestServer } from '../support/toolkit.js';

let server: ToolkitServer;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-client-'));
  server = await startTestServer('client-test', {
    localRuntime: { warmPoolSize: 2 },
  });
});

afterAll(async () => {
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function manager(protocol: ToolkitProtocol = 'connect', apiKey = 'key-a') {
  return new SandboxManager({ baseUrl: server.url, apiKey, protocol });
}

describe.each(['connect', 'grpc'] as const)('E2BToolkit over %s', (protocol) => {
  it('creates a default sandbox, runs commands and background jobs, tails and kills them', async () => {
    const tk = new E2BToolkit(manager(protocol), { autoCreateDefault: false });

    const created = await tk.createSandbox(120, { purpose: 'test' }, true);
    expect(created).toMatchObject({ status: 'success', is_default: true, metadata: { purpose: 'test' } });
    const sandboxId = created.sandbox_id as string;
    expect(tk.defaultSandboxId).toBe(sandboxId);

    expect(await tk.runCommand('echo hello')).toMatchObject({ status: 'success', exit_code: 0, stdout: 'hello\n', sandbox_id: sandboxId });
    expect(await tk.runCommand('echo oops >&2; exit 3')).toMatchObject({ status: 'error', exit_code: 3, stderr: 'oops\n' });

    const bg = await tk.runCommandBackground('for i in 1 2 3; do echo line$i; sleep 0.1; done; sleep 60');
    expect(bg).toMatchObject({ status: 'accepted', sandbox_id: sandboxId });
    const jobId = bg.job_id as string;
    expect(await tk.getJobStatus(jobId)).toMatchObject({ status: 'running', job_id: jobId, kind: 'command', sandbox_id: sandboxId });

    let stdout = '';
    const events: JobLogEvent['type'][] = [];
    let ended: JobLogEvent | undefined;
    for await (const e of tk.tailJobLogs(jobId)) {
      events.push(e.type);
      if (e.type === 'stdout') {
        stdout += e.text;
        if (stdout.includes('line3\n')) expect(await tk.killJob(jobId)).toMatchObject({ status: 'success', job_id: jobId });
      }
      if (e.type === 'ended') ended = e;
    }
    expect(stdout).toBe('line1\nline2\nline3\n');
    expect(events[0]).toBe('started');
    expect(ended).toMatchObject({ type: 'ended', job: { status: 'cancelled', job_id: jobId } });
    expect(await tk.getJobStatus(jobId)).toMatchObject({ status: 'cancelled' });

    // A finished job read again, from a byte offset.
    let rest = '';
    for await (const e of tk.tailJobLogs(jobId, { fromOffset: 6 })) if (e.type === 'stdout') rest += e.text;
    expect(rest).toBe('line2\nline3\n');

    // background=true is runCommandBackground.
    const bg2 = await tk.runCommand('echo later', undefined, true);
    expect(bg2).toMatchObject({ status: 'accepted', sandbox_id: sandboxId });

    expect(await tk.getJobStatus('no-such-job')).toEqual({ status: 'not_found', job_id: 'no-such-job' });
    expect(await tk.killJob('no-such-job')).toEqual({ status: 'not_found', job_id: 'no-such-job' });

    // deleteJob (beyond the reference): the ended job and its output are gone at once.
    expect(await tk.deleteJob(jobId)).toMatchObject({ status: 'success', job_id: jobId, job_status: 'cancelled' });
    expect(await tk.getJobStatus(jobId)).toEqual({ status: 'not_found', job_id: jobId });
    const sleeper = (await tk.runCommandBackground('sleep 60')).job_id as string;
    expect(await tk.deleteJob(sleeper)).toMatchObject({ status: 'error', code: 'failed_precondition', reason: 'JOB_RUNNING' });
    expect(await tk.deleteJob(sleeper, true)).toMatchObject({ status: 'success', job_status: 'cancelled' });

    const listed = await tk.listManagedSandboxes();
    expect(listed).toMatchObject({ status: 'success', count: 1, default_sandbox_id: sandboxId });
    expect((listed.sandboxes as { sandbox_id: string }[])[0]).toMatchObject({ sandbox_id: sandboxId, state: 'running', is_default: true });

    const all = await tk.shutdownAllSandboxes();
    expect(all).toMatchObject({ status: 'success', shutdown: [sandboxId], errors: {}, count: 1 });
    expect(tk.defaultSandboxId).toBeUndefined();
    expect(await tk.listManagedSandboxes()).toMatchObject({ status: 'success', count: 0, sandboxes: [] });
    // No default and no auto-create: the server's error, as a result.
    expect(await tk.runCommand('true')).toMatchObject({ status: 'error', code: 'failed_precondition' });
  });
});

describe('default sandboxes', () => {
  it('gives each toolkit its own lazily created default', async () => {
    const m = manager('grpc');
    const a = new E2BToolkit(m);
    const b = new E2BToolkit(m);
    expect(a.clientId).not.toBe(b.clientId);
    expect(a.defaultSandboxId).toBeUndefined();

    // Concurrent first calls share one creation.
    const [a1, a2] = await Promise.all([a.runCommand('echo a'), a.runCommand('echo a')]);
    const b1 = await b.runCommand('echo b');
    expect(a1).toMatchObject({ status: 'success', stdout: 'a\n' });
    expect(a2.sandbox_id).toBe(a1.sandbox_id);
    expect(b1).toMatchObject({ status: 'success', stdout: 'b\n' });
    expect(a.defaultSandboxId).toBe(a1.sandbox_id);
    expect(b.defaultSandboxId).toBe(b1.sandbox_id);
    expect(a1.sandbox_id).not.toBe(b1.sandbox_id);

    // Each lists only its own.
    expect(await a.listManagedSandboxes()).toMatchObject({ count: 1, default_sandbox_id: a1.sandbox_id });
    expect(await b.listManagedSandboxes()).toMatchObject({ count: 1, default_sandbox_id: b1.sandbox_id });

    // A sandbox of one toolkit, used by id from the other, stays the other's only by id.
    expect(await b.runCommand('echo x', a1.sandbox_id as string)).toMatchObject({ status: 'success', sandbox_id: a1.sandbox_id });

    expect(await a.shutdownSandbox()).toEqual({ status: 'success', sandbox_id: a1.sandbox_id });
    expect(await b.shutdownAllSandboxes()).toMatchObject({ status: 'success', shutdown: [b1.sandbox_id] });
  });

  it('reports a bad API key as an error result, and SandboxManager.shutdown as the reference shape', async () => {
    const m = manager('connect');
    const slot = await m.create(60, { k: 'v' });
    expect(slot.sandboxId).toMatch(/^[a-z0-9]+$/);
    expect(slot.metadata).toEqual({ k: 'v' });
    const again = await m.connect(slot.sandboxId);
    expect(again.sandboxId).toBe(slot.sandboxId);
    expect(await m.shutdown(slot.sandboxId)).toEqual({ status: 'success', sandbox_id: slot.sandboxId, result: true });
    expect(await m.shutdown(slot.sandboxId)).toMatchObject({ status: 'error', sandbox_id: slot.sandboxId, result: null, code: 'not_found' });

    const other = new E2BToolkit(manager('connect', 'key-b'), { autoCreateDefault: false });
    expect(await other.getJobStatus('x')).toEqual({ status: 'not_found', job_id: 'x' });
  });
});

describe('createToolkitClients', () => {
  it('gives typed clients over grpc-web too', async () => {
    const c = createToolkitClients({ baseUrl: server.url, apiKey: 'key-c', protocol: 'grpc-web' });
    expect(c.clientId).toMatch(/^ts-/);
    const { sandbox } = await c.sandboxes.createSandbox({ clientId: c.clientId, setAsDefault: true });
    const res = await c.commands.runCommand({ clientId: c.clientId, command: 'echo web' });
    expect(res.stdout).toBe('web\n');
    await c.sandboxes.shutdownSandbox({ sandboxId: sandbox!.sandboxId });
  });
});

describe('files and network', () => {
  it('uploads and downloads files in chunks, and gets public URLs', async () => {
    const tk = new E2BToolkit(manager('connect'), { uploadChunkSize: 64 * 1024 });
    const local = path.join(tmp, 'data.bin');
    const bytes = crypto.randomBytes(300_000);
    fs.writeFileSync(local, bytes);

    const up = await tk.uploadFile(local);
    expect(up).toMatchObject({ status: 'success', path: '/home/user/data.bin', size: bytes.length });
    const up2 = await tk.uploadFile(local, undefined, 'sub/dir/copy.bin');
    expect(up2).toMatchObject({ status: 'success', path: '/home/user/sub/dir/copy.bin' });

    const dest = path.join(tmp, 'out', 'copy.bin');
    const down = await tk.downloadFileFromSandbox('sub/dir/copy.bin', undefined, dest);
    expect(down).toMatchObject({ status: 'success', local_path: dest, size: bytes.length });
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);

    const missing = path.join(tmp, 'out', 'missing.bin');
    expect(await tk.downloadFileFromSandbox('nope.bin', undefined, missing)).toMatchObject({ status: 'error', code: 'not_found' });
    expect(fs.readdirSync(path.join(tmp, 'out'))).toEqual(['copy.bin']);
    expect(await tk.uploadFile(path.join(tmp, 'absent'))).toMatchObject({ status: 'error', code: 'enoent' });

    const url = await tk.getPublicUrl(8000);
    expect(url).toMatchObject({ status: 'success', port: 8000, sandbox_id: tk.defaultSandboxId });
    expect(url.url).toMatch(/^https?:\/\//);

    await tk.shutdownAllSandboxes();
  });
});

describe('code and servers', () => {
  it('runs Python, in the background and in all sandboxes, and fetches PNG and chart results', async () => {
    const tk = new E2BToolkit(manager('grpc'));

    expect(await tk.runPythonCode("print('Hello, world!')\nresult = 2 + 2")).toMatchObject({
      status: 'success',
      results: [{ logs: 'Hello, world!\n' }],
      sandbox_id: tk.defaultSandboxId,
    });
    const value = await tk.runPythonCode('result + 1');
    expect(value).toMatchObject({ status: 'success', results: [{ is_main_result: true, text: '5' }] });
    const failed = await tk.runPythonCode('1/0');
    expect(failed).toMatchObject({ status: 'error', error_name: 'ZeroDivisionError' });
    expect(failed.error).toContain('ZeroDivisionError');

    const chart = await tk.runPythonCode(
      'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 5, 6])\nplt.title("t")\nplt.show()',
    );
    expect(chart.status).toBe('success');
    const png = path.join(tmp, 'chart.png');
    const saved = await tk.downloadPngResult(chart, 0, undefined, png);
    expect(saved).toMatchObject({ status: 'success', path: png, execution_id: chart.execution_id });
    expect(fs.readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    // Empty ref: the latest execution of the default sandbox.
    const data = await tk.downloadChartData(undefined, 0, undefined, path.join(tmp, 'chart.json'));
    expect(data).toMatchObject({ status: 'success', execution_id: chart.execution_id, chart: { title: 't' } });
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'chart.json'), 'utf8'))).toEqual(data.chart);
    expect(await tk.downloadPngResult(chart, 7)).toMatchObject({ status: 'error', code: 'not_found' });

    const bg = await tk.runPythonCodeBackground('import time\nprint("bg")\ntime.sleep(0.2)');
    expect(bg).toMatchObject({ status: 'accepted', sandbox_id: tk.defaultSandboxId });
    let out = '';
    for await (const e of tk.tailJobLogs(bg.job_id as string)) if (e.type === 'stdout') out += e.text;
    expect(out).toBe('bg\n');
    expect(await tk.getJobStatus(bg.job_id as string)).toMatchObject({ status: 'done', kind: 'python' });

    const second = await tk.createSandbox(60);
    const all = await tk.runInAllSandboxes('print(6 * 7)');
    expect(Object.keys(all).sort()).toEqual([tk.defaultSandboxId, second.sandbox_id].sort());
    for (const r of Object.values(all)) expect(r).toMatchObject({ status: 'success', results: [{ logs: '42\n' }] });

    const server = await tk.runServer('python3 -m http.server 8000', 8000, undefined, 10);
    expect(server).toMatchObject({ status: 'success', ready: true, port: 8000 });
    expect(await tk.getJobStatus(server.job_id as string)).toMatchObject({ status: 'running' });
    const died = await tk.runServer('exit 4', 8001, undefined, 5);
    expect(died).toMatchObject({ status: 'error', ready: false });

    expect(await tk.shutdownAllSandboxes()).toMatchObject({ status: 'success', count: 2 });
  });
});
