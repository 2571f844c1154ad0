// Limits: memory, process count, CPU share and disk per sandbox, set per create through
// metadata and enforced by the kernel. Each bomb (memory, fork, disk, CPU, output flood)
// is contained: the sandbox's own agent keeps answering, and so does a second sandbox.
// Kernel enforcement is read from the host side (the sandbox's cgroup files), never
// inferred from timings.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Sandbox, CommandExitError, NotEnoughSpaceError, type CommandResult } from 'e2b';
import { useRuntime, withSandbox, eventually } from '../support/runtime.js';

const h = useRuntime({ maxSandboxes: 6 });

/** A second sandbox that must keep answering while another one misbehaves. */
let bystander: Sandbox;
beforeAll(async () => {
  bystander = await Sandbox.create(h.opts);
});
afterAll(async () => {
  await bystander?.kill().catch(() => {});
});

async function bystanderAnswers(): Promise<void> {
  const marker = `still-here-${Math.random().toString(36).slice(2)}`;
  expect((await bystander.commands.run(`echo ${marker}`)).stdout).toBe(`${marker}\n`);
  await bystander.files.write('/home/user/alive.txt', marker);
  expect(await bystander.files.read('/home/user/alive.txt')).toBe(marker);
}

/** Runs a command; a non-zero exit is a result, not an exception. */
async function sh(sbx: Sandbox, cmd: string, opts: { user?: 'root' | 'user'; timeoutMs?: number } = {}): Promise<CommandResult> {
  try {
    return await sbx.commands.run(cmd, { timeoutMs: 30_000, ...opts });
  } catch (err) {
    if (err instanceof CommandExitError) return err;
    throw err;
  }
}

/** The host-side cgroup directory of a sandbox's user processes, for one v1 controller. */
function cgroupDir(sbx: Sandbox, controller: 'memory' | 'pids' | 'cpu'): string {
  const s = h.rt.registry.get(sbx.sandboxId);
  if (!s) throw new Error(`sandbox ${sbx.sandboxId} is not running`);
  const d = s.cgroup.userDirs.find((u) => u.name === controller || u.name === 'unified');
  if (!d) throw new Error(`no ${controller} cgroup for ${sbx.sandboxId}`);
  return d.hostDir;
}

const isV2 = () => h.rt.registry.get(bystander.sandboxId)!.cgroup.userDirs[0].name === 'unified';

function cgRead(sbx: Sandbox, controller: 'memory' | 'pids' | 'cpu', v1File: string, v2File: string): string {
  return fs.readFileSync(path.join(cgroupDir(sbx, controller), isV2() ? v2File : v1File), 'utf8');
}

