// Every unary RPC of every e2b_toolkit.v1 service called from grpc-js with the .proto files
// loaded at run time, as a Node user without our TS client would: plus deadlines, metadata
// auth, and status codes and error details as grpc-js reports them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { addressOf, errorInfoOf, failure, grpc, toolkitClients, unary, type CallOptions } from './grpc-js.js';
import { startTestServer } from '../support/toolkit.js';

const KEY = 'interop-key';
const CLIENT = 'interop-agent';

let server: ToolkitServer;
let tk: ReturnType<typeof toolkitClients>;
let sandboxId: string;

/** A unary call with this file's key. */
function call(service: Exclude<keyof typeof tk, 'close'>, method: string, request: object, options: CallOptions = {}) {
  return unary(tk[service], method, request, { key: KEY, ...options });
}

beforeAll(async () => {
  server = await startTestServer('interop-unary', {
    localRuntime: { warmPoolSize: 2 },
  });
  tk = toolkitClients(addressOf(server.url));
  const { sandbox } = await call('SandboxService', 'CreateSandbox', {
    client_id: CLIENT,
    set_as_default: true,
    metadata: { purpose: 'interop' },
    timeout: { seconds: 600 },
    request_id: 'interop-create-1',
  });
  sandboxId = sandbox.sandbox_id;
});

afterAll(async () => {
  tk?.close();
  await server?.close();
});

describe('SandboxService', () => {
  it('created the default sandbox, idempotently by request_id', async () => {
    const again = await call('SandboxService', 'CreateSandbox', { client_id: CLIENT, set_as_default: true, metadata: { purpose: 'interop' }, request_id: 'interop-create-1' });
    expect(again.sandbox.sandbox_id).toBe(sandboxId);
    expect(again.sandbox).toMatchObject({ state: 'SANDBOX_STATE_RUNNING', is_default: true, metadata: { purpose: 'interop' } });
    expect(Number(again.sandbox.create_time.seconds)).toBeGreaterThan(0);
  });

  it('gets and lists sandboxes', async () => {
    expect((await call('SandboxService', 'GetSandbox', { client_id: CLIENT })).sandbox.sandbox_id).toBe(sandboxId);
    expect((await call('SandboxService', 'GetSandbox', { sandbox_id: sandboxId, client_id: CLIENT })).sandbox.is_default).toBe(true);
    const { sandboxes } = await call('SandboxService', 'ListSandboxes', { client_id: CLIENT, states: ['SANDBOX_STATE_RUNNING'] });
    expect(sandboxes.map((s: { sandbox_id: string }) => s.sandbox_id)).toEqual([sandboxId]);
  });

  it('sets the timeout', async () => {
    const { sandbox } = await call('SandboxService', 'SetSandboxTimeout', { sandbox_id: sandboxId, timeout: { seconds: 900 } });
    expect(Number(sandbox.expire_time.seconds)).toBeGreaterThan(Number(sandbox.create_time.seconds));
  });

  it('connects another client to a sandbox, and shuts sandboxes down one or all', async () => {
    const { sandbox: second } = await call('SandboxService', 'CreateSandbox', { client_id: 'interop-other' });
    const connected = await call('SandboxService', 'ConnectSandbox', { sandbox_id: second.sandbox_id, client_id: 'interop-third', set_as_default: true });
    expect(connected.sandbox).toMatchObject({ sandbox_id: second.sandbox_id, is_default: true });
    expect(await call('SandboxService', 'ShutdownSandbox', { sandbox_id: second.sandbox_id })).toEqual({ sandbox_id: second.sandbox_id });

    const { sandbox: third } = await call('SandboxService', 'CreateSandbox', { client_id: 'interop-doomed' });
    const { outcomes } = await call('SandboxService', 'ShutdownAllSandboxes', { client_id: 'interop-doomed' });
    expect(outcomes).toEqual([{ sandbox_id: third.sandbox_id, error: null }]);
  });
});

