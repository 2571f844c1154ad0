// The output store of one job: its stdout and stderr as two append-only byte streams,
// addressed by offset from 0, readable in full until the job is deleted, and tailed live
// by any number of readers at their own pace.
//
// Memory. Each stream keeps only its newest bytes in memory, in fixed-size blocks, at most
// `memoryBytes`. When a new block is needed and memory is full, the oldest block is written
// to the stream's spill file and dropped. So the file holds exactly the bytes before
// `memStart` and memory the bytes after it; each byte is written to disk once, and jobs whose
// output fits in memory never touch the disk. The spill write is synchronous on purpose:
// `append` is fed by callbacks that cannot wait, and an asynchronous write queue would grow
// without bound whenever the disk is slower than the job. A write is one whole block
// (64 KiB) into the page cache, once per block of output beyond the bound.
//
// Readers never hold more than the chunk they are reading: a tail reads back from memory or
// from the file as it goes, so a slow tail costs nothing while it lags, and `append` never
// waits for a tail.
//
// Order. Within a stream, tails deliver every byte in order, exactly once. Between the
// streams, they deliver in the order the job's writes were appended, using an index of
// "runs" (where the writes switched from one stream to the other). The index is bounded
// (`orderRuns` per stream); when a stream's index is full its oldest half is dropped, and
// bytes older than the index are ordered by an estimate (as if they had been written just
// before the oldest remaining run), so only the interleaving of very old, very finely
// interleaved output can come out approximately.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type LogStream = 'stdout' | 'stderr';

/** A piece of output, as a tail delivers it. */
export interface LogChunk {
  stream: LogStream;
  /** The offset of `data[0]` in its stream. */
  offset: number;
  /** A copy the receiver owns. */
  data: Buffer;
}

export interface JobLogOptions {
  /** Where spill files are created (made if missing). Files get unique names, so jobs can share it. */
  dir: string;
  /**
   * The most bytes of each stream kept in memory. Default 1 MiB. Memory is used in blocks of
   * 64 KiB (or of `memoryBytes`, if smaller), so the bound is rounded down to whole blocks.
   */
  memoryBytes?: number;
  /** The most bytes each stream stores; output beyond is dropped (see `truncated`). Default 1 GiB. */
  maxBytes?: number;
  /** The most order-index runs kept per stream (about 16 bytes each). Default 16384. */
  orderRuns?: number;
}

export interface TailOptions {
  /** Where to start reading stdout. Negative counts back from the current end; past the end waits. Default 0. */
  stdoutOffset?: bigint | number;
  /** Where to start reading stderr, as `stdoutOffset`. */
  stderrOffset?: bigint | number;
  /** Deliver only the output written when the tail was made, then end. */
  snapshot?: boolean;
  /** Ends the tail (its iterator finishes quietly) and releases its wait. */
  signal?: AbortSignal;
}

/** A tail: where it starts (negative offsets resolved), and its chunks. */
export interface LogTail extends AsyncIterable<LogChunk> {
  readonly stdoutOffset: number;
  readonly stderrOffset: number;
}

/** The largest chunk a tail delivers, and the size of a memory block. */
export const TAIL_CHUNK_BYTES = 64 * 1024;

const DEFAULT_MEMORY_BYTES = 1024 * 1024;
const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
const DEFAULT_ORDER_RUNS = 16384;
// The first block of a stream starts small, so a job that writes a line costs a line.
const MIN_BLOCK_BYTES = 256;

/**
 * A stream stopped storing output: it reached `maxBytes` (reason `max_bytes`), or its spill
 * file could not be written (reason `spill_failed`, with the I/O error as `cause`). What was
 * stored before stays readable; everything after is dropped, so the stored output is always
 * an exact prefix of what the job wrote.
 */
export class OutputTruncatedError extends Error {
  override readonly name = 'OutputTruncatedError';
  /** Bytes dropped so far; grows with each refused append. */
  droppedBytes = 0;
  constructor(
    readonly stream: LogStream,
    readonly reason: 'max_bytes' | 'spill_failed',
    readonly storedBytes: number,
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'max_bytes'
        ? `${stream} output exceeded the limit of ${storedBytes} bytes; the rest was dropped`
        : `${stream} output could not be written to disk after ${storedBytes} bytes; the rest was dropped`,
      options,
    );
  }
}

