// The client side of an upload into a sandbox: the chunks a caller streams in, checked and
// turned into the request body the SDK sends.
//
// A failed upload must never reach the sandbox as a complete body (it would then write the
// file). The HTTP client does not guarantee that: when a chunked body is aborted or errors,
// it sometimes still ends it cleanly. So every body is sent with its length declared (see
// bounded-upload.ts): one cut short can never look complete. An upload of unknown size is
// therefore first spooled to a local file to learn its size (spoolUpload).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { ErrorReason, InvalidArgumentError, ToolkitError } from './errors.js';

/** The largest chunk an upload may carry and a download sends. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** How long an upload waits after the client's last message for a cancellation to arrive. */
const END_GRACE_MS = 50;

export interface UploadLimits {
  /** How long the caller may send nothing before the upload is abandoned (UPLOAD_STALLED). */
  idleMs: number;
  /** Aborted when the caller cancels. */
  signal?: AbortSignal;
}

/** A request body of exactly `sizeBytes` bytes from `chunks`, and how to stop it. */
export interface UploadBody {
  stream: ReadableStream<Uint8Array>;
  /** The body's length, declared to the sandbox. */
  sizeBytes: number;
  /** Why the upload failed, once it has. */
  failure(): unknown;
  /** Whether every byte was handed to the HTTP client (the sandbox will then write the file). */
  complete(): boolean;
  /** Aborted on failure before the body is complete: pass it to the request. */
  requestSignal: AbortSignal;
  /** Stops listening to the caller's signal. */
  dispose(): void;
}

/** The error for an upload the caller cancelled. */
function cancelled(): ToolkitError {
  return new ToolkitError(ErrorReason.UNSPECIFIED, 'the upload was cancelled; the file was not written');
}

/** Streams `chunks` as a body of exactly `sizeBytes` bytes; any failure errors and aborts it. */
export function uploadBody(chunks: AsyncIterable<Uint8Array>, sizeBytes: number, limits: UploadLimits): UploadBody {
  const { signal, idleMs } = limits;
  const request = new AbortController();
  let failure: unknown;
  let complete = false;
  let body!: ReadableStreamDefaultController<Uint8Array>;
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    // Once complete the request is left to finish: the file it writes is removed after it.
    if (complete) return;
    request.abort(err);
    try {
      body.error(err);
    } catch {
      // Already closed.
    }
  };
  const onAbort = () => fail(cancelled());
  const iterator = chunks[Symbol.asyncIterator]();
  let total = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        body = controller;
      },
      async pull(controller) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await withinIdleLimit(iterator.next(), idleMs);
        } catch (err) {
          return fail(err);
        }
        if (failure !== undefined) return;
        if (next.done) {
          if (await cancelledAtEnd(signal)) fail(cancelled());
          else if (total !== sizeBytes) fail(new InvalidArgumentError('size_bytes', `is ${sizeBytes} but ${total} bytes were sent`));
          else {
            complete = true;
            controller.close();
          }
          return;
        }
        const chunk = next.value;
        total += chunk.length;
        if (chunk.length > MAX_CHUNK_BYTES) fail(new InvalidArgumentError('chunk', `must be at most ${MAX_CHUNK_BYTES} bytes, got ${chunk.length}`));
        else if (total > sizeBytes) fail(new InvalidArgumentError('size_bytes', `is ${sizeBytes} but more bytes were sent`));
        else if (chunk.length > 0) controller.enqueue(chunk);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 1 },
  );
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) onAbort();
  return {
    stream,
    sizeBytes,
    failure: () => failure,
    complete: () => complete,
    requestSignal: request.signal,
    dispose: () => signal?.removeEventListener('abort', onAbort),
  };
}

/**
 * Writes `chunks` to a new file in `dir` to learn their size, with the same checks as a
 * streamed upload. Returns the file (the caller removes it) and its size.
 */
export async function spoolUpload(chunks: AsyncIterable<Uint8Array>, dir: string, maxBytes: number, limits: UploadLimits): Promise<{ file: string; sizeBytes: number }> {
  const file = path.join(dir, `upload-${randomBytes(8).toString('hex')}`);
  const out = fs.createWriteStream(file, { flags: 'wx' });
  const iterator = chunks[Symbol.asyncIterator]();
  let size = 0;
  try {
    for (;;) {
      if (limits.signal?.aborted) throw cancelled();
      const next = await withinIdleLimit(iterator.next(), limits.idleMs);
      if (next.done) break;
      const chunk = next.value;
      if (chunk.length > MAX_CHUNK_BYTES) throw new InvalidArgumentError('chunk', `must be at most ${MAX_CHUNK_BYTES} bytes, got ${chunk.length}`);
      size += chunk.length;
      if (size > maxBytes) {
        throw new ToolkitError(ErrorReason.PAYLOAD_TOO_LARGE, `an upload without size_bytes may be at most ${maxBytes} bytes: set size_bytes to send more`, {
          limit_bytes: String(maxBytes),
        });
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
    if (await cancelledAtEnd(limits.signal)) throw cancelled();
    out.end();
    await finished(out);
    return { file, sizeBytes: size };
  } catch (err) {
    out.destroy();
    // Not awaited: a pending next() (a stalled caller) would hold it up.
    void iterator.return?.()?.catch(() => {});
    await fs.promises.rm(file, { force: true });
    throw err;
  }
}

/**
 * Whether a stream that just ended was in fact cancelled. Some clients (connect-node among
 * them) half-close the request before resetting it when a call is cancelled: the reset gets
 * a moment to arrive before the upload counts as complete.
 */
async function cancelledAtEnd(signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) return false;
  if (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, END_GRACE_MS);
      signal.addEventListener('abort', done);
    });
  }
  return signal.aborted;
}

/** The next message of an upload, or UPLOAD_STALLED when none comes within `idleMs`. */
async function withinIdleLimit<T>(next: Promise<T>, idleMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ToolkitError(ErrorReason.UPLOAD_STALLED, `the upload sent nothing for ${idleMs / 1000} s and was abandoned; the file was not written`)),
      idleMs,
    );
  });
  try {
    return await Promise.race([next, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
