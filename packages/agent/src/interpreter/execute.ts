// POST /execute: runs code in a context and streams what happens as NDJSON.
//
// Stopping: the SDK enforces its timeout only on the client side, by dropping the
// request. A client that goes away mid-run interrupts the code (SIGINT, as Ctrl-C);
// code that does not stop within KILL_AFTER_MS is killed (a Python kernel is then
// restarted and its state is lost). An optional `timeout` (seconds) in the body is a
// server-side limit that does the same and reports a `TimeoutError`; after a plain
// interrupt the context's state is kept.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { parseLanguage, type ContextTable } from './contexts.js';
import { HttpError, isObject, readJson } from './http.js';
import { NdjsonResponse } from './ndjson.js';
import type { Execution, OutputLine, Sink } from './runner.js';

const KILL_AFTER_MS = 2000;
/** setTimeout's limit; a longer timeout is no timeout in practice. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ExecuteRequest {
  code: string;
  contextId?: string;
  language?: unknown;
  env: Record<string, string>;
  timeoutSeconds?: number;
}

export function parseExecuteRequest(body: unknown): ExecuteRequest {
  if (!isObject(body)) throw new HttpError(400, 'request body must be a JSON object');
  const { code, context_id: contextId, language, env_vars: envVars, timeout } = body;
  if (typeof code !== 'string') throw new HttpError(400, 'code is required and must be a string');
  if (contextId !== undefined && contextId !== null && typeof contextId !== 'string') {
    throw new HttpError(400, 'context_id must be a string');
  }
  if (contextId && language) {
    throw new HttpError(400, 'You can provide context or language, but not both at the same time.');
  }
  const env: Record<string, string> = {};
  if (envVars !== undefined && envVars !== null) {
    if (!isObject(envVars)) throw new HttpError(400, 'env_vars must be an object of strings');
    for (const [k, v] of Object.entries(envVars)) {
      if (typeof v !== 'string') throw new HttpError(400, `env_vars.${k} must be a string`);
      env[k] = v;
    }
  }
  if (timeout !== undefined && timeout !== null && !(typeof timeout === 'number' && timeout > 0 && Number.isFinite(timeout))) {
    throw new HttpError(400, 'timeout must be a positive number of seconds');
  }
  return { code, contextId: contextId || undefined, language, env, timeoutSeconds: timeout ?? undefined };
}

export async function handleExecute(req: Http2ServerRequest, res: Http2ServerResponse, contexts: ContextTable): Promise<void> {
  const request = parseExecuteRequest(await readJson(req));
  const context = request.contextId ? contexts.get(request.contextId) : contexts.defaultFor(parseLanguage(request.language));

  const out = new NdjsonResponse(res);
  const gone = new AbortController();
  out.onAbort(() => gone.abort());
  let release: () => void;
  try {
    release = await context.queue.acquire(gone.signal);
  } catch {
    return; // the client left while waiting for its turn
  }
  try {
    await supervise((sink) => context.runner.run(request.code, request.env, sink), out, gone.signal, request.timeoutSeconds);
  } finally {
    // This run's response ends before the next queued run may start.
    out.end();
    release();
  }
}

/** Runs one execution to its end, enforcing the timeout and reacting to the client leaving. */
async function supervise(
  start: (sink: Sink) => Execution,
  out: Sink,
  gone: AbortSignal,
  timeoutSeconds: number | undefined,
): Promise<void> {
  let settled = false;
  let timedOut = false;
  let killed = false;
  let interruptTraceback = '';
  // After a timeout the kernel's KeyboardInterrupt is replaced by the TimeoutError below.
  const sink: Sink = {
    write: (line: OutputLine) => {
      if (timedOut && line.type === 'error' && line.name === 'KeyboardInterrupt') {
        interruptTraceback = line.traceback;
        return true;
      }
      return out.write(line);
    },
    onDrain: (listener) => out.onDrain(listener),
  };
  const execution = start(sink);
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, fn: () => void) => {
    if (!settled) timers.push(setTimeout(fn, ms));
  };

  let stopping = false;
  // Timers start with the code: neither the queue nor the kernel's start-up count, and
  // an interrupt sent before the code runs would hit the kernel's own start-up.
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void execution.started.then(() => {
      if (settled) return;
      execution.interrupt();
      later(KILL_AFTER_MS, () => {
        killed = true;
        execution.kill();
      });
    });
  };
  gone.addEventListener('abort', stop, { once: true });
  if (timeoutSeconds !== undefined) {
    void execution.started.then(() =>
      later(Math.min(timeoutSeconds * 1000, MAX_TIMER_MS), () => {
        timedOut = true;
        stop();
      }),
    );
  }

  const end = await execution.finished;
  settled = true;
  timers.forEach(clearTimeout);
  gone.removeEventListener('abort', stop);

  if (timedOut) {
    const value = killed && end
      ? `Execution timed out after ${timeoutSeconds} s. ${end.value}`
      : `Execution timed out after ${timeoutSeconds} s and was interrupted.`;
    out.write({ type: 'error', name: 'TimeoutError', value, traceback: interruptTraceback });
  } else if (end) {
    out.write({ type: 'error', name: end.name, value: end.value, traceback: '' });
  }
}
