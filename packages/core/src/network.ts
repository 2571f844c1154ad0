// Servers in sandboxes reached from outside: public URLs of ports, and servers started as
// background jobs that are reported ready once their port accepts connections.
import { CommandExitError, type Sandbox } from 'e2b';
import { ErrorReason, InvalidArgumentError, ToolkitError } from './errors.js';
import { JobStatus, type Jobs, type JobView, type StartCommandOptions } from './jobs.js';
import type { SandboxManager } from './sandbox-manager.js';

export interface NetworkOptions {
  manager: SandboxManager;
  jobs: Jobs;
  /**
   * The local runtime's control plane, when sandboxes come from it. Its extension endpoint
   * `POST /sandboxes/{id}/ports/{port}` gives a 127.0.0.1 URL any client opens (the
   * `*.localhost` host of getHost is not resolved by Node's or Python's clients).
   * Unset: E2B, where the URL is `https://` + getHost(port).
   */
  localRuntime?: { apiUrl: string; apiKey: string };
  /** Default RunServer wait. Default 10 s. */
  defaultServerWaitMs?: number;
}

export interface PublicUrl {
  url: string;
  host: string;
}

export interface RunServerOptions extends StartCommandOptions {
  port: number;
  waitMs?: number;
}

export interface RunServerResult {
  url: string;
  ready: boolean;
  job: JobView;
}

const MAX_WAIT_MS = 10 * 60_000;
/** How long one in-sandbox probe keeps trying before the job's status is looked at again. */
const PROBE_ROUND_MS = 1000;
const PROBE_INTERVAL_MS = 100;

export class Network {
  readonly #manager: SandboxManager;
  readonly #jobs: Jobs;
  readonly #local: NetworkOptions['localRuntime'];
  readonly #defaultWaitMs: number;
  /** RunServer request ids seen, per tenant. */
  readonly #requests = new Set<string>();

  constructor(options: NetworkOptions) {
    this.#manager = options.manager;
    this.#jobs = options.jobs;
    this.#local = options.localRuntime;
    this.#defaultWaitMs = options.defaultServerWaitMs ?? 10_000;
  }

  /** The URL of a port; with `waitMs`, once the port accepts connections (else PORT_NOT_READY). */
  async publicUrl(tenant: string, opts: { sandboxId?: string; clientId?: string; port: number; waitMs?: number }, signal?: AbortSignal): Promise<PublicUrl> {
    const port = checkPort(opts.port);
    const waitMs = opts.waitMs === undefined ? undefined : checkWait(opts.waitMs);
    const sandbox = await this.#manager.sandbox(tenant, opts.clientId ?? '', opts.sandboxId ?? '');
    if (waitMs !== undefined) {
      const deadline = Date.now() + waitMs;
      let open = false;
      while (!open && Date.now() < deadline && !signal?.aborted) {
        open = await portOpen(sandbox, port, Math.min(PROBE_ROUND_MS, deadline - Date.now()));
      }
      if (!open) {
        throw new ToolkitError(ErrorReason.PORT_NOT_READY, `nothing accepted connections on port ${port} within ${waitMs} ms`, {
          sandbox_id: sandbox.sandboxId,
          port: String(port),
        });
      }
    }
    return this.#urlOf(sandbox, port);
  }

  /**
   * Starts `command` as a background job and waits until `port` accepts connections, the job
   * ends, or `waitMs` passes. Not being ready is a result (ready false), not an error.
   */
  async runServer(tenant: string, clientId: string, opts: RunServerOptions, signal?: AbortSignal): Promise<RunServerResult> {
    const port = checkPort(opts.port);
    const waitMs = checkWait(opts.waitMs ?? this.#defaultWaitMs);
    if (!opts.command?.trim()) throw new InvalidArgumentError('command', 'is required');
    const sandbox = await this.#manager.sandbox(tenant, clientId, opts.sandboxId ?? '');
    const { port: _port, waitMs: _wait, ...start } = opts;
    // A retry of the same request gets its first job (from startCommand): its port is then
    // expected to be in use.
    const requestKey = opts.requestId ? `${tenant}\0${opts.requestId}` : undefined;
    const retried = requestKey !== undefined && this.#requests.has(requestKey);
    if (!retried && (await portOpen(sandbox, port, 0))) {
      throw new ToolkitError(ErrorReason.PORT_IN_USE, `something already listens on port ${port} in sandbox ${sandbox.sandboxId}`, {
        sandbox_id: sandbox.sandboxId,
        port: String(port),
      });
    }
    const started = await this.#jobs.startCommand(tenant, clientId, { ...start, sandboxId: sandbox.sandboxId });
    if (requestKey) this.#requests.add(requestKey);
    const { url } = await this.#urlOf(sandbox, port);
    const deadline = Date.now() + waitMs;
    let ready = false;
    let job = started;
    for (;;) {
      job = this.#jobs.getJob(tenant, started.jobId);
      if (job.status !== JobStatus.RUNNING || signal?.aborted) break;
      const left = deadline - Date.now();
      if (left <= 0) break;
      if (await portOpen(sandbox, port, Math.min(PROBE_ROUND_MS, left))) {
        ready = true;
        job = this.#jobs.getJob(tenant, started.jobId);
        break;
      }
    }
    return { url, ready, job };
  }

  async #urlOf(sandbox: Sandbox, port: number): Promise<PublicUrl> {
    if (!this.#local) {
      const host = sandbox.getHost(port);
      return { url: `https://${host}`, host };
    }
    let res: Response;
    try {
      res = await fetch(`${this.#local.apiUrl.replace(/\/$/, '')}/sandboxes/${encodeURIComponent(sandbox.sandboxId)}/ports/${port}`, {
        method: 'POST',
        headers: { 'X-API-KEY': this.#local.apiKey },
      });
    } catch (err) {
      throw new ToolkitError(ErrorReason.BACKEND_UNAVAILABLE, `the sandbox backend did not answer: ${(err as Error).message}`, {}, { cause: err });
    }
    const body = (await res.json().catch(() => ({}))) as { url?: string; message?: string };
    if (res.status === 404) {
      throw new ToolkitError(this.#manager.endReason(sandbox.sandboxId) ?? ErrorReason.SANDBOX_NOT_FOUND, `no sandbox ${sandbox.sandboxId}`, {
        sandbox_id: sandbox.sandboxId,
      });
    }
    if (!res.ok || !body.url) throw new Error(`the local runtime did not expose port ${port}: ${res.status} ${body.message ?? ''}`.trim());
    return { url: body.url, host: new URL(body.url).host };
  }
}

export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError('port', `must be 1-65535, got ${port}`);
  return port;
}

function checkWait(ms: number): number {
  if (!(ms > 0) || ms > MAX_WAIT_MS) throw new InvalidArgumentError('wait', 'must be positive and at most 10 minutes');
  return ms;
}

/**
 * Whether something in the sandbox accepts TCP connections on 127.0.0.1:port, trying every
 * 100 ms for up to `forMs` inside the sandbox (one round trip per call, not per try).
 */
async function portOpen(sandbox: Sandbox, port: number, forMs: number): Promise<boolean> {
  const tries = Math.max(1, Math.ceil(forMs / PROBE_INTERVAL_MS));
  const script = `i=0; while :; do (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && exit 0; i=$((i+1)); [ $i -ge ${tries} ] && exit 1; sleep ${PROBE_INTERVAL_MS / 1000}; done`;
  try {
    await sandbox.commands.run(`bash -c '${script}'`, { timeoutMs: forMs + 30_000 });
    return true;
  } catch (err) {
    if (err instanceof CommandExitError) return false;
    throw err;
  }
}
