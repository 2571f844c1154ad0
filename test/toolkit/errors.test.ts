// Errors on the wire: every toolkit error carries a google.rpc.ErrorInfo detail (domain
// "e2b-toolkit", reason = ErrorReason name, metadata = the ids it is about) over Connect,
// gRPC and gRPC-Web, and the TS client wrapper reads it into `reason`.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { CodeService, CommandService, ErrorInfoSchema, ErrorReason, JobService, SandboxService } from '@e2b-toolkit/core';
import { eventually } from '../support/runtime.js';
import { E2BToolkit, SandboxManager } from '../../clients/ts/src/index.js';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { toolkitTransport, type Protocol, startTestServer } from '../support/toolkit.js';

let server: ToolkitServer;

function transport(protocol: Protocol, key = 'key-a'): Transport {
  return toolkitTransport(server.url, protocol, key);
}

function clients(protocol: Protocol) {
  const t = transport(protocol);
  return {
    sandboxes: createClient(SandboxService, t),
    commands: createClient(CommandService, t),
    code: createClient(CodeService, t),
    jobs: createClient(JobService, t),
  };
}

/** The code and ErrorInfo (reason, domain, metadata) a call failed with. */
async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    const infos = e.findDetails(ErrorInfoSchema);
    expect(infos.length).toBeLessThanOrEqual(1);
    const info = infos[0];
    return { code: e.code, reason: info?.reason, domain: info?.domain, metadata: info ? { ...info.metadata } : undefined };
  }
  throw new Error('the call succeeded');
}

function wrapper(protocol: 'connect' | 'grpc') {
  return new E2BToolkit(new SandboxManager({ baseUrl: server.url, apiKey: 'key-a', protocol }), { autoCreateDefault: false });
}

const CLIENT = 'errors';
let sandboxId: string;

beforeAll(async () => {
  server = await startTestServer('errors-test', {
    localRuntime: { warmPoolSize: 1 },
    code: { globalWorkers: 1 },
  });
  const res = await clients('connect').sandboxes.createSandbox({ clientId: CLIENT, setAsDefault: true });
  sandboxId = res.sandbox!.sandboxId;
});

afterAll(async () => {
  await server?.close();
});

describe.each(['connect', 'grpc', 'grpc-web'] as const)('ErrorInfo over %s', (protocol) => {
  it('reports an unknown job as NOT_FOUND / JOB_NOT_FOUND with its job_id', async () => {
    const { jobs } = clients(protocol);
    const expected = { code: Code.NotFound, reason: 'JOB_NOT_FOUND', domain: 'e2b-toolkit', metadata: { job_id: 'no-such-job' } };
    expect(await failure(jobs.getJob({ jobId: 'no-such-job' }))).toEqual(expected);
    expect(await failure(jobs.killJob({ jobId: 'no-such-job' }))).toEqual(expected);
  });

  it('sends no ErrorInfo for an invalid argument', async () => {
    const { commands } = clients(protocol);
    expect(await failure(commands.runCommand({ sandboxId, command: '' }))).toMatchObject({ code: Code.InvalidArgument, reason: undefined });
  });
});

describe.each(['connect', 'grpc'] as const)('EXECUTION_TIMED_OUT over %s', (protocol) => {
  it('fails a Python run past its timeout with DEADLINE_EXCEEDED / EXECUTION_TIMED_OUT', async () => {
    const { code } = clients(protocol);
    const f = await failure(code.runPythonCode({ sandboxId, code: 'import time\ntime.sleep(30)', timeout: { seconds: 1n } }));
    expect(f).toMatchObject({ code: Code.DeadlineExceeded, reason: 'EXECUTION_TIMED_OUT', domain: 'e2b-toolkit', metadata: { sandbox_id: sandboxId } });
  });
});

describe('the TS client wrapper', () => {
  it('still maps an unknown job to not_found, and fills reason in error results', async () => {
    const tk = wrapper('grpc');
    expect(await tk.getJobStatus('no-such-job')).toEqual({ status: 'not_found', job_id: 'no-such-job' });
    expect(await tk.killJob('no-such-job')).toEqual({ status: 'not_found', job_id: 'no-such-job' });
    expect(await tk.runCommand('sleep 30', sandboxId, false, 1)).toMatchObject({
      status: 'error',
      code: 'deadline_exceeded',
      reason: 'EXECUTION_TIMED_OUT',
      sandbox_id: sandboxId,
    });
  });
});

