// Ctrl-C as an AbortSignal: the command cancels its call (which, depending on the call, stops the
// remote work or only the local watching of it) and exits 130 instead of dying mid-write.
export interface Interrupt {
  signal: AbortSignal;
  readonly interrupted: boolean;
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const handler = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal: controller.signal,
    get interrupted() {
      return controller.signal.aborted;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** What `interruptible` returns when Ctrl-C stopped the work. */
export const INTERRUPTED = Symbol('interrupted');

/**
 * Runs `work` with Ctrl-C as its abort signal. Returns what it returns, or INTERRUPTED when
 * Ctrl-C stopped it (its error is then the expected end, not a failure); other errors are
 * thrown. `always` runs in both cases (a progress bar to stop).
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, always?: () => void): Promise<T | typeof INTERRUPTED> {
  const interrupt = onInterrupt();
  try {
    return await work(interrupt.signal);
  } catch (err) {
    if (interrupt.interrupted) return INTERRUPTED;
    throw err;
  } finally {
    always?.();
    interrupt.dispose();
  }
}
