// The server's configuration: one loader, from the environment.
import os from 'node:os';
import path from 'node:path';

export interface ToolkitConfig {
  host: string;
  port: number;
  /** Accepted API keys. Unset: any key (or none) is accepted, allowed on loopback only. */
  apiKeys?: Set<string>;
  /** E2B (cloud or self-hosted) when set; otherwise the embedded local runtime. */
  e2b?: { apiKey: string; domain?: string; apiUrl?: string };
  /** Where job logs spill. */
  dataDir: string;
  /**
   * How long ended jobs (with their output), executions and sandbox records are kept after
   * they ended, in ms (TOOLKIT_RETENTION_SECONDS; default 1 hour). Unset: the default.
   */
  retentionMs?: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ToolkitConfig {
  const port = Number(env.TOOLKIT_PORT ?? 50051);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`TOOLKIT_PORT must be a port number, got '${env.TOOLKIT_PORT}'`);
  const retention = Number(env.TOOLKIT_RETENTION_SECONDS || 3600);
  if (!Number.isFinite(retention) || retention <= 0) {
    throw new Error(`TOOLKIT_RETENTION_SECONDS must be a positive number of seconds, got '${env.TOOLKIT_RETENTION_SECONDS}'`);
  }
  const keys = (env.TOOLKIT_API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  return {
    host: env.TOOLKIT_HOST || '127.0.0.1',
    port,
    apiKeys: keys.length ? new Set(keys) : undefined,
    e2b: env.E2B_API_KEY ? { apiKey: env.E2B_API_KEY, domain: env.E2B_DOMAIN || undefined, apiUrl: env.E2B_API_URL || undefined } : undefined,
    dataDir: env.TOOLKIT_DATA_DIR || path.join(os.tmpdir(), `e2b-toolkit-${process.pid}`),
    retentionMs: retention * 1000,
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
