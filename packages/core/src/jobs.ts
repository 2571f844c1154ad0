// Shell commands in sandboxes: in the foreground (the caller waits) and as background jobs
// whose output goes to a JobLog that any client of the same API key can tail, later too.
// Both run the command in the background through the SDK and wait here, so that a timeout,
// a cancelled call or KillJob kills the command's process tree the same way.
//
// Retention. A job that has ended is kept, output included, for `retentionMs` (default 1 h)
// after its end, then forgotten: its log is disposed (spill files deleted) and it is
// JOB_NOT_FOUND. Per API key at most `maxEndedJobs` ended jobs are kept; past that the ones
// that ended first are forgotten first. Running jobs are never forgotten. Expired jobs are
// swept periodically and checked again on every access. A tail reading a job that is
// forgotten fails with JOB_NOT_FOUND.
import { randomUUID } from 'node:crypto';
import { CommandExitError, InvalidArgumentError as SdkInvalidArgumentError, type CommandHandle, type Sandbox } from 'e2b';
import { ErrorReason, InvalidArgumentError, ToolkitError } from './errors.js';
import { shellExitCode } from './exit-status.js';
import { JobKind, JobStatus } from './gen/e2b_toolkit/v1/job_pb.js';
import { JobLog, JobLogDisposedError, type LogChunk, type LogTail, type TailOptions } from './job-log.js';
import type { SandboxManager } from './sandbox-manager.js';
import { DEFAULT_RETENTION_MS, checkRetention, sweepPeriodically } from './retention.js';
import { TailText } from './tail-text.js';

export { JobKind, JobStatus };

export interface JobsOptions {
  manager: SandboxManager;
  /** Where job logs spill beyond memory. */
  dataDir: string;
  /** Bytes of each stream kept in memory per job. Default 1 MiB. */
  logMemoryBytes?: number;
  /** Foreground output kept per stream (the end is kept). Default 1 MiB. */
  outputLimitBytes?: number;
  /** Default foreground timeout. Default 60 s. */
  defaultRunTimeoutMs?: number;
  /** How long an ended job (and its output) is kept after it ended. Default 1 hour; Infinity keeps them. */
  retentionMs?: number;
  /** Ended jobs kept per API key; past it the ones that ended first are forgotten. Default 10,000. */
  maxEndedJobs?: number;
  /** The clock, in ms since the epoch (for tests). Default Date.now. */
  now?: () => number;
}

export interface CommandOptions {
  sandboxId?: string;
  clientId?: string;
  command: string;
  cwd?: string;
  envs?: Record<string, string>;
  timeoutMs?: number;
}

export interface StartCommandOptions extends CommandOptions {
  jobId?: string;
  requestId?: string;
}

export interface RunCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  stdoutBytes: number;
  stderrBytes: number;
}

/** A job as the API shows it. */
export interface JobView {
  jobId: string;
  sandboxId: string;
  clientId: string;
  kind: JobKind;
  status: JobStatus;
  command: string;
  /** For PYTHON jobs. */
  code?: string;
  executionId?: string;
  exitCode?: number;
  error: string;
  errorReason: ErrorReason;
  createTime: Date;
  startTime?: Date;
  endTime?: Date;
  stdoutBytes: number;
  stderrBytes: number;
}

/** A job that runs something other than a shell command (a PYTHON job), through `startTask`. */
export interface TaskOptions {
  kind: JobKind;
  sandboxId: string;
  clientId: string;
  jobId?: string;
  requestId?: string;
  code?: string;
  executionId?: string;
}

/** What a task gets: its job id, a signal that KillJob aborts, and its output streams. */
export interface TaskContext {
  jobId: string;
  signal: AbortSignal;
  stdout(data: string): void;
  stderr(data: string): void;
}

/** How a task ended (a KillJob overrides it). */
export interface TaskOutcome {
  status: JobStatus;
  error?: string;
  reason?: ErrorReason;
}

export interface ListJobsOptions {
  sandboxId?: string;
  statuses?: JobStatus[];
  kind?: JobKind;
}

