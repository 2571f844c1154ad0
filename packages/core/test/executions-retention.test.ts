// Retention of ended executions: real code runs in a local runtime's sandbox, and an
// injected clock for the retention itself.
import { describe, expect, it } from 'vitest';
import { ErrorReason, ToolkitError } from '../src/errors.js';
import { Executions } from '../src/executions.js';
import { SandboxManager } from '../src/sandbox-manager.js';
import { useRuntime } from '../../../test/support/runtime.js';

const h = useRuntime();

/** A real sandbox of a local runtime, run through a real manager; the clock is injected. */
async function setup(maxExecutions?: number) {
  let now = Date.now();
  const backend = { apiKey: 'test', apiUrl: h.rt.url, sandboxUrl: h.rt.url, domain: h.rt.domain };
  const manager = new SandboxManager({ backend });
  const { sandboxId } = await manager.create('t', 'c', { setAsDefault: true });
  const executions = new Executions({ manager, backend, retentionMs: 200, maxExecutions, now: () => now });
  const close = async () => {
    executions.close();
    await manager.shutdown('t', 'c', sandboxId);
    manager.close();
  };
  return { executions, sandboxId, close, advance: (ms: number) => (now += ms) };
}

function reasonOf(fn: () => unknown): ErrorReason | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ToolkitError);
    return (e as ToolkitError).reason;
  }
  return undefined;
}

describe('execution retention', () => {
  it('forgets an ended execution after the retention period', async () => {
    const { executions, advance, sandboxId, close } = await setup();
    const ex = await executions.run('t', { sandboxId, code: 'print("hi")' });
    expect(ex.stdout).toBe('hi\n');
    advance(199);
    expect(executions.get('t', { executionId: ex.executionId }).executionId).toBe(ex.executionId);
    expect(executions.get('t', { sandboxId }).executionId).toBe(ex.executionId);
    advance(1);
    expect(reasonOf(() => executions.get('t', { executionId: ex.executionId }))).toBe(ErrorReason.EXECUTION_NOT_FOUND);
    expect(reasonOf(() => executions.get('t', { sandboxId }))).toBe(ErrorReason.EXECUTION_NOT_FOUND);
    await close();
  });

  it('the sweep forgets them too, and the count cap still applies', async () => {
    const { executions, advance, sandboxId, close } = await setup(2);
    const a = await executions.run('t', { sandboxId, code: '1' });
    advance(100);
    const b = await executions.run('t', { sandboxId, code: '2' });
    const c = await executions.run('t', { sandboxId, code: '3' });
    expect(reasonOf(() => executions.get('t', { executionId: a.executionId }))).toBe(ErrorReason.EXECUTION_NOT_FOUND);
    expect(executions.get('t', { executionId: b.executionId }).executionId).toBe(b.executionId);
    advance(150);
    executions.sweep();
    expect(executions.get('t', { executionId: c.executionId }).executionId).toBe(c.executionId);
    advance(50);
    executions.sweep();
    expect(reasonOf(() => executions.get('t', { executionId: c.executionId }))).toBe(ErrorReason.EXECUTION_NOT_FOUND);
    await close();
  });
});
