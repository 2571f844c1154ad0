// Python code in sandboxes, through the official `@e2b/code-interpreter` SDK: each run is an
// Execution kept in memory so that its output and rich results can be fetched later
// (GetExecution, GetExecutionResult).
//
// Retention. An ended execution is kept for `retentionMs` (default 1 hour) after it ended,
// then forgotten (EXECUTION_NOT_FOUND); expired ones are swept periodically and on access.
// Per API key the server also keeps at most `maxExecutions` executions (default 1000); past
// that the oldest ended one is forgotten. Running executions are never forgotten by age. The
// "latest execution of a sandbox" is the newest one still kept. Everything lives in memory:
// a restarted server forgets executions.
//
// Interrupting. `runCode` takes no abort signal: the SDK only drops its request on its own
// timeouts. To stop a run when a call is cancelled, times out or its job is killed, the run's
// fetch calls are given our signal (see sdk-fetch.ts); dropping the request makes the code
// interpreter interrupt the kernel.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Sandbox as CodeSandbox } from '@e2b/code-interpreter';
import { NotFoundError, SandboxNotFoundError } from 'e2b';
import { ErrorReason, InvalidArgumentError, ToolkitError } from './errors.js';
import { errorMessage, filterResult, resultMessage } from './execution-results.js';
import { ExecutionSchema, ExecutionStatus, ResultFormat, type Execution, type ExecutionError, type Result } from './gen/e2b_toolkit/v1/execution_pb.js';
import { JobKind, JobStatus, type JobView, type Jobs } from './jobs.js';
import { DEFAULT_RETENTION_MS, checkRetention, sweepPeriodically } from './retention.js';
import type { BackendConfig, SandboxManager } from './sandbox-manager.js';
import { abortable, installSdkFetch } from './sdk-fetch.js';
import { TailText } from './tail-text.js';

/** The error name the code interpreter reports when the kernel died during a run. */
const KERNEL_DIED_ERROR = 'KernelDiedError';

export interface ExecutionsOptions {
  manager: SandboxManager;
  /** The same backend the manager uses: code sandboxes connect with it. */
  backend: BackendConfig;
  /** Background jobs, for StartPythonCode. */
  jobs?: Jobs;
  /** Executions kept per API key; the oldest ended ones are forgotten first. Default 1000. */
  maxExecutions?: number;
  /** Output kept per stream and execution (the end is kept). Default 1 MiB. */
  outputLimitBytes?: number;
  /** Default run timeout. Default 60 s. */
  defaultTimeoutMs?: number;
  /** Runs of RunPythonCodeInAllSandboxes in flight at once, over all calls. Default 8. */
  globalWorkers?: number;
  /** How long an ended execution is kept after it ended. Default 1 hour; Infinity keeps them. */
  retentionMs?: number;
  /** The clock, in ms since the epoch (for tests). Default Date.now. */
  now?: () => number;
}

export interface RunCodeOptions {
  sandboxId?: string;
  clientId?: string;
  code: string;
  /** Counted from the request, waiting for the kernel included. Default 60 s; 0 = none. */
  timeoutMs?: number;
  envs?: Record<string, string>;
}

/** What a run reports as it happens (streaming). */
export type ExecutionEvent =
  | { case: 'stdout'; value: string }
  | { case: 'stderr'; value: string }
  | { case: 'result'; value: Result }
  | { case: 'error'; value: ExecutionError };

export interface RunHooks {
  /** Aborting it interrupts the code (the execution ends CANCELLED). */
  signal?: AbortSignal;
  /** The caller's deadline in ms from now, if any: past it the run fails with REQUEST_DEADLINE_EXCEEDED. */
  deadlineMs?: number;
  /** Called once the execution exists, before the code runs. */
  onStarted?: (execution: Execution) => void;
  onEvent?: (event: ExecutionEvent) => void;
}

export interface SandboxRunOutcome {
  sandboxId: string;
  execution?: Execution;
  error?: Error;
}

export interface StartPythonJobOptions extends RunCodeOptions {
  jobId?: string;
  requestId?: string;
  newKernel?: boolean;
}

