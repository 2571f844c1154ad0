// SandboxManager: sandbox lifecycle, as the reference's SandboxManager.
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { createToolkitClients, randomClientId, type ToolkitClients, type ToolkitProtocol } from './clients.js';
import { errorResult } from './errors.js';
import type { Sandbox } from './gen/e2b_toolkit/v1/sandbox_service_pb.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:50051';

/** Extra settings for every sandbox the manager creates (the reference's default_options). */
export interface SandboxDefaultOptions {
  /** Template to create sandboxes from. Empty: the server's default. */
  template?: string;
  /** Environment variables for every command and Python run in the sandbox. */
  envs?: Record<string, string>;
  /** Metadata merged under the metadata given to create(). */
  metadata?: Record<string, string>;
}

export interface SandboxManagerOptions {
  /** API key. Default: env E2B_TOOLKIT_API_KEY; none → no Authorization header. */
  apiKey?: string;
  /** Default sandbox timeout in seconds. Default 300. */
  defaultTimeout?: number;
  defaultOptions?: SandboxDefaultOptions;
  /** The toolkit server. Default: env E2B_TOOLKIT_URL, else http://127.0.0.1:50051. */
  baseUrl?: string;
  /** Default "connect". */
  protocol?: ToolkitProtocol;
  /** The client_id of the manager's own calls (create/connect without one). Default: random. */
  clientId?: string;
}

/** A sandbox the manager created or connected to: its id and what the server said about it. */
export class SandboxSlot {
  readonly sandboxId: string;
  readonly template: string;
  readonly metadata: Record<string, string>;
  readonly createdAt?: Date;
  readonly expiresAt?: Date;
  readonly isDefault: boolean;

  constructor(
    /** The Sandbox message as returned by the server. */
    readonly sandbox: Sandbox,
    readonly manager: SandboxManager,
  ) {
    this.sandboxId = sandbox.sandboxId;
    this.template = sandbox.template;
    this.metadata = { ...sandbox.metadata };
    this.createdAt = dateOf(sandbox.createTime);
    this.expiresAt = dateOf(sandbox.expireTime);
    this.isDefault = sandbox.isDefault;
  }

  /** Shuts this sandbox down. */
  shutdown(): Promise<ShutdownResult> {
    return this.manager.shutdown(this.sandboxId);
  }
}

export interface ShutdownResult {
  status: 'success' | 'error';
  sandbox_id: string;
  /** true when the sandbox was shut down; null on error. */
  result: boolean | null;
  error?: string;
  code?: string;
}

export interface CreateOptions {
  /** The client_id that will manage the sandbox. Default: the manager's. */
  clientId?: string;
  setAsDefault?: boolean;
}

export class SandboxManager {
  readonly clients: ToolkitClients;
  readonly baseUrl: string;
  readonly protocol: ToolkitProtocol;
  readonly apiKey?: string;
  readonly defaultTimeout: number;
  readonly defaultOptions: SandboxDefaultOptions;

  constructor(options: SandboxManagerOptions = {}) {
    this.apiKey = options.apiKey ?? (process.env.E2B_TOOLKIT_API_KEY || undefined);
    this.baseUrl = options.baseUrl ?? (process.env.E2B_TOOLKIT_URL || DEFAULT_BASE_URL);
    this.protocol = options.protocol ?? 'connect';
    this.defaultTimeout = options.defaultTimeout ?? 300;
    this.defaultOptions = options.defaultOptions ?? {};
    this.clients = createToolkitClients({
      baseUrl: this.baseUrl,
      apiKey: this.apiKey,
      protocol: this.protocol,
      clientId: options.clientId ?? randomClientId('manager'),
    });
  }

  /** Creates a sandbox (timeout in seconds, default defaultTimeout). Throws the ConnectError on failure. */
  async create(timeout?: number, metadata?: Record<string, unknown>, options: CreateOptions = {}): Promise<SandboxSlot> {
    const res = await this.clients.sandboxes.createSandbox({
      clientId: options.clientId ?? this.clients.clientId,
      timeout: seconds(timeout ?? this.defaultTimeout),
      metadata: { ...(this.defaultOptions.metadata ?? {}), ...stringify(metadata) },
      setAsDefault: options.setAsDefault ?? false,
      envs: this.defaultOptions.envs ?? {},
      template: this.defaultOptions.template ?? '',
    });
    return new SandboxSlot(res.sandbox!, this);
  }

  /** Connects to an existing sandbox of the API key. Throws the ConnectError on failure. */
  async connect(sandboxId: string, options: CreateOptions & { timeout?: number } = {}): Promise<SandboxSlot> {
    const res = await this.clients.sandboxes.connectSandbox({
      sandboxId,
      clientId: options.clientId ?? this.clients.clientId,
      setAsDefault: options.setAsDefault ?? false,
      timeout: options.timeout === undefined ? undefined : seconds(options.timeout),
    });
    return new SandboxSlot(res.sandbox!, this);
  }

  /** Shuts a sandbox down. Never throws: failures are {status: 'error', ...}. */
  async shutdown(sandboxId: string): Promise<ShutdownResult> {
    try {
      const res = await this.clients.sandboxes.shutdownSandbox({ sandboxId, clientId: this.clients.clientId });
      return { status: 'success', sandbox_id: res.sandboxId || sandboxId, result: true };
    } catch (err) {
      const e = errorResult(err);
      return { status: 'error', sandbox_id: sandboxId, result: null, error: e.error, code: e.code };
    }
  }
}

/** Seconds as a google.protobuf.Duration init. */
export function seconds(s: number): { seconds: bigint; nanos: number } {
  if (!Number.isFinite(s) || s < 0) throw new RangeError(`invalid duration: ${s} seconds`);
  const whole = Math.floor(s);
  return { seconds: BigInt(whole), nanos: Math.round((s - whole) * 1e9) };
}

export function dateOf(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

/** Metadata values as strings (the API's metadata is map<string, string>). */
function stringify(metadata: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}
