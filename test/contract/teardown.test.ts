// Teardown: closing the runtime, killing a sandbox, a sandbox timing out and a sandbox
// whose agent dies each leave nothing behind on the host: no process, no cgroup, no
// claimed uid range, no mount, no temporary directory. A dead agent makes its sandbox
// gone (isRunning false, 502 for traffic) while the runtime and other sandboxes serve on.
//
// The runtimes here are started by the tests themselves, one at a time: cgroups are kept
// per runtime process (rt<pid>), so the last check, that the runtime's whole subtree is
// gone, needs no other runtime alive in this process.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Sandbox, CommandExitError, NotFoundError } from 'e2b';
import { startLocalRuntime, type LocalRuntime } from '../../packages/local/src/index.js';
import { eventually, type RuntimeHandle } from '../support/runtime.js';

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
const UID_SLOTS = '/run/e2b-toolkit/uid-slots';
const RANGE = 65536;

function isV2(): boolean {
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
}

/** This runtime process's cgroup subtrees (one per v1 controller, one on v2). */
function runtimeGroups(): string[] {
  return isV2() ? [`/sys/fs/cgroup/e2b-toolkit/rt${process.pid}`] : CONTROLLERS.map((c) => `/sys/fs/cgroup/${c}/e2b-toolkit/rt${process.pid}`);
}

function sandboxGroups(id: string): string[] {
  return runtimeGroups().map((g) => path.join(g, id));
}

interface ProcInfo {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
}

function procs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = fs.readFileSync(`/proc/${name}/status`, 'utf8');
      out.push({
        pid: Number(name),
        ppid: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]),
        uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]),
        comm: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '',
      });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/**
 * Processes descending from this test process (the runtime runs in it). Other runtimes
 * on the machine may hold uid ranges this one has released, so "a process in the range"
 * alone proves nothing; one of ours in it does.
 */
function mine(all = procs()): ProcInfo[] {
  const parent = new Map(all.map((p) => [p.pid, p.ppid]));
  return all.filter((p) => {
    for (let q = p.ppid, hops = 0; q > 1 && hops < 64; q = parent.get(q) ?? 0, hops++) if (q === process.pid) return true;
    return false;
  });
}

/** What a sandbox is made of on the host, to check afterwards that all of it is gone. */
interface Footprint {
  id: string;
  hostUid: number;
  initPid: number;
  agentPid: number;
  /** Every host pid in the sandbox: init, agent and all user processes. */
  pids: number[];
  groups: string[];
  slotFile: string;
}

function footprint(rt: LocalRuntime, id: string): Footprint {
  const s = rt.registry.get(id);
  if (!s) throw new Error(`sandbox ${id} is not running`);
  const initPid = s.conn.initPid;
  const all = procs();
  const agent = all.find((p) => p.ppid === initPid);
  if (!agent) throw new Error(`no agent under sandbox init ${initPid}`);
  const groups = sandboxGroups(id);
  const users = new Set<number>();
  for (const g of groups) {
    for (const f of ['cgroup.procs', 'user/cgroup.procs', 'agent/cgroup.procs']) {
      try {
        for (const p of fs.readFileSync(path.join(g, f), 'utf8').split('\n').filter(Boolean)) users.add(Number(p));
      } catch {
        /* not on this cgroup version */
      }
    }
  }
  // Everything inside runs as a uid of the sandbox's range.
  for (const p of mine(all)) if (p.uid >= s.hostUid && p.uid < s.hostUid + RANGE) users.add(p.pid);
  return {
    id,
    hostUid: s.hostUid,
    initPid,
    agentPid: agent.pid,
    pids: [...new Set([initPid, agent.pid, ...users])],
    groups,
    slotFile: path.join(UID_SLOTS, String((s.hostUid - rt.config.uidBase) / RANGE)),
  };
}

/** True once nothing of the sandbox is left on the host. */
function goneFromHost(f: Footprint): boolean {
  const live = procs();
  const stillThere = live.filter((p) => f.pids.includes(p.pid) && p.uid >= f.hostUid && p.uid < f.hostUid + RANGE);
  const inRange = mine(live).filter((p) => p.uid >= f.hostUid && p.uid < f.hostUid + RANGE);
  const initAlive = live.some((p) => p.pid === f.initPid && p.comm === 'bwrap');
  const groups = f.groups.filter((g) => fs.existsSync(g));
  const slot = fs.existsSync(f.slotFile) && fs.readFileSync(f.slotFile, 'utf8').trim() === String(process.pid);
  return stillThere.length === 0 && inRange.length === 0 && !initAlive && groups.length === 0 && !slot;
}

