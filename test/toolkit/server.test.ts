// The toolkit server end to end: a real server with an embedded local runtime, called over
// Connect (HTTP/1.1), gRPC (HTTP/2) and gRPC-Web (HTTP/1.1) on its one port.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, createClient, type Client, type Transport } from '@connectrpc/connect';
import { CommandService, JobService, JobStatus, SandboxService, type Job } from '@e2b-toolkit/core';
import { startToolkitServer, type ToolkitServer } from '../../services/toolkit/src/server.js';
import { toolkitTransport, type Protocol, codeOf, startTestServer } from '../support/toolkit.js';
import { eventually } from '../support/runtime.js';

let server: ToolkitServer;

function transport(protocol: Protocol, key = 'key-a'): Transport {
  return toolkitTransport(server.url, protocol, key);
}

function clients(protocol: Protocol, key?: string) {
  const t = transport(protocol, key);
  return { sandboxes: createClient(SandboxService, t), commands: createClient(CommandService, t), jobs: createClient(JobService, t) };
}


/** Reads a whole tail: stdout as text, and the final job. */
async function readTail(jobs: Client<typeof JobService>, jobId: string, from: { stdoutOffset?: bigint; snapshot?: boolean } = {}) {
  let stdout = '';
  let started: bigint | undefined;
  let ended: Job | undefined;
  let expected = 0n;
  for await (const res of jobs.tailJobLogs({ jobId, ...from })) {
    const e = res.event;
    if (e.case === 'started') expected = started = e.value.stdoutOffset;
    if (e.case === 'stdout') {
      expect(e.value.offset).toBe(expected);
      expected += BigInt(e.value.data.length);
      stdout += Buffer.from(e.value.data).toString();
    }
    if (e.case === 'ended') ended = e.value.job;
  }
  return { stdout, started, ended };
}

const CLIENT = 'agent-1';
let sandboxId: string;

beforeAll(async () => {
  server = await startTestServer('test', {
    localRuntime: { warmPoolSize: 1 },
  });
  const { sandboxes } = clients('connect');
  const res = await sandboxes.createSandbox({ clientId: CLIENT, setAsDefault: true });
  sandboxId = res.sandbox!.sandboxId;
});

afterAll(async () => {
  await server?.close();
});

