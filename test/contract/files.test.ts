// envd's filesystem API and /files (wire protocol §3.4–3.5) through the official SDK.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Sandbox, FileNotFoundError, InvalidArgumentError, NotEnoughSpaceError, FilesystemEventType } from 'e2b';
import { useRuntime, eventually, withSandbox, useSandbox } from '../support/runtime.js';

const h = useRuntime();
let sbx: Sandbox;
useSandbox(() => Sandbox.create(h.opts), (s) => (sbx = s));

/** A stream of `total` pseudo-random bytes and the sha256 they hash to. */
function bytesStream(total: number, chunk = 1 << 20) {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 1;
  const stream = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (sent >= total) return ctrl.close();
      const n = Math.min(chunk, total - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) buf.writeUInt32LE((seed = (seed * 1664525 + 1013904223) >>> 0), Math.min(i, n - 4));
      hash.update(buf);
      sent += n;
      ctrl.enqueue(buf);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

describe('read and write', () => {
  test('text and bytes round-trip; relative and ~ paths start at /home/user', async () => {
    const info = await sbx.files.write('notes/a.txt', 'hello ✓');
    expect(info).toMatchObject({ name: 'a.txt', path: '/home/user/notes/a.txt', type: 'file' });
    expect(await sbx.files.read('/home/user/notes/a.txt')).toBe('hello ✓');
    expect(await sbx.files.read('~/notes/a.txt')).toBe('hello ✓');
    const bin = new Uint8Array([0, 255, 1, 254, 10, 13]);
    await sbx.files.write('/tmp/bin.dat', bin.buffer);
    expect(await sbx.files.read('/tmp/bin.dat', { format: 'bytes' })).toEqual(bin);
    // Files written for the default user belong to it.
    expect((await sbx.commands.run('stat -c %U:%G /home/user/notes /home/user/notes/a.txt')).stdout).toBe('user:user\nuser:user\n');
  });

  test('several files in one request; root writes where user cannot', async () => {
    const infos = await sbx.files.write([
      { path: '/home/user/m1.txt', data: 'one' },
      { path: 'm2.txt', data: 'two' },
    ]);
    expect(infos.map((i) => i.path)).toEqual(['/home/user/m1.txt', '/home/user/m2.txt']);
    expect(await sbx.files.read('m2.txt')).toBe('two');
    await expect(sbx.files.write('/root/secret.txt', 'x')).rejects.toThrow(/may not (write|enter)/);
    await sbx.files.write('/root/secret.txt', 'x', { user: 'root' });
    await expect(sbx.files.read('/root/secret.txt')).rejects.toThrow(/may not enter|not accessible/);
    expect(await sbx.files.read('/root/secret.txt', { user: 'root' })).toBe('x');
  });

  test('overwriting keeps one file; an empty file reads as empty', async () => {
    await sbx.files.write('over.txt', 'first version, longer');
    await sbx.files.write('over.txt', 'second');
    expect(await sbx.files.read('over.txt')).toBe('second');
    await sbx.files.write('empty.txt', '');
    expect(await sbx.files.read('empty.txt')).toBe('');
  });

  // Large enough to cross every buffer on the way; throughput is measured in bench/ (the
  // SDK's own HTTP client, not the runtime, is the slow part of this path).
  test('32 MiB streams through intact, both ways', async () => {
    const total = 32 * 2 ** 20;
    const { stream, digest } = bytesStream(total);
    await sbx.files.write('/tmp/big.bin', stream);
    const expected = digest();
    const out = await sbx.files.read('/tmp/big.bin', { format: 'stream' });
    const hash = createHash('sha256');
    let size = 0;
    const reader = (out as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      size += value.length;
    }
    expect(size).toBe(total);
    expect(hash.digest('hex')).toBe(expected);
    expect((await sbx.commands.run('sha256sum /tmp/big.bin | cut -d" " -f1')).stdout.trim()).toBe(expected);
    await sbx.files.remove('/tmp/big.bin');
  }, 180_000);

  test('signed upload and download URLs work without headers', async () => {
    const up = await sbx.uploadUrl('/home/user/signed.txt');
    const form = new FormData();
    form.append('file', new Blob(['via signed url']), 'signed.txt');
    expect((await fetch(up, { method: 'POST', body: form })).status).toBe(200);
    const down = await sbx.downloadUrl('/home/user/signed.txt');
    const r = await fetch(down);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('via signed url');
    const forged = down.replace(/signature=[^&]+/, 'signature=v1_forged');
    expect((await fetch(forged)).status).toBe(401);
    const expired = await sbx.downloadUrl('/home/user/signed.txt', { useSignatureExpiration: 1 } as never);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(expired)).status).toBe(401);
  });
});