type Stop = 'timeout' | 'deadline' | 'cancelled';

interface ExecutionRecord {
  tenant: string;
  executionId: string;
  sandboxId: string;
  status: ExecutionStatus;
  results: Result[];
  stdout: TailText;
  stderr: TailText;
  error?: ExecutionError;
  errorReason: ErrorReason;
  executionCount: number;
  startTime: Date;
  endTime?: Date;
  jobId: string;
}

export class Executions {
  readonly #manager: SandboxManager;
  readonly #backend: BackendConfig;
  readonly #jobs: Jobs | undefined;
  readonly #max: number;
  readonly #outputLimit: number;
  readonly #defaultTimeoutMs: number;
  readonly #workers: Semaphore;
  /** Keyed by tenant, then execution id, oldest first. */
  readonly #executions = new Map<string, Map<string, ExecutionRecord>>();
  /** `${tenant}\0${sandboxId}` → the newest execution id of that sandbox. */
  readonly #latest = new Map<string, string>();
  readonly #sandboxes = new Map<string, Promise<CodeSandbox>>();
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout | undefined;

  constructor(options: ExecutionsOptions) {
    this.#manager = options.manager;
    this.#backend = options.backend;
    this.#jobs = options.jobs;
    this.#max = Math.max(1, options.maxExecutions ?? 1000);
    this.#outputLimit = options.outputLimitBytes ?? 1024 * 1024;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
    this.#workers = new Semaphore(Math.max(1, options.globalWorkers ?? 8));
    this.#retentionMs = checkRetention('retentionMs', options.retentionMs, DEFAULT_RETENTION_MS);
    this.#now = options.now ?? Date.now;
    this.#sweeper = sweepPeriodically(this.#retentionMs, () => this.sweep());
    installSdkFetch();
  }

