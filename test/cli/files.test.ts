// e2b-toolkit upload / download (round trip, progress bar, nothing half-written) and url.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { BIN, cliEnv, errorCodeOf, jsonOf, runCli, spawnCli, startServer } from './cli.js';

let server: ToolkitServer;
let env: Record<string, string | undefined>;
let sandboxId: string;
let tmp: string;

beforeAll(async () => {
  server = await startServer('files');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-files-'));
  sandboxId = (await runCli(['sandbox', 'create', '--timeout', '600'], { env: cliEnv(server) })).stdout.trim();
  env = cliEnv(server, { E2B_TOOLKIT_SANDBOX: sandboxId });
});

afterAll(async () => {
  if (env) await runCli(['sandbox', 'kill'], { env });
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Files in a directory, temporary ones included. */
const entries = (dir: string) => fs.readdirSync(dir).sort();

describe('e2b-toolkit upload and download', () => {
  it('round-trips a binary file of several chunks', async () => {
    const data = crypto.randomBytes(3 * 1024 * 1024 + 123);
    const local = path.join(tmp, 'blob.bin');
    fs.writeFileSync(local, data);

    const up = await runCli(['upload', local, 'data/blob.bin'], { env });
    expect(up).toMatchObject({ code: 0, stdout: '/home/user/data/blob.bin (3.0 MiB)\n', stderr: '' }); // no bar off a terminal
    const sum = await runCli(['exec', 'sha256sum /home/user/data/blob.bin'], { env });
    expect(sum.stdout.split(' ')[0]).toBe(crypto.createHash('sha256').update(data).digest('hex'));

    const outDir = path.join(tmp, 'out');
    fs.mkdirSync(outDir);
    const down = await runCli(['--json', 'download', '/home/user/data/blob.bin', outDir], { env });
    expect(down.code).toBe(0);
    expect(jsonOf(down)).toEqual({ status: 'success', sandbox_id: sandboxId, path: '/home/user/data/blob.bin', local_path: path.join(outDir, 'blob.bin'), size: data.length });
    expect(fs.readFileSync(path.join(outDir, 'blob.bin')).equals(data)).toBe(true);
    expect(entries(outDir)).toEqual(['blob.bin']);

    // "-" streams the file to stdout.
    const piped = await runCli(['download', 'note-not-yet.txt', '-'], { env });
    expect(errorCodeOf(piped)).toBe('not_found');
    await runCli(['exec', 'printf "to stdout" > /home/user/piped.txt'], { env });
    expect(await runCli(['download', 'piped.txt', '-'], { env })).toMatchObject({ code: 0, stdout: 'to stdout', stderr: '' });

    // Default names: the local file's name in /home/user; the remote file's name in the cwd.
    const small = path.join(tmp, 'note.txt');
    fs.writeFileSync(small, 'hello\n');
    expect(jsonOf(await runCli(['--json', 'upload', small], { env }))).toMatchObject({ status: 'success', path: '/home/user/note.txt', size: 6 });
    expect(jsonOf(await runCli(['--json', 'upload', small, '/tmp/into/'], { env }))).toMatchObject({ status: 'success', path: '/tmp/into/note.txt' });
    const here = path.join(tmp, 'here');
    fs.mkdirSync(here);
    expect((await runCli(['download', 'note.txt'], { env, cwd: here })).code).toBe(0);
    expect(fs.readFileSync(path.join(here, 'note.txt'), 'utf8')).toBe('hello\n');
  });

  it('draws a progress bar on stderr with --progress, never on stdout', async () => {
    const local = path.join(tmp, 'progress.bin');
    fs.writeFileSync(local, crypto.randomBytes(600 * 1024));
    const up = await runCli(['upload', '--progress', local], { env });
    expect(up.code).toBe(0);
    expect(up.stdout).toBe('/home/user/progress.bin (600.0 KiB)\n');
    expect(up.stderr).toContain('upload progress.bin [');
    expect(up.stderr).toContain('100%');
    const down = await runCli(['download', '--progress', 'progress.bin', path.join(tmp, 'progress.copy')], { env });
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('download progress.bin [');
    expect(down.stderr).toContain('100%');
    // --json never draws one, even when asked for by default on a terminal.
    expect((await runCli(['--json', 'upload', local], { env })).stderr).toBe('');
  });

  it('an interrupted download leaves no file behind', async () => {
    expect((await runCli(['exec', 'head -c 67108864 /dev/urandom > /home/user/large.bin'], { env })).code).toBe(0);
    const dir = path.join(tmp, 'interrupted');
    fs.mkdirSync(dir);
    const run = spawnCli(['download', '--progress', 'large.bin', dir], { env });
    await run.waitFor('stderr', 'download large.bin');
    run.child.kill('SIGINT');
    const r = await run.exited;
    // Either Ctrl-C came in time (130, nothing written) or the download had finished (0, whole).
    if (r.code === 130) expect(entries(dir)).toEqual([]);
    else {
      expect(r.code).toBe(0);
      expect(entries(dir)).toEqual(['large.bin']);
      expect(fs.statSync(path.join(dir, 'large.bin')).size).toBe(67108864);
    }
  });

  // util-linux's script(1) gives the CLI a terminal, where the bar is drawn by default.
  const hasScript = fs.existsSync('/usr/bin/script');
  it.skipIf(!hasScript)('draws the bar by default when stderr is a terminal', async () => {
    const local = path.join(tmp, 'tty.bin');
    fs.writeFileSync(local, crypto.randomBytes(300 * 1024));
    const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} ${BIN} upload ${local}`, '/dev/null'], { env: { ...process.env, ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(output).toContain('upload tty.bin [');
    expect(output).toContain('100%');
    expect(output).toContain('/home/user/tty.bin (300.0 KiB)');
  });

  it('fails clearly on a missing local file, a missing remote file and an unwritable destination, leaving nothing behind', async () => {
    const missing = await runCli(['upload', path.join(tmp, 'does-not-exist')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^e2b-toolkit: cannot read .*does-not-exist: no such file or directory \(enoent\)\n$/);
    const dir = await runCli(['upload', tmp], { env });
    expect(dir.code).toBe(1);
    expect(errorCodeOf(dir)).toBe('not_a_file');

    const dest = path.join(tmp, 'dl');
    fs.mkdirSync(dest);
    const noRemote = await runCli(['download', '/home/user/nope.txt', path.join(dest, 'nope.txt')], { env });
    expect(noRemote.code).toBe(1);
    expect(errorCodeOf(noRemote)).toBe('not_found');
    expect(entries(dest)).toEqual([]); // no file, no temporary file

    // An existing file keeps its content when a download over it fails.
    fs.writeFileSync(path.join(dest, 'keep.txt'), 'old');
    expect((await runCli(['download', '/home/user/nope.txt', path.join(dest, 'keep.txt')], { env })).code).toBe(1);
    expect(fs.readFileSync(path.join(dest, 'keep.txt'), 'utf8')).toBe('old');
    expect(entries(dest)).toEqual(['keep.txt']);

    // A destination under a regular file, and one in a missing directory.
    const underFile = await runCli(['download', 'note.txt', path.join(dest, 'keep.txt', 'x')], { env });
    expect(underFile.code).toBe(1);
    expect(underFile.stderr).toMatch(/^e2b-toolkit: cannot write .*keep\.txt\/x: not a directory \(enotdir\)\n$/);
    const noDir = await runCli(['--json', 'download', 'note.txt', path.join(dest, 'missing', 'x')], { env });
    expect(noDir.code).toBe(1);
    expect(jsonOf(noDir)).toMatchObject({ status: 'error', code: 'enoent' });
    expect(entries(dest)).toEqual(['keep.txt']);
  });
});

describe('e2b-toolkit url', () => {
  it('prints the public URL of a port, which reaches a server in the sandbox', async () => {
    await runCli(['exec', 'mkdir -p /tmp/www && echo served > /tmp/www/index.html'], { env });
    const jobId = (await runCli(['job', 'start', '--cwd', '/tmp/www', 'python3 -m http.server 8000'], { env })).stdout.trim();
    const r = await runCli(['url', '8000', '--wait', '30'], { env });
    expect(r.code).toBe(0);
    const url = r.stdout.trim();
    expect(url).toMatch(/^https?:\/\//);
    expect(await (await fetch(`${url}/index.html`)).text()).toBe('served\n');
    expect(jsonOf(await runCli(['--json', 'url', '8000'], { env }))).toMatchObject({ status: 'success', url, port: 8000, sandbox_id: sandboxId });
    await runCli(['job', 'kill', jobId], { env });

    const bad = await runCli(['url', '70000'], { env });
    expect(bad.code).toBe(2);
    expect(errorCodeOf(bad)).toBe('usage');
  });
});