describe('directories', () => {
  test('makeDir, list with depth, exists, getInfo, rename, remove', async () => {
    expect(await sbx.files.makeDir('/home/user/tree/a/b')).toBe(true);
    expect(await sbx.files.makeDir('/home/user/tree/a/b')).toBe(false);
    await sbx.files.write('/home/user/tree/a/b/leaf.txt', 'leaf');
    await sbx.files.write('/home/user/tree/top.txt', 'top');
    const shallow = await sbx.files.list('/home/user/tree');
    expect(shallow.map((e) => [e.name, e.type])).toEqual([['a', 'dir'], ['top.txt', 'file']]);
    const deep = await sbx.files.list('/home/user/tree', { depth: 3 });
    expect(deep.map((e) => e.path).sort()).toEqual([
      '/home/user/tree/a', '/home/user/tree/a/b', '/home/user/tree/a/b/leaf.txt', '/home/user/tree/top.txt',
    ]);
    const info = await sbx.files.getInfo('/home/user/tree/top.txt');
    expect(info).toMatchObject({ size: 3, type: 'file', owner: 'user', permissions: '-rw-r--r--' });
    expect(await sbx.files.exists('/home/user/tree/top.txt')).toBe(true);
    const moved = await sbx.files.rename('/home/user/tree/top.txt', '/home/user/tree/new/place.txt');
    expect(moved.path).toBe('/home/user/tree/new/place.txt');
    expect(await sbx.files.exists('/home/user/tree/top.txt')).toBe(false);
    await sbx.files.remove('/home/user/tree');
    expect(await sbx.files.exists('/home/user/tree')).toBe(false);
  });

  test('symlinks are reported as symlinks, not followed', async () => {
    await sbx.commands.run('ln -sfn /etc /home/user/etc-link');
    const info = await sbx.files.getInfo('/home/user/etc-link');
    expect(info.type).toBe('symlink');
    expect(info.symlinkTarget).toBe('/etc');
  });

  test('watchDir reports creates, writes and removes', async () => {
    await sbx.files.makeDir('/home/user/watched');
    const events: { name: string; type: string }[] = [];
    const handle = await sbx.files.watchDir('/home/user/watched', (e) => void events.push({ name: e.name, type: e.type }), {
      recursive: true,
    });
    try {
      await sbx.files.write('/home/user/watched/new.txt', 'x');
      await sbx.commands.run('mkdir -p /home/user/watched/sub && echo y > /home/user/watched/sub/deep.txt && rm /home/user/watched/new.txt');
      await eventually(() => events.some((e) => e.name === 'new.txt' && e.type === FilesystemEventType.REMOVE));
      expect(events.some((e) => e.name === 'new.txt' && e.type === FilesystemEventType.CREATE)).toBe(true);
      await eventually(() => events.some((e) => e.name === 'sub/deep.txt'));
    } finally {
      await handle.stop();
    }
  });
});

describe('bad input', () => {
  test('missing files, directories read as files, files written over directories', async () => {
    await expect(sbx.files.read('/home/user/nope.txt')).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(sbx.files.read('/home/user')).rejects.toBeInstanceOf(InvalidArgumentError);
    await sbx.files.makeDir('/home/user/adir');
    await expect(sbx.files.write('/home/user/adir', 'x')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await sbx.files.list('/home/user/adir'))).toEqual([]);
    await expect(sbx.files.list('/home/user/nope')).rejects.toBeInstanceOf(FileNotFoundError);
    await sbx.files.write('plain.txt', 'x');
    await expect(sbx.files.list('/home/user/plain.txt')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sbx.files.remove('/home/user/nope')).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(sbx.files.rename('/home/user/nope', '/home/user/x')).rejects.toBeInstanceOf(FileNotFoundError);
    expect(await sbx.files.exists('/home/user/nope')).toBe(false);
  });

  test('`..` resolves inside the sandbox: its own /etc, never the host', async () => {
    const passwd = await sbx.files.read('/home/user/../../etc/passwd');
    expect(passwd).toContain('user:x:1000:1000');
    expect(passwd.split('\n').filter(Boolean)).toHaveLength(3);
    await expect(sbx.files.write('/home/user/../../usr/evil', 'x', { user: 'root' })).rejects.toThrow(/read-only/);
    await expect(sbx.files.read('/etc/shadow')).rejects.toBeInstanceOf(FileNotFoundError);
  });

  test('an upload larger than the disk fails cleanly, leaving no partial file', async () => {
    await withSandbox(
      h,
      async (small) => {
        await small.files.write('/home/user/big.bin', 'previous content');
        const { stream } = bytesStream(1024 * 2 ** 20);
        await expect(small.files.write('/home/user/big.bin', stream)).rejects.toBeInstanceOf(NotEnoughSpaceError);
        expect(await small.files.read('/home/user/big.bin')).toBe('previous content');
        // No temporary upload file is left behind (the kernel's dot-directories may be).
        expect((await small.commands.run('ls -A /home/user | grep -v "^\\.\\(cache\\|config\\|ipython\\|local\\)$"')).stdout).toBe('big.bin\n');
        expect((await small.commands.run('df -m /home/user | tail -1')).exitCode).toBe(0);
      },
      { metadata: { 'toolkit.diskMB': '64' } },
    );
  });

  test('malformed multipart bodies are refused', async () => {
    const headers = {
      'e2b-sandbox-id': sbx.sandboxId,
      'e2b-sandbox-port': '49983',
      'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken,
    };
    const r = await fetch(h.rt.url + '/files?path=/home/user/m.txt', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="m.txt"\r\n\r\nunterminated',
    });
    expect(r.status).toBe(400);
    const noParts = await fetch(h.rt.url + '/files?path=/home/user/m.txt', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz--\r\n',
    });
    expect(noParts.status).toBe(400);
    expect(await sbx.files.exists('/home/user/m.txt')).toBe(false);
  });
});
