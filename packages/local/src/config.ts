// The runtime's configuration: one loader, from the environment, with defaults that
// suit a developer machine. Every value can also be passed in code (tests do).
import os from 'node:os';
import path from 'node:path';

export interface SandboxLimits {
  /** Memory of all user processes together, MiB (kernel-enforced, no swap). */
  memoryMB: number;
  /** CPU share in cores (CFS quota), also reported as cpuCount. */
  cpuCount: number;
  /** Size of each writable area (/home/user, /tmp), MiB. */
  diskMB: number;
  /** Processes and threads of user code together. */
  maxProcesses: number;
}

export interface RuntimeConfig {
  host: string;
  port: number;
  /** Working files of this runtime; removed on shutdown when the runtime made it. */
  dataDir?: string;
  /** Domain returned to SDKs: getHost(p) = `<p>-<id>.<domain>`. Default `localhost:<port>`. */
  domain?: string;
  /** When set, X-API-KEY must equal it; otherwise any non-empty key is accepted. */
  apiKey?: string;
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  maxSandboxes: number;
  /** Sandboxes started ahead of demand with default limits. */
  warmPoolSize: number;
  limits: SandboxLimits;
  /** Upper bounds a create may ask for. */
  maxLimits: SandboxLimits;
  /** First host uid of the ranges sandboxes' user namespaces map to. */
  uidBase: number;
  python: string;
  templates: string[];
}

export const DEFAULT_LIMITS: SandboxLimits = { memoryMB: 1024, cpuCount: 1, diskMB: 2048, maxProcesses: 512 };

function num(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const v = env[key];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${key} must be a non-negative number, got '${v}'`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const limits: SandboxLimits = {
    memoryMB: num(env, 'E2B_LOCAL_MEMORY_MB', DEFAULT_LIMITS.memoryMB),
    cpuCount: num(env, 'E2B_LOCAL_CPU_COUNT', DEFAULT_LIMITS.cpuCount),
    diskMB: num(env, 'E2B_LOCAL_DISK_MB', DEFAULT_LIMITS.diskMB),
    maxProcesses: num(env, 'E2B_LOCAL_MAX_PROCESSES', DEFAULT_LIMITS.maxProcesses),
  };
  return {
    host: env.E2B_LOCAL_HOST ?? '127.0.0.1',
    port: num(env, 'E2B_LOCAL_PORT', 49982),
    dataDir: env.E2B_LOCAL_DATA_DIR || undefined,
    domain: env.E2B_LOCAL_DOMAIN || undefined,
    apiKey: env.E2B_LOCAL_API_KEY || undefined,
    defaultTimeoutSeconds: num(env, 'E2B_LOCAL_DEFAULT_TIMEOUT', 300),
    maxTimeoutSeconds: num(env, 'E2B_LOCAL_MAX_TIMEOUT', 24 * 3600),
    maxSandboxes: num(env, 'E2B_LOCAL_MAX_SANDBOXES', 100),
    warmPoolSize: num(env, 'E2B_LOCAL_WARM_POOL', 2),
    limits,
    maxLimits: {
      memoryMB: Math.max(limits.memoryMB, Math.floor(os.totalmem() / 2 ** 20 / 2)),
      cpuCount: Math.max(limits.cpuCount, os.availableParallelism()),
      diskMB: Math.max(limits.diskMB, 16 * 1024),
      maxProcesses: Math.max(limits.maxProcesses, 4096),
    },
    uidBase: num(env, 'E2B_LOCAL_UID_BASE', 1_000_000),
    python: env.E2B_LOCAL_PYTHON ?? '/usr/bin/python3',
    templates: ['base', 'code-interpreter-v1', 'code-interpreter', 'code-interpreter-beta'],
    ...overrides,
  };
}

/** Where the built agent bundle and the Python kernel files are. */
export function agentAssets(): { bundle: string; pythonDir: string } {
  const here = path.dirname(new URL(import.meta.url).pathname);
  const agentPkg = path.resolve(here, '../../agent');
  return { bundle: path.join(agentPkg, 'dist/agent.mjs'), pythonDir: path.join(agentPkg, 'python') };
}
