// E2BToolkit: the reference's high-level toolkit over the toolkit API, with its method names
// (camelCase) and its `{status: ...}` result shapes (snake_case keys).
//
// Errors. Methods that return a result object never throw for an RPC failure: the error
// becomes `{status: 'error', error: <server message>, code: <status code in snake_case>,
// reason?: <ErrorReason name>, ...context keys such as sandbox_id / job_id}`. Exceptions to
// that: getJobStatus and killJob report NOT_FOUND as `{status: 'not_found', job_id}`;
// tailJobLogs (an async iterator) throws the ConnectError. A method whose RPC the server does
// not serve yet returns `{status: 'error', code: 'unimplemented', ...}`.
import fs from 'node:fs';
import path from 'node:path';
import { toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { writeAtomically } from './atomic-write.js';
import { randomClientId } from './clients.js';
import { errorResult, isCode, type ErrorResult } from './errors.js';
import { ExecutionStatus, ResultFormat, type Execution, type Result } from './gen/e2b_toolkit/v1/execution_pb.js';
import { JobKind, JobStatus, type Job } from './gen/e2b_toolkit/v1/job_pb.js';
import { SandboxState, type Sandbox } from './gen/e2b_toolkit/v1/sandbox_service_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { UploadFileRequestSchema } from './gen/e2b_toolkit/v1/file_service_pb.js';
import { dateOf, seconds, type SandboxManager } from './manager.js';

export interface E2BToolkitOptions {
  /**
   * Create a default sandbox when one is first needed. The reference creates it in its
   * constructor; a TS constructor cannot await, so here it is created lazily, by the first
   * method call that needs the default sandbox (concurrent first calls share one creation).
   * Call `ready()` to create it up front. Default true.
   */
  autoCreateDefault?: boolean;
  /** At most this many of this toolkit's calls in flight at once (the reference's worker threads). Default 10. */
  globalWorkers?: number;
  /**
   * The client_id of this toolkit (its managed sandboxes and default sandbox on the server).
   * Default: a fresh random id, so that two toolkits sharing a server never share a default.
   * Pass a fixed one for a restarted agent to find its default sandbox again.
   */
  clientId?: string;
  /** Size of the chunks uploadFile sends. Default 256 KiB. */
  uploadChunkSize?: number;
}

/** Where a result lives: an execution id, or a result of runPythonCode (its execution_id). */
export type ResultRef = string | { execution_id?: unknown; executionId?: unknown; [key: string]: unknown } | undefined | null;

export type ToolkitResult = { status: string; [key: string]: unknown };

/** One event of tailJobLogs. Keepalives are not reported. */
export type JobLogEvent =
  | { type: 'started'; job: JobInfo; stdout_offset: number; stderr_offset: number }
  | { type: 'stdout' | 'stderr'; data: Uint8Array; text: string; offset: number }
  | { type: 'ended'; job: JobInfo };

export interface JobInfo {
  status: 'running' | 'done' | 'error' | 'cancelled' | 'unknown';
  job_id: string;
  sandbox_id: string;
  kind: 'command' | 'python' | 'unknown';
  command?: string;
  code?: string;
  execution_id?: string;
  exit_code?: number;
  error?: string;
  stdout_bytes: number;
  stderr_bytes: number;
  create_time?: string;
  start_time?: string;
  end_time?: string;
}

export class E2BToolkit {
  readonly manager: SandboxManager;
  readonly clientId: string;
  readonly autoCreateDefault: boolean;
  readonly globalWorkers: number;
  private readonly chunkSize: number;
  private defaultId?: string;
  private creatingDefault?: Promise<string>;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(manager: SandboxManager, options: E2BToolkitOptions = {}) {
    this.manager = manager;
    this.clientId = options.clientId ?? randomClientId('toolkit');
    this.autoCreateDefault = options.autoCreateDefault ?? true;
    this.globalWorkers = Math.max(1, options.globalWorkers ?? 10);
    this.chunkSize = options.uploadChunkSize ?? 256 * 1024;
  }

  private get c() {
    return this.manager.clients;
  }

  /** The default sandbox's id, if one was created or set. */
  get defaultSandboxId(): string | undefined {
    return this.defaultId;
  }

  /** Creates the default sandbox now when autoCreateDefault is on and there is none (the reference's constructor behaviour). */
  async ready(): Promise<string | undefined> {
    return this.autoCreateDefault ? this.target(undefined) : this.defaultId;
  }

  // ---- code ----

  async runPythonCode(code: string, sandboxId?: string, timeout?: number): Promise<ToolkitResult> {
    return this.guarded({ sandbox_id: sandboxId }, async () => {
      const res = await this.c.code.runPythonCode({
        sandboxId: await this.target(sandboxId),
        clientId: this.clientId,
        code,
        timeout: timeout === undefined ? undefined : seconds(timeout),
      });
      return executionResult(res.execution!);
    });
  }

  async runPythonCodeBackground(code: string, sandboxId?: string, jobId?: string): Promise<ToolkitResult> {
    return this.guarded({ sandbox_id: sandboxId, job_id: jobId }, async () => {
      const res = await this.c.code.startPythonCode({ sandboxId: await this.target(sandboxId), clientId: this.clientId, code, jobId: jobId ?? '' });
      const job = res.job!;
      return { status: 'accepted', job_id: job.jobId, sandbox_id: job.sandboxId, execution_id: job.executionId };
    });
  }

  /** Runs code in every sandbox this toolkit manages: `{[sandbox_id]: result}` (or an error result if the call itself fails). */
  async runInAllSandboxes(code: string, timeoutEach?: number): Promise<Record<string, ToolkitResult>> {
    return this.guarded({}, async () => {
      const res = await this.c.code.runPythonCodeInAllSandboxes({
        clientId: this.clientId,
        code,
        timeoutEach: timeoutEach === undefined ? undefined : seconds(timeoutEach),
      });
      const out: Record<string, ToolkitResult> = {};
      for (const o of res.outcomes) {
        if (o.outcome.case === 'execution') out[o.sandboxId] = executionResult(o.outcome.value);
        else if (o.outcome.case === 'error') out[o.sandboxId] = { status: 'error', error: o.outcome.value.message, sandbox_id: o.sandboxId };
        else out[o.sandboxId] = { status: 'error', error: 'no outcome', sandbox_id: o.sandboxId };
      }
      return out;
    }) as Promise<Record<string, ToolkitResult>>;
  }

  // ---- commands ----

  /**
   * Runs a shell command and waits for it: `{status: 'success' | 'error', exit_code, stdout,
   * stderr, sandbox_id}` (status 'error' for a non-zero exit code, with `error`). With
   * background, as runCommandBackground.
   */
  async runCommand(command: string, sandboxId?: string, background = false, timeout?: number): Promise<ToolkitResult> {
    if (background) return this.runCommandBackground(command, sandboxId);
    return this.guarded({ sandbox_id: sandboxId }, async () => {
      const target = await this.target(sandboxId);
      const res = await this.c.commands.runCommand({
        sandboxId: target,
        clientId: this.clientId,
        command,
        timeout: timeout === undefined ? undefined : seconds(timeout),
      });
      const out: ToolkitResult = {
        status: res.exitCode === 0 ? 'success' : 'error',
        exit_code: res.exitCode,
        stdout: res.stdout,
        stderr: res.stderr,
        sandbox_id: target || this.defaultId,
      };
      if (res.stdoutTruncated) out.stdout_truncated = true;
      if (res.stderrTruncated) out.stderr_truncated = true;
      if (res.exitCode !== 0) out.error = `command exited with code ${res.exitCode}`;
      return out;
    });
  }

  /** Starts a command as a background job: `{status: 'accepted', job_id, sandbox_id}`. */
  async runCommandBackground(command: string, sandboxId?: string, jobId?: string): Promise<ToolkitResult> {
    return this.guarded({ sandbox_id: sandboxId, job_id: jobId }, async () => {
      const res = await this.c.commands.startCommand({ sandboxId: await this.target(sandboxId), clientId: this.clientId, command, jobId: jobId ?? '' });
      const job = res.job!;
      return { status: 'accepted', job_id: job.jobId, sandbox_id: job.sandboxId };
    });
  }

  // ---- files ----

  /** Streams a local file into the sandbox: `{status: 'success', path, size, sandbox_id}`. sandboxPath defaults to the file's name. */
  async uploadFile(localPath: string, sandboxId?: string, sandboxPath?: string): Promise<ToolkitResult> {
    return this.guarded({ sandbox_id: sandboxId, local_path: localPath }, async () => {
      const stat = await fs.promises.stat(localPath);
      if (!stat.isFile()) return { status: 'error', error: `not a file: ${localPath}`, local_path: localPath };
      const target = await this.target(sandboxId);
      const header = { sandboxId: target, clientId: this.clientId, path: sandboxPath ?? path.basename(localPath), sizeBytes: BigInt(stat.size) };
      const chunkSize = this.chunkSize;
      async function* requests(): AsyncIterable<MessageInitShape<typeof UploadFileRequestSchema>> {
        yield { part: { case: 'header', value: header } };
        const stream = fs.createReadStream(localPath, { highWaterMark: chunkSize });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          yield { part: { case: 'chunk', value: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) } };
        }
      }
      const res = await this.c.files.uploadFile(requests());
      const file = res.file;
      return { status: 'success', path: file?.path ?? header.path, size: Number(file?.sizeBytes ?? stat.size), local_path: localPath, sandbox_id: target || this.defaultId };
    });
  }

  /**
   * Streams a sandbox file to the local disk: `{status: 'success', local_path, path, size,
   * sandbox_id}`. localPath defaults to the file's name in the current directory. The bytes go
   * to a temporary file next to it, renamed into place once complete: a failed download
   * leaves nothing half-written.
   */
  async downloadFileFromSandbox(sandboxPath: string, sandboxId?: string, localPath?: string): Promise<ToolkitResult> {
    const dest = path.resolve(localPath ?? path.basename(sandboxPath));
    return this.guarded({ sandbox_id: sandboxId, path: sandboxPath, local_path: dest }, async () => {
      const target = await this.target(sandboxId);
      let remotePath = sandboxPath;
      const size = await writeLocal(dest, async (out) => {
        let n = 0;
        for await (const res of this.c.files.downloadFile({ sandboxId: target, clientId: this.clientId, path: sandboxPath })) {
          if (res.part.case === 'file') remotePath = res.part.value.path || remotePath;
          else if (res.part.case === 'chunk') {
            n += res.part.value.byteLength;
            if (!out.write(res.part.value)) await new Promise<void>((r) => out.once('drain', () => r()));
          }
        }
        return n;
      });
      return { status: 'success', local_path: dest, path: remotePath, size, sandbox_id: target || this.defaultId };
    });
  }

  /**
   * Saves the PNG of an execution's result: `{status: 'success', path, size, execution_id,
   * result_index}`. `ref` is an execution id, a runPythonCode result, or empty for the latest
   * execution of the sandbox (sandboxId, else the default). outputPath defaults to
   * `result_<execution_id>_<index>.png`.
   */
  async downloadPngResult(ref?: ResultRef, resultIndex = 0, sandboxId?: string, outputPath?: string): Promise<ToolkitResult> {
    return this.guarded({ result_index: resultIndex }, async () => {
      const res = await this.fetchResult(ref, resultIndex, sandboxId, ResultFormat.PNG);
      const png = res.result?.png;
      if (!png) return { status: 'error', error: 'the result has no PNG', execution_id: res.executionId, result_index: resultIndex };
      const dest = path.resolve(outputPath ?? `result_${res.executionId}_${resultIndex}.png`);
      await writeLocal(dest, async (out) => {
        out.write(png);
        return png.byteLength;
      });
      return { status: 'success', path: dest, size: png.byteLength, execution_id: res.executionId, result_index: resultIndex };
    });
  }

  /**
   * Returns the chart data of an execution's result: `{status: 'success', chart, execution_id,
   * result_index}`, and also saves it as JSON when outputPath is given (`path`).
   */
  async downloadChartData(ref?: ResultRef, resultIndex = 0, sandboxId?: string, outputPath?: string): Promise<ToolkitResult> {
    return this.guarded({ result_index: resultIndex }, async () => {
      const res = await this.fetchResult(ref, resultIndex, sandboxId, ResultFormat.CHART);
      const chart = res.result?.chart;
      if (!chart) return { status: 'error', error: 'the result has no chart data', execution_id: res.executionId, result_index: resultIndex };
      const out: ToolkitResult = { status: 'success', chart, execution_id: res.executionId, result_index: resultIndex };
      if (outputPath) {
        const dest = path.resolve(outputPath);
        const text = JSON.stringify(chart, null, 2);
        await writeLocal(dest, async (s) => {
          s.write(text);
          return text.length;
        });
        out.path = dest;
      }
      return out;
    });
  }

  private async fetchResult(ref: ResultRef, resultIndex: number, sandboxId: string | undefined, format: ResultFormat) {
    const id = typeof ref === 'string' ? ref : (ref?.execution_id ?? ref?.executionId);
    const executionId = typeof id === 'string' ? id : '';
    return this.c.code.getExecutionResult({
      executionId,
      sandboxId: executionId ? '' : await this.target(sandboxId),
      clientId: this.clientId,
      resultIndex,
      formats: [format],
    });
  }

  // ---- network ----

  /** `{status: 'success', url, host, port, sandbox_id}`. */
  async getPublicUrl(port: number, sandboxId?: string): Promise<ToolkitResult> {
    return this.guarded({ port, sandbox_id: sandboxId }, async () => {
      const target = await this.target(sandboxId);
      const res = await this.c.network.getPublicUrl({ sandboxId: target, clientId: this.clientId, port });
      return { status: 'success', url: res.url, host: res.host, port, sandbox_id: target || this.defaultId };
    });
  }

  /**
   * Starts a server and waits (up to waitSeconds) until its port accepts connections:
   * `{status, url, job_id, ready, port, sandbox_id}` where status is 'success' when ready,
   * 'starting' when the port is not ready yet but the job still runs, and 'error' when the
   * job has already ended (tail its logs to see why).
   */
  async runServer(command: string, port: number, sandboxId?: string, waitSeconds = 2): Promise<ToolkitResult> {
    return this.guarded({ port, sandbox_id: sandboxId }, async () => {
      const target = await this.target(sandboxId);
      const res = await this.c.network.runServer({ sandboxId: target, clientId: this.clientId, command, port, wait: seconds(waitSeconds) });
      const job = res.job;
      const running = job?.status === JobStatus.RUNNING;
      const status = res.ready ? 'success' : running ? 'starting' : 'error';
      const out: ToolkitResult = { status, url: res.url, job_id: job?.jobId, ready: res.ready, port, sandbox_id: job?.sandboxId || target || this.defaultId };
      if (status === 'error') out.error = `the server exited before port ${port} accepted connections` + (job?.exitCode !== undefined ? ` (exit code ${job.exitCode})` : '');
      if (status === 'starting') out.message = `port ${port} did not accept connections within ${waitSeconds}s; the server is still running`;
      return out;
    });
  }

  // ---- jobs ----

  /** The job's state (JobInfo, status 'running' | 'done' | 'error' | 'cancelled'), or `{status: 'not_found', job_id}`. */
  async getJobStatus(jobId: string): Promise<ToolkitResult> {
    return this.guarded({ job_id: jobId }, async () => {
      try {
        const res = await this.c.jobs.getJob({ jobId });
        return jobInfo(res.job!) as unknown as ToolkitResult;
      } catch (err) {
        if (isCode(err, Code.NotFound)) return { status: 'not_found', job_id: jobId };
        throw err;
      }
    });
  }

  /** Kills a job's process tree: `{status: 'success', job_id, job_status}`, or `{status: 'not_found', job_id}`. */
  async killJob(jobId: string): Promise<ToolkitResult> {
    return this.guarded({ job_id: jobId }, async () => {
      try {
        const res = await this.c.jobs.killJob({ jobId });
        const info = jobInfo(res.job!);
        return { status: 'success', job_id: jobId, job_status: info.status, job: info };
      } catch (err) {
        if (isCode(err, Code.NotFound)) return { status: 'not_found', job_id: jobId };
        throw err;
      }
    });
  }

  /**
   * Deletes a job and its recorded output now (not in the reference API). A running job is
   * killed first when `kill` is true, else refused. `{status: 'success', job_id, job_status}`,
   * or `{status: 'not_found', job_id}`.
   */
  async deleteJob(jobId: string, kill = false): Promise<ToolkitResult> {
    return this.guarded({ job_id: jobId }, async () => {
      try {
        const res = await this.c.jobs.deleteJob({ jobId, kill });
        const info = jobInfo(res.job!);
        return { status: 'success', job_id: jobId, job_status: info.status, job: info };
      } catch (err) {
        if (isCode(err, Code.NotFound)) return { status: 'not_found', job_id: jobId };
        throw err;
      }
    });
  }

  /**
   * Follows a job's stdout and stderr from the given offsets until the job ends (or from the
   * start; a finished job is read in full). Throws the ConnectError on failure (NOT_FOUND for
   * an unknown job). Breaking out of the loop stops the tail, not the job.
   */
  async *tailJobLogs(jobId: string, options: { fromOffset?: number; stderrOffset?: number; snapshot?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<JobLogEvent> {
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const stream = this.c.jobs.tailJobLogs(
      { jobId, stdoutOffset: BigInt(options.fromOffset ?? 0), stderrOffset: BigInt(options.stderrOffset ?? 0), snapshot: options.snapshot ?? false },
      { signal: options.signal },
    );
    for await (const res of stream) {
      const e = res.event;
      switch (e.case) {
        case 'started':
          yield { type: 'started', job: jobInfo(e.value.job!), stdout_offset: Number(e.value.stdoutOffset), stderr_offset: Number(e.value.stderrOffset) };
          break;
        case 'stdout':
        case 'stderr':
          yield { type: e.case, data: e.value.data, text: decoders[e.case].decode(e.value.data, { stream: true }), offset: Number(e.value.offset) };
          break;
        case 'ended':
          yield { type: 'ended', job: jobInfo(e.value.job!) };
          break;
      }
    }
  }

  // ---- sandboxes ----

  /** `{status: 'success', sandbox_id, is_default, metadata, expire_time}`. */
  async createSandbox(timeout?: number, metadata?: Record<string, unknown>, setAsDefault = false): Promise<ToolkitResult> {
    return this.guarded({}, async () => {
      const slot = await this.manager.create(timeout, metadata, { clientId: this.clientId, setAsDefault });
      if (setAsDefault) this.defaultId = slot.sandboxId;
      return { status: 'success', ...sandboxInfo(slot.sandbox), is_default: setAsDefault || slot.isDefault };
    });
  }

  /** `{status: 'success', sandboxes: [...], count, default_sandbox_id}` for the sandboxes this toolkit manages. */
  async listManagedSandboxes(): Promise<ToolkitResult> {
    return this.guarded({}, async () => {
      const sandboxes: Sandbox[] = [];
      let pageToken = '';
      do {
        const res = await this.c.sandboxes.listSandboxes({ clientId: this.clientId, pageToken });
        sandboxes.push(...res.sandboxes);
        pageToken = res.nextPageToken;
      } while (pageToken);
      const list = sandboxes.map(sandboxInfo);
      const def = sandboxes.find((s) => s.isDefault)?.sandboxId;
      return { status: 'success', sandboxes: list, count: list.length, default_sandbox_id: def ?? null };
    });
  }

  /** Shuts down a sandbox (default: the default one): `{status: 'success', sandbox_id}`. */
  async shutdownSandbox(sandboxId?: string): Promise<ToolkitResult> {
    return this.guarded({ sandbox_id: sandboxId }, async () => {
      const target = sandboxId ?? this.defaultId;
      if (!target) return { status: 'error', error: 'no sandbox_id given and no default sandbox', code: 'failed_precondition' };
      const res = await this.c.sandboxes.shutdownSandbox({ sandboxId: target, clientId: this.clientId });
      const id = res.sandboxId || target;
      if (id === this.defaultId) this.defaultId = undefined;
      return { status: 'success', sandbox_id: id };
    });
  }

  /**
   * Shuts down every sandbox this toolkit manages: `{status: 'success' | 'partial',
   * shutdown: [ids], errors: {id: message}, count}`.
   */
  async shutdownAllSandboxes(): Promise<ToolkitResult> {
    return this.guarded({}, async () => {
      const res = await this.c.sandboxes.shutdownAllSandboxes({ clientId: this.clientId });
      const shutdown: string[] = [];
      const errors: Record<string, string> = {};
      for (const o of res.outcomes) {
        if (o.error) errors[o.sandboxId] = o.error.message;
        else shutdown.push(o.sandboxId);
      }
      if (this.defaultId && shutdown.includes(this.defaultId)) this.defaultId = undefined;
      return { status: Object.keys(errors).length ? 'partial' : 'success', shutdown, errors, count: shutdown.length };
    });
  }

  // ---- plumbing ----

  /**
   * The sandbox_id to send: the given one, else the default sandbox (created now when
   * autoCreateDefault is on and there is none), else '' so that the server uses this
   * client's default or fails with NO_DEFAULT_SANDBOX.
   */
  private async target(sandboxId: string | undefined): Promise<string> {
    if (sandboxId) return sandboxId;
    if (this.defaultId) return this.defaultId;
    if (!this.autoCreateDefault) return '';
    this.creatingDefault ??= this.manager
      .create(undefined, undefined, { clientId: this.clientId, setAsDefault: true })
      .then((slot) => (this.defaultId = slot.sandboxId))
      .finally(() => (this.creatingDefault = undefined));
    return this.creatingDefault;
  }

  /** Runs fn within the worker limit and turns thrown errors into error results. */
  private async guarded<T>(context: Record<string, unknown>, fn: () => Promise<T>): Promise<T | ErrorResult> {
    await this.acquire();
    try {
      return await fn();
    } catch (err) {
      const extra = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
      if (err instanceof Error && !('code' in err && typeof (err as { code: unknown }).code === 'number') && (err as NodeJS.ErrnoException).code) {
        // A local file-system error (ENOENT...).
        return { status: 'error', error: err.message, code: String((err as NodeJS.ErrnoException).code).toLowerCase(), ...extra };
      }
      return errorResult(err, extra);
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.globalWorkers) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** A local output file of the wrapper, written whole or not at all; missing parent directories are created. */
function writeLocal<T>(dest: string, write: (out: fs.WriteStream) => Promise<T>): Promise<T> {
  return writeAtomically(dest, write, { makeParents: true });
}

const JOB_STATUS: Record<JobStatus, JobInfo['status']> = {
  [JobStatus.UNSPECIFIED]: 'unknown',
  [JobStatus.RUNNING]: 'running',
  [JobStatus.DONE]: 'done',
  [JobStatus.ERROR]: 'error',
  [JobStatus.CANCELLED]: 'cancelled',
};

export function jobInfo(job: Job): JobInfo {
  const info: JobInfo = {
    status: JOB_STATUS[job.status] ?? 'unknown',
    job_id: job.jobId,
    sandbox_id: job.sandboxId,
    kind: job.kind === JobKind.COMMAND ? 'command' : job.kind === JobKind.PYTHON ? 'python' : 'unknown',
    stdout_bytes: Number(job.stdoutBytes),
    stderr_bytes: Number(job.stderrBytes),
  };
  if (job.command) info.command = job.command;
  if (job.code) info.code = job.code;
  if (job.executionId) info.execution_id = job.executionId;
  if (job.exitCode !== undefined) info.exit_code = job.exitCode;
  if (job.error) info.error = job.error;
  for (const [key, ts] of [['create_time', job.createTime], ['start_time', job.startTime], ['end_time', job.endTime]] as const) {
    const d = dateOf(ts);
    if (d) info[key] = d.toISOString();
  }
  return info;
}

/** A sandbox as a snake_case dict (the wrapper's results, the CLI's --json). */
export interface SandboxInfo {
  sandbox_id: string;
  state: 'running' | 'paused' | 'unknown';
  template: string;
  metadata: Record<string, string>;
  is_default: boolean;
  create_time: string | null;
  expire_time: string | null;
  cpu_count: number;
  memory_mib: number;
}

export function sandboxInfo(s: Sandbox): SandboxInfo {
  return {
    sandbox_id: s.sandboxId,
    state: s.state === SandboxState.RUNNING ? 'running' : s.state === SandboxState.PAUSED ? 'paused' : 'unknown',
    template: s.template,
    metadata: { ...s.metadata },
    is_default: s.isDefault,
    create_time: dateOf(s.createTime)?.toISOString() ?? null,
    expire_time: dateOf(s.expireTime)?.toISOString() ?? null,
    cpu_count: s.cpuCount,
    memory_mib: s.memoryMib,
  };
}

/** A rich result as the reference's dict: its formats by name, binary ones base64. */
export function resultDict(r: Result): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.isMainResult) out.is_main_result = true;
  for (const k of ['text', 'html', 'markdown', 'latex', 'svg', 'javascript'] as const) if (r[k] !== undefined) out[k] = r[k];
  for (const k of ['png', 'jpeg', 'pdf'] as const) {
    const v = r[k];
    if (v !== undefined) out[k] = Buffer.from(v).toString('base64');
  }
  if (r.json) out.json = toJson(ValueSchema, r.json);
  if (r.data) out.data = r.data;
  if (r.chart) out.chart = r.chart;
  if (r.extra) out.extra = r.extra;
  return out;
}

/**
 * An execution as the reference's result: `{status: 'success', results: [{logs: stdout}?,
 * ...rich results], logs: {stdout, stderr}, execution_id, sandbox_id}`; when the code raised,
 * `{status: 'error', error: 'Name: value', error_name, error_value, traceback, ...}`.
 */
export function executionResult(e: Execution): ToolkitResult {
  const results: Record<string, unknown>[] = [];
  if (e.stdout) results.push({ logs: e.stdout });
  results.push(...e.results.map(resultDict));
  const base = { execution_id: e.executionId, sandbox_id: e.sandboxId, results, logs: { stdout: e.stdout, stderr: e.stderr } };
  if (e.status === ExecutionStatus.FAILED || e.error) {
    const err = e.error;
    return {
      status: 'error',
      error: err ? `${err.name}: ${err.value}` : 'the execution failed',
      error_name: err?.name,
      error_value: err?.value,
      traceback: err?.traceback,
      ...base,
    };
  }
  if (e.status === ExecutionStatus.CANCELLED) return { status: 'cancelled', ...base };
  if (e.status === ExecutionStatus.RUNNING) return { status: 'running', ...base };
  return { status: 'success', ...base };
}