describe('CommandService and JobService', () => {
  it('runs a command and returns its output', async () => {
    const res = await call('CommandService', 'RunCommand', { client_id: CLIENT, command: 'echo out; echo err >&2; exit 3', envs: { A: '1' } });
    expect(res).toMatchObject({ exit_code: 3, stdout: 'out\n', stderr: 'err\n', stdout_bytes: '4', stderr_bytes: '4' });
  });

  it('starts a job, gets it, lists it and kills it', async () => {
    const { job } = await call('CommandService', 'StartCommand', { client_id: CLIENT, command: 'sleep 120', job_id: 'interop-sleep' });
    expect(job).toMatchObject({ job_id: 'interop-sleep', sandbox_id: sandboxId, kind: 'JOB_KIND_COMMAND', status: 'JOB_STATUS_RUNNING' });
    expect((await call('JobService', 'GetJob', { job_id: 'interop-sleep' })).job.status).toBe('JOB_STATUS_RUNNING');
    const { jobs } = await call('JobService', 'ListJobs', { sandbox_id: sandboxId, statuses: ['JOB_STATUS_RUNNING'] });
    expect(jobs.map((j: { job_id: string }) => j.job_id)).toContain('interop-sleep');
    const killed = await call('JobService', 'KillJob', { job_id: 'interop-sleep' });
    expect(killed.job.job_id).toBe('interop-sleep');
    expect(['JOB_STATUS_RUNNING', 'JOB_STATUS_CANCELLED']).toContain(killed.job.status);
    const deleted = await call('JobService', 'DeleteJob', { job_id: 'interop-sleep', kill: true });
    expect(deleted.job).toMatchObject({ job_id: 'interop-sleep', status: 'JOB_STATUS_CANCELLED' });
    await expect(call('JobService', 'GetJob', { job_id: 'interop-sleep' })).rejects.toMatchObject({ code: 5 });
  });
});

describe('CodeService', () => {
  let executionId: string;

  it('runs Python code and returns the execution', async () => {
    const { execution } = await call('CodeService', 'RunPythonCode', { client_id: CLIENT, code: 'print("hi")\n6 * 7' });
    expect(execution).toMatchObject({ status: 'EXECUTION_STATUS_SUCCEEDED', stdout: 'hi\n', sandbox_id: sandboxId });
    expect(execution.results).toEqual([expect.objectContaining({ is_main_result: true, text: '42' })]);
    executionId = execution.execution_id;
  });

  it('gets an execution and one of its results', async () => {
    const { execution } = await call('CodeService', 'GetExecution', { execution_id: executionId });
    expect(execution).toMatchObject({ execution_id: executionId, status: 'EXECUTION_STATUS_SUCCEEDED' });
    const res = await call('CodeService', 'GetExecutionResult', { execution_id: executionId, result_index: 0, formats: ['RESULT_FORMAT_TEXT'] });
    expect(res).toMatchObject({ execution_id: executionId, result: { text: '42' } });
  });

  it('starts Python code as a job', async () => {
    const { job } = await call('CodeService', 'StartPythonCode', { client_id: CLIENT, code: 'print("in a job")', job_id: 'interop-py' });
    expect(job).toMatchObject({ job_id: 'interop-py', kind: 'JOB_KIND_PYTHON' });
  });

  it('runs code in all the sandboxes of a client', async () => {
    const { outcomes } = await call('CodeService', 'RunPythonCodeInAllSandboxes', { client_id: CLIENT, code: '1 + 1', timeout_each: { seconds: 60 } });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ sandbox_id: sandboxId, outcome: 'execution', execution: { status: 'EXECUTION_STATUS_SUCCEEDED' } });
  });
});

