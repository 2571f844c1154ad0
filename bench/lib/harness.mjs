// A runtime for one benchmark, and the sandboxes it creates, always cleaned up.
import { startRuntime } from './runtime.mjs';
import { status, memory, sandboxTrees, allProcesses } from './proc.mjs';

/**
 * Runs fn with a fresh runtime. Every sandbox passed to track() is killed through the SDK
 * afterwards (if fn did not), then the runtime gets SIGINT, even when fn throws.
 */
export async function withRuntime(options, fn) {
  const rt = await startRuntime(options);
  const live = new Set();
  const track = (sbx) => {
    live.add(sbx);
    return sbx;
  };
  const release = async (sbx) => {
    live.delete(sbx);
    await sbx.kill();
  };
  try {
    return await fn({ rt, track, release });
  } catch (err) {
    if (!rt.alive) {
      const how = rt.exit?.signal ?? `status ${rt.exit?.code}`;
      err.message = `${err.message} (the runtime had exited: ${how})\nruntime output:\n${rt.tail.join('\n')}`;
    }
    throw err;
  } finally {
    await Promise.all([...live].map((s) => s.kill().catch(() => {})));
    await rt.stop();
  }
}

/** The processes of the only sandbox of a runtime (benchmarks that measure one run with pool 0). */
export function onlySandbox(rt) {
  const trees = sandboxTrees(rt.pid, allProcesses());
  if (trees.length !== 1) throw new Error(`expected one sandbox under the runtime, found ${trees.length}`);
  return trees[0].procs;
}

export { status, memory };

export const mib = (bytes) => bytes / 2 ** 20;
