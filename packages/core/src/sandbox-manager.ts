// Sandboxes of the toolkit API, reached only through the official `e2b` SDK: the local
// runtime and E2B (cloud or self-hosted) are driven by the same code.
//
// Ownership. Every sandbox belongs to the toolkit API key that created it, recorded in the
// sandbox's metadata (a hash of the key, never the key), so ownership survives a restart of
// this server. A sandbox of another key is reported as not found.
//
// Clients. Per API key, each client_id has the set of sandboxes it manages and at most one
// default. This state lives in memory: a restarted server forgets defaults (clients connect
// again), not sandboxes.
//
// Ended sandboxes. A sandbox this server shut down, or saw expire, is reported as
// SANDBOX_SHUT_DOWN or SANDBOX_EXPIRED for `retentionMs` (default 1 hour) after it ended;
// then its record is forgotten (also removed from its clients' sets and defaults) and it is
// SANDBOX_NOT_FOUND like any unknown sandbox.
import { createHash } from 'node:crypto';
import { Sandbox, SandboxNotFoundError, NotFoundError, RateLimitError, InvalidArgumentError as SdkInvalidArgumentError, type SandboxInfo } from 'e2b';
import { ErrorReason, InvalidArgumentError, ToolkitError } from './errors.js';
import { DEFAULT_RETENTION_MS, checkRetention, sweepPeriodically } from './retention.js';

/** Where sandboxes come from: E2B, or the local runtime speaking E2B's protocol. */
export interface BackendConfig {
  /** The E2B API key the server uses for every sandbox (any non-empty string for the local runtime). */
  apiKey: string;
  apiUrl?: string;
  sandboxUrl?: string;
  domain?: string;
}

export interface SandboxManagerOptions {
  backend: BackendConfig;
  /** Default 300 s. */
  defaultTimeoutMs?: number;
  /** Default 24 h. */
  maxTimeoutMs?: number;
  /** The template used when a create names none. Default `code-interpreter-v1`. */
  defaultTemplate?: string;
  /** How long an ended sandbox's record (why it ended) is kept. Default 1 hour; Infinity keeps them. */
  retentionMs?: number;
  /** The clock, in ms since the epoch (for tests). Default Date.now. */
  now?: () => number;
}

export type SandboxStateName = 'running' | 'paused';

/** A sandbox as the API shows it to one client. */
export interface SandboxView {
  sandboxId: string;
  state: SandboxStateName;
  template: string;
  metadata: Record<string, string>;
  createTime: Date;
  expireTime: Date;
  isDefault: boolean;
  cpuCount: number;
  memoryMib: number;
}

export interface CreateSandboxOptions {
  timeoutMs?: number;
  metadata?: Record<string, string>;
  envs?: Record<string, string>;
  template?: string;
  setAsDefault?: boolean;
  requestId?: string;
}

export interface ListSandboxesOptions {
  allClients?: boolean;
  metadata?: Record<string, string>;
  states?: SandboxStateName[];
}

export interface ShutdownResult {
  sandboxId: string;
  error?: Error;
}

/** Metadata key holding the owner (a hash of the toolkit API key). Hidden from callers. */
const OWNER_KEY = 'e2b_toolkit_owner';
const MAX_METADATA_PAIRS = 64;

interface ClientState {
  managed: Set<string>;
  defaultId?: string;
}

interface Known {
  tenant: string;
  sdk?: Sandbox;
  /** Set when this server saw the sandbox end, so later calls can say why it is gone. */
  ended?: 'shut_down';
  /** When it was shut down (ms since the epoch). */
  endedAt?: number;
  /** The expiry this server last set or saw. */
  expireTime?: Date;
  /** The create request that made it, if it named one: forgotten with the sandbox. */
  requestKey?: string;
}

export class SandboxManager {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly #backend: BackendConfig;
  readonly #defaultTemplate: string;
  readonly #known = new Map<string, Known>();
  readonly #clients = new Map<string, Map<string, ClientState>>();
  readonly #creates = new Map<string, Promise<string>>();
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout | undefined;

  constructor(options: SandboxManagerOptions) {
    this.#backend = options.backend;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 300_000;
    this.maxTimeoutMs = options.maxTimeoutMs ?? 24 * 3600_000;
    this.#defaultTemplate = options.defaultTemplate ?? 'code-interpreter-v1';
    this.#retentionMs = checkRetention('retentionMs', options.retentionMs, DEFAULT_RETENTION_MS);
    this.#now = options.now ?? Date.now;
    this.#sweeper = sweepPeriodically(this.#retentionMs, () => this.sweep());
  }

