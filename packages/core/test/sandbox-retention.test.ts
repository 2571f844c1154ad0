// Records of ended sandboxes are forgotten after the retention period: real sandboxes of a
// local runtime, and an injected clock for the retention itself.
import { describe, expect, it } from 'vitest';
import { Sandbox } from 'e2b';
import { eventually, useRuntime } from '../../../test/support/runtime.js';
import { ErrorReason, ToolkitError } from '../src/errors.js';
import { SandboxManager } from '../src/sandbox-manager.js';

const h = useRuntime();
const backend = () => ({ apiKey: 'test', apiUrl: h.rt.url, sandboxUrl: h.rt.url, domain: h.rt.domain });

async function reasonOf(p: Promise<unknown>): Promise<ErrorReason | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ToolkitError);
    return (e as ToolkitError).reason;
  }
  return undefined;
}

describe('sandbox record retention', () => {
  it('reports SANDBOX_SHUT_DOWN during the retention period, then SANDBOX_NOT_FOUND', async () => {
    let now = Date.now();
    const manager = new SandboxManager({ backend: backend(), retentionMs: 200, now: () => now });
    const { sandboxId } = await manager.create('t', 'c', { setAsDefault: true });
    await manager.shutdown('t', 'c', sandboxId);
    now += 199;
    expect(await reasonOf(manager.get('t', 'c', sandboxId))).toBe(ErrorReason.SANDBOX_SHUT_DOWN);
    expect(manager.endReason(sandboxId)).toBe(ErrorReason.SANDBOX_SHUT_DOWN);
    now += 1;
    expect(manager.endReason(sandboxId)).toBeUndefined();
    expect(await reasonOf(manager.get('t', 'c', sandboxId))).toBe(ErrorReason.SANDBOX_NOT_FOUND);
    manager.close();
  });

  it('reports SANDBOX_EXPIRED during the retention period after the expiry, then forgets it', async () => {
    let now = Date.now();
    const manager = new SandboxManager({ backend: backend(), retentionMs: 200, now: () => now });
    const { sandboxId } = await manager.create('t', 'c', { setAsDefault: true, timeoutMs: 1000 });
    // The runtime ends it at its timeout.
    await eventually(async () => !(await Sandbox.list({ ...h.opts, query: { metadata: {} } }).nextItems()).some((s) => s.sandboxId === sandboxId), 15_000, 100);
    now = Date.now();
    expect(manager.endReason(sandboxId)).toBe(ErrorReason.SANDBOX_EXPIRED);
    expect(await reasonOf(manager.get('t', 'c', ''))).toBe(ErrorReason.SANDBOX_EXPIRED);
    now += 200;
    manager.sweep();
    expect(manager.endReason(sandboxId)).toBeUndefined();
    expect(await reasonOf(manager.get('t', 'c', sandboxId))).toBe(ErrorReason.SANDBOX_NOT_FOUND);
    // Its client no longer has it as default or in its set.
    expect(await reasonOf(manager.get('t', 'c', ''))).toBe(ErrorReason.NO_DEFAULT_SANDBOX);
    expect(await manager.list('t', 'c')).toEqual([]);
    manager.close();
  });

  it('remembers a create request_id as long as its sandbox, then creates anew', async () => {
    let now = Date.now();
    const manager = new SandboxManager({ backend: backend(), retentionMs: 200, now: () => now });
    const first = await manager.create('t', 'c', { requestId: 'req-1' });
    expect((await manager.create('t', 'c', { requestId: 'req-1' })).sandboxId).toBe(first.sandboxId);
    await manager.shutdown('t', 'c', first.sandboxId);
    now += 200;
    expect(manager.endReason(first.sandboxId)).toBeUndefined();
    const second = await manager.create('t', 'c', { requestId: 'req-1' });
    expect(second.sandboxId).not.toBe(first.sandboxId);
    await manager.shutdown('t', 'c', second.sandboxId);
    manager.close();
  });

  it('keeps running sandboxes', async () => {
    let now = Date.now();
    const manager = new SandboxManager({ backend: backend(), retentionMs: 200, now: () => now });
    const { sandboxId } = await manager.create('t', 'c', { timeoutMs: 60_000 });
    now += 10_000;
    manager.sweep();
    expect((await manager.get('t', 'c', sandboxId)).sandboxId).toBe(sandboxId);
    await manager.shutdown('t', 'c', sandboxId);
    manager.close();
  });
});
