// Retention of ended jobs: with an injected clock, no sandbox needed (jobs run as tasks).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorReason, ToolkitError } from '../src/errors.js';
import { JobKind, JobStatus, Jobs, type TaskOutcome } from '../src/jobs.js';
import type { SandboxManager } from '../src/sandbox-manager.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(opts: { retentionMs?: number; maxEndedJobs?: number } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobs-retention-'));
  let now = 1_000_000;
  const manager = { endReason: () => undefined } as unknown as SandboxManager;
  // Small memory so output spills to files.
  const jobs = new Jobs({ manager, dataDir, logMemoryBytes: 256, retentionMs: opts.retentionMs ?? 200, maxEndedJobs: opts.maxEndedJobs, now: () => now });
  cleanups.push(async () => {
    await jobs.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const advance = (ms: number) => (now += ms);
  /** Starts a task job that writes `bytes` of stdout and ends when `finish` is called. */
  const start = (tenant: string, jobId: string, bytes = 4096) => {
    let finish!: (o: TaskOutcome) => void;
    const done = new Promise<TaskOutcome>((r) => (finish = r));
    jobs.startTask(tenant, { kind: JobKind.PYTHON, sandboxId: 'sbx', clientId: '', jobId }, async ({ stdout, signal }) => {
      signal.addEventListener('abort', () => finish({ status: JobStatus.CANCELLED }));
      for (let i = 0; i < bytes / 64; i++) stdout('x'.repeat(63) + '\n');
      return done;
    });
    return async () => {
      finish({ status: JobStatus.DONE });
      await vi.waitFor(() => expect(jobs.getJob(tenant, jobId).status).toBe(JobStatus.DONE));
    };
  };
  return { jobs, dataDir, advance, start };
}

function notFound(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ToolkitError);
    expect((e as ToolkitError).reason).toBe(ErrorReason.JOB_NOT_FOUND);
    return;
  }
  throw new Error('expected JOB_NOT_FOUND');
}

describe('job retention', () => {
  it('forgets an ended job after the retention period and deletes its log files', async () => {
    const { jobs, dataDir, advance, start } = setup();
    const end = start('t', 'a');
    await end();
    expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);
    advance(199);
    expect(jobs.getJob('t', 'a').stdoutBytes).toBe(4096);
    advance(1);
    notFound(() => jobs.getJob('t', 'a'));
    expect(jobs.listJobs('t')).toEqual([]);
    await vi.waitFor(() => expect(fs.readdirSync(dataDir)).toEqual([]));
    // The id can be used again.
    const again = start('t', 'a', 64);
    expect(jobs.getJob('t', 'a').status).toBe(JobStatus.RUNNING);
    await again();
  });

  it('keeps a running job however long it runs', async () => {
    const { jobs, advance, start } = setup();
    const end = start('t', 'running');
    advance(10_000);
    jobs.sweep();
    expect(jobs.getJob('t', 'running').status).toBe(JobStatus.RUNNING);
    await end();
    advance(100);
    expect(jobs.getJob('t', 'running').status).toBe(JobStatus.DONE);
    advance(100);
    jobs.sweep();
    notFound(() => jobs.getJob('t', 'running'));
  });

  it('the periodic sweep forgets expired jobs without an access', async () => {
    const { jobs, dataDir, advance, start } = setup({ retentionMs: 200 });
    await start('t', 'a')();
    advance(1000);
    // The sweep runs every 20 ms here (a tenth of the retention).
    await vi.waitFor(() => expect(fs.readdirSync(dataDir)).toEqual([]));
    notFound(() => jobs.getJob('t', 'a'));
  });

  it('a tail of a job that is forgotten ends with JOB_NOT_FOUND', async () => {
    const { jobs, advance, start } = setup();
    const end = start('t', 'a', 64 * 1024);
    await end();
    const { tail } = jobs.tailJobLogs('t', 'a', {});
    const it = tail[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    advance(200);
    jobs.sweep();
    await expect(async () => {
      for (;;) if ((await it.next()).done) break;
    }).rejects.toMatchObject({ reason: ErrorReason.JOB_NOT_FOUND });
  });

  it('caps the ended jobs per API key, forgetting those that ended first', async () => {
    const { jobs, start } = setup({ retentionMs: 3600_000, maxEndedJobs: 2 });
    const running = start('t', 'running', 64);
    const ends = ['a', 'b', 'c'].map((id) => [id, start('t', id, 64)] as const);
    // End in the order b, a, c: b is the first to go.
    await ends[1][1]();
    await ends[0][1]();
    expect(jobs.listJobs('t').map((j) => j.jobId).sort()).toEqual(['a', 'b', 'c', 'running']);
    await ends[2][1]();
    expect(jobs.listJobs('t').map((j) => j.jobId).sort()).toEqual(['a', 'c', 'running']);
    notFound(() => jobs.getJob('t', 'b'));
    // Another key has its own cap.
    await start('u', 'x', 64)();
    expect(jobs.listJobs('t')).toHaveLength(3);
    expect(jobs.getJob('t', 'running').status).toBe(JobStatus.RUNNING);
    await running();
    expect(jobs.listJobs('t').map((j) => j.jobId).sort()).toEqual(['c', 'running']);
  });

  it('close disposes everything', async () => {
    const { jobs, dataDir, start } = setup({ retentionMs: 3600_000 });
    await start('t', 'a')();
    start('t', 'b');
    expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0);
    await jobs.close();
    expect(fs.readdirSync(dataDir)).toEqual([]);
    notFound(() => jobs.getJob('t', 'a'));
    notFound(() => jobs.getJob('t', 'b'));
  });
});