/** The log was disposed: its output is gone. */
export class JobLogDisposedError extends Error {
  override readonly name = 'JobLogDisposedError';
  constructor() {
    super('the job log was disposed');
  }
}

interface StreamState {
  size: number;
  /** Offset of the first byte in memory; bytes before it are only in the spill file. */
  memStart: number;
  /** Full blocks of `blockBytes`, except the last, which may be partly used and smaller. */
  blocks: Buffer[];
  file?: { path: string; fd: number | undefined };
  truncated?: OutputTruncatedError;
  /** Order index: run i of this stream starts at offset runOffsets[i], written at global position runGlobals[i]. */
  runOffsets: number[];
  runGlobals: number[];
}

function newStream(): StreamState {
  return { size: 0, memStart: 0, blocks: [], runOffsets: [], runGlobals: [] };
}

export class JobLog {
  readonly #dir: string;
  readonly #blockBytes: number;
  readonly #maxBlocks: number;
  readonly #maxBytes: number;
  readonly #orderRuns: number;
  readonly #streams: Record<LogStream, StreamState> = { stdout: newStream(), stderr: newStream() };
  /** Bytes stored across both streams: the "global position" of the next byte. */
  #written = 0;
  #lastStream: LogStream | undefined;
  #ended = false;
  #disposed = false;
  /** Tails waiting for output, the end, or disposal. */
  readonly #waiters = new Set<() => void>();

