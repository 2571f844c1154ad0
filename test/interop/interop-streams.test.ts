// The streaming RPCs from grpc-js with the .proto files loaded at run time: the job log tail,
// streaming Python execution, download (server streams) and upload (client stream); and
// what grpc-js users do to streams: deadlines and cancelling mid-stream.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { addressOf, cancel, clientStream, errorInfoOf, failure, grpc, readAll, serverStream, toolkitClients, unary, type CallOptions } from './grpc-js.js';
import { startTestServer } from '../support/toolkit.js';

const KEY = 'interop-streams-key';
const CLIENT = 'interop-streams';

let server: ToolkitServer;
let tk: ReturnType<typeof toolkitClients>;

type Service = Exclude<keyof typeof tk, 'close'>;
const call = (service: Service, method: string, request: object, options: CallOptions = {}) => unary(tk[service], method, request, { key: KEY, ...options });
const stream = (service: Service, method: string, request: object, options: CallOptions = {}) => serverStream(tk[service], method, request, { key: KEY, ...options });

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Resolves with the first message of a stream for which `match` holds. */
function firstMatching<T>(s: grpc.ClientReadableStream<T>, match: (m: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onData = (m: T) => {
      if (!match(m)) return;
      s.off('data', onData);
      s.off('error', reject);
      resolve(m);
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

beforeAll(async () => {
  server = await startTestServer('interop-streams', {
    localRuntime: { warmPoolSize: 1 },
  });
  tk = toolkitClients(addressOf(server.url));
  await call('SandboxService', 'CreateSandbox', { client_id: CLIENT, set_as_default: true });
});

afterAll(async () => {
  tk?.close();
  await server?.close();
});

describe('TailJobLogs', () => {
  it('streams a job from started to ended, with contiguous offsets', async () => {
    await call('CommandService', 'StartCommand', { client_id: CLIENT, command: 'for i in 1 2 3; do echo line $i; done; echo oops >&2', job_id: 'tail-1' });
    const events = await readAll(stream('JobService', 'TailJobLogs', { job_id: 'tail-1' }));
    expect(events[0].event).toBe('started');
    expect(events.at(-1)).toMatchObject({ event: 'ended', ended: { job: { job_id: 'tail-1', status: 'JOB_STATUS_DONE', exit_code: 0 } } });
    let stdout = '';
    let offset = BigInt(events[0].started.stdout_offset);
    for (const e of events.filter((e) => e.event === 'stdout')) {
      expect(BigInt(e.stdout.offset)).toBe(offset);
      offset += BigInt(e.stdout.data.length);
      stdout += Buffer.from(e.stdout.data).toString();
    }
    expect(stdout).toBe('line 1\nline 2\nline 3\n');
    const stderr = events.filter((e) => e.event === 'stderr').map((e) => Buffer.from(e.stderr.data).toString()).join('');
    expect(stderr).toBe('oops\n');
  });

  it('fails the stream with NOT_FOUND / JOB_NOT_FOUND for an unknown job', async () => {
    const err = await failure(readAll(stream('JobService', 'TailJobLogs', { job_id: 'no-such-job' })));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(errorInfoOf(err)?.reason).toBe('JOB_NOT_FOUND');
  });
});

describe('StreamPythonCode', () => {
  it('streams started, output, the result and ended', async () => {
    const events = await readAll(stream('CodeService', 'StreamPythonCode', { client_id: CLIENT, code: 'print("streamed")\n40 + 2' }));
    expect(events[0]).toMatchObject({ event: 'started', started: { execution_id: expect.any(String) } });
    expect(events.filter((e) => e.event === 'stdout').map((e) => e.stdout).join('')).toBe('streamed\n');
    expect(events.find((e) => e.event === 'result')?.result).toMatchObject({ is_main_result: true, text: '42' });
    expect(events.at(-1)).toMatchObject({ event: 'ended', ended: { status: 'EXECUTION_STATUS_SUCCEEDED' } });
  });

  it('reports bad input as INVALID_ARGUMENT on the stream', async () => {
    const err = await failure(readAll(stream('CodeService', 'StreamPythonCode', { client_id: CLIENT, code: ' ' })));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('UploadFile and DownloadFile', () => {
  const data = randomBytes(8 * 1024 * 1024);
  const CHUNK = 64 * 1024;

  function* uploadMessages(p: string, bytes: Buffer, sizeBytes: number = bytes.length) {
    yield { header: { client_id: CLIENT, path: p, size_bytes: sizeBytes } };
    for (let at = 0; at < bytes.length; at += CHUNK) yield { chunk: bytes.subarray(at, at + CHUNK) };
  }

  it('uploads in chunks and downloads the same bytes, file info first', async () => {
    const { file } = await clientStream(tk.FileService, 'UploadFile', uploadMessages('interop/big.bin', data), { key: KEY });
    expect(file).toMatchObject({ name: 'big.bin', size_bytes: String(data.length), type: 'FILE_TYPE_FILE' });

    const parts = await readAll(stream('FileService', 'DownloadFile', { client_id: CLIENT, path: 'interop/big.bin' }));
    expect(parts[0]).toMatchObject({ part: 'file', file: { size_bytes: String(data.length) } });
    const chunks = parts.slice(1).map((p) => {
      expect(p.part).toBe('chunk');
      return p.chunk as Buffer;
    });
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
  });

  it('downloads from an offset', async () => {
    const parts = await readAll(stream('FileService', 'DownloadFile', { client_id: CLIENT, path: 'interop/big.bin', offset: data.length - 10 }));
    expect(Buffer.concat(parts.slice(1).map((p) => p.chunk))).toEqual(data.subarray(data.length - 10));
  });

  it('rejects an upload longer than its declared size with INVALID_ARGUMENT', async () => {
    const err = await failure(clientStream(tk.FileService, 'UploadFile', uploadMessages('interop/short.bin', Buffer.from('0123456789'), 5), { key: KEY }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('size_bytes');
  });

  it('fails a download of a missing file with NOT_FOUND / FILE_NOT_FOUND', async () => {
    const err = await failure(readAll(stream('FileService', 'DownloadFile', { client_id: CLIENT, path: 'interop/missing.bin' })));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(errorInfoOf(err)?.reason).toBe('FILE_NOT_FOUND');
  });
});

describe('deadlines and cancellation mid-stream', () => {
  const JOB = 'ticker';

  beforeAll(async () => {
    await call('CommandService', 'StartCommand', {
      client_id: CLIENT,
      command: 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done',
      job_id: JOB,
    });
  });

  afterAll(async () => {
    await call('JobService', 'KillJob', { job_id: JOB }).catch(() => undefined);
  });

  async function expectTickerRunning() {
    expect((await call('JobService', 'GetJob', { job_id: JOB })).job.status).toBe('JOB_STATUS_RUNNING');
  }

  it('cancels a tail after some output: the job keeps running and can be tailed again', async () => {
    const tail = stream('JobService', 'TailJobLogs', { job_id: JOB });
    await firstMatching(tail, (e: any) => e.event === 'stdout');
    expect((await cancel(tail)).code).toBe(grpc.status.CANCELLED);
    await expectTickerRunning();

    // A new tail from the current end sees new output.
    const { job } = await call('JobService', 'GetJob', { job_id: JOB });
    const again = stream('JobService', 'TailJobLogs', { job_id: JOB, stdout_offset: job.stdout_bytes });
    const chunk = await firstMatching(again, (e: any) => e.event === 'stdout');
    expect(BigInt(chunk.stdout.offset)).toBeGreaterThanOrEqual(BigInt(job.stdout_bytes));
    await cancel(again);
  });

  it('cancels a download after its first chunk: the server and the job carry on', async () => {
    const download = stream('FileService', 'DownloadFile', { client_id: CLIENT, path: 'interop/big.bin' });
    await firstMatching(download, (p: any) => p.part === 'chunk');
    expect((await cancel(download)).code).toBe(grpc.status.CANCELLED);

    await expectTickerRunning();
    const { entries } = await call('FileService', 'ListFiles', { client_id: CLIENT, path: 'interop' });
    expect(entries.map((e: { name: string }) => e.name)).toContain('big.bin');
    expect((await call('CommandService', 'RunCommand', { client_id: CLIENT, command: 'echo alive' })).stdout).toBe('alive\n');
  });

  it('ends a tail past its deadline with DEADLINE_EXCEEDED, the job still running', async () => {
    const tail = stream('JobService', 'TailJobLogs', { job_id: JOB }, { deadlineMs: 1500 });
    const err = await failure(readAll(tail));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await expectTickerRunning();
  });
});
