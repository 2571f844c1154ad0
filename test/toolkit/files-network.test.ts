// FileService and NetworkService end to end: a real server with an embedded local runtime.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, createClient, type Transport } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { FileService, FileType, JobService, JobStatus, NetworkService, SandboxService, UploadFileRequestSchema, type UploadFileRequest } from '@e2b-toolkit/core';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { codeOf, toolkitTransport, startTestServer } from '../support/toolkit.js';

let server: ToolkitServer;

function transport(protocol: 'connect' | 'grpc'): Transport {
  return toolkitTransport(server.url, protocol, 'key-files');
}

function clients(protocol: 'connect' | 'grpc' = 'connect') {
  const t = transport(protocol);
  return { files: createClient(FileService, t), network: createClient(NetworkService, t), jobs: createClient(JobService, t) };
}


const CLIENT = 'files-agent';

beforeAll(async () => {
  server = await startTestServer('files-test', {
    localRuntime: { warmPoolSize: 1 },
  });
  const sandboxes = createClient(SandboxService, transport('connect'));
  await sandboxes.createSandbox({ clientId: CLIENT, setAsDefault: true });
});

afterAll(async () => {
  await server?.close();
});

function header(p: string, sizeBytes?: bigint): UploadFileRequest {
  return create(UploadFileRequestSchema, { part: { case: 'header', value: { clientId: CLIENT, path: p, sizeBytes } } });
}

