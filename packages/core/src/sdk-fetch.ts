// Interrupting a code run. The code interpreter SDK's `runCode` calls the global fetch and
// takes no abort signal (it drops its request only on its own timeouts). So the global fetch
// is wrapped once: calls made inside `abortable` get its signal through an AsyncLocalStorage
// scope, and dropping the request makes the code interpreter interrupt the kernel. Outside a
// scope fetch is unchanged.
import { AsyncLocalStorage } from 'node:async_hooks';

const fetchScope = new AsyncLocalStorage<AbortSignal>();
let installed = false;

/** Wraps the global fetch (once). Safe to call any number of times. */
export function installSdkFetch(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const signal = fetchScope.getStore();
    if (!signal) return original(input, init);
    return original(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
  }) as typeof fetch;
}

/** Runs fn with its fetch calls tied to `signal`; rejects at once when it aborts. */
export async function abortable<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw new Error('aborted');
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const work = fetchScope.run(signal, fn);
  work.catch(() => {});
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
