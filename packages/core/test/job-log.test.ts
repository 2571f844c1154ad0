import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { JobLog, JobLogDisposedError, OutputTruncatedError, TAIL_CHUNK_BYTES, type JobLogOptions, type LogChunk, type LogStream, type LogTail } from '../src/job-log.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-log-test-'));
  cleanups.push(() => fs.promises.rm(dir, { recursive: true, force: true }));
  return dir;
}

function newLog(options: Partial<JobLogOptions> = {}): { log: JobLog; dir: string } {
  const dir = options.dir ?? tempDir();
  const log = new JobLog({ ...options, dir });
  cleanups.push(() => log.dispose());
  return { log, dir };
}

/** Deterministic bytes: byte i of a stream is a function of i (and seed), so any range can be checked. */
const PERIOD = 1_000_003; // prime, so the pattern does not line up with block sizes
const BASES = [0, 1].map((seed) => {
  const base = Buffer.allocUnsafe(PERIOD);
  for (let i = 0; i < PERIOD; i++) base[i] = (i * 31 + seed * 101 + (i >> 8)) & 0xff;
  return base;
});
function pattern(from: number, length: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; ) {
    const at = (from + i) % PERIOD;
    i += BASES[seed].copy(out, i, at, Math.min(PERIOD, at + length - i));
  }
  return out;
}

async function collect(tail: AsyncIterable<LogChunk>): Promise<{ chunks: LogChunk[]; stdout: Buffer; stderr: Buffer }> {
  const chunks: LogChunk[] = [];
  for await (const chunk of tail) chunks.push(chunk);
  const join = (stream: LogStream) => Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data));
  return { chunks, stdout: join('stdout'), stderr: join('stderr') };
}

/** Checks that each stream's chunks are contiguous from `start`. */
function expectContiguous(chunks: LogChunk[], start: Record<LogStream, number>): void {
  const next = { ...start };
  for (const c of chunks) {
    expect(c.offset).toBe(next[c.stream]);
    expect(c.data.length).toBeGreaterThan(0);
    expect(c.data.length).toBeLessThanOrEqual(TAIL_CHUNK_BYTES);
    next[c.stream] += c.data.length;
  }
}

/** Merges adjacent same-stream pieces: the order a reader can observe. */
function runs(pieces: Array<{ stream: LogStream; data: Buffer }>): Array<{ stream: LogStream; data: string }> {
  const out: Array<{ stream: LogStream; data: string }> = [];
  for (const p of pieces) {
    const last = out.at(-1);
    if (last && last.stream === p.stream) last.data += p.data.toString('latin1');
    else out.push({ stream: p.stream, data: p.data.toString('latin1') });
  }
  return out;
}

function filesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('JobLog storage', () => {
  it('keeps small output in memory only, with no spill file', async () => {
    const { log, dir } = newLog();
    expect(log.append('stdout', Buffer.from('hello '))).toBe(true);
    expect(log.append('stdout', Buffer.from('world\n'))).toBe(true);
    expect(log.append('stderr', Buffer.from('oops\n'))).toBe(true);
    expect(log.size('stdout')).toBe(12);
    expect(log.size('stderr')).toBe(5);
    expect((await log.read('stdout', 0, 100)).toString()).toBe('hello world\n');
    expect((await log.read('stdout', 3, 5)).toString()).toBe('lo wo');
    expect((await log.read('stderr', 5, 10)).length).toBe(0);
    expect(log.bufferedBytes('stdout')).toBeLessThan(1024);
    expect(filesIn(dir)).toEqual([]);
  });

  it('spills past the memory bound and reads any range back, from the file or memory', async () => {
    const memoryBytes = 200 * 1024; // three 64 KiB blocks
    const { log, dir } = newLog({ memoryBytes });
    const total = 1_000_003;
    let written = 0;
    let sizes = 1;
    while (written < total) {
      const n = Math.min(total - written, (sizes = (sizes * 7919) % 5003) + 1);
      expect(log.append('stdout', pattern(written, n))).toBe(true);
      written += n;
      expect(log.bufferedBytes('stdout')).toBeLessThanOrEqual(memoryBytes);
    }
    expect(log.size('stdout')).toBe(total);
    const files = filesIn(dir);
    expect(files).toHaveLength(1);
    const fileSize = fs.statSync(path.join(dir, files[0])).size;
    expect(fileSize).toBeGreaterThan(total - memoryBytes - 1);
    expect(fileSize % TAIL_CHUNK_BYTES).toBe(0);

    // Ranges in the file, across the file/memory boundary, in memory, mid-block, at the end.
    for (const [offset, length] of [
      [0, 10], [1, 65536], [12345, 100_000], [fileSize - 7, 20], [fileSize, 5], [fileSize + 3, 70_000],
      [total - 1, 10], [total, 10], [0, total], [65535, 2],
    ]) {
      const got = await log.read('stdout', offset, length);
      expect(got.equals(pattern(offset, Math.min(length, total - offset)))).toBe(true);
    }
    await expect(log.read('stdout', total + 1, 1)).rejects.toThrow(RangeError);
    await expect(log.read('stdout', -1, 1)).rejects.toThrow(RangeError);
  });

  it('stores an append larger than memory, spilling it block by block', async () => {
    const { log } = newLog({ memoryBytes: 1000 });
    const big = pattern(0, 300_000);
    expect(log.append('stderr', big)).toBe(true);
    expect(log.bufferedBytes('stderr')).toBeLessThanOrEqual(1000);
    expect((await log.read('stderr', 0, 300_000)).equals(big)).toBe(true);
    expect((await log.read('stderr', 299_500, 1000)).equals(big.subarray(299_500))).toBe(true);
  });

  it('copies appended bytes, so the caller may reuse its buffer', async () => {
    const { log } = newLog({ memoryBytes: 4 });
    const buf = Buffer.from('abcd');
    log.append('stdout', buf);
    buf.fill(0x7a);
    log.append('stdout', buf);
    expect((await log.read('stdout', 0, 8)).toString()).toBe('abcdzzzz');
  });

  it('refuses appends after end', () => {
    const { log } = newLog();
    log.end();
    expect(() => log.append('stdout', Buffer.from('x'))).toThrow(/after the job log ended/);
  });

  it('caps each stream at maxBytes: keeps the exact prefix, then drops and reports', async () => {
    const { log } = newLog({ maxBytes: 100, memoryBytes: 32 });
    expect(log.append('stdout', pattern(0, 60))).toBe(true);
    expect(log.truncated('stdout')).toBeUndefined();
    expect(log.append('stdout', pattern(60, 60))).toBe(false);
    expect(log.size('stdout')).toBe(100);
    const err = log.truncated('stdout');
    expect(err).toBeInstanceOf(OutputTruncatedError);
    expect(err).toMatchObject({ reason: 'max_bytes', stream: 'stdout', storedBytes: 100, droppedBytes: 20 });
    expect(err!.message).toMatch(/limit of 100 bytes/);
    // Once truncated, nothing more is stored, even what would fit: no holes in the output.
    expect(log.append('stdout', Buffer.from('x'))).toBe(false);
    expect(err!.droppedBytes).toBe(21);
    expect(log.size('stdout')).toBe(100);
    // The other stream has its own cap.
    expect(log.append('stderr', Buffer.from('fine'))).toBe(true);
    log.end();
    const { stdout, stderr } = await collect(log.tail());
    expect(stdout.equals(pattern(0, 100))).toBe(true);
    expect(stderr.toString()).toBe('fine');
  });

  it('reports a spill file that cannot be written as truncation, keeping what was stored', async () => {
    const notADir = path.join(tempDir(), 'file');
    fs.writeFileSync(notADir, '');
    const { log } = newLog({ dir: notADir, memoryBytes: 10 });
    expect(log.append('stdout', pattern(0, 10))).toBe(true);
    expect(log.append('stdout', pattern(10, 5))).toBe(false);
    expect(log.truncated('stdout')).toMatchObject({ reason: 'spill_failed', storedBytes: 10, droppedBytes: 5 });
    expect(log.truncated('stdout')!.cause).toBeInstanceOf(Error);
    expect((await log.read('stdout', 0, 100)).equals(pattern(0, 10))).toBe(true);
  });

  it('dispose deletes the spill files and ends reads and tails', async () => {
    const { log, dir } = newLog({ memoryBytes: 1024 });
    log.append('stdout', pattern(0, 100_000));
    log.append('stderr', pattern(0, 100_000));
    expect(filesIn(dir)).toHaveLength(2);
    const waiting = expect(collect(log.tail({ stdoutOffset: 100_000, stderrOffset: 100_000 }))).rejects.toBeInstanceOf(JobLogDisposedError);
    await tick();
    await log.dispose();
    expect(filesIn(dir)).toEqual([]);
    await waiting;
    await expect(log.read('stdout', 0, 1)).rejects.toBeInstanceOf(JobLogDisposedError);
    expect(() => log.tail()).toThrow(JobLogDisposedError);
    expect(() => log.append('stdout', Buffer.from('x'))).toThrow(JobLogDisposedError);
    expect(log.bufferedBytes('stdout')).toBe(0);
  });

  it('rejects bad options', () => {
    const dir = tempDir();
    expect(() => new JobLog({ dir, memoryBytes: 0 })).toThrow(RangeError);
    expect(() => new JobLog({ dir, maxBytes: -1 })).toThrow(RangeError);
    expect(() => new JobLog({ dir, memoryBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('JobLog tails', () => {
  it('reads a finished job from 0 in full, in the order it was written, from file and memory', async () => {
    const { log } = newLog({ memoryBytes: 3000 });
    const pieces: Array<{ stream: LogStream; data: Buffer }> = [];
    const at = { stdout: 0, stderr: 0 };
    for (let i = 0; i < 400; i++) {
      const stream: LogStream = i % 3 === 0 || i % 7 === 0 ? 'stderr' : 'stdout';
      const data = pattern(at[stream], 1 + ((i * 37) % 900), stream === 'stderr' ? 1 : 0);
      log.append(stream, data);
      pieces.push({ stream, data });
      at[stream] += data.length;
    }
    log.end();
    const { chunks, stdout, stderr } = await collect(log.tail({ stdoutOffset: 0, stderrOffset: 0 }));
    expectContiguous(chunks, { stdout: 0, stderr: 0 });
    expect(stdout.equals(pattern(0, at.stdout))).toBe(true);
    expect(stderr.equals(pattern(0, at.stderr, 1))).toBe(true);
    expect(runs(chunks)).toEqual(runs(pieces));
  });

  it('delivers long single-stream output in chunks of at most 64 KiB', async () => {
    const { log } = newLog({ memoryBytes: 100_000 });
    log.append('stdout', pattern(0, 500_000));
    log.end();
    const { chunks, stdout } = await collect(log.tail());
    expectContiguous(chunks, { stdout: 0, stderr: 0 });
    expect(chunks.length).toBe(Math.ceil(500_000 / TAIL_CHUNK_BYTES));
    expect(stdout.equals(pattern(0, 500_000))).toBe(true);
  });

  it('resolves negative offsets from the end and starts mid-chunk', async () => {
    const { log } = newLog({ memoryBytes: 64 });
    log.append('stdout', Buffer.from('0123456789'));
    log.append('stdout', Buffer.from('abcdefghij'));
    log.append('stderr', Buffer.from('ERR'));
    log.end();
    const tail = log.tail({ stdoutOffset: -15n, stderrOffset: -100 });
    expect(tail.stdoutOffset).toBe(5);
    expect(tail.stderrOffset).toBe(0);
    const { chunks, stdout, stderr } = await collect(tail);
    expect(stdout.toString()).toBe('56789abcdefghij');
    expect(stderr.toString()).toBe('ERR');
    expectContiguous(chunks, { stdout: 5, stderr: 0 });

    const mid = await collect(log.tail({ stdoutOffset: 13, stderrOffset: 1 }));
    expect(mid.stdout.toString()).toBe('defghij');
    expect(mid.stderr.toString()).toBe('RR');
    expect(runs(mid.chunks)).toEqual([{ stream: 'stdout', data: 'defghij' }, { stream: 'stderr', data: 'RR' }]);
    expect(() => log.tail({ stdoutOffset: 2 ** 60 })).toThrow(RangeError);
  });

  it('follows a live job: sees output appended after it started, ends after end()', async () => {
    const { log } = newLog({ memoryBytes: 1000 });
    log.append('stdout', Buffer.from('before\n'));
    const result = collect(log.tail());
    await tick();
    const pieces: Array<{ stream: LogStream; data: Buffer }> = [{ stream: 'stdout', data: Buffer.from('before\n') }];
    for (let i = 0; i < 50; i++) {
      const stream: LogStream = i % 4 === 0 ? 'stderr' : 'stdout';
      const data = Buffer.from(`${stream} line ${i}\n`.repeat(1 + (i % 30)));
      log.append(stream, data);
      pieces.push({ stream, data });
      if (i % 5 === 0) await tick();
    }
    log.end();
    const { chunks } = await result;
    expectContiguous(chunks, { stdout: 0, stderr: 0 });
    expect(runs(chunks)).toEqual(runs(pieces));
  });

  it('waits at an offset past the end until the job writes that far', async () => {
    const { log } = newLog();
    log.append('stdout', Buffer.from('abc'));
    const result = collect(log.tail({ stdoutOffset: 5, stderrOffset: 0 }));
    await tick();
    log.append('stdout', Buffer.from('defgh'));
    log.end();
    expect((await result).stdout.toString()).toBe('fgh');
    // Past the end of an ended job: nothing will come, so the tail ends at once.
    const past = await collect(log.tail({ stdoutOffset: 100, stderrOffset: 100 }));
    expect(past.chunks).toEqual([]);
  });

  it('snapshot sends only the output written so far, then ends while the job runs', async () => {
    const { log } = newLog({ memoryBytes: 100 });
    log.append('stdout', pattern(0, 1000));
    log.append('stderr', Buffer.from('warn'));
    const snap = log.tail({ stdoutOffset: -300, snapshot: true });
    log.append('stdout', Buffer.from('later'));
    const { stdout, stderr } = await collect(snap);
    expect(stdout.equals(pattern(700, 300))).toBe(true);
    expect(stderr.toString()).toBe('warn');
    expect(log.ended).toBe(false);
    // Past the end in snapshot mode: nothing, at once.
    expect((await collect(log.tail({ stdoutOffset: 5000, stderrOffset: 5000, snapshot: true }))).chunks).toEqual([]);
  });

  it('abort ends a waiting tail promptly and quietly, without affecting other tails', async () => {
    const { log } = newLog();
    log.append('stdout', Buffer.from('one'));
    const controller = new AbortController();
    const aborted = collect(log.tail({ signal: controller.signal }));
    const other = collect(log.tail());
    await tick();
    controller.abort();
    expect((await aborted).stdout.toString()).toBe('one');
    log.append('stdout', Buffer.from('two'));
    log.end();
    expect((await other).stdout.toString()).toBe('onetwo');

    // Already aborted: delivers nothing.
    const { chunks } = await collect(log.tail({ signal: AbortSignal.abort() }));
    expect(chunks).toEqual([]);
  });

  it('abort stops a tail in the middle of a long read-back', async () => {
    const { log } = newLog({ memoryBytes: 1024 });
    log.append('stdout', pattern(0, 1_000_000));
    const controller = new AbortController();
    let received = 0;
    for await (const chunk of log.tail({ signal: controller.signal })) {
      received += chunk.data.length;
      if (received >= 2 * TAIL_CHUNK_BYTES) controller.abort();
    }
    expect(received).toBe(2 * TAIL_CHUNK_BYTES);
  });

  it('breaking out of a tail releases it', async () => {
    const { log } = newLog();
    log.append('stdout', Buffer.from('x'));
    for await (const chunk of log.tail()) {
      expect(chunk.data.toString()).toBe('x');
      break;
    }
    log.end();
  });

  it('keeps stream order exact and interleaving best effort when the order index overflows', async () => {
    const { log } = newLog({ memoryBytes: 512, orderRuns: 8 });
    const pieces: Array<{ stream: LogStream; data: Buffer }> = [];
    const at = { stdout: 0, stderr: 0 };
    for (let i = 0; i < 200; i++) {
      const stream: LogStream = i % 2 === 0 ? 'stdout' : 'stderr';
      const data = pattern(at[stream], 10 + (i % 13), stream === 'stderr' ? 1 : 0);
      log.append(stream, data);
      pieces.push({ stream, data });
      at[stream] += data.length;
    }
    log.end();
    const { chunks, stdout, stderr } = await collect(log.tail());
    expectContiguous(chunks, { stdout: 0, stderr: 0 });
    expect(stdout.equals(pattern(0, at.stdout))).toBe(true);
    expect(stderr.equals(pattern(0, at.stderr, 1))).toBe(true);
    // The most recent runs are still indexed, so the tail of the output is in exact order.
    expect(runs(chunks).slice(-6)).toEqual(runs(pieces).slice(-6));
  });

  it('serves many concurrent tails, each getting every byte', async () => {
    const { log } = newLog({ memoryBytes: 8192 });
    const tails: LogTail[] = [];
    for (let i = 0; i < 20; i++) tails.push(log.tail({ stdoutOffset: 0, stderrOffset: 0 }));
    const results = tails.map((t) => collect(t));
    for (let i = 0; i < 100; i++) {
      log.append('stdout', pattern(i * 1000, 1000));
      if (i % 10 === 0) log.append('stderr', Buffer.from(`e${i}`));
      if (i % 7 === 0) await tick();
    }
    log.end();
    for (const r of await Promise.all(results)) {
      expect(r.stdout.equals(pattern(0, 100_000))).toBe(true);
      expect(r.stderr.toString()).toBe(Array.from({ length: 10 }, (_, i) => `e${i * 10}`).join(''));
    }
  });

  it('a fast job and a slow tail: both tails get every byte in order, memory stays bounded', async () => {
    const memoryBytes = 1024 * 1024;
    const { log } = newLog({ memoryBytes });
    const stdoutTotal = 40 * 1024 * 1024;
    const stderrTotal = 10 * 1024 * 1024;
    const sent = { stdout: createHash('sha256'), stderr: createHash('sha256') };

    async function consume(slow: boolean) {
      const hashes = { stdout: createHash('sha256'), stderr: createHash('sha256') };
      const next = { stdout: 0, stderr: 0 };
      let maxLag = 0;
      for await (const chunk of log.tail()) {
        expect(chunk.offset).toBe(next[chunk.stream]);
        next[chunk.stream] += chunk.data.length;
        hashes[chunk.stream].update(chunk.data);
        maxLag = Math.max(maxLag, log.size('stdout') - next.stdout);
        if (slow) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return { next, stdout: hashes.stdout.digest('hex'), stderr: hashes.stderr.digest('hex'), maxLag };
    }

    // Collect garbage before sampling, so the samples show what is held, not what awaits
    // collection (every chunk a tail reads is a fresh copy).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const sample = async () => {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 5)); // array buffers are freed off-thread
      gc();
      const m = process.memoryUsage();
      return { rss: m.rss, held: m.heapUsed + m.arrayBuffers };
    };
    const before = await sample();
    const peak = { ...before };
    let warm = before; // after the first 8 MiB, once the allocator has grown its pools
    const update = async () => {
      const now = await sample();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.held = Math.max(peak.held, now.held);
    };
    const fast = consume(false);
    const slow = consume(true);
    let slowFinishedFirst = false;
    slow.then(() => { slowFinishedFirst = !log.ended; });

    const chunk = 64 * 1024;
    for (let i = 0, out = 0, err = 0; out < stdoutTotal || err < stderrTotal; i++) {
      const stream: LogStream = i % 5 === 4 && err < stderrTotal ? 'stderr' : 'stdout';
      const offset = stream === 'stdout' ? out : err;
      const data = pattern(offset, chunk - (i % 3) * 1000, stream === 'stderr' ? 1 : 0);
      expect(log.append(stream, data)).toBe(true);
      expect(log.bufferedBytes(stream)).toBeLessThanOrEqual(memoryBytes);
      sent[stream].update(data);
      if (stream === 'stdout') out += data.length; else err += data.length;
      await tick(); // let the tails run: the job must not wait for them
      if (i % 64 === 0) await update();
      if (i === 128) warm = await sample();
    }
    const sizes = { stdout: log.size('stdout'), stderr: log.size('stderr') };
    log.end();
    const want = { stdout: sent.stdout.digest('hex'), stderr: sent.stderr.digest('hex') };

    const [f, s] = await Promise.all([fast, slow]);
    await update();
    for (const r of [f, s]) {
      expect(r.next).toEqual(sizes);
      expect(r.stdout).toBe(want.stdout);
      expect(r.stderr).toBe(want.stderr);
    }
    // The job finished while the slow tail lagged far beyond memory: it read back from the file.
    expect(slowFinishedFirst).toBe(false);
    expect(s.maxLag).toBeGreaterThan(4 * memoryBytes);
    expect(log.bufferedBytes('stdout')).toBeLessThanOrEqual(memoryBytes);
    // Nothing held the output: what is held stays near the two 1 MiB stream buffers, and the
    // process does not grow with the output (rss stays flat over the last 42 MiB written).
    expect(peak.held - before.held).toBeLessThan(8 * 1024 * 1024);
    expect(peak.rss - warm.rss).toBeLessThan(10 * 1024 * 1024);
    expect(peak.rss - before.rss).toBeLessThan(35 * 1024 * 1024);
  });
});