interface JobRecord extends Omit<JobView, 'stdoutBytes' | 'stderrBytes'> {
  tenant: string;
  requestId?: string;
  log: JobLog;
  handle?: CommandHandle;
  /** For tasks: aborted to stop them. */
  abort?: AbortController;
  /** Why the job is being stopped by us, decided before the kill so the end is reported right. */
  stopping?: { status: JobStatus; error: string; reason: ErrorReason };
  /** Settles when the job has ended. */
  ended: Promise<void>;
  /** Set when the job was forgotten, and why. */
  forgotten?: string;
}

const JOB_ID = /^[A-Za-z0-9._-]{1,128}$/;

export class Jobs {
  readonly #manager: SandboxManager;
  readonly #dataDir: string;
  readonly #logMemoryBytes: number | undefined;
  readonly #outputLimit: number;
  readonly #defaultRunTimeoutMs: number;
  readonly #retentionMs: number;
  readonly #maxEnded: number;
  readonly #now: () => number;
  /** Keyed by tenant, then job id. */
  readonly #jobs = new Map<string, Map<string, JobRecord>>();
  /** Per tenant, the ended jobs in the order they ended (oldest first). */
  readonly #ended = new Map<string, Set<JobRecord>>();
  readonly #sweeper: NodeJS.Timeout | undefined;

  constructor(options: JobsOptions) {
    this.#manager = options.manager;
    this.#dataDir = options.dataDir;
    this.#logMemoryBytes = options.logMemoryBytes;
    this.#outputLimit = options.outputLimitBytes ?? 1024 * 1024;
    this.#defaultRunTimeoutMs = options.defaultRunTimeoutMs ?? 60_000;
    this.#retentionMs = checkRetention('retentionMs', options.retentionMs, DEFAULT_RETENTION_MS);
    this.#maxEnded = Math.max(0, options.maxEndedJobs ?? 10_000);
    this.#now = options.now ?? Date.now;
    this.#sweeper = sweepPeriodically(this.#retentionMs, () => this.sweep());
  }

