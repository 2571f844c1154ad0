// Abuse at the edge, through the real server over gRPC: timeouts past any sensible bound, an
// upload that stops sending, a large upload and download (memory must not follow the size),
// a flood of 10,000 jobs, and deleting jobs. Each must fail clearly or succeed, and leave
// everything else working.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { CodeService, CommandService, ErrorInfoSchema, FileService, JobService, JobStatus, SandboxService, type UploadFileRequestSchema } from '@e2b-toolkit/core';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { eventually } from '../support/runtime.js';
import { codeOf, toolkitTransport, startTestServer } from '../support/toolkit.js';

type UploadInit = MessageInitShape<typeof UploadFileRequestSchema>;

let server: ToolkitServer;

function clients(key = 'key-a') {
  const t = toolkitTransport(server.url, 'grpc', key);
  return {
    sandboxes: createClient(SandboxService, t),
    commands: createClient(CommandService, t),
    code: createClient(CodeService, t),
    jobs: createClient(JobService, t),
    files: createClient(FileService, t),
  };
}

/** The code and ErrorInfo reason a call failed with. */
async function failure(p: Promise<unknown>): Promise<{ code: Code; reason?: string }> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, reason: e.findDetails(ErrorInfoSchema)[0]?.reason };
  }
  throw new Error('the call succeeded');
}

let sandboxId: string;

beforeAll(async () => {
  server = await startTestServer('bad-input-test', {
    localRuntime: { warmPoolSize: 2 },
    files: { uploadIdleMs: 1000 },
  });
  sandboxId = (await clients().sandboxes.createSandbox({ clientId: 'bad-input' })).sandbox!.sandboxId;
});

afterAll(async () => {
  await server?.close();
});

