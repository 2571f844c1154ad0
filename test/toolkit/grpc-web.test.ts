// Every RPC of the toolkit API over gRPC-Web (HTTP/1.1), through the TS client's generated
// clients: the protocol browsers use. (Connect and gRPC run every RPC in the other toolkit,
// interop and client tests.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolkitClients, type ToolkitClients } from '../../clients/ts/src/index.js';
import { JobStatus } from '../../clients/ts/src/gen/e2b_toolkit/v1/job_pb.js';
import { ExecutionStatus, ResultFormat } from '../../clients/ts/src/gen/e2b_toolkit/v1/execution_pb.js';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { startTestServer } from '../support/toolkit.js';

let server: ToolkitServer;
let c: ToolkitClients;
let sandboxId: string;

beforeAll(async () => {
  server = await startTestServer('grpc-web-test', {
    localRuntime: { warmPoolSize: 2 },
  });
  c = createToolkitClients({ baseUrl: server.url, apiKey: 'web-key', protocol: 'grpc-web' });
});

afterAll(async () => {
  await server?.close();
});

const client = () => c.clientId;

describe('gRPC-Web', () => {
  it('SandboxService: create, connect, get, list, set timeout', async () => {
    const created = await c.sandboxes.createSandbox({ clientId: client(), setAsDefault: true, metadata: { via: 'grpc-web' } });
    sandboxId = created.sandbox!.sandboxId;
    expect(created.sandbox).toMatchObject({ isDefault: true, metadata: { via: 'grpc-web' } });
    const other = createToolkitClients({ baseUrl: server.url, apiKey: 'web-key', protocol: 'grpc-web' });
    expect((await other.sandboxes.connectSandbox({ sandboxId, clientId: other.clientId })).sandbox?.sandboxId).toBe(sandboxId);
    expect((await c.sandboxes.getSandbox({ clientId: client() })).sandbox?.sandboxId).toBe(sandboxId);
    expect((await c.sandboxes.listSandboxes({ clientId: client() })).sandboxes.map((s) => s.sandboxId)).toEqual([sandboxId]);
    const extended = await c.sandboxes.setSandboxTimeout({ sandboxId, timeout: { seconds: 600n } });
    expect(Number(extended.sandbox!.expireTime!.seconds) * 1000).toBeGreaterThan(Date.now() + 500_000);
  });

  it('CommandService and JobService: run, start, get, list, tail, kill, delete', async () => {
    expect(await c.commands.runCommand({ sandboxId, command: 'echo web' })).toMatchObject({ exitCode: 0, stdout: 'web\n' });
    const { job } = await c.commands.startCommand({ sandboxId, command: 'echo one; echo two >&2; sleep 60' });
    const jobId = job!.jobId;
    expect((await c.jobs.getJob({ jobId })).job?.status).toBe(JobStatus.RUNNING);
    expect((await c.jobs.listJobs({ sandboxId })).jobs.map((j) => j.jobId)).toContain(jobId);
    let out = '';
    let err = '';
    for await (const res of c.jobs.tailJobLogs({ jobId })) {
      if (res.event.case === 'stdout') out += Buffer.from(res.event.value.data).toString();
      if (res.event.case === 'stderr') err += Buffer.from(res.event.value.data).toString();
      if (out === 'one\n' && err === 'two\n') break;
    }
    expect([out, err]).toEqual(['one\n', 'two\n']);
    expect((await c.jobs.killJob({ jobId })).job?.status).toBe(JobStatus.CANCELLED);
    expect((await c.jobs.deleteJob({ jobId })).job?.jobId).toBe(jobId);
  });

  it('CodeService: run, stream, start, run in all, get execution and result', async () => {
    const { execution } = await c.code.runPythonCode({ sandboxId, code: 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.show()\n6 * 7' });
    expect(execution?.status).toBe(ExecutionStatus.SUCCEEDED);
    const events: string[] = [];
    for await (const res of c.code.streamPythonCode({ sandboxId, code: 'print("a", flush=True)\n1 + 1' })) events.push(res.event.case ?? '');
    expect(events[0]).toBe('started');
    expect(events).toContain('stdout');
    expect(events.at(-1)).toBe('ended');
    const started = await c.code.startPythonCode({ sandboxId, code: 'print("bg")' });
    await expect.poll(async () => (await c.jobs.getJob({ jobId: started.job!.jobId })).job?.status, { timeout: 20_000 }).toBe(JobStatus.DONE);
    const all = await c.code.runPythonCodeInAllSandboxes({ clientId: client(), code: '2 ** 10' });
    expect(all.outcomes.map((o) => o.sandboxId)).toEqual([sandboxId]);
    expect((await c.code.getExecution({ executionId: execution!.executionId })).execution?.executionId).toBe(execution!.executionId);
    const png = await c.code.getExecutionResult({ executionId: execution!.executionId, resultIndex: 0, formats: [ResultFormat.PNG] });
    expect(Buffer.from(png.result!.png!).subarray(1, 4).toString()).toBe('PNG');
  });

  it('FileService: upload, download, read, write, list', async () => {
    const data = Buffer.alloc(300_000, 7);
    async function* upload() {
      yield { part: { case: 'header' as const, value: { sandboxId, path: 'web/data.bin', sizeBytes: BigInt(data.length) } } };
      yield { part: { case: 'chunk' as const, value: data.subarray(0, 150_000) } };
      yield { part: { case: 'chunk' as const, value: data.subarray(150_000) } };
    }
    expect((await c.files.uploadFile(upload())).file?.sizeBytes).toBe(BigInt(data.length));
    const parts: Buffer[] = [];
    for await (const res of c.files.downloadFile({ sandboxId, path: 'web/data.bin' })) if (res.part.case === 'chunk') parts.push(Buffer.from(res.part.value));
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    await c.files.writeFile({ sandboxId, path: 'web/note.txt', content: Buffer.from('hi') });
    expect(Buffer.from((await c.files.readFile({ sandboxId, path: 'web/note.txt' })).content).toString()).toBe('hi');
    expect((await c.files.listFiles({ sandboxId, path: 'web' })).entries.map((e) => e.name).sort()).toEqual(['data.bin', 'note.txt']);
  });

  it('NetworkService: run a server, reach it at its public URL', async () => {
    const started = await c.network.runServer({ sandboxId, command: 'python3 -m http.server 8123', port: 8123, wait: { seconds: 15n } });
    expect(started.ready).toBe(true);
    expect((await fetch(started.url)).status).toBe(200);
    const { url } = await c.network.getPublicUrl({ sandboxId, port: 8123 });
    expect((await fetch(url)).status).toBe(200);
  });

  it('SandboxService: shut down one, then all', async () => {
    const second = (await c.sandboxes.createSandbox({ clientId: client() })).sandbox!.sandboxId;
    expect((await c.sandboxes.shutdownSandbox({ sandboxId: second })).sandboxId).toBe(second);
    const { outcomes } = await c.sandboxes.shutdownAllSandboxes({ clientId: client() });
    expect(outcomes.map((o) => [o.sandboxId, o.error])).toEqual([[sandboxId, undefined]]);
  });
});