/** A `key value` line from a flat-keyed cgroup file (oom_control, pids.events, cpu.stat). */
function keyed(text: string, key: string): number {
  const m = new RegExp(`^${key}\\s+(\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The host pid of the agent: the one child of the sandbox's init that is node. */
function agentPidOf(initPid: number): number {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat)!;
      if (Number(rest.split(' ')[1]) === initPid && comm === 'node') return Number(name);
    } catch {
      /* gone */
    }
  }
  throw new Error(`no agent under ${initPid}`);
}

describe('limits are set per create and written to the kernel', () => {
  test('metadata overrides land in the sandbox’s cgroups and tmpfs sizes; defaults otherwise', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        const info = await sbx.getInfo();
        expect(info.memoryMB).toBe(192);
        expect(info.cpuCount).toBe(0.5);
        if (isV2()) {
          expect(Number(cgRead(sbx, 'memory', '', 'memory.max'))).toBe(192 * 2 ** 20);
          expect(Number(cgRead(sbx, 'pids', '', 'pids.max'))).toBe(77);
          expect(cgRead(sbx, 'cpu', '', 'cpu.max').trim()).toBe('50000 100000');
        } else {
          expect(Number(cgRead(sbx, 'memory', 'memory.limit_in_bytes', ''))).toBe(192 * 2 ** 20);
          expect(Number(cgRead(sbx, 'pids', 'pids.max', ''))).toBe(77);
          expect(Number(cgRead(sbx, 'cpu', 'cpu.cfs_quota_us', ''))).toBe(50_000);
          expect(Number(cgRead(sbx, 'cpu', 'cpu.cfs_period_us', ''))).toBe(100_000);
        }
        const df = await sh(sbx, 'df -k --output=size /home/user /tmp | tail -n 2');
        expect(df.stdout.trim().split(/\s+/).map(Number)).toEqual([96 * 1024, 96 * 1024]);
        // User processes are inside those limits (the sandbox's init too); the agent is not.
        expect((await sh(sbx, 'cat /proc/self/cgroup')).stdout).toContain(sbx.sandboxId);
        const procs = cgRead(sbx, 'pids', 'cgroup.procs', 'cgroup.procs').split('\n').filter(Boolean).map(Number);
        const initPid = h.rt.registry.get(sbx.sandboxId)!.conn.initPid;
        expect(procs).toContain(initPid);
        expect(procs).not.toContain(agentPidOf(initPid));
      },
      { metadata: { 'toolkit.memoryMB': '192', 'toolkit.cpuCount': '0.5', 'toolkit.diskMB': '96', 'toolkit.maxProcesses': '77' } },
    );
    // The bystander has the runtime's defaults.
    const d = h.rt.config.limits;
    if (!isV2()) {
      expect(Number(cgRead(bystander, 'memory', 'memory.limit_in_bytes', ''))).toBe(d.memoryMB * 2 ** 20);
      expect(Number(cgRead(bystander, 'pids', 'pids.max', ''))).toBe(d.maxProcesses);
    }
    const df = await sh(bystander, 'df -k --output=size /home/user | tail -n 1');
    expect(Number(df.stdout.trim())).toBe(d.diskMB * 1024);
  });
});

describe('bombs are contained', () => {
  test('memory bomb: the hog is OOM-killed inside its limit, the agent and a second sandbox keep answering', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        // One bomb in the foreground: killed by the kernel, reported as an error.
        const hog = 'import time\nchunks = []\nwhile True:\n    chunks.append(b"\\x01" * (8 << 20))\n';
        await sbx.files.write('/home/user/hog.py', hog);
        const once = await sh(sbx, 'python3 /home/user/hog.py');
        expect(once.exitCode).not.toBe(0);
        expect(`${once.error} ${once.exitCode}`).toMatch(/killed|137|-1/);

        // Then bombs over and over in the background, while we keep talking to it.
        const loop = await sbx.commands.run('while true; do python3 /home/user/hog.py; done', { background: true });
        try {
          const oomKills = () =>
            isV2() ? keyed(cgRead(sbx, 'memory', '', 'memory.events'), 'oom_kill') : keyed(cgRead(sbx, 'memory', 'memory.oom_control', ''), 'oom_kill');
          const before = oomKills();
          await eventually(() => oomKills() >= before + 2, 30_000, 50);
          // The agent is outside the limit: it answers, and new processes still start.
          expect((await sbx.commands.run('echo agent-answers')).stdout).toBe('agent-answers\n');
          await sbx.files.write('/home/user/note.txt', 'written during the bomb');
          expect(await sbx.files.read('/home/user/note.txt')).toBe('written during the bomb');
          await bystanderAnswers();
          // The kernel held the line: the group never went past its limit.
          const peak = isV2() ? Number(cgRead(sbx, 'memory', '', 'memory.peak')) : Number(cgRead(sbx, 'memory', 'memory.max_usage_in_bytes', ''));
          expect(peak).toBeLessThanOrEqual(128 * 2 ** 20);
        } finally {
          await loop.kill();
        }
        await expect(loop.wait()).rejects.toBeInstanceOf(CommandExitError);
        expect((await sbx.commands.run('echo after')).stdout).toBe('after\n');
        const info = await sbx.getInfo();
        expect(info.state).toBe('running');
      },
      { metadata: { 'toolkit.memoryMB': '128' } },
    );
  });

  test('fork bomb: the process count is capped, the agent and a second sandbox answer, and it can be killed', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        const bomb = await sbx.commands.run(':(){ :|:& };:', { background: true });
        const current = () => Number(cgRead(sbx, 'pids', 'pids.current', 'pids.current'));
        const refused = () => keyed(cgRead(sbx, 'pids', 'pids.events', 'pids.events'), 'max');
        try {
          // The kernel refuses forks past the limit (and keeps refusing them).
          await eventually(() => refused() > 0, 30_000, 50);
          expect(current()).toBeLessThanOrEqual(64);
          await bystanderAnswers();
          // The agent itself is not counted: file calls still work.
          await sbx.files.write('/home/user/during.txt', 'ok');
          expect((await sbx.files.list('/home/user')).map((e) => e.name)).toContain('during.txt');
        } finally {
          await bomb.kill();
        }
        // Killing the command's process group ends the whole bomb: the command ends only
        // once the last process holding its output is gone.
        // (Its exit status is the first shell's, which may well have exited 0 long ago.)
        await bomb.wait().catch(() => undefined);
        await eventually(async () => !(await sbx.commands.list()).some((p) => p.pid === bomb.pid), 20_000, 50);
        expect(current()).toBeLessThan(32);
        expect((await sbx.commands.run('echo survived')).stdout).toBe('survived\n');
        expect(await sbx.isRunning()).toBe(true);
        await bystanderAnswers();
      },
      { metadata: { 'toolkit.maxProcesses': '64' } },
    );
  });

  test('fork bomb that leaves its process group: still capped, and killing the sandbox ends it', async () => {
    const sbx = await Sandbox.create({ ...h.opts, metadata: { 'toolkit.maxProcesses': '48' } });
    let pidsDir = '';
    try {
      pidsDir = cgroupDir(sbx, 'pids');
      await sbx.files.write(
        '/home/user/bomb.py',
        'import os, time\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.setsid()\n    except OSError:\n        time.sleep(0.01)\n',
      );
      await sbx.commands.run('python3 /home/user/bomb.py', { background: true });
      const refused = () => keyed(cgRead(sbx, 'pids', 'pids.events', 'pids.events'), 'max');
      await eventually(() => refused() > 0, 30_000, 50);
      expect(Number(cgRead(sbx, 'pids', 'pids.current', 'pids.current'))).toBeLessThanOrEqual(48);
      await bystanderAnswers();
      expect((await sbx.files.list('/home/user')).map((e) => e.name)).toContain('bomb.py');
    } finally {
      await sbx.kill();
    }
    expect(fs.existsSync(pidsDir)).toBe(false);
    await bystanderAnswers();
  });

  test('disk fill: writes stop at the size limit with "No space left", the SDK gets NotEnoughSpaceError', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        const fill = await sh(sbx, 'dd if=/dev/zero of=/home/user/fill bs=1M count=200');
        expect(fill.exitCode).not.toBe(0);
        expect(fill.stderr).toMatch(/No space left on device/);
        const size = Number((await sh(sbx, 'stat -c %s /home/user/fill')).stdout.trim());
        expect(size).toBeLessThanOrEqual(64 * 2 ** 20);
        expect(size).toBeGreaterThan(32 * 2 ** 20);
        // /tmp has its own limit, as full a stop.
        const tmp = await sh(sbx, 'dd if=/dev/zero of=/tmp/fill bs=1M count=200');
        expect(tmp.stderr).toMatch(/No space left on device/);
        // An upload into the full disk: a clear error, and no partial file left behind.
        await expect(sbx.files.write('/home/user/more.bin', 'x'.repeat(1 << 20))).rejects.toBeInstanceOf(NotEnoughSpaceError);
        await sh(sbx, 'rm -f /home/user/fill');
        // An upload bigger than the whole disk, into an empty one.
        await expect(sbx.files.write('/home/user/huge.bin', new Uint8Array(80 * 2 ** 20).buffer)).rejects.toBeInstanceOf(NotEnoughSpaceError);
        expect((await sh(sbx, 'ls -A /home/user')).stdout).not.toMatch(/huge|upload/);
        // The sandbox works on, and the space is usable again.
        await sbx.files.write('/home/user/small.txt', 'fits');
        expect((await sbx.commands.run('cat /home/user/small.txt')).stdout).toBe('fits');
        await bystanderAnswers();
        // The bystander's disk is its own: nothing of this fill shows in it.
        const free = await sh(bystander, 'df -k --output=used /home/user | tail -n 1');
        expect(Number(free.stdout.trim())).toBeLessThan(16 * 1024);
      },
      { metadata: { 'toolkit.diskMB': '64' } },
    );
  });

  test('CPU hog: user code is throttled to its share, the agent and a second sandbox answer', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        const hog = await sbx.commands.run('for i in 1 2 3 4; do (while :; do :; done) & done; wait', { background: true });
        const throttled = () =>
          isV2() ? keyed(cgRead(sbx, 'cpu', '', 'cpu.stat'), 'nr_throttled') : keyed(cgRead(sbx, 'cpu', 'cpu.stat', ''), 'nr_throttled');
        try {
          const before = throttled();
          await eventually(() => throttled() > before + 2, 30_000, 50);
          for (let i = 0; i < 3; i++) expect((await sbx.commands.run(`echo ok-${i}`)).stdout).toBe(`ok-${i}\n`);
          await sbx.files.write('/home/user/cpu.txt', 'busy');
          expect(await sbx.files.read('/home/user/cpu.txt')).toBe('busy');
          await bystanderAnswers();
          expect((await sbx.commands.list()).map((p) => p.pid)).toContain(hog.pid);
        } finally {
          await hog.kill();
        }
        expect((await sbx.commands.run('echo done')).stdout).toBe('done\n');
      },
      { metadata: { 'toolkit.cpuCount': '0.5' } },
    );
  });
});

describe('output', () => {
  test('an output flood leaves the runtime, the sandbox and a second sandbox working', async () => {
    await withSandbox(h, async (sbx) => {
      let received = 0;
      const flood = await sbx.commands.run('yes flood-flood-flood-flood-flood', {
        background: true,
        onStdout: (d) => {
          received += d.length;
        },
      });
      try {
        await eventually(() => received > 8 * 2 ** 20, 30_000, 50);
        expect((await sbx.commands.run('echo beside-the-flood')).stdout).toBe('beside-the-flood\n');
        await bystanderAnswers();
        const r = await fetch(`${h.rt.url}/v2/sandboxes`, { headers: { 'x-api-key': 'k' } });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        const mark = received;
        await eventually(() => received > mark, 10_000, 20);
      } finally {
        await flood.kill();
      }
      await expect(flood.wait()).rejects.toBeInstanceOf(CommandExitError);
      expect((await sbx.commands.list()).map((p) => p.pid)).not.toContain(flood.pid);
    });
  });

  test('a large but finite output arrives complete and in order', async () => {
    await withSandbox(h, async (sbx) => {
      const n = 400_000;
      const r = await sbx.commands.run(`seq 1 ${n}`, { timeoutMs: 60_000 });
      const lines = r.stdout.split('\n');
      expect(lines).toHaveLength(n + 1);
      expect(lines[0]).toBe('1');
      expect(lines[n - 1]).toBe(String(n));
      expect(lines.slice(0, n).every((l, i) => l === String(i + 1))).toBe(true);
      const big = await sbx.commands.run('head -c 20000000 /dev/zero | tr "\\0" a', { timeoutMs: 60_000 });
      expect(big.stdout.length).toBe(20_000_000);
      expect(/^a+$/.test(big.stdout)).toBe(true);
    });
  });

  test('a client that disconnects mid-stream: the process keeps running and can be reattached and killed', async () => {
    await withSandbox(h, async (sbx) => {
      const seen: string[] = [];
      const ticker = await sbx.commands.run('i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.05; done', {
        background: true,
        onStdout: (d) => void seen.push(d),
      });
      await eventually(() => seen.join('').includes('tick-3'));
      await ticker.disconnect();
      expect((await sbx.commands.list()).map((p) => p.pid)).toContain(ticker.pid);
      // Reattach: new output arrives on the new stream.
      const later: string[] = [];
      const again = await sbx.commands.connect(ticker.pid, { onStdout: (d) => void later.push(d) });
      await eventually(() => /tick-\d+/.test(later.join('')));
      expect(await sbx.commands.kill(ticker.pid)).toBe(true);
      await expect(again.wait()).rejects.toBeInstanceOf(CommandExitError);
      await eventually(async () => !(await sbx.commands.list()).some((p) => p.pid === ticker.pid));
      expect(await sbx.commands.kill(ticker.pid)).toBe(false);

      // A flood whose client goes away does not wedge anything: with no reader the
      // output is dropped, the process runs on, and it can still be killed.
      let got = 0;
      const flood = await sbx.commands.run('yes', { background: true, onStdout: (d) => void (got += d.length) });
      await eventually(() => got > 2 ** 20);
      await flood.disconnect();
      expect((await sbx.commands.run('echo after-disconnect')).stdout).toBe('after-disconnect\n');
      const cpuBefore = await sh(sbx, `cat /proc/${flood.pid}/stat`);
      expect(cpuBefore.exitCode).toBe(0);
      expect(await sbx.commands.kill(flood.pid)).toBe(true);
      await eventually(async () => !(await sbx.commands.list()).some((p) => p.pid === flood.pid));
      await bystanderAnswers();
    });
  });

  test('a client that aborts a foreground command’s stream does not kill the runtime or the sandbox', async () => {
    await withSandbox(h, async (sbx) => {
      const controller = new AbortController();
      const running = sbx.commands.run('yes abort-me', { signal: controller.signal, onStdout: () => {} });
      await new Promise((r) => setTimeout(r, 300));
      controller.abort();
      await expect(running).rejects.toThrow();
      expect((await sbx.commands.run('echo after-abort')).stdout).toBe('after-abort\n');
      // The aborted command keeps running (as in envd: only a timeout kills it); clean up.
      for (const p of await sbx.commands.list()) if (p.cmd === '/bin/bash' && p.args.join(' ').includes('abort-me')) await sbx.commands.kill(p.pid);
      await eventually(async () => !(await sbx.commands.list()).some((p) => p.args.join(' ').includes('abort-me')));
      await bystanderAnswers();
    });
  });
});