  constructor(options: JobLogOptions) {
    const memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#orderRuns = options.orderRuns ?? DEFAULT_ORDER_RUNS;
    if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 1) throw new RangeError(`memoryBytes must be a positive integer, got ${memoryBytes}`);
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${this.#maxBytes}`);
    if (!Number.isSafeInteger(this.#orderRuns) || this.#orderRuns < 2) throw new RangeError(`orderRuns must be an integer of at least 2, got ${this.#orderRuns}`);
    this.#dir = options.dir;
    this.#blockBytes = Math.min(TAIL_CHUNK_BYTES, memoryBytes);
    this.#maxBlocks = Math.floor(memoryBytes / this.#blockBytes);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes stored in the stream: the offset its next byte will have. */
  size(stream: LogStream): number {
    return this.#streams[stream].size;
  }

  /** Bytes of the stream held in memory now (at most `memoryBytes`). */
  bufferedBytes(stream: LogStream): number {
    return this.#streams[stream].blocks.reduce((sum, b) => sum + b.length, 0);
  }

  /** Why the stream stopped storing output, if it did. */
  truncated(stream: LogStream): OutputTruncatedError | undefined {
    return this.#streams[stream].truncated;
  }

  /**
   * Stores output the job wrote. Returns false when some or all of it was dropped because
   * the stream is truncated (see `truncated`); the caller reports that, it is not thrown
   * because output arrives in callbacks that have no one to throw to.
   */
  append(stream: LogStream, data: Uint8Array): boolean {
    if (this.#disposed) throw new JobLogDisposedError();
    if (this.#ended) throw new Error(`append to ${stream} after the job log ended`);
    const s = this.#streams[stream];
    if (s.truncated) {
      s.truncated.droppedBytes += data.length;
      return false;
    }
    if (data.length === 0) return true;
    if (this.#lastStream !== stream) this.#startRun(s);
    this.#lastStream = stream;

    const allowed = Math.min(data.length, this.#maxBytes - s.size);
    const stored = this.#store(s, data.subarray(0, allowed));
    this.#written += stored;
    if (stored < data.length) {
      s.truncated ??= new OutputTruncatedError(stream, 'max_bytes', s.size);
      s.truncated.droppedBytes += data.length - stored;
    }
    if (stored > 0) this.#notify();
    return stored === data.length;
  }

  /** The job has ended: no more appends; tails end once they have delivered everything. */
  end(): void {
    if (this.#ended || this.#disposed) return;
    this.#ended = true;
    for (const s of Object.values(this.#streams)) this.#closeFile(s);
    this.#notify();
  }

  /**
   * Returns up to `maxBytes` bytes of the stream from `offset` (0 to `size`), as a copy:
   * from memory when they are still there, else from the spill file, reading only the range.
   */
  async read(stream: LogStream, offset: number, maxBytes: number): Promise<Buffer> {
    if (this.#disposed) throw new JobLogDisposedError();
    const s = this.#streams[stream];
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > s.size) {
      throw new RangeError(`${stream} offset ${offset} is outside 0..${s.size}`);
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    const end = Math.min(s.size, offset + maxBytes);
    // Take the memory part now: once we await, its blocks may be spilled and dropped. The
    // file part cannot change: the file only grows.
    const memStart = s.memStart;
    const fromMemory = this.#copyFromMemory(s, Math.max(offset, memStart), end);
    if (offset >= memStart) return fromMemory;
    const fromFile = await this.#readFile(s, offset, Math.min(end, memStart));
    return fromMemory.length === 0 ? fromFile : Buffer.concat([fromFile, fromMemory]);
  }

  /**
   * Follows the output from the given offsets. Chunks come in the order the job wrote them
   * (see the file comment), at most 64 KiB each; the iterator finishes when the job has
   * ended and everything was delivered (with `snapshot`: when the output that existed at
   * this call was delivered), or quietly when `signal` aborts. It throws
   * JobLogDisposedError if the log is disposed first.
   */
  tail(options: TailOptions = {}): LogTail {
    if (this.#disposed) throw new JobLogDisposedError();
    const start: Record<LogStream, number> = {
      stdout: this.#resolveOffset('stdout', options.stdoutOffset ?? 0),
      stderr: this.#resolveOffset('stderr', options.stderrOffset ?? 0),
    };
    const stop = options.snapshot ? { stdout: this.size('stdout'), stderr: this.size('stderr') } : undefined;
    return {
      stdoutOffset: start.stdout,
      stderrOffset: start.stderr,
      [Symbol.asyncIterator]: () => this.#follow({ ...start }, stop, options.signal),
    };
  }

  /** Ends all tails, drops the output and deletes the spill files. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#notify();
    const paths: string[] = [];
    for (const s of Object.values(this.#streams)) {
      this.#closeFile(s);
      if (s.file) paths.push(s.file.path);
      s.blocks = [];
    }
    // A read that already opened a file finishes normally; one that opens it later gets
    // ENOENT and reports the disposal.
    await Promise.all(paths.map((p) => fs.promises.rm(p, { force: true })));
  }

  async *#follow(pos: Record<LogStream, number>, stop: Record<LogStream, number> | undefined, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (this.#disposed) throw new JobLogDisposedError();
        const next = this.#nextChunk(pos, stop);
        if (next) {
          const data = await this.read(next.stream, pos[next.stream], next.length);
          if (signal?.aborted) return;
          const offset = pos[next.stream];
          pos[next.stream] += data.length;
          yield { stream: next.stream, offset, data };
        } else if (stop || this.#ended) {
          return;
        } else {
          await new Promise<void>((resolve) => {
            wake = resolve;
            this.#waiters.add(resolve);
          });
          // An abort wakes only this tail, so its resolver may still be registered.
          this.#waiters.delete(wake!);
          wake = undefined;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (wake) this.#waiters.delete(wake);
    }
  }

  /** The next chunk a tail at `pos` should deliver, or undefined when it has to wait. */
  #nextChunk(pos: Record<LogStream, number>, stop: Record<LogStream, number> | undefined): { stream: LogStream; length: number } | undefined {
    const limit = (stream: LogStream) => (stop ? stop[stream] : this.size(stream));
    const outPending = pos.stdout < limit('stdout');
    const errPending = pos.stderr < limit('stderr');
    if (!outPending && !errPending) return undefined;
    let stream: LogStream = outPending ? 'stdout' : 'stderr';
    let end = Math.min(limit(stream), pos[stream] + TAIL_CHUNK_BYTES);
    if (outPending && errPending) {
      // Deliver whichever next byte was written first, up to where its run ends (after that
      // the other stream's pending bytes may come first).
      const out = this.#locate('stdout', pos.stdout);
      const err = this.#locate('stderr', pos.stderr);
      const first = out.global <= err.global ? out : err;
      stream = first === out ? 'stdout' : 'stderr';
      end = Math.min(limit(stream), pos[stream] + TAIL_CHUNK_BYTES, first.runEnd);
    }
    return { stream, length: end - pos[stream] };
  }

  /** Where byte `offset` of a stream falls in the global write order, and where its run ends. */
  #locate(stream: LogStream, offset: number): { global: number; runEnd: number } {
    const { runOffsets, runGlobals } = this.#streams[stream];
    // The last run starting at or before offset.
    let lo = 0;
    let hi = runOffsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runOffsets[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    // Before the oldest run kept (older runs were dropped): estimate, run ends at that run.
    const global = runGlobals[lo] + (offset - runOffsets[lo]);
    const runEnd = offset < runOffsets[lo] ? runOffsets[lo] : (runOffsets[lo + 1] ?? Infinity);
    return { global, runEnd };
  }

  #startRun(s: StreamState): void {
    s.runOffsets.push(s.size);
    s.runGlobals.push(this.#written);
    if (s.runOffsets.length > this.#orderRuns) {
      const drop = s.runOffsets.length >> 1;
      s.runOffsets.splice(0, drop);
      s.runGlobals.splice(0, drop);
    }
  }

  /** Copies data into the stream's blocks, spilling the oldest block when memory is full. Returns the bytes stored. */
  #store(s: StreamState, data: Uint8Array): number {
    const B = this.#blockBytes;
    let i = 0;
    while (i < data.length) {
      let last = s.blocks.at(-1);
      const used = last ? s.size - s.memStart - (s.blocks.length - 1) * B : 0;
      if (!last || used === B) {
        if (s.blocks.length === this.#maxBlocks && !this.#spillOldest(s)) break;
        last = Buffer.allocUnsafe(Math.min(B, Math.max(MIN_BLOCK_BYTES, data.length - i)));
        s.blocks.push(last);
      } else if (used === last.length) {
        // Grow the last block toward full size; doubling keeps the copying amortized.
        const grown = Buffer.allocUnsafe(Math.min(B, Math.max(last.length * 2, used + data.length - i)));
        last.copy(grown, 0, 0, used);
        s.blocks[s.blocks.length - 1] = last = grown;
      }
      const at = s.size - s.memStart - (s.blocks.length - 1) * B;
      const n = Math.min(last.length - at, data.length - i);
      last.set(data.subarray(i, i + n), at);
      s.size += n;
      i += n;
    }
    return i;
  }

  /** Writes the oldest (full) block to the spill file and drops it from memory. */
  #spillOldest(s: StreamState): boolean {
    const block = s.blocks[0];
    try {
      if (!s.file) {
        fs.mkdirSync(this.#dir, { recursive: true });
        const file = path.join(this.#dir, `joblog-${randomUUID()}.${s === this.#streams.stdout ? 'stdout' : 'stderr'}`);
        s.file = { path: file, fd: fs.openSync(file, 'wx', 0o600) };
      }
      const fd = s.file.fd!;
      for (let done = 0; done < block.length; ) {
        done += fs.writeSync(fd, block, done, block.length - done, s.memStart + done);
      }
    } catch (err) {
      const stream: LogStream = s === this.#streams.stdout ? 'stdout' : 'stderr';
      s.truncated = new OutputTruncatedError(stream, 'spill_failed', s.size, { cause: err });
      return false;
    }
    s.blocks.shift();
    s.memStart += block.length;
    return true;
  }

  #copyFromMemory(s: StreamState, from: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(Math.max(0, end - from));
    for (let at = from; at < end; ) {
      const rel = at - s.memStart;
      const block = s.blocks[Math.floor(rel / this.#blockBytes)];
      const within = rel % this.#blockBytes;
      const n = Math.min(end - at, block.length - within);
      block.copy(out, at - from, within, within + n);
      at += n;
    }
    return out;
  }

  /** Reads [from, end) from the spill file. Opens the file per read so ended jobs hold no descriptors. */
  async #readFile(s: StreamState, from: number, end: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(end - from);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(s.file!.path, 'r');
    } catch (err) {
      if (this.#disposed) throw new JobLogDisposedError();
      throw err;
    }
    try {
      for (let done = 0; done < out.length; ) {
        const { bytesRead } = await handle.read(out, done, out.length - done, from + done);
        if (bytesRead === 0) throw new Error(`spill file ${s.file!.path} is shorter than expected`);
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return out;
  }

  #closeFile(s: StreamState): void {
    if (s.file?.fd === undefined) return;
    try {
      fs.closeSync(s.file.fd);
    } catch {
      // Nothing to recover: the bytes were written synchronously before.
    }
    s.file.fd = undefined;
  }

  #resolveOffset(stream: LogStream, value: bigint | number): number {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new RangeError(`${stream} offset ${value} is not a valid byte offset`);
    return n < 0 ? Math.max(0, this.size(stream) + n) : n;
  }

  #notify(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }
}