describe('FileService (unary) and NetworkService', () => {
  it('writes, reads and lists files', async () => {
    const written = await call('FileService', 'WriteFile', { client_id: CLIENT, path: 'interop/hello.txt', content: Buffer.from('hello grpc-js') });
    expect(written.file).toMatchObject({ name: 'hello.txt', type: 'FILE_TYPE_FILE', size_bytes: '13' });
    const read = await call('FileService', 'ReadFile', { client_id: CLIENT, path: 'interop/hello.txt' });
    expect(Buffer.from(read.content).toString()).toBe('hello grpc-js');
    const { entries } = await call('FileService', 'ListFiles', { client_id: CLIENT, path: 'interop', depth: 1 });
    expect(entries.map((e: { name: string }) => e.name)).toEqual(['hello.txt']);
  });

  it('runs a server and gets its public URL', async () => {
    const run = await call('NetworkService', 'RunServer', { client_id: CLIENT, command: 'python3 -m http.server 8000', port: 8000, wait: { seconds: 30 } });
    expect(run).toMatchObject({ ready: true, job: { status: 'JOB_STATUS_RUNNING' } });
    const { url, host } = await call('NetworkService', 'GetPublicUrl', { client_id: CLIENT, port: 8000, wait: { seconds: 10 } });
    expect(url).toBe(run.url);
    expect(host).not.toBe('');
    expect((await fetch(url)).ok).toBe(true);
  });
});

describe('errors as grpc-js sees them', () => {
  it('reports bad input as INVALID_ARGUMENT with a message naming the field', async () => {
    const err = await failure(call('CommandService', 'RunCommand', { client_id: CLIENT, command: '  ' }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('command');
    const negative = await failure(call('CodeService', 'GetExecutionResult', { execution_id: 'x', result_index: -1 }));
    expect(negative.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('carries a google.rpc.ErrorInfo with the reason in grpc-status-details-bin', async () => {
    const err = await failure(call('JobService', 'GetJob', { job_id: 'no-such-job' }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(errorInfoOf(err)).toMatchObject({ reason: 'JOB_NOT_FOUND', domain: 'e2b-toolkit' });

    const noDefault = await failure(call('CommandService', 'RunCommand', { client_id: 'interop-nobody', command: 'true' }));
    expect(noDefault.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(errorInfoOf(noDefault)?.reason).toBe('NO_DEFAULT_SANDBOX');
  });

  it("hides another key's sandbox: NOT_FOUND with SANDBOX_NOT_FOUND", async () => {
    const err = await failure(call('SandboxService', 'GetSandbox', { sandbox_id: sandboxId }, { key: 'another-key' }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(errorInfoOf(err)).toMatchObject({ reason: 'SANDBOX_NOT_FOUND', metadata: { sandbox_id: sandboxId } });
    expect((await failure(call('CommandService', 'RunCommand', { sandbox_id: sandboxId, command: 'true' }, { key: 'another-key' }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it('ends a call past its deadline with DEADLINE_EXCEEDED', async () => {
    const err = await failure(call('CommandService', 'RunCommand', { client_id: CLIENT, command: 'sleep 30' }, { deadlineMs: 1000 }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The server goes on serving.
    expect((await call('CommandService', 'RunCommand', { client_id: CLIENT, command: 'echo still here' })).stdout).toBe('still here\n');
  });
});

describe('a server with API keys', () => {
  let keyed: ToolkitServer;
  let keyedTk: ReturnType<typeof toolkitClients>;

  beforeAll(async () => {
    keyed = await startTestServer('interop-unary-keyed', {
      apiKeys: new Set(['right-key']),
      localRuntime: { warmPoolSize: 0 },
    });
    keyedTk = toolkitClients(addressOf(keyed.url));
  });

  afterAll(async () => {
    keyedTk?.close();
    await keyed?.close();
  });

  it('rejects a wrong or missing key with UNAUTHENTICATED / API_KEY_INVALID', async () => {
    for (const key of ['wrong-key', undefined]) {
      const err = await failure(unary(keyedTk.SandboxService, 'ListSandboxes', { all_clients: true }, { key }));
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(errorInfoOf(err)).toMatchObject({ reason: 'API_KEY_INVALID', domain: 'e2b-toolkit' });
    }
    expect(await unary(keyedTk.SandboxService, 'ListSandboxes', { all_clients: true }, { key: 'right-key' })).toEqual({ sandboxes: [], next_page_token: '' });
  });
});