function describeLeft(f: Footprint): string {
  const live = mine().filter((p) => p.uid >= f.hostUid && p.uid < f.hostUid + RANGE);
  return JSON.stringify({ processes: live, groups: f.groups.filter((g) => fs.existsSync(g)), slot: fs.existsSync(f.slotFile) });
}

async function expectGone(f: Footprint): Promise<void> {
  await eventually(() => goneFromHost(f), 15_000, 50).catch(() => {
    throw new Error(`sandbox ${f.id} left things behind: ${describeLeft(f)}`);
  });
}

/** Host-side processes that make a sandbox run (the bwrap sandboxes' inits under this runtime). */
function sandboxInits(): ProcInfo[] {
  return procs().filter((p) => p.ppid === process.pid && p.comm === 'bwrap');
}

function dataDirOf(initPid: number): string {
  const args = fs.readFileSync(`/proc/${initPid}/cmdline`, 'utf8').split('\0');
  const bundle = args.find((a) => a.endsWith('/image/agent.mjs'));
  if (!bundle) throw new Error('cannot find the runtime data directory in the sandbox command line');
  return path.dirname(path.dirname(bundle));
}

/** A setsid'd, double-forked daemon that ignores SIGTERM and SIGHUP: the hardest to catch. */
const DAEMON = `setsid sh -c 'trap "" TERM HUP; sleep 900 & sleep 901' </dev/null >/dev/null 2>&1 &`;

/**
 * Ends what a runtime failed to end (by pid, only this process's own sandboxes) and
 * removes their cgroups, so that a runtime bug cannot leak into the rest of the run.
 */
function reapLeftovers(): void {
  for (const p of sandboxInits()) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const g of runtimeGroups()) {
    if (!fs.existsSync(g)) continue;
    for (const d of fs.readdirSync(g, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const dir = path.join(g, d.name);
      const subs = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
      for (const cg of [...subs, dir]) {
        for (let i = 0; i < 50; i++) {
          try {
            for (const pid of fs.readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
          try {
            fs.rmdirSync(cg);
            break;
          } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
          }
        }
      }
    }
    try {
      fs.rmdirSync(g);
    } catch {
      /* still busy */
    }
  }
}

async function startWithRuntime(): Promise<RuntimeHandle> {
  const rt = await startLocalRuntime({ port: 0, warmPoolSize: 1, maxSandboxes: 8 });
  return { rt, opts: { apiKey: 'test-key', apiUrl: rt.url, sandboxUrl: rt.url } };
}

describe('closing the runtime', () => {
  test('every sandbox (busy, daemonized, streaming, pooled) is torn down; nothing is left behind', async () => {
    const { rt, opts } = await startWithRuntime();
    let closed = false;
    try {
      const idle = await Sandbox.create(opts);
      const busy = await Sandbox.create({ ...opts, metadata: { 'toolkit.maxProcesses': '64' } });
      const streaming = await Sandbox.create(opts);
      await busy.commands.run(DAEMON);
      await busy.commands.run(DAEMON, { user: 'root' });
      await busy.commands.run('for i in 1 2; do (while :; do :; done) & done; wait', { background: true });
      await busy.files.write('/home/user/data.bin', new Uint8Array(4 << 20).buffer);
      const seen: string[] = [];
      const ticker = await streaming.commands.run('while :; do echo tick; sleep 0.05; done', {
        background: true,
        onStdout: (d) => void seen.push(d),
      });
      await eventually(() => seen.length > 2);
      // The warm pool refills in the background; wait for it, so that it is torn down too.
      await eventually(() => sandboxInits().length >= 4);

      const prints = [idle, busy, streaming].map((s) => footprint(rt, s.sandboxId));
      const dataDir = dataDirOf(prints[0].initPid);
      expect(fs.existsSync(dataDir)).toBe(true);
      const poolInits = sandboxInits().map((p) => p.pid).filter((p) => !prints.some((f) => f.initPid === p));
      expect(poolInits.length).toBeGreaterThanOrEqual(1);
      const all = procs();
      const poolUids = all.filter((p) => poolInits.includes(p.pid)).map((p) => p.uid);
      const poolPids = all.filter((p) => poolUids.some((u) => p.uid >= u && p.uid < u + RANGE) && mine(all).some((m) => m.pid === p.pid)).map((p) => p.pid);

      await rt.close();
      closed = true;

      for (const f of prints) await expectGone(f);
      // Pooled sandboxes too: their inits and everything in their uid ranges.
      expect(sandboxInits()).toEqual([]);
      for (const uid of poolUids) expect(procs().filter((p) => p.uid >= uid && p.uid < uid + RANGE && poolPids.includes(p.pid))).toEqual([]);
      expect(mine().filter((p) => p.uid >= rt.config.uidBase)).toEqual([]);
      // The runtime's whole cgroup subtree, its data directory, and no mount of it.
      for (const g of runtimeGroups()) expect(fs.existsSync(g), g).toBe(false);
      expect(fs.existsSync(dataDir)).toBe(false);
      expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dataDir);
      // No uid range is still claimed by this process.
      const claimed = fs.existsSync(UID_SLOTS)
        ? fs.readdirSync(UID_SLOTS).filter((n) => {
            try {
              return fs.readFileSync(path.join(UID_SLOTS, n), 'utf8').trim() === String(process.pid);
            } catch {
              return false;
            }
          })
        : [];
      expect(claimed).toEqual([]);

      // Clients find it gone: the stream ends, new calls fail, the port is closed.
      await expect(ticker.wait()).rejects.toThrow();
      await expect(idle.commands.run('echo hi', { requestTimeoutMs: 5_000 })).rejects.toThrow();
      await expect(fetch(`${rt.url}/v2/sandboxes`, { headers: { 'x-api-key': 'k' } })).rejects.toThrow();
      // Closing again is harmless.
      await rt.close();
    } finally {
      if (!closed) await rt.close();
    }
  });
});