describe('sandboxes', () => {
  it('creates a default sandbox and reads it over every protocol', async () => {
    for (const protocol of ['connect', 'grpc', 'grpc-web'] as const) {
      const { sandbox } = await clients(protocol).sandboxes.getSandbox({ clientId: CLIENT });
      expect(sandbox?.sandboxId).toBe(sandboxId);
      expect(sandbox?.isDefault).toBe(true);
      expect(sandbox?.metadata).toEqual({});
    }
    const { sandboxes } = await clients('grpc').sandboxes.listSandboxes({ clientId: CLIENT });
    expect(sandboxes.map((s) => s.sandboxId)).toEqual([sandboxId]);
  });

  it('hides sandboxes from other API keys and clients without a default', async () => {
    const other = clients('connect', 'key-b');
    expect(await codeOf(other.sandboxes.getSandbox({ sandboxId }))).toBe(Code.NotFound);
    expect(await codeOf(other.commands.runCommand({ sandboxId, command: 'true' }))).toBe(Code.NotFound);
    expect((await other.sandboxes.listSandboxes({ allClients: true })).sandboxes).toEqual([]);
    expect(await codeOf(clients('grpc').sandboxes.getSandbox({ clientId: 'nobody' }))).toBe(Code.FailedPrecondition);
  });

  it('rejects bad timeouts', async () => {
    const { sandboxes } = clients('connect');
    expect(await codeOf(sandboxes.createSandbox({ timeout: { seconds: 0n, nanos: 500_000_000 } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(sandboxes.setSandboxTimeout({ sandboxId, timeout: { seconds: -5n } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(sandboxes.setSandboxTimeout({ sandboxId }))).toBe(Code.InvalidArgument);
    const { sandbox } = await sandboxes.setSandboxTimeout({ clientId: CLIENT, timeout: { seconds: 600n } });
    expect(sandbox?.sandboxId).toBe(sandboxId);
  });
});

describe('commands', () => {
  it('runs a command in the foreground over every protocol', async () => {
    for (const protocol of ['connect', 'grpc', 'grpc-web'] as const) {
      const res = await clients(protocol).commands.runCommand({ clientId: CLIENT, command: 'echo out-$X; echo err >&2; exit 3', envs: { X: protocol } });
      expect(res.exitCode).toBe(3);
      expect(res.stdout).toBe(`out-${protocol}\n`);
      expect(res.stderr).toBe('err\n');
      expect(res.stdoutBytes).toBe(BigInt(`out-${protocol}\n`.length));
    }
  });

  it('rejects bad inputs', async () => {
    const { commands } = clients('grpc');
    expect(await codeOf(commands.runCommand({ sandboxId, command: '' }))).toBe(Code.InvalidArgument);
    expect(await codeOf(commands.runCommand({ sandboxId, command: 'true', timeout: { seconds: -1n } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(commands.startCommand({ sandboxId, command: '  ' }))).toBe(Code.InvalidArgument);
    expect(await codeOf(commands.startCommand({ sandboxId, command: 'true', jobId: 'bad id!' }))).toBe(Code.InvalidArgument);
    expect(await codeOf(commands.runCommand({ sandboxId: 'nosuchsandbox', command: 'true' }))).toBe(Code.NotFound);
  });
});

describe('jobs', () => {
  it('tails a running job from two clients at once, from an offset, and after it ended', async () => {
    const a = clients('connect');
    const b = clients('grpc');
    const { job } = await a.commands.startCommand({
      clientId: CLIENT,
      command: 'for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done',
    });
    expect(job?.status).toBe(JobStatus.RUNNING);
    const jobId = job!.jobId;
    const [ta, tb] = await Promise.all([readTail(a.jobs, jobId), readTail(b.jobs, jobId)]);
    const all = 'line1\nline2\nline3\nline4\nline5\n';
    for (const t of [ta, tb]) {
      expect(t.stdout).toBe(all);
      expect(t.ended?.status).toBe(JobStatus.DONE);
      expect(t.ended?.exitCode).toBe(0);
      expect(t.ended?.stdoutBytes).toBe(BigInt(all.length));
    }
    const web = clients('grpc-web');
    const after = await readTail(web.jobs, jobId);
    expect(after.stdout).toBe(all);
    const fromOffset = await readTail(web.jobs, jobId, { stdoutOffset: 6n });
    expect(fromOffset.started).toBe(6n);
    expect(fromOffset.stdout).toBe(all.slice(6));
    const lastLine = await readTail(a.jobs, jobId, { stdoutOffset: -6n });
    expect(lastLine.started).toBe(BigInt(all.length - 6));
    expect(lastLine.stdout).toBe('line5\n');
    expect((await b.jobs.getJob({ jobId })).job?.status).toBe(JobStatus.DONE);
  });

  it('reports a failing job as error with its exit code', async () => {
    const { commands, jobs } = clients('grpc-web');
    const { job } = await commands.startCommand({ sandboxId, command: 'echo oops >&2; exit 2', jobId: 'failing-job' });
    expect(job?.jobId).toBe('failing-job');
    const { ended } = await readTail(jobs, 'failing-job');
    expect(ended?.status).toBe(JobStatus.ERROR);
    expect(ended?.exitCode).toBe(2);
    expect(ended?.error).toBe('exit code 2');
    expect(ended?.stderrBytes).toBe(5n);
    expect(await codeOf(commands.startCommand({ sandboxId, command: 'true', jobId: 'failing-job' }))).toBe(Code.AlreadyExists);
  });

  it('kills a job and its whole process tree', async () => {
    const { commands, jobs } = clients('grpc');
    const { job } = await commands.startCommand({ clientId: CLIENT, command: 'sleep 1000 & sleep 1001; wait' });
    const jobId = job!.jobId;
    const count = async () => (await commands.runCommand({ sandboxId, command: 'pgrep -x sleep | wc -l' })).stdout.trim();
    await eventually(async () => (await count()) === '2');
    expect((await jobs.getJob({ jobId })).job?.status).toBe(JobStatus.RUNNING);

    const killed = await clients('connect').jobs.killJob({ jobId });
    expect(killed.job?.status).toBe(JobStatus.CANCELLED);
    expect(killed.job?.error).toBe('killed by KillJob');
    await eventually(async () => (await count()) === '0');
    expect((await jobs.getJob({ jobId })).job?.status).toBe(JobStatus.CANCELLED);
    // Killing an ended job changes nothing.
    expect((await jobs.killJob({ jobId })).job?.status).toBe(JobStatus.CANCELLED);

    const listed = await jobs.listJobs({ statuses: [JobStatus.CANCELLED] });
    expect(listed.jobs.map((j) => j.jobId)).toContain(jobId);
  });

  it('answers NOT_FOUND for unknown jobs and jobs of another API key', async () => {
    const mine = clients('connect');
    const { job } = await mine.commands.startCommand({ sandboxId, command: 'echo secret' });
    const jobId = job!.jobId;
    await readTail(mine.jobs, jobId);
    for (const protocol of ['connect', 'grpc', 'grpc-web'] as const) {
      const other = clients(protocol, 'key-b');
      expect(await codeOf(other.jobs.getJob({ jobId }))).toBe(Code.NotFound);
      expect(await codeOf(other.jobs.killJob({ jobId }))).toBe(Code.NotFound);
      expect(await codeOf(readTail(other.jobs, jobId))).toBe(Code.NotFound);
      expect(await codeOf(clients(protocol).jobs.getJob({ jobId: 'no-such-job' }))).toBe(Code.NotFound);
    }
    expect((await clients('grpc', 'key-b').jobs.listJobs({})).jobs).toEqual([]);
    expect(await codeOf(mine.jobs.getJob({ jobId: '' }))).toBe(Code.InvalidArgument);
  });
});

describe('shutdown', () => {
  it('shuts the default sandbox down; it is then gone', async () => {
    const { sandboxes } = clients('grpc');
    const res = await sandboxes.shutdownSandbox({ clientId: CLIENT });
    expect(res.sandboxId).toBe(sandboxId);
    expect(await codeOf(sandboxes.getSandbox({ sandboxId }))).toBe(Code.NotFound);
    expect(await codeOf(sandboxes.getSandbox({ clientId: CLIENT }))).toBe(Code.FailedPrecondition);
    expect((await sandboxes.shutdownAllSandboxes({ clientId: CLIENT })).outcomes).toEqual([]);
  });

  it('refuses to listen beyond loopback without API keys', async () => {
    await expect(startToolkitServer({ host: '0.0.0.0', port: 0, dataDir: os.tmpdir() })).rejects.toThrow(/without API keys/);
  });
});