  /** Forgets the records of sandboxes that ended longer than the retention period ago (also done on access). */
  sweep(): void {
    for (const id of this.#known.keys()) this.#expire(id);
  }

  /** Stops the periodic sweep. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  /** When the sandbox ended, as far as this server knows, if it did. */
  #endedAt(known: Known): number | undefined {
    if (known.ended) return known.endedAt;
    const expiry = known.expireTime?.getTime();
    return expiry !== undefined && expiry <= this.#now() ? expiry : undefined;
  }

  /** Forgets the sandbox's record if it ended longer than the retention period ago. */
  #expire(sandboxId: string): void {
    const known = this.#known.get(sandboxId);
    const endedAt = known && this.#endedAt(known);
    if (!known || endedAt === undefined || this.#now() - endedAt < this.#retentionMs) return;
    this.#known.delete(sandboxId);
    if (known.requestKey) this.#creates.delete(known.requestKey);
    for (const client of this.#clients.get(known.tenant)?.values() ?? []) {
      client.managed.delete(sandboxId);
      if (client.defaultId === sandboxId) client.defaultId = undefined;
    }
  }

  async create(tenant: string, clientId: string, opts: CreateSandboxOptions = {}): Promise<SandboxView> {
    const timeoutMs = this.#checkTimeout('timeout', opts.timeoutMs ?? this.defaultTimeoutMs);
    const metadata = checkMetadata(opts.metadata ?? {});
    const key = opts.requestId ? `${tenant}\0${opts.requestId}` : undefined;
    let pending = key ? this.#creates.get(key) : undefined;
    if (!pending) {
      pending = (async () => {
        const sdk = await this.#call(undefined, () =>
          Sandbox.create(opts.template || this.#defaultTemplate, {
            ...this.#sdkOpts(),
            timeoutMs,
            metadata: { ...metadata, [OWNER_KEY]: ownerOf(tenant) },
            envs: opts.envs,
          }),
        );
        this.#known.set(sdk.sandboxId, { tenant, sdk, expireTime: new Date(this.#now() + timeoutMs), requestKey: key });
        return sdk.sandboxId;
      })();
      if (key) {
        this.#creates.set(key, pending);
        pending.catch(() => this.#creates.delete(key));
      }
    }
    const sandboxId = await pending;
    this.#manage(tenant, clientId, sandboxId, opts.setAsDefault ?? false);
    return this.get(tenant, clientId, sandboxId);
  }

  async connect(tenant: string, clientId: string, sandboxId: string, opts: { timeoutMs?: number; setAsDefault?: boolean } = {}): Promise<SandboxView> {
    if (!sandboxId) throw new InvalidArgumentError('sandbox_id', 'is required');
    const timeoutMs = opts.timeoutMs === undefined ? undefined : this.#checkTimeout('timeout', opts.timeoutMs);
    await this.#info(tenant, sandboxId);
    const sdk = await this.#call(sandboxId, () => Sandbox.connect(sandboxId, { ...this.#sdkOpts(), timeoutMs }));
    const known = this.#known.get(sandboxId) ?? { tenant };
    known.sdk = sdk;
    this.#known.set(sandboxId, known);
    // connect only extends a running sandbox's timeout; the API sets it, so set it exactly.
    if (timeoutMs !== undefined) await this.#call(sandboxId, () => Sandbox.setTimeout(sandboxId, timeoutMs, this.#sdkOpts()));
    this.#manage(tenant, clientId, sandboxId, opts.setAsDefault ?? false);
    return this.get(tenant, clientId, sandboxId);
  }

  async get(tenant: string, clientId: string, sandboxId: string): Promise<SandboxView> {
    const id = this.resolveId(tenant, clientId, sandboxId);
    return this.#view(tenant, clientId, await this.#info(tenant, id));
  }

  /** Newest first. */
  async list(tenant: string, clientId: string, opts: ListSandboxesOptions = {}): Promise<SandboxView[]> {
    const metadata = opts.metadata ?? {};
    let infos: SandboxInfo[];
    if (opts.allClients) {
      infos = [];
      const paginator = Sandbox.list({ ...this.#sdkOpts(), query: { metadata: { ...metadata, [OWNER_KEY]: ownerOf(tenant) } } });
      while (paginator.hasNext) infos.push(...(await this.#call(undefined, () => paginator.nextItems())));
    } else {
      const ids = [...(this.#client(tenant, clientId).managed)];
      const found = await Promise.all(ids.map((id) => this.#info(tenant, id).catch(() => undefined)));
      infos = found.filter((i): i is SandboxInfo => i !== undefined);
    }
    return infos
      .filter((i) => Object.entries(metadata).every(([k, v]) => i.metadata?.[k] === v))
      .filter((i) => !opts.states?.length || opts.states.includes(i.state))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
      .map((i) => this.#view(tenant, clientId, i));
  }

  async setTimeout(tenant: string, clientId: string, sandboxId: string, timeoutMs: number): Promise<SandboxView> {
    this.#checkTimeout('timeout', timeoutMs);
    const id = this.resolveId(tenant, clientId, sandboxId);
    await this.#info(tenant, id);
    await this.#call(id, () => Sandbox.setTimeout(id, timeoutMs, this.#sdkOpts()));
    return this.get(tenant, clientId, id);
  }

  /** Shuts a sandbox down; returns its id. */
  async shutdown(tenant: string, clientId: string, sandboxId: string): Promise<string> {
    const id = this.resolveId(tenant, clientId, sandboxId);
    await this.#info(tenant, id);
    const known = this.#known.get(id) ?? { tenant };
    this.#known.set(id, known);
    // Marked before the kill, so that work the kill interrupts reports SANDBOX_SHUT_DOWN
    // rather than a broken connection; undone if the kill fails.
    const before = { ended: known.ended, endedAt: known.endedAt };
    known.ended = 'shut_down';
    known.endedAt = this.#now();
    try {
      await this.#call(id, () => Sandbox.kill(id, this.#sdkOpts()));
    } catch (e) {
      Object.assign(known, before);
      throw e;
    }
    known.sdk = undefined;
    for (const client of this.#clients.get(tenant)?.values() ?? []) {
      client.managed.delete(id);
      if (client.defaultId === id) client.defaultId = undefined;
    }
    return id;
  }

  /** Shuts down every sandbox the client manages; one failure does not stop the others. */
  async shutdownAll(tenant: string, clientId: string): Promise<ShutdownResult[]> {
    const ids = [...this.#client(tenant, clientId).managed];
    return Promise.all(
      ids.map((sandboxId) =>
        this.shutdown(tenant, clientId, sandboxId).then(
          () => ({ sandboxId }),
          (error: Error) => {
            // A sandbox that had already ended counts as shut down.
            if (error instanceof ToolkitError && isGone(error.reason)) {
              this.#client(tenant, clientId).managed.delete(sandboxId);
              return { sandboxId };
            }
            return { sandboxId, error };
          },
        ),
      ),
    );
  }

  /** The sandbox a request names: `sandboxId`, or the client's default when empty. */
  resolveId(tenant: string, clientId: string, sandboxId: string): string {
    if (sandboxId) {
      this.#expire(sandboxId);
      return sandboxId;
    }
    const current = this.#client(tenant, clientId).defaultId;
    if (current) this.#expire(current);
    const id = this.#client(tenant, clientId).defaultId;
    if (!id) {
      throw new ToolkitError(
        ErrorReason.NO_DEFAULT_SANDBOX,
        `client '${clientId}' has no default sandbox: create one with set_as_default or connect to one`,
        { client_id: clientId },
      );
    }
    return id;
  }

  /** An SDK handle on a sandbox of the tenant, for running things in it. */
  async sandbox(tenant: string, clientId: string, sandboxId: string): Promise<Sandbox> {
    const id = this.resolveId(tenant, clientId, sandboxId);
    const known = this.#known.get(id);
    if (known?.sdk && known.tenant === tenant) return known.sdk;
    await this.#info(tenant, id);
    const sdk = await this.#call(id, () => Sandbox.connect(id, this.#sdkOpts()));
    this.#known.set(id, { ...(this.#known.get(id) ?? { tenant }), sdk });
    return sdk;
  }

  /** Why a sandbox this server knew is gone, if it is and the server knows. */
  endReason(sandboxId: string): ErrorReason.SANDBOX_SHUT_DOWN | ErrorReason.SANDBOX_EXPIRED | undefined {
    this.#expire(sandboxId);
    const known = this.#known.get(sandboxId);
    if (known?.ended === 'shut_down') return ErrorReason.SANDBOX_SHUT_DOWN;
    if (known?.expireTime && known.expireTime.getTime() <= this.#now()) return ErrorReason.SANDBOX_EXPIRED;
    return undefined;
  }

  /** Checks a timeout in milliseconds against the server's range; returns it. */
  #checkTimeout(field: string, timeoutMs: number): number {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 1000 || timeoutMs > this.maxTimeoutMs) {
      throw new InvalidArgumentError(field, `must be between 1 second and ${this.maxTimeoutMs / 1000} seconds`);
    }
    return timeoutMs;
  }

  async #info(tenant: string, sandboxId: string): Promise<SandboxInfo> {
    this.#expire(sandboxId);
    const known = this.#known.get(sandboxId);
    if (known && known.tenant !== tenant) throw notFound(sandboxId);
    if (known?.ended) throw this.#gone(sandboxId);
    const info = await this.#call(sandboxId, () => Sandbox.getInfo(sandboxId, this.#sdkOpts()));
    if (info.metadata?.[OWNER_KEY] !== ownerOf(tenant)) throw notFound(sandboxId);
    if (known) known.expireTime = info.endAt;
    return info;
  }

  #view(tenant: string, clientId: string, info: SandboxInfo): SandboxView {
    const { [OWNER_KEY]: _owner, ...metadata } = info.metadata ?? {};
    return {
      sandboxId: info.sandboxId,
      state: info.state,
      template: info.name || info.templateId,
      metadata,
      createTime: info.startedAt,
      expireTime: info.endAt,
      isDefault: this.#client(tenant, clientId).defaultId === info.sandboxId,
      cpuCount: info.cpuCount,
      memoryMib: info.memoryMB,
    };
  }

  #manage(tenant: string, clientId: string, sandboxId: string, setAsDefault: boolean): void {
    const client = this.#client(tenant, clientId);
    client.managed.add(sandboxId);
    if (setAsDefault) client.defaultId = sandboxId;
  }

  #client(tenant: string, clientId: string): ClientState {
    let clients = this.#clients.get(tenant);
    if (!clients) this.#clients.set(tenant, (clients = new Map()));
    let client = clients.get(clientId);
    if (!client) clients.set(clientId, (client = { managed: new Set() }));
    return client;
  }

  /**
   * SANDBOX_SHUT_DOWN or SANDBOX_EXPIRED for a sandbox that has ended, if the server knows it
   * did. `interrupted`: it ended while the call's work was under way (reported as ABORTED).
   */
  endedError(sandboxId: string, options: { interrupted?: boolean; cause?: unknown; metadata?: Record<string, string> } = {}): ToolkitError | undefined {
    const reason = this.endReason(sandboxId);
    if (!reason) return undefined;
    const what = reason === ErrorReason.SANDBOX_SHUT_DOWN ? 'was shut down' : 'expired (its timeout ran out)';
    const during = options.interrupted ? ' while the call was running' : '';
    return new ToolkitError(reason, `sandbox ${sandboxId} ${what}${during}`, { sandbox_id: sandboxId, ...options.metadata }, options);
  }

  #gone(sandboxId: string): ToolkitError {
    return this.endedError(sandboxId) ?? notFound(sandboxId);
  }

  /** Runs an SDK call, translating its errors into the API's. */
  async #call<T>(sandboxId: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SandboxNotFoundError || err instanceof NotFoundError) throw sandboxId ? this.#gone(sandboxId) : err;
      if (err instanceof RateLimitError) throw new ToolkitError(ErrorReason.SANDBOX_LIMIT_REACHED, err.message, {}, { cause: err });
      if (err instanceof SdkInvalidArgumentError) throw new InvalidArgumentError('request', err.message);
      if (isConnectionError(err)) {
        throw new ToolkitError(ErrorReason.BACKEND_UNAVAILABLE, `the sandbox backend did not answer: ${(err as Error).message}`, {}, { cause: err });
      }
      throw err;
    }
  }

  #sdkOpts() {
    const { apiKey, apiUrl, sandboxUrl, domain } = this.#backend;
    return { apiKey, apiUrl, sandboxUrl, domain };
  }
}