  /** Forgets the ended jobs whose retention period has passed (also done periodically and on access). */
  sweep(): void {
    for (const tenant of this.#ended.keys()) this.#expire(tenant);
  }

  /** Runs a command in the foreground. Aborting `signal` kills its process tree. */
  async runCommand(tenant: string, opts: CommandOptions, signal?: AbortSignal): Promise<RunCommandResult> {
    checkCommand(opts);
    const timeoutMs = opts.timeoutMs ?? this.#defaultRunTimeoutMs;
    if (!(timeoutMs > 0)) throw new InvalidArgumentError('timeout', 'must be positive');
    const sandbox = await this.#manager.sandbox(tenant, opts.clientId ?? '', opts.sandboxId ?? '');
    const out = new TailText(this.#outputLimit);
    const err = new TailText(this.#outputLimit);
    const handle = await this.#start(sandbox, opts, (d) => out.push(d), (d) => err.push(d)).catch((e) => {
      throw this.#sandboxGone(sandbox.sandboxId, e, false);
    });
    let stopped: 'timeout' | 'cancelled' | undefined;
    const stop = (why: 'timeout' | 'cancelled') => {
      stopped ??= why;
      handle.kill().catch(() => {});
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancelled');
    signal?.addEventListener('abort', onAbort);
    try {
      const exitCode = await exitCodeOf(handle);
      if (stopped === 'timeout') {
        throw new ToolkitError(ErrorReason.EXECUTION_TIMED_OUT, `the command ran longer than ${timeoutMs} ms and was killed`, { sandbox_id: sandbox.sandboxId });
      }
      if (stopped === 'cancelled') throw new ToolkitError(ErrorReason.UNSPECIFIED, 'the call was cancelled; the command was killed');
      const [o, e] = [out.result(), err.result()];
      return {
        exitCode,
        stdout: o.text,
        stderr: e.text,
        stdoutTruncated: o.truncated,
        stderrTruncated: e.truncated,
        stdoutBytes: o.totalBytes,
        stderrBytes: e.totalBytes,
      };
    } catch (e) {
      throw this.#sandboxGone(sandbox.sandboxId, e, true);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Checks a new job's id and request id, and finds the job a retried request already
   * started (AIP-155), or else the id the new job will have.
   */
  #claim(tenant: string, opts: { jobId?: string; requestId?: string }): { existing: JobView } | { jobs: Map<string, JobRecord>; jobId: string } {
    if (opts.jobId !== undefined && opts.jobId !== '' && !JOB_ID.test(opts.jobId)) {
      throw new InvalidArgumentError('job_id', 'must be 1 to 128 characters from A-Z a-z 0-9 . _ -');
    }
    if (opts.requestId && opts.requestId.length > 64) throw new InvalidArgumentError('request_id', 'must be at most 64 characters');
    this.#expire(tenant);
    const jobs = this.#tenantJobs(tenant);
    if (opts.requestId) {
      const same = [...jobs.values()].find((j) => j.requestId === opts.requestId);
      if (same) return { existing: view(same) };
    }
    const jobId = opts.jobId || randomUUID();
    if (jobs.has(jobId)) throw new ToolkitError(ErrorReason.JOB_ALREADY_EXISTS, `job ${jobId} already exists`, { job_id: jobId });
    return { jobs, jobId };
  }

  /** Starts a background job; returns once it has started. */
  async startCommand(tenant: string, clientId: string, opts: StartCommandOptions): Promise<JobView> {
    checkCommand(opts);
    if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0)) throw new InvalidArgumentError('timeout', 'must be positive');
    const claim = this.#claim(tenant, opts);
    if ('existing' in claim) return claim.existing;
    const { jobs, jobId } = claim;

    const sandbox = await this.#manager.sandbox(tenant, clientId, opts.sandboxId ?? '');
    const { job, append, resolveEnded } = this.#register(jobs, {
      jobId,
      tenant,
      requestId: opts.requestId || undefined,
      sandboxId: sandbox.sandboxId,
      clientId,
      kind: JobKind.COMMAND,
      command: opts.command,
    });
    try {
      job.handle = await this.#start(sandbox, opts, append('stdout'), append('stderr'));
    } catch (e) {
      jobs.delete(jobId);
      await job.log.dispose();
      throw this.#sandboxGone(sandbox.sandboxId, e, false);
    }
    job.startTime = new Date(this.#now());
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            job.stopping ??= { status: JobStatus.ERROR, error: `timed out after ${opts.timeoutMs} ms`, reason: ErrorReason.EXECUTION_TIMED_OUT };
            job.handle?.kill().catch(() => {});
          }, opts.timeoutMs);
    void exitCodeOf(job.handle)
      .then(
        (code) => this.#finish(job, code),
        (e) => this.#finish(job, undefined, e),
      )
      .finally(() => {
        clearTimeout(timer);
        resolveEnded();
      });
    return view(job);
  }

  /**
   * Starts a job that runs `run` here rather than a shell command; its output goes to the job
   * log and it ends with the outcome `run` returns. Returns at once.
   */
  startTask(tenant: string, opts: TaskOptions, run: (ctx: TaskContext) => Promise<TaskOutcome>): JobView {
    const claim = this.#claim(tenant, opts);
    if ('existing' in claim) return claim.existing;
    const { jobs, jobId } = claim;
    const { job, append, resolveEnded } = this.#register(jobs, {
      jobId,
      tenant,
      requestId: opts.requestId || undefined,
      sandboxId: opts.sandboxId,
      clientId: opts.clientId,
      kind: opts.kind,
      command: '',
      code: opts.code,
      executionId: opts.executionId,
      startTime: new Date(this.#now()),
      abort: new AbortController(),
    });
    const { log } = job;
    void run({ jobId, signal: job.abort!.signal, stdout: append('stdout'), stderr: append('stderr') })
      .catch((e: unknown): TaskOutcome => ({ status: JobStatus.ERROR, error: (e as Error)?.message ?? String(e) }))
      .then((outcome) => {
        job.endTime = new Date(this.#now());
        const end = job.stopping ?? { status: outcome.status, error: outcome.error ?? '', reason: outcome.reason ?? ErrorReason.UNSPECIFIED };
        ({ status: job.status, error: job.error, reason: job.errorReason } = end);
        job.abort = undefined;
        log.end();
        this.#markEnded(job);
        resolveEnded();
      });
    return view(job);
  }

  /**
   * Enters a new running job in the tenant's table, with its log. `append(stream)` writes
   * output to the log until it ends; `resolveEnded` settles `job.ended`.
   */
  #register(
    jobs: Map<string, JobRecord>,
    fields: Omit<JobRecord, 'status' | 'error' | 'errorReason' | 'createTime' | 'log' | 'ended'>,
  ): { job: JobRecord; append: (stream: 'stdout' | 'stderr') => (data: string) => void; resolveEnded: () => void } {
    const log = new JobLog({ dir: this.#dataDir, memoryBytes: this.#logMemoryBytes });
    let resolveEnded!: () => void;
    const job: JobRecord = {
      ...fields,
      status: JobStatus.RUNNING,
      error: '',
      errorReason: ErrorReason.UNSPECIFIED,
      createTime: new Date(this.#now()),
      log,
      ended: new Promise((r) => (resolveEnded = r)),
    };
    jobs.set(job.jobId, job);
    const append = (stream: 'stdout' | 'stderr') => (data: string) => {
      if (!log.ended) log.append(stream, Buffer.from(data));
    };
    return { job, append, resolveEnded };
  }

  getJob(tenant: string, jobId: string): JobView {
    return view(this.#job(tenant, jobId));
  }

  /** Newest first. */
  listJobs(tenant: string, opts: ListJobsOptions = {}): JobView[] {
    this.#expire(tenant);
    return [...this.#tenantJobs(tenant).values()]
      .filter((j) => !opts.sandboxId || j.sandboxId === opts.sandboxId)
      .filter((j) => !opts.statuses?.length || opts.statuses.includes(j.status))
      .filter((j) => !opts.kind || j.kind === opts.kind)
      .sort((a, b) => b.createTime.getTime() - a.createTime.getTime())
      .map(view);
  }

  /** Kills a running job's process tree and returns it once it has ended. */
  async killJob(tenant: string, jobId: string): Promise<JobView> {
    const job = this.#job(tenant, jobId);
    if (job.status === JobStatus.RUNNING) {
      job.stopping ??= { status: JobStatus.CANCELLED, error: 'killed by KillJob', reason: ErrorReason.UNSPECIFIED };
      job.abort?.abort();
      await job.handle?.kill().catch(() => {});
      await job.ended;
    }
    return view(job);
  }

  /**
   * Forgets a job and its output now (tails of it end with JOB_NOT_FOUND). A running job is
   * killed first when `kill` is set, and otherwise refused (JOB_RUNNING).
   */
  async deleteJob(tenant: string, jobId: string, kill = false): Promise<JobView> {
    const job = this.#job(tenant, jobId);
    if (job.status === JobStatus.RUNNING) {
      if (!kill) throw new ToolkitError(ErrorReason.JOB_RUNNING, `job ${jobId} is still running: kill it first, or set kill`, { job_id: jobId });
      await this.killJob(tenant, jobId);
    }
    // Another DeleteJob of the same job may have forgotten it while this one waited.
    if (!job.forgotten) this.#forget(job, 'it was deleted');
    return view(job);
  }

  /** The job as it is now and a tail of its output. */
  tailJobLogs(tenant: string, jobId: string, opts: TailOptions): { job: JobView; tail: LogTail; final: () => Promise<JobView> } {
    const job = this.#job(tenant, jobId);
    const inner = job.log.tail(opts);
    const tail: LogTail = {
      stdoutOffset: inner.stdoutOffset,
      stderrOffset: inner.stderrOffset,
      [Symbol.asyncIterator]: () => forgettable(job, inner[Symbol.asyncIterator]()),
    };
    return { job: view(job), tail, final: async () => view(job) };
  }

  /** Kills every running job, drops all jobs and logs, and stops the sweeps. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#jobs.values()].flatMap((m) => [...m.values()]);
    await Promise.all(all.map((j) => (j.status === JobStatus.RUNNING ? this.killJob(j.tenant, j.jobId).catch(() => {}) : undefined)));
    for (const j of all) j.forgotten ??= 'the server is shutting down';
    this.#jobs.clear();
    this.#ended.clear();
    await Promise.all(all.map((j) => j.log.dispose()));
  }

  #finish(job: JobRecord, exitCode: number | undefined, error?: unknown): void {
    job.exitCode = exitCode;
    job.endTime = new Date(this.#now());
    const gone = this.#manager.endReason(job.sandboxId);
    if (job.stopping) {
      ({ status: job.status, error: job.error, reason: job.errorReason } = job.stopping);
    } else if (gone) {
      job.status = gone === ErrorReason.SANDBOX_SHUT_DOWN ? JobStatus.CANCELLED : JobStatus.ERROR;
      job.errorReason = gone;
      job.error = gone === ErrorReason.SANDBOX_SHUT_DOWN ? 'sandbox shut down' : 'sandbox expired';
    } else if (exitCode === 0) {
      job.status = JobStatus.DONE;
    } else {
      job.status = JobStatus.ERROR;
      job.error = exitCode === undefined ? `the command was lost: ${(error as Error)?.message ?? error}` : `exit code ${exitCode}`;
    }
    job.handle = undefined;
    job.log.end();
    this.#markEnded(job);
  }

  /** Records that a job ended (for retention), then applies the per-key cap. */
  #markEnded(job: JobRecord): void {
    if (job.forgotten || this.#jobs.get(job.tenant)?.get(job.jobId) !== job) return;
    let ended = this.#ended.get(job.tenant);
    if (!ended) this.#ended.set(job.tenant, (ended = new Set()));
    ended.add(job);
    for (const oldest of ended) {
      if (ended.size <= this.#maxEnded) break;
      this.#forget(oldest, `it was one of more than ${this.#maxEnded} ended jobs kept per API key`);
    }
  }

  /** Forgets the tenant's ended jobs whose retention period has passed. */
  #expire(tenant: string): void {
    const ended = this.#ended.get(tenant);
    if (!ended) return;
    const now = this.#now();
    // Mostly in end order, but a clock step could disorder them: check them all.
    for (const job of ended) {
      if (now - (job.endTime?.getTime() ?? now) >= this.#retentionMs) this.#forget(job, 'its retention period passed');
    }
  }

  /** Drops an ended job and its output; tails of it fail with JOB_NOT_FOUND. */
  #forget(job: JobRecord, why: string): void {
    job.forgotten = why;
    const jobs = this.#jobs.get(job.tenant);
    if (jobs?.get(job.jobId) === job) jobs.delete(job.jobId);
    const ended = this.#ended.get(job.tenant);
    ended?.delete(job);
    if (ended?.size === 0) this.#ended.delete(job.tenant);
    void job.log.dispose().catch(() => {});
  }

  async #start(sandbox: Sandbox, opts: CommandOptions, onStdout: (d: string) => void, onStderr: (d: string) => void): Promise<CommandHandle> {
    let handle: CommandHandle | undefined;
    const dropCopy = () => handle && dropSdkOutput(handle);
    try {
      handle = await sandbox.commands.run(opts.command, {
        background: true,
        cwd: opts.cwd || undefined,
        envs: opts.envs,
        // Timeouts are ours (they kill the process tree); the SDK's would only drop the stream.
        timeoutMs: 0,
        onStdout: (d) => {
          onStdout(d);
          dropCopy();
        },
        onStderr: (d) => {
          onStderr(d);
          dropCopy();
        },
      });
      dropCopy();
      return handle;
    } catch (e) {
      // envd refuses a missing working directory as an invalid argument; the API says which.
      if (opts.cwd && e instanceof SdkInvalidArgumentError && /cwd/.test(e.message)) {
        throw new ToolkitError(ErrorReason.FILE_NOT_FOUND, `cwd ${opts.cwd} does not exist in the sandbox`, { sandbox_id: sandbox.sandboxId, path: opts.cwd }, { cause: e });
      }
      throw e;
    }
  }

  /** `e` as SANDBOX_SHUT_DOWN / SANDBOX_EXPIRED when the sandbox ended; `interrupted`: during the work. */
  #sandboxGone(sandboxId: string, e: unknown, interrupted: boolean): unknown {
    if (e instanceof ToolkitError || e instanceof InvalidArgumentError) return e;
    return this.#manager.endedError(sandboxId, { cause: e, interrupted }) ?? e;
  }

  #job(tenant: string, jobId: string): JobRecord {
    if (!jobId) throw new InvalidArgumentError('job_id', 'is required');
    this.#expire(tenant);
    const job = this.#tenantJobs(tenant).get(jobId);
    if (!job) throw new ToolkitError(ErrorReason.JOB_NOT_FOUND, `no job ${jobId}`, { job_id: jobId });
    return job;
  }

  #tenantJobs(tenant: string): Map<string, JobRecord> {
    let jobs = this.#jobs.get(tenant);
    if (!jobs) this.#jobs.set(tenant, (jobs = new Map()));
    return jobs;
  }
}