  /** Forgets the ended executions whose retention period has passed (also done periodically and on access). */
  sweep(): void {
    for (const tenant of this.#executions.keys()) this.#expire(tenant);
  }

  /** Stops the periodic sweep and forgets every execution. */
  close(): void {
    clearInterval(this.#sweeper);
    this.#executions.clear();
    this.#latest.clear();
    this.#sandboxes.clear();
  }

  /** Runs code and returns the ended execution (SUCCEEDED or FAILED by a Python exception). */
  async run(tenant: string, opts: RunCodeOptions, hooks: RunHooks = {}): Promise<Execution> {
    const record = await this.#run(tenant, opts, hooks, '');
    return message(record, []);
  }

  /** Runs code in every sandbox the client manages, at most `globalWorkers` at once. */
  async runInAll(tenant: string, clientId: string, opts: Omit<RunCodeOptions, 'sandboxId' | 'clientId'>, signal?: AbortSignal): Promise<SandboxRunOutcome[]> {
    checkCode(opts.code);
    const timeoutMs = this.#timeout(opts.timeoutMs);
    const sandboxes = await this.#manager.list(tenant, clientId);
    return Promise.all(
      sandboxes.map(async ({ sandboxId }): Promise<SandboxRunOutcome> => {
        const release = await this.#workers.acquire();
        try {
          if (signal?.aborted) throw new ToolkitError(ErrorReason.UNSPECIFIED, 'the call was cancelled');
          return { sandboxId, execution: await this.run(tenant, { ...opts, sandboxId, clientId, timeoutMs }, { signal }) };
        } catch (error) {
          return { sandboxId, error: error as Error };
        } finally {
          release();
        }
      }),
    );
  }

  /** Starts code as a background PYTHON job; its output goes to the job log. */
  async startJob(tenant: string, clientId: string, opts: StartPythonJobOptions): Promise<JobView> {
    const jobs = this.#jobs;
    if (!jobs) throw new ToolkitError(ErrorReason.UNSPECIFIED, 'background Python jobs are not available on this server');
    checkCode(opts.code);
    if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0)) throw new InvalidArgumentError('timeout', 'must be positive');
    const sandboxId = this.#manager.resolveId(tenant, clientId, opts.sandboxId ?? '');
    await this.#sandbox(tenant, clientId, sandboxId);
    const executionId = randomUUID();
    return jobs.startTask(
      tenant,
      { kind: JobKind.PYTHON, sandboxId, clientId, jobId: opts.jobId, requestId: opts.requestId, code: opts.code, executionId },
      async ({ jobId, signal, stdout, stderr }) => {
        try {
          const record = await this.#run(
            tenant,
            { ...opts, sandboxId, clientId, timeoutMs: opts.timeoutMs ?? 0 },
            {
              signal,
              onEvent: (e) => {
                if (e.case === 'stdout') stdout(e.value);
                if (e.case === 'stderr') stderr(e.value);
              },
            },
            jobId,
            executionId,
            opts.newKernel,
          );
          return record.error ? { status: JobStatus.ERROR, error: `${record.error.name}: ${record.error.value}` } : { status: JobStatus.DONE };
        } catch (e) {
          const reason = e instanceof ToolkitError ? e.reason : ErrorReason.UNSPECIFIED;
          return { status: JobStatus.ERROR, error: (e as Error).message, reason };
        }
      },
    );
  }

  /** An execution, while it runs or after; `executionId` empty means the sandbox's latest. */
  get(tenant: string, ref: { executionId?: string; sandboxId?: string; clientId?: string }, formats: ResultFormat[] = []): Execution {
    return message(this.#record(tenant, ref), formats);
  }

  /** One result of an execution, with only `formats` (all when empty). */
  getResult(tenant: string, ref: { executionId?: string; sandboxId?: string; clientId?: string }, index: number, formats: ResultFormat[] = []): { result: Result; executionId: string } {
    if (!Number.isInteger(index) || index < 0) throw new InvalidArgumentError('result_index', 'must not be negative');
    const record = this.#record(tenant, ref);
    const found = record.results[index];
    if (!found) {
      throw new ToolkitError(ErrorReason.RESULT_NOT_FOUND, `execution ${record.executionId} has ${record.results.length} result(s); there is no result ${index}`, {
        execution_id: record.executionId,
      });
    }
    if (formats.length && !formats.some((f) => found.formats.includes(f))) {
      throw new ToolkitError(
        ErrorReason.RESULT_FORMAT_NOT_FOUND,
        `result ${index} of execution ${record.executionId} has none of the formats asked for (it has ${found.formats.map((f) => ResultFormat[f]).join(', ') || 'none'})`,
        { execution_id: record.executionId },
      );
    }
    return { result: filterResult(found, formats), executionId: record.executionId };
  }

  async #run(tenant: string, opts: RunCodeOptions, hooks: RunHooks, jobId: string, executionId = randomUUID(), newKernel = false): Promise<ExecutionRecord> {
    checkCode(opts.code);
    const timeoutMs = this.#timeout(opts.timeoutMs);
    if (hooks.signal?.aborted) throw new ToolkitError(ErrorReason.UNSPECIFIED, 'the call was cancelled');
    const stop = new AbortController();
    let stopped: Stop | undefined;
    const halt = (why: Stop) => {
      stopped ??= why;
      stop.abort();
    };
    const timer = timeoutMs ? setTimeout(() => halt('timeout'), timeoutMs) : undefined;
    const deadlineAt = hooks.deadlineMs === undefined ? undefined : Date.now() + hooks.deadlineMs;
    // The transport aborts the signal at the deadline too: tell the two apart by the time.
    const onAbort = () => halt(deadlineAt !== undefined && Date.now() >= deadlineAt - 50 ? 'deadline' : 'cancelled');
    hooks.signal?.addEventListener('abort', onAbort);
    let record: ExecutionRecord | undefined;
    try {
      const sandboxId = this.#manager.resolveId(tenant, opts.clientId ?? '', opts.sandboxId ?? '');
      const sandbox = await abortable(stop.signal, () => this.#sandbox(tenant, opts.clientId ?? '', sandboxId));
      const rec: ExecutionRecord = (record = {
        tenant,
        executionId,
        sandboxId,
        status: ExecutionStatus.RUNNING,
        results: [],
        stdout: new TailText(this.#outputLimit),
        stderr: new TailText(this.#outputLimit),
        errorReason: ErrorReason.UNSPECIFIED,
        executionCount: 0,
        startTime: new Date(this.#now()),
        jobId,
      });
      this.#store(rec);
      hooks.onStarted?.(message(rec, []));
      const emit = (e: ExecutionEvent) => {
        if (!stopped) hooks.onEvent?.(e);
      };
      const run = async () => {
        const context = newKernel ? await sandbox.createCodeContext({ language: 'python' }) : undefined;
        try {
          return await sandbox.runCode(opts.code, {
            ...(context ? { context } : { language: 'python' }),
            envs: opts.envs,
            // Our own timer stops the run (from the request, kernel wait included).
            timeoutMs: 0,
            requestTimeoutMs: 0,
            onStdout: (m) => {
              rec.stdout.push(m.line);
              emit({ case: 'stdout', value: m.line });
            },
            onStderr: (m) => {
              rec.stderr.push(m.line);
              emit({ case: 'stderr', value: m.line });
            },
            onResult: (r) => {
              const result = resultMessage(r);
              rec.results.push(result);
              emit({ case: 'result', value: result });
            },
            onError: (e) => {
              rec.error = errorMessage(e);
              emit({ case: 'error', value: rec.error });
            },
          });
        } finally {
          if (context) await sandbox.removeCodeContext(context).catch(() => {});
        }
      };
      const done = await abortable(stop.signal, run);
      if (stopped) throw new Error('stopped');
      rec.executionCount = done.executionCount ?? 0;
      rec.error ??= done.error && errorMessage(done.error);
      if (rec.error?.name === KERNEL_DIED_ERROR) {
        // Not an exception of the code: the kernel is gone (and restarts for the next run).
        const { value } = rec.error;
        throw new ToolkitError(ErrorReason.KERNEL_DIED, value || 'the Python kernel died', { sandbox_id: sandboxId, execution_id: executionId });
      }
      rec.status = rec.error ? ExecutionStatus.FAILED : ExecutionStatus.SUCCEEDED;
      rec.endTime = new Date(this.#now());
      return rec;
    } catch (e) {
      const err = this.#failure(e, stopped, timeoutMs, opts.sandboxId || record?.sandboxId || '', record?.executionId, record !== undefined);
      if (record) {
        record.status = stopped === 'cancelled' ? ExecutionStatus.CANCELLED : ExecutionStatus.FAILED;
        record.errorReason = err instanceof ToolkitError ? err.reason : ErrorReason.UNSPECIFIED;
        record.endTime = new Date(this.#now());
        if (!stopped) this.#sandboxes.delete(`${tenant}\0${record.sandboxId}`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The error a run ends with. `started`: the code had been sent to the sandbox. */
  #failure(e: unknown, stopped: Stop | undefined, timeoutMs: number, sandboxId: string, executionId: string | undefined, started = false): unknown {
    const meta: Record<string, string> = { sandbox_id: sandboxId, ...(executionId ? { execution_id: executionId } : {}) };
    if (stopped === 'timeout') {
      return new ToolkitError(ErrorReason.EXECUTION_TIMED_OUT, `the code ran longer than ${timeoutMs} ms and was interrupted${executionId ? ` (execution ${executionId})` : ''}`, meta);
    }
    if (stopped === 'deadline') {
      return new ToolkitError(ErrorReason.REQUEST_DEADLINE_EXCEEDED, `the call's deadline passed; the code was interrupted${executionId ? ` (execution ${executionId})` : ''}`, meta);
    }
    if (stopped === 'cancelled') return new ToolkitError(ErrorReason.UNSPECIFIED, 'the call was cancelled; the code was interrupted', meta);
    if (e instanceof ToolkitError || e instanceof InvalidArgumentError) return e;
    const gone = sandboxId ? this.#manager.endedError(sandboxId, { cause: e, interrupted: started, metadata: meta }) : undefined;
    if (gone) return gone;
    if (e instanceof SandboxNotFoundError || e instanceof NotFoundError) {
      return new ToolkitError(ErrorReason.SANDBOX_NOT_FOUND, `no sandbox ${sandboxId}`, meta, { cause: e });
    }
    return e;
  }

  #timeout(timeoutMs: number | undefined): number {
    const ms = timeoutMs ?? this.#defaultTimeoutMs;
    if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('timeout', 'must be positive');
    return ms;
  }

  /** A code-interpreter handle on a sandbox of the tenant (ownership checked by the manager). */
  async #sandbox(tenant: string, clientId: string, sandboxId: string): Promise<CodeSandbox> {
    const key = `${tenant}\0${sandboxId}`;
    let pending = this.#sandboxes.get(key);
    if (!pending) {
      pending = (async () => {
        const base = await this.#manager.sandbox(tenant, clientId, sandboxId);
        const { apiKey, apiUrl, sandboxUrl, domain } = this.#backend;
        return CodeSandbox.connect(base.sandboxId, { apiKey, apiUrl, sandboxUrl, domain });
      })();
      this.#sandboxes.set(key, pending);
      pending.catch(() => this.#sandboxes.delete(key));
    }
    try {
      return await pending;
    } catch (e) {
      throw this.#failure(e, undefined, 0, sandboxId, undefined);
    }
  }

  #store(record: ExecutionRecord): void {
    this.#expire(record.tenant);
    let all = this.#executions.get(record.tenant);
    if (!all) this.#executions.set(record.tenant, (all = new Map()));
    all.set(record.executionId, record);
    this.#latest.set(`${record.tenant}\0${record.sandboxId}`, record.executionId);
    while (all.size > this.#max) {
      let oldest: ExecutionRecord | undefined;
      for (const r of all.values()) {
        if (r.status !== ExecutionStatus.RUNNING) {
          oldest = r;
          break;
        }
      }
      oldest ??= all.values().next().value!;
      this.#forget(oldest);
    }
  }

  /** Forgets the tenant's ended executions whose retention period has passed. */
  #expire(tenant: string): void {
    const all = this.#executions.get(tenant);
    if (!all) return;
    const now = this.#now();
    for (const r of all.values()) {
      if (r.endTime && now - r.endTime.getTime() >= this.#retentionMs) this.#forget(r);
    }
  }

  #forget(record: ExecutionRecord): void {
    const all = this.#executions.get(record.tenant);
    if (all?.get(record.executionId) === record) all.delete(record.executionId);
    const latestKey = `${record.tenant}\0${record.sandboxId}`;
    if (this.#latest.get(latestKey) === record.executionId) this.#latest.delete(latestKey);
  }

  #record(tenant: string, ref: { executionId?: string; sandboxId?: string; clientId?: string }): ExecutionRecord {
    this.#expire(tenant);
    let id = ref.executionId;
    if (!id) {
      const sandboxId = this.#manager.resolveId(tenant, ref.clientId ?? '', ref.sandboxId ?? '');
      id = this.#latest.get(`${tenant}\0${sandboxId}`);
      if (!id) throw new ToolkitError(ErrorReason.EXECUTION_NOT_FOUND, `no execution in sandbox ${sandboxId}`, { sandbox_id: sandboxId });
    }
    const record = this.#executions.get(tenant)?.get(id);
    if (!record) throw new ToolkitError(ErrorReason.EXECUTION_NOT_FOUND, `no execution ${id}`, { execution_id: id });
    return record;
  }
}

function checkCode(code: string): void {
  if (!code?.trim()) throw new InvalidArgumentError('code', 'is required');
}

function message(r: ExecutionRecord, formats: ResultFormat[]): Execution {
  const out = r.stdout.result();
  const err = r.stderr.result();
  return create(ExecutionSchema, {
    executionId: r.executionId,
    sandboxId: r.sandboxId,
    status: r.status,
    results: r.results.map((x) => filterResult(x, formats)),
    stdout: out.text,
    stderr: err.text,
    stdoutTruncated: out.truncated,
    stderrTruncated: err.truncated,
    error: r.error,
    errorReason: r.errorReason,
    executionCount: r.executionCount,
    startTime: timestampFromDate(r.startTime),
    endTime: r.endTime && timestampFromDate(r.endTime),
    jobId: r.jobId,
  });
}

/** Counts permits; `acquire` resolves to the function that gives one back. */
class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(permits: number) {
    this.#free = permits;
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
