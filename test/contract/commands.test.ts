// envd's process API (wire protocol §3.3) through the official SDK: foreground and
// background commands, output streaming, stdin, signals to whole process trees, users,
// envs, cwd, deadlines, and the errors bad input gets.
import { describe, expect, test } from 'vitest';
import { Sandbox, CommandExitError, InvalidArgumentError, TimeoutError } from 'e2b';
import { useRuntime, eventually, jsonOf, useSandbox } from '../support/runtime.js';

const h = useRuntime();
let sbx: Sandbox;
useSandbox(() => Sandbox.create({ ...h.opts, envs: { SANDBOX_WIDE: 'everywhere' } }), (s) => (sbx = s));

describe('foreground commands', () => {
  test('stdout, stderr and exit code', async () => {
    const r = await sbx.commands.run('echo out; echo err >&2; exit 0');
    expect(r).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
    const err = await sbx.commands.run('echo partial; exit 3').catch((e: CommandExitError) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect(err.exitCode).toBe(3);
    expect(err.stdout).toBe('partial\n');
    expect(err.error).toBe('exit status 3');
  });

  test('runs as `user` in /home/user by default; root, cwd and envs on request', async () => {
    expect((await sbx.commands.run('id -un; pwd; echo $HOME')).stdout).toBe('user\n/home/user\n/home/user\n');
    expect((await sbx.commands.run('id -u', { user: 'root' })).stdout).toBe('0\n');
    await sbx.commands.run('mkdir -p /tmp/work');
    expect((await sbx.commands.run('pwd', { cwd: '/tmp/work' })).stdout).toBe('/tmp/work\n');
    const env = await sbx.commands.run('echo "$SANDBOX_WIDE $PER_CALL"', { envs: { PER_CALL: 'here' } });
    expect(env.stdout).toBe('everywhere here\n');
    // Per-call envs do not leak into the next call.
    expect((await sbx.commands.run('echo "[$PER_CALL]"')).stdout).toBe('[]\n');
  });

  test('a missing cwd or an unknown user is a typed error', async () => {
    await expect(sbx.commands.run('pwd', { cwd: '/nope' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sbx.commands.run('true', { user: 'mallory' as 'user' })).rejects.toThrow(/mallory/);
  });

  test('output callbacks receive chunks as they are written, split characters intact', async () => {
    const seen: string[] = [];
    const r = await sbx.commands.run(`printf 'h\\xc3'; sleep 0.2; printf '\\xa9llo\\n'; echo done`, {
      onStdout: (d) => void seen.push(d),
    });
    expect(r.stdout).toBe('héllo\ndone\n');
    expect(seen.join('')).toBe('héllo\ndone\n');
    expect(seen.length).toBeGreaterThan(1);
  });

  test('binary output and large output arrive in full', async () => {
    const r = await sbx.commands.run('head -c 5000000 /dev/zero | tr "\\0" "a"; echo');
    expect(r.stdout.length).toBe(5_000_001);
  });

  test('the client deadline kills the command', async () => {
    await expect(sbx.commands.run('sleep 30', { timeoutMs: 500 })).rejects.toBeInstanceOf(TimeoutError);
    await eventually(async () => !(await sbx.commands.list()).some((p) => p.args.includes('sleep 30')));
  });
});

describe('background commands', () => {
  test('streams output live, waits, and survives a client that detaches', async () => {
    const lines: string[] = [];
    const handle = await sbx.commands.run('for i in 1 2 3; do echo line$i; sleep 0.1; done', {
      background: true,
      onStdout: (d) => void lines.push(d),
    });
    expect(handle.pid).toBeGreaterThan(0);
    const result = await handle.wait();
    expect(result.stdout).toBe('line1\nline2\nline3\n');
    expect(lines.join('')).toBe('line1\nline2\nline3\n');
  });

  test('timeoutMs: 0 keeps a long command running; list, connect and kill it', async () => {
    const handle = await sbx.commands.run('echo started; sleep 600', { background: true, timeoutMs: 0 });
    const listed = await sbx.commands.list();
    expect(listed.some((p) => p.pid === handle.pid && p.cmd === '/bin/bash')).toBe(true);
    await handle.disconnect();
    // Another connection attaches to the still-running process.
    const again = await sbx.commands.connect(handle.pid);
    expect(again.pid).toBe(handle.pid);
    expect(await sbx.commands.kill(handle.pid)).toBe(true);
    const end = await again.wait().catch((e: CommandExitError) => e);
    expect(end).toBeInstanceOf(CommandExitError);
    expect(end.error).toBe('signal: killed');
    expect(await sbx.commands.kill(handle.pid)).toBe(false);
  });

  test('kill takes the whole process tree, including children that left the group', async () => {
    const handle = await sbx.commands.run('sleep 1001 & setsid sleep 1002 & (sleep 1003 &) ; sleep 1004', {
      background: true,
      timeoutMs: 0,
    });
    await eventually(async () => (await sbx.commands.run('pgrep -c -f "sleep 100[1-4]" || true')).stdout.trim() === '4');
    await handle.kill();
    await eventually(async () => (await sbx.commands.run('pgrep -f "sleep 100[1-4]" || true')).stdout.trim() === '');
  });

  test('stdin: send input, then close it', async () => {
    const handle = await sbx.commands.run('cat', { background: true, stdin: true });
    await sbx.commands.sendStdin(handle.pid, 'hello ');
    await sbx.commands.sendStdin(handle.pid, 'stdin\n');
    await sbx.commands.closeStdin(handle.pid);
    const r = await handle.wait();
    expect(r.stdout).toBe('hello stdin\n');
  });

  test('stdin of a command started without it, and unknown pids', async () => {
    const handle = await sbx.commands.run('sleep 5', { background: true });
    await expect(sbx.commands.sendStdin(handle.pid, 'x')).rejects.toThrow(/stdin was not enabled/);
    await handle.kill();
    expect(await sbx.commands.kill(999_999)).toBe(false);
    await expect(sbx.commands.sendStdin(999_999, 'x')).rejects.toThrow(/not found/);
    await expect(sbx.commands.connect(999_999)).rejects.toThrow(/not found/);
  });

  test('a command that prints forever can be stopped, and the sandbox keeps serving', async () => {
    let bytes = 0;
    const handle = await sbx.commands.run('yes flood', { background: true, timeoutMs: 0, onStdout: (d) => void (bytes += d.length) });
    await eventually(() => bytes > 1_000_000);
    await handle.kill();
    expect((await sbx.commands.run('echo after-flood')).stdout).toBe('after-flood\n');
  });
});

describe('access control', () => {
  test('a wrong access token is refused', async () => {
    const r = await fetch(h.rt.url + '/process.Process/List', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': 'wrong' },
      body: '{}',
    });
    expect(r.status).toBe(401);
    expect((await jsonOf(r)).code).toBe('unauthenticated');
  });

  test('malformed Connect requests get Connect errors', async () => {
    const headers = {
      'e2b-sandbox-id': sbx.sandboxId,
      'e2b-sandbox-port': '49983',
      'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken,
      'content-type': 'application/json',
    };
    const bad = await fetch(h.rt.url + '/process.Process/List', { method: 'POST', headers, body: '{nope' });
    expect(bad.status).toBe(400);
    expect((await jsonOf(bad)).code).toBe('invalid_argument');
    const unknown = await fetch(h.rt.url + '/process.Process/Nope', { method: 'POST', headers, body: '{}' });
    expect(unknown.status).toBe(404);
    // A stream request whose envelope is cut short.
    const cut = await fetch(h.rt.url + '/process.Process/Start', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/connect+json' },
      body: Buffer.from([0, 0, 0, 1, 0, 123]),
    });
    const text = Buffer.from(await cut.arrayBuffer()).toString('utf8');
    expect(text).toMatch(/invalid_argument|protocol error/);
    expect((await sbx.commands.run('echo fine')).stdout).toBe('fine\n');
  });

  test('requests for an unknown sandbox get the 502 body', async () => {
    const r = await fetch(h.rt.url + '/health', { headers: { 'e2b-sandbox-id': 'nosuchsandbox', 'e2b-sandbox-port': '49983' } });
    expect(r.status).toBe(502);
    expect(await r.json()).toEqual({ sandboxId: 'nosuchsandbox', message: 'The sandbox was not found', code: 502 });
    const half = await fetch(h.rt.url + '/health', { headers: { 'e2b-sandbox-id': 'x' } });
    expect(half.status).toBe(400);
  });
});