describe('work ended by something else while the call runs', () => {
  it('reports a dead kernel as ABORTED / KERNEL_DIED, keeps the execution, and the next run starts fresh', async () => {
    const { code } = clients('grpc');
    await code.runPythonCode({ sandboxId, code: 'survivor = 1' });
    const f = await failure(code.runPythonCode({ sandboxId, code: 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)' }));
    expect(f).toMatchObject({ code: Code.Aborted, reason: 'KERNEL_DIED', metadata: { sandbox_id: sandboxId } });
    const execution = await code.getExecution({ executionId: f.metadata!.execution_id });
    expect(execution.execution).toMatchObject({ errorReason: ErrorReason.KERNEL_DIED, error: { name: 'KernelDiedError' } });
    const next = await code.runPythonCode({ sandboxId, code: "print('survivor' in globals())" });
    expect(next.execution?.stdout).toBe('False\n');
  });

  it('reports a sandbox shut down during a Python run or a command as ABORTED / SANDBOX_SHUT_DOWN', async () => {
    const { sandboxes, code, commands } = clients('connect');
    const doomed = (await sandboxes.createSandbox({ clientId: 'doomed' })).sandbox!.sandboxId;
    const run = failure(code.runPythonCode({ sandboxId: doomed, code: 'import time\nprint("started", flush=True)\ntime.sleep(60)' }));
    const command = failure(commands.runCommand({ sandboxId: doomed, command: 'touch /tmp/started; sleep 60' }));
    await eventually(async () => (await code.getExecution({ sandboxId: doomed }).catch(() => undefined))?.execution?.stdout === 'started\n');
    await eventually(async () => (await commands.runCommand({ sandboxId: doomed, command: 'test -f /tmp/started' })).exitCode === 0);
    await sandboxes.shutdownSandbox({ sandboxId: doomed });
    expect(await run).toMatchObject({ code: Code.Aborted, reason: 'SANDBOX_SHUT_DOWN', metadata: { sandbox_id: doomed } });
    expect(await command).toMatchObject({ code: Code.Aborted, reason: 'SANDBOX_SHUT_DOWN', metadata: { sandbox_id: doomed } });
    // Afterwards the sandbox is simply gone: NOT_FOUND with the same reason.
    expect(await failure(commands.runCommand({ sandboxId: doomed, command: 'true' }))).toMatchObject({ code: Code.NotFound, reason: 'SANDBOX_SHUT_DOWN' });
  });
});

describe('a shut-down sandbox', () => {
  beforeAll(async () => {
    await clients('connect').sandboxes.shutdownSandbox({ sandboxId });
  });

  it.each(['connect', 'grpc'] as const)('is reported with SANDBOX_SHUT_DOWN and its sandbox_id over %s', async (protocol) => {
    const { commands } = clients(protocol);
    const f = await failure(commands.runCommand({ sandboxId, command: 'echo hi' }));
    expect(f).toMatchObject({ code: Code.NotFound, reason: 'SANDBOX_SHUT_DOWN', domain: 'e2b-toolkit' });
    expect(f.metadata?.sandbox_id).toBe(sandboxId);
  });

  it('gives the wrapper the reason too', async () => {
    expect(await wrapper('connect').runCommand('echo hi', sandboxId)).toMatchObject({ status: 'error', code: 'not_found', reason: 'SANDBOX_SHUT_DOWN', sandbox_id: sandboxId });
  });
});

describe('a server with API keys', () => {
  it('reports a wrong key as UNAUTHENTICATED / API_KEY_INVALID', async () => {
    const keyed = await startTestServer('errors-keyed-test', {
      apiKeys: new Set(['right-key']),
      localRuntime: { warmPoolSize: 0 },
    });
    try {
      const jobs = createClient(JobService, toolkitTransport(keyed.url, 'grpc', 'wrong-key'));
      expect(await failure(jobs.getJob({ jobId: 'x' }))).toEqual({ code: Code.Unauthenticated, reason: 'API_KEY_INVALID', domain: 'e2b-toolkit', metadata: {} });
    } finally {
      await keyed.close();
    }
  });
});
