// Test fixtures: a real local runtime per test file, and SDK options pointing at it.
import { afterAll, beforeAll } from 'vitest';
import { Sandbox, type SandboxOpts } from 'e2b';
import { startLocalRuntime, type LocalRuntime, type RuntimeConfig } from '../../packages/local/src/index.js';

export interface RuntimeHandle {
  rt: LocalRuntime;
  /** Options for Sandbox.create/connect/list etc. of the official SDKs. */
  opts: { apiKey: string; apiUrl: string; sandboxUrl: string };
}

/** Starts a runtime before the file's tests and tears it down (and checks it) after. */
export function useRuntime(overrides: Partial<RuntimeConfig> = {}): RuntimeHandle {
  const handle = {} as RuntimeHandle;
  beforeAll(async () => {
    handle.rt = await startLocalRuntime({ port: 0, warmPoolSize: 1, ...overrides });
    handle.opts = { apiKey: 'test-key', apiUrl: handle.rt.url, sandboxUrl: handle.rt.url };
  });
  afterAll(async () => {
    await handle.rt?.close();
  });
  return handle;
}

/** One sandbox shared by a file's tests: made before them, killed after. */
export function useSandbox<S extends { kill(): Promise<unknown> }>(create: () => Promise<S>, set: (s: S) => void): void {
  let made: S | undefined;
  beforeAll(async () => {
    made = await create();
    set(made);
  });
  afterAll(async () => {
    await made?.kill();
  });
}

/** Creates a sandbox, runs fn, and always kills the sandbox. */
export async function withSandbox<T>(h: RuntimeHandle, fn: (s: Sandbox) => Promise<T>, createOpts: SandboxOpts = {}): Promise<T> {
  const sbx = await Sandbox.create({ ...h.opts, ...createOpts });
  try {
    return await fn(sbx);
  } finally {
    await sbx.kill().catch(() => {});
  }
}

/** fetch() + JSON, typed loosely: tests check shapes with expect(). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function jsonOf(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}

/** Polls until cond() is true or the time is up; for effects that are eventually true. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