describe('one sandbox ending', () => {
  let h: RuntimeHandle;
  let bystander: Sandbox;
  beforeAll(async () => {
    h = await startWithRuntime();
    bystander = await Sandbox.create(h.opts);
  });
  afterAll(async () => {
    await bystander?.kill().catch(() => {});
    await h?.rt.close();
  });

  async function bystanderServes(): Promise<void> {
    expect((await bystander.commands.run('echo still-serving')).stdout).toBe('still-serving\n');
    expect(await bystander.isRunning()).toBe(true);
  }

  /** What clients see of a sandbox that is gone. */
  async function expectReportedGone(sbx: Sandbox): Promise<void> {
    // The runtime notices first (requests that race with the death are the next test's
    // subject); from then on every client call gets a prompt answer.
    await eventually(() => h.rt.registry.get(sbx.sandboxId) === undefined, 15_000, 20);
    expect(await sbx.isRunning({ requestTimeoutMs: 10_000 })).toBe(false);
    await expect(sbx.commands.run('echo hi', { requestTimeoutMs: 5_000 })).rejects.toThrow();
    const r = await fetch(`${h.rt.url}/files?path=x`, {
      headers: { 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': 'whatever' },
    });
    expect(r.status).toBe(502);
    expect(await r.json()).toMatchObject({ code: 502, sandboxId: sbx.sandboxId });
    await expect(Sandbox.getInfo(sbx.sandboxId, h.opts)).rejects.toBeInstanceOf(NotFoundError);
    expect(await Sandbox.kill(sbx.sandboxId, h.opts)).toBe(false);
    const listed = await Sandbox.list(h.opts).nextItems();
    expect(listed.map((s) => s.sandboxId)).not.toContain(sbx.sandboxId);
  }

  /** A sandbox with user processes of every kind, and its host footprint. */
  async function busySandbox(): Promise<{ sbx: Sandbox; f: Footprint }> {
    const sbx = await Sandbox.create(h.opts);
    await sbx.commands.run(DAEMON);
    await sbx.commands.run('sleep 600', { background: true });
    await sbx.commands.run(DAEMON, { user: 'root' });
    const f = footprint(h.rt, sbx.sandboxId);
    expect(f.pids.length).toBeGreaterThanOrEqual(6);
    return { sbx, f };
  }

  test.each([
    ['its agent', (f: Footprint) => f.agentPid],
    ['its init (bwrap)', (f: Footprint) => f.initPid],
  ])('killing %s from the host: the sandbox is reported gone and cleaned up; others serve on', async (_what, pick) => {
    const { sbx, f } = await busySandbox();
    try {
      process.kill(pick(f), 'SIGKILL');
      await expectReportedGone(sbx);
      await expectGone(f);
      await bystanderServes();
      // The runtime still makes new sandboxes (and may reuse the freed uid range).
      const fresh = await Sandbox.create(h.opts);
      try {
        expect((await fresh.commands.run('echo fresh')).stdout).toBe('fresh\n');
      } finally {
        await fresh.kill();
      }
    } finally {
      await sbx.kill().catch(() => {});
    }
  });

  test('a request in flight when the agent dies is answered (502), not left hanging', async () => {
    const { sbx, f } = await busySandbox();
    try {
      // An upload whose body never ends: the agent has not answered it when it dies.
      let pull = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (pull++ === 0) c.enqueue(new TextEncoder().encode('first part of a body that never ends'));
          return new Promise(() => {});
        },
      });
      const upload = sbx.files.write('/home/user/never-finished.txt', body, { requestTimeoutMs: 55_000 }).then(
        () => 'written',
        (e: Error) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      process.kill(f.agentPid, 'SIGKILL');
      // Without an answer the SDK would wait for its own 55 s timeout; 20 s is plenty.
      const settled = await Promise.race([upload, new Promise((r) => setTimeout(() => r('still hanging'), 20_000))]);
      expect(settled).toBeInstanceOf(Error);
      await expectReportedGone(sbx);
      await expectGone(f);
    } finally {
      await sbx.kill().catch(() => {});
    }
  });

  test('root inside killing its own agent ends only that sandbox, which is cleaned up', async () => {
    const { sbx, f } = await busySandbox();
    try {
      await sbx.commands.run('kill -9 -1', { user: 'root', requestTimeoutMs: 10_000 }).catch(() => undefined);
      await expectReportedGone(sbx);
      await expectGone(f);
      await bystanderServes();
    } finally {
      await sbx.kill().catch(() => {});
    }
  });

  test('a user process stream in flight when the agent dies ends with an error, not a hang', async () => {
    const { sbx, f } = await busySandbox();
    try {
      const seen: string[] = [];
      const ticker = await sbx.commands.run('while :; do echo tick; sleep 0.05; done', { background: true, onStdout: (d) => void seen.push(d) });
      await eventually(() => seen.length > 2);
      process.kill(f.agentPid, 'SIGKILL');
      await expect(ticker.wait()).rejects.toThrow();
      await expectReportedGone(sbx);
      await expectGone(f);
    } finally {
      await sbx.kill().catch(() => {});
    }
  });

  test('kill through the SDK leaves nothing behind, a fork bomb and daemons included', async () => {
    const sbx = await Sandbox.create({ ...h.opts, metadata: { 'toolkit.maxProcesses': '40' } });
    await sbx.commands.run(DAEMON);
    await sbx.files.write(
      '/home/user/bomb.py',
      'import os, time\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.setsid()\n    except OSError:\n        time.sleep(0.01)\n',
    );
    await sbx.commands.run('python3 /home/user/bomb.py', { background: true });
    await eventually(() => {
      const pids = fs.readFileSync(path.join(sandboxGroups(sbx.sandboxId)[isV2() ? 0 : 1], isV2() ? 'user/pids.current' : 'pids.current'), 'utf8');
      return Number(pids) >= 30;
    }, 20_000, 50);
    const f = footprint(h.rt, sbx.sandboxId);
    expect(await sbx.kill()).toBe(true);
    await expectGone(f);
    expect(await sbx.isRunning()).toBe(false);
    await bystanderServes();
  });

  test('a sandbox past its timeout is torn down as completely', async () => {
    const { sbx, f } = await busySandbox();
    try {
      await sbx.setTimeout(1_000);
      await expectReportedGone(sbx);
      await expectGone(f);
      await bystanderServes();
    } finally {
      await sbx.kill().catch(() => {});
    }
  });

  test('a command that exits while its daemons run on: the daemons stay until the sandbox ends', async () => {
    const { sbx, f } = await busySandbox();
    try {
      // The starting command has long ended; its daemon is still there, in the sandbox.
      const ps = await sbx.commands.run('ps -eo args | grep -c "^sleep 90[01]$" || true');
      expect(Number(ps.stdout.trim())).toBeGreaterThanOrEqual(2);
      await expect(sbx.commands.run('exit 3')).rejects.toBeInstanceOf(CommandExitError);
    } finally {
      await sbx.kill();
    }
    await expectGone(f);
  });
});

describe('closing the runtime mid-create', () => {
  // Last in the file: when it fails, what it leaks must not disturb other tests.
  test('closing while sandboxes are still being created leaves nothing behind either', async () => {
    const { rt, opts } = await startWithRuntime();
    try {
      // Limits unlike the pool's: each create cold-starts a sandbox, which takes a moment.
      const creating = [0, 1, 2].map(() => Sandbox.create({ ...opts, metadata: { 'toolkit.memoryMB': '200' } }).catch((e: Error) => e));
      await eventually(() => sandboxInits().length >= 3, 10_000, 5);
      await rt.close();
      const results = await Promise.all(creating);
      // Any that were handed out before the close are dead now.
      for (const r of results) if (r instanceof Sandbox) expect(await r.isRunning().catch(() => false)).toBe(false);
      await eventually(() => sandboxInits().length === 0, 10_000, 50).catch(() => {
        throw new Error(`sandboxes left running after close: ${JSON.stringify(sandboxInits())}`);
      });
      for (const g of runtimeGroups()) expect(fs.existsSync(g), g).toBe(false);
    } finally {
      await rt.close();
      reapLeftovers();
    }
  });
});