describe('timeouts', () => {
  it('rejects any timeout of a run past a day, and accepts a day', async () => {
    const { commands, code } = clients();
    const huge = [10n ** 12n, 2n ** 62n, 86_401n];
    for (const seconds of huge) {
      expect(await codeOf(commands.runCommand({ sandboxId, command: 'true', timeout: { seconds } }))).toBe(Code.InvalidArgument);
      expect(await codeOf(commands.startCommand({ sandboxId, command: 'true', timeout: { seconds } }))).toBe(Code.InvalidArgument);
      expect(await codeOf(code.runPythonCode({ sandboxId, code: '1', timeout: { seconds } }))).toBe(Code.InvalidArgument);
    }
    // A day is allowed, and the command is not cut short by an overflowing timer.
    const day = await commands.runCommand({ sandboxId, command: 'sleep 0.2; echo done', timeout: { seconds: 86_400n } });
    expect(day).toMatchObject({ exitCode: 0, stdout: 'done\n' });
  });

  it("rejects sandbox timeouts past the server's maximum", async () => {
    const { sandboxes } = clients();
    expect(await codeOf(sandboxes.createSandbox({ timeout: { seconds: 10n ** 12n } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(sandboxes.setSandboxTimeout({ sandboxId, timeout: { seconds: 2n ** 63n - 1n } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(sandboxes.setSandboxTimeout({ sandboxId, timeout: { seconds: 1n, nanos: 2_000_000_000 } }))).toBe(Code.InvalidArgument);
  });
});

describe('commands', () => {
  it('reports a missing working directory as NOT_FOUND / FILE_NOT_FOUND, for runs and jobs', async () => {
    const { commands } = clients();
    expect(await failure(commands.runCommand({ sandboxId, command: 'true', cwd: '/no/such/dir' }))).toEqual({ code: Code.NotFound, reason: 'FILE_NOT_FOUND' });
    expect(await failure(commands.startCommand({ sandboxId, command: 'true', cwd: '/no/such/dir' }))).toEqual({ code: Code.NotFound, reason: 'FILE_NOT_FOUND' });
  });

  it('reports a process ended by a signal with 128 + the signal number, as a shell does', async () => {
    const { commands, jobs } = clients();
    const { job } = await commands.startCommand({ sandboxId, command: 'sleep 60' });
    expect((await jobs.killJob({ jobId: job!.jobId })).job?.exitCode).toBe(137);
    const { job: terminated } = await commands.startCommand({ sandboxId, command: 'kill -TERM $$' });
    await eventually(async () => (await jobs.getJob({ jobId: terminated!.jobId })).job?.status === JobStatus.ERROR);
    expect((await jobs.getJob({ jobId: terminated!.jobId })).job?.exitCode).toBe(143);
  });
});

describe('uploads', () => {
  it('abandons an upload that stops sending (UPLOAD_STALLED) and keeps the previous file', async () => {
    const { files } = clients();
    await files.writeFile({ sandboxId, path: 'kept.txt', content: Buffer.from('old content') });
    const hang = new AbortController();
    async function* stalls(): AsyncGenerator<UploadInit> {
      yield { part: { case: 'header', value: { sandboxId, path: 'kept.txt' } } };
      yield { part: { case: 'chunk', value: Buffer.from('new but partial') } };
      // Then nothing, without ending or cancelling the stream.
      await new Promise((resolve) => hang.signal.addEventListener('abort', resolve));
    }
    try {
      expect(await failure(files.uploadFile(stalls()))).toEqual({ code: Code.DeadlineExceeded, reason: 'UPLOAD_STALLED' });
    } finally {
      hang.abort();
    }
    expect(Buffer.from((await files.readFile({ sandboxId, path: 'kept.txt' })).content).toString()).toBe('old content');
  });

  it('moves 256 MiB up and down in chunks: the server does not hold the file in memory', async () => {
    // The server runs as its own process here, so that its memory is measured alone.
    const child = await startServerProcess();
    try {
      const t = toolkitTransport(child.url, 'grpc', 'key-a');
      const files = createClient(FileService, t);
      const target = (await createClient(SandboxService, t).createSandbox({ metadata: { 'toolkit.diskMB': '1024' } })).sandbox!.sandboxId;
      const MiB = 1024 * 1024;
      const total = 256;
      const before = memoryOf(child.pid).rss;
      const sent = crypto.createHash('sha256');
      const block = crypto.randomBytes(MiB);
      async function* upload(): AsyncGenerator<UploadInit> {
        yield { part: { case: 'header', value: { sandboxId: target, path: 'big.bin', sizeBytes: BigInt(total * MiB) } } };
        for (let i = 0; i < total; i++) {
          // Each MiB differs (it starts with its index), so order and completeness show in the hash.
          block.writeUInt32BE(i, 0);
          sent.update(block);
          yield { part: { case: 'chunk', value: block } };
        }
      }
      expect((await files.uploadFile(upload())).file?.sizeBytes).toBe(BigInt(total * MiB));
      const received = crypto.createHash('sha256');
      let bytes = 0;
      for await (const part of files.downloadFile({ sandboxId: target, path: 'big.bin' })) {
        if (part.part.case !== 'chunk') continue;
        bytes += part.part.value.length;
        received.update(part.part.value);
      }
      expect(bytes).toBe(total * MiB);
      expect(received.digest('hex')).toBe(sent.digest('hex'));
      // Garbage comes and goes with the GC, but a server that held the file would have grown
      // by at least its size at some point.
      const grew = (memoryOf(child.pid).peak - before) / MiB;
      expect(grew).toBeLessThan(total);
    } finally {
      await child.stop();
    }
  }, 240_000);
});

/** The server as `npm start` runs it, on free ports, with its own data directory. */
async function startServerProcess(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-child-'));
  const proc = spawn(process.execPath, ['services/toolkit/dist/main.js'], {
    env: { ...process.env, TOOLKIT_PORT: '0', E2B_LOCAL_PORT: '0', TOOLKIT_DATA_DIR: dataDir, E2B_LOCAL_WARM_POOL: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /e2b-toolkit listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.stderr!.resume();
    proc.once('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
  });
  return {
    url,
    pid: proc.pid!,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A process's resident memory now and its peak so far, in bytes (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

describe('a flood of 10,000 jobs', () => {
  it('runs every one to its end, keeps them listable, and other sandboxes answer meanwhile', async () => {
    // An API key of its own, so that its 10,000 ended jobs are exactly the per-key cap.
    const flood = clients('flood-key');
    const target = (await flood.sandboxes.createSandbox({ clientId: 'flood' })).sandbox!.sandboxId;
    const N = 10_000;
    let started = 0;
    const failures: string[] = [];
    const workers = Array.from({ length: 32 }, async () => {
      while (started < N) {
        started++;
        await flood.commands.startCommand({ sandboxId: target, command: 'true' }).catch((e) => failures.push(String(e)));
      }
    });
    // Meanwhile another sandbox (of another key) answers.
    await eventually(() => started > 500, 60_000);
    const other = await clients().commands.runCommand({ sandboxId, command: 'echo still here' });
    expect(other.stdout).toBe('still here\n');
    await Promise.all(workers);
    expect(failures).toEqual([]);

    await eventually(async () => (await flood.jobs.listJobs({ sandboxId: target, statuses: [JobStatus.RUNNING] })).jobs.length === 0, 60_000, 200);
    const statuses = new Map<JobStatus, number>();
    let token = '';
    let listed = 0;
    do {
      const res = await flood.jobs.listJobs({ sandboxId: target, pageSize: 1000, pageToken: token });
      for (const job of res.jobs) statuses.set(job.status, (statuses.get(job.status) ?? 0) + 1);
      listed += res.jobs.length;
      token = res.nextPageToken;
    } while (token);
    expect(listed).toBe(N);
    expect(statuses.get(JobStatus.DONE)).toBe(N);
  }, 300_000);
});

describe('DeleteJob', () => {
  it('refuses a running job without kill, kills and deletes it with kill, and forgets its output', async () => {
    const { commands, jobs } = clients();
    const { job } = await commands.startCommand({ sandboxId, command: 'echo hello; sleep 60' });
    const jobId = job!.jobId;
    expect(await failure(jobs.deleteJob({ jobId }))).toEqual({ code: Code.FailedPrecondition, reason: 'JOB_RUNNING' });
    expect((await jobs.getJob({ jobId })).job?.status).toBe(JobStatus.RUNNING);

    const deleted = await jobs.deleteJob({ jobId, kill: true });
    expect(deleted.job?.status).toBe(JobStatus.CANCELLED);
    expect(await failure(jobs.getJob({ jobId }))).toEqual({ code: Code.NotFound, reason: 'JOB_NOT_FOUND' });
    expect(await failure(jobs.deleteJob({ jobId }))).toEqual({ code: Code.NotFound, reason: 'JOB_NOT_FOUND' });
    const tail = async () => {
      for await (const _ of jobs.tailJobLogs({ jobId })) void _;
    };
    expect(await failure(tail())).toEqual({ code: Code.NotFound, reason: 'JOB_NOT_FOUND' });
    expect((await jobs.listJobs({ sandboxId })).jobs.map((j) => j.jobId)).not.toContain(jobId);
  });

  it('deletes an ended job', async () => {
    const { commands, jobs } = clients();
    const { job } = await commands.startCommand({ sandboxId, command: 'echo bye' });
    await eventually(async () => (await jobs.getJob({ jobId: job!.jobId })).job?.status === JobStatus.DONE);
    expect((await jobs.deleteJob({ jobId: job!.jobId })).job?.status).toBe(JobStatus.DONE);
    expect(await codeOf(jobs.getJob({ jobId: job!.jobId }))).toBe(Code.NotFound);
  });
});