/** A tail's iterator that reports the job being forgotten under it as JOB_NOT_FOUND. */
async function* forgettable(job: JobRecord, chunks: AsyncIterator<LogChunk>): AsyncGenerator<LogChunk> {
  try {
    for (;;) {
      const r = await chunks.next();
      if (r.done) return;
      yield r.value;
    }
  } catch (e) {
    if (e instanceof JobLogDisposedError) {
      throw new ToolkitError(ErrorReason.JOB_NOT_FOUND, `job ${job.jobId} was forgotten while being read: ${job.forgotten ?? 'it was deleted'}`, { job_id: job.jobId }, { cause: e });
    }
    throw e;
  } finally {
    await chunks.return?.();
  }
}

function checkCommand(opts: CommandOptions): void {
  if (!opts.command?.trim()) throw new InvalidArgumentError('command', 'is required');
}

/**
 * Empties the SDK's own copy of a command's output. A CommandHandle appends everything the
 * command prints to a string (`_stdout`, `_stderr`) for wait() to return, even when callbacks
 * take it: a job printing 200 MB would hold 200 MB in the server. Jobs and runs keep their own
 * bounded copy (the job log, the tail buffers) and use wait() only for the exit code.
 */
function dropSdkOutput(handle: CommandHandle): void {
  const fields = handle as unknown as Record<string, unknown>;
  if (typeof fields._stdout === 'string') fields._stdout = '';
  if (typeof fields._stderr === 'string') fields._stderr = '';
}

/** Waits for a command; a non-zero exit is a result, not an error. */
async function exitCodeOf(handle: CommandHandle): Promise<number> {
  try {
    return (await handle.wait()).exitCode;
  } catch (e) {
    if (e instanceof CommandExitError) return shellExitCode(e.exitCode, e.error);
    throw e;
  }
}

function view(job: JobRecord): JobView {
  return {
    jobId: job.jobId,
    sandboxId: job.sandboxId,
    clientId: job.clientId,
    kind: job.kind,
    status: job.status,
    command: job.command,
    code: job.code,
    executionId: job.executionId,
    exitCode: job.exitCode,
    error: job.error,
    errorReason: job.errorReason,
    createTime: job.createTime,
    startTime: job.startTime,
    endTime: job.endTime,
    stdoutBytes: job.log.size('stdout'),
    stderrBytes: job.log.size('stderr'),
  };
}