function chunk(data: Uint8Array): UploadFileRequest {
  return create(UploadFileRequestSchema, { part: { case: 'chunk', value: data } });
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('files', () => {
  it('uploads 8 MiB in chunks and downloads the same bytes', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const CHUNK = 256 * 1024;
    async function* messages() {
      yield header('big/data.bin', BigInt(data.length));
      for (let at = 0; at < data.length; at += CHUNK) yield chunk(data.subarray(at, at + CHUNK));
    }
    for (const protocol of ['grpc', 'connect'] as const) {
      const { files } = clients(protocol);
      const { file } = await files.uploadFile(messages());
      expect(file?.path).toBe('/home/user/big/data.bin');
      expect(file?.sizeBytes).toBe(BigInt(data.length));
      expect(file?.type).toBe(FileType.FILE);

      const hash = createHash('sha256');
      let info;
      let n = 0;
      let maxChunk = 0;
      for await (const res of files.downloadFile({ clientId: CLIENT, path: '/home/user/big/data.bin' })) {
        if (res.part.case === 'file') info = res.part.value;
        if (res.part.case === 'chunk') {
          expect(info).toBeDefined();
          hash.update(res.part.value);
          n += res.part.value.length;
          maxChunk = Math.max(maxChunk, res.part.value.length);
        }
      }
      expect(info?.sizeBytes).toBe(BigInt(data.length));
      expect(n).toBe(data.length);
      expect(maxChunk).toBeLessThanOrEqual(1024 * 1024);
      expect(hash.digest('hex')).toBe(sha256(data));
    }

    // From an offset.
    const { files } = clients('grpc');
    const offset = 5_000_000;
    const parts: Uint8Array[] = [];
    for await (const res of files.downloadFile({ clientId: CLIENT, path: 'big/data.bin', offset: BigInt(offset) })) {
      if (res.part.case === 'chunk') parts.push(res.part.value);
    }
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data.subarray(offset)));
  });

  it('writes, reads and lists', async () => {
    const { files } = clients();
    const w = await files.writeFile({ clientId: CLIENT, path: 'dir/a.txt', content: Buffer.from('hello') });
    expect(w.file?.path).toBe('/home/user/dir/a.txt');
    expect(w.file?.sizeBytes).toBe(5n);
    await files.writeFile({ clientId: CLIENT, path: '/home/user/dir/sub/b.txt', content: Buffer.from('bee') });
    const r = await files.readFile({ clientId: CLIENT, path: '/home/user/dir/a.txt' });
    expect(Buffer.from(r.content).toString()).toBe('hello');
    expect(r.file?.name).toBe('a.txt');
    expect(r.file?.modifyTime).toBeDefined();

    const one = await files.listFiles({ clientId: CLIENT, path: 'dir' });
    expect(one.entries.map((e) => [e.path, e.type])).toEqual([
      ['/home/user/dir/a.txt', FileType.FILE],
      ['/home/user/dir/sub', FileType.DIRECTORY],
    ]);
    const two = await files.listFiles({ clientId: CLIENT, path: 'dir', depth: 2 });
    expect(two.entries.map((e) => e.path)).toEqual(['/home/user/dir/a.txt', '/home/user/dir/sub', '/home/user/dir/sub/b.txt']);
    expect(two.truncated).toBe(false);
    const home = await files.listFiles({ clientId: CLIENT });
    expect(home.entries.map((e) => e.name)).toContain('dir');

    expect(await codeOf(files.readFile({ clientId: CLIENT, path: 'dir' }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(files.listFiles({ clientId: CLIENT, path: 'dir/a.txt' }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(files.listFiles({ clientId: CLIENT, path: 'dir', depth: 11 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(files.writeFile({ clientId: CLIENT, path: '', content: Buffer.from('x') }))).toBe(Code.InvalidArgument);
    expect(await codeOf(files.writeFile({ clientId: CLIENT, path: 'a\0b', content: Buffer.from('x') }))).toBe(Code.InvalidArgument);
    expect(await codeOf(files.writeFile({ clientId: CLIENT, path: 'too-big', content: new Uint8Array(3 * 1024 * 1024 + 1) }))).toBe(Code.ResourceExhausted);
  });

  it('reports a missing file as NOT_FOUND', async () => {
    const { files } = clients('grpc');
    expect(await codeOf(files.readFile({ clientId: CLIENT, path: 'no/such/file' }))).toBe(Code.NotFound);
    expect(await codeOf(files.listFiles({ clientId: CLIENT, path: 'no/such/dir' }))).toBe(Code.NotFound);
    const download = (async () => {
      for await (const _ of files.downloadFile({ clientId: CLIENT, path: '/home/user/missing.bin' }));
    })();
    expect(await codeOf(download)).toBe(Code.NotFound);
  });

  it('leaves no file when an upload is cancelled midway or sends the wrong size', async () => {
    // Without size_bytes the server spools the upload first; with it, the bytes stream through.
    for (const [protocol, size] of [['grpc', undefined], ['connect', undefined], ['grpc', 8n << 20n], ['connect', 8n << 20n]] as const) {
      const { files } = clients(protocol);
      const abort = new AbortController();
      const target = `partial/cancelled-${protocol}-${size ?? 'unsized'}.bin`;
      let sent = 0;
      async function* messages() {
        yield header(target, size);
        for (let i = 0; i < 4; i++) {
          sent++;
          yield chunk(randomBytes(512 * 1024));
        }
        // Stop midway: the client gives up while the server waits for more.
        await new Promise((r) => setTimeout(r, 500));
        abort.abort();
        await new Promise((r) => setTimeout(r, 60_000));
      }
      expect(await codeOf(files.uploadFile(messages(), { signal: abort.signal }))).toBe(Code.Canceled);
      expect(sent).toBe(4);
      // Give the server time to finish its side, then check that nothing was committed.
      await new Promise((r) => setTimeout(r, 500));
      expect(await codeOf(files.readFile({ clientId: CLIENT, path: target }))).toBe(Code.NotFound);
    }
    const { files } = clients('grpc');
    const { entries } = await files.listFiles({ clientId: CLIENT, path: 'partial' }).catch(() => ({ entries: [] }));
    expect(entries.map((e) => e.name)).toEqual([]);

    async function* wrongSize() {
      yield header('partial/wrong-size.bin', 10n);
      yield chunk(Buffer.from('12345'));
    }
    expect(await codeOf(files.uploadFile(wrongSize()))).toBe(Code.InvalidArgument);
    expect(await codeOf(files.readFile({ clientId: CLIENT, path: 'partial/wrong-size.bin' }))).toBe(Code.NotFound);

    async function* noHeader() {
      yield chunk(Buffer.from('12345'));
    }
    expect(await codeOf(files.uploadFile(noHeader()))).toBe(Code.InvalidArgument);

    // An empty file is a header alone.
    async function* empty() {
      yield header('partial/empty.txt', 0n);
    }
    expect((await files.uploadFile(empty())).file?.sizeBytes).toBe(0n);
  });
});

describe('network', () => {
  it('runs a server and reaches it at its public URL with Node fetch', async () => {
    const { files, network, jobs } = clients();
    await files.writeFile({ clientId: CLIENT, path: 'www/index.html', content: Buffer.from('<h1>hi</h1>') });
    const res = await network.runServer({ clientId: CLIENT, command: 'python3 -m http.server 8000', cwd: '/home/user/www', port: 8000, wait: { seconds: 20n } });
    expect(res.ready).toBe(true);
    expect(res.job?.status).toBe(JobStatus.RUNNING);
    expect(res.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(`${res.url}/index.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<h1>hi</h1>');

    const pub = await network.getPublicUrl({ clientId: CLIENT, port: 8000, wait: { seconds: 5n } });
    expect(pub.url).toBe(res.url);
    expect(pub.host).toBe(new URL(res.url).host);
    expect((await fetch(pub.url)).status).toBe(200);

    // Something already listens there.
    expect(await codeOf(network.runServer({ clientId: CLIENT, command: 'python3 -m http.server 8000', port: 8000 }))).toBe(Code.FailedPrecondition);
    await jobs.killJob({ jobId: res.job!.jobId });
  });

  it('reports a server that never listens, or dies, as not ready', async () => {
    const { network, jobs } = clients('grpc');
    const started = Date.now();
    const slow = await network.runServer({ clientId: CLIENT, command: 'sleep 30', port: 8123, wait: { seconds: 1n, nanos: 500_000_000 } });
    expect(slow.ready).toBe(false);
    expect(slow.job?.status).toBe(JobStatus.RUNNING);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(slow.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await jobs.killJob({ jobId: slow.job!.jobId });

    const dead = await network.runServer({ clientId: CLIENT, command: 'echo bye; exit 3', port: 8124, wait: { seconds: 30n } });
    expect(dead.ready).toBe(false);
    expect(dead.job?.status).toBe(JobStatus.ERROR);
    expect(dead.job?.exitCode).toBe(3);

    expect(await codeOf(network.getPublicUrl({ clientId: CLIENT, port: 8125, wait: { seconds: 1n } }))).toBe(Code.FailedPrecondition);
  });

  it('rejects ports out of range', async () => {
    const { network } = clients();
    for (const port of [0, 70000]) {
      expect(await codeOf(network.getPublicUrl({ clientId: CLIENT, port }))).toBe(Code.InvalidArgument);
      expect(await codeOf(network.runServer({ clientId: CLIENT, command: 'true', port }))).toBe(Code.InvalidArgument);
    }
    expect(await codeOf(network.runServer({ clientId: CLIENT, command: '', port: 8000 }))).toBe(Code.InvalidArgument);
  });
});