function ownerOf(tenant: string): string {
  return createHash('sha256').update(`e2b-toolkit:${tenant}`).digest('hex').slice(0, 32);
}

function notFound(sandboxId: string): ToolkitError {
  return new ToolkitError(ErrorReason.SANDBOX_NOT_FOUND, `no sandbox ${sandboxId}`, { sandbox_id: sandboxId });
}

function isGone(reason: ErrorReason): boolean {
  return reason === ErrorReason.SANDBOX_NOT_FOUND || reason === ErrorReason.SANDBOX_EXPIRED || reason === ErrorReason.SANDBOX_SHUT_DOWN;
}

function checkMetadata(metadata: Record<string, string>): Record<string, string> {
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_PAIRS) throw new InvalidArgumentError('metadata', `at most ${MAX_METADATA_PAIRS} pairs`);
  for (const [k, v] of entries) {
    if (!k || Buffer.byteLength(k) > 64) throw new InvalidArgumentError('metadata', `keys must be 1 to 64 bytes, got '${k}'`);
    if (Buffer.byteLength(v) > 1024) throw new InvalidArgumentError('metadata', `value of '${k}' is over 1024 bytes`);
    if (k === OWNER_KEY) throw new InvalidArgumentError('metadata', `'${OWNER_KEY}' is reserved`);
  }
  return metadata;
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } })?.cause?.code ?? (err as { code?: string })?.code;
  return (err instanceof TypeError && /fetch failed/i.test(err.message)) || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND';
}
