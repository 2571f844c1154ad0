// The set of live sandboxes: creating (from the warm pool when the defaults fit, cold
// otherwise), finding, listing and ending them, and a pool of sandboxes started ahead
// of demand so that create is a hand-over, not a boot.
import http2 from 'node:http2';
import type { RuntimeConfig, SandboxLimits } from './config.js';
import { createCgroup, type CgroupVersion } from './cgroups.js';
import { launch } from './launcher.js';
import { newSandboxId, newToken } from './ids.js';
import { Sandbox, type SandboxSettings } from './sandbox.js';
import type { SandboxImage } from './sandbox-image.js';
import { UidSlots } from './uid-slots.js';
import type { Logger } from './log.js';

export class LimitExceededError extends Error {}

function sameLimits(a: SandboxLimits, b: SandboxLimits): boolean {
  return a.memoryMB === b.memoryMB && a.cpuCount === b.cpuCount && a.diskMB === b.diskMB && a.maxProcesses === b.maxProcesses;
}

/** Resolves once the agent answers; it needs a moment to start after the sandbox does. */
async function waitForAgent(session: http2.ClientHttp2Session, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = session.request({ ':path': '/health', 'e2b-sandbox-port': '49983' });
      s.on('response', (h) => resolve(h[':status'] === 204));
      s.on('error', () => resolve(false));
      s.resume();
      s.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the sandbox agent did not become ready');
}

function agentRequest(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = session.request(headers);
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
    s.end(body);
  });
}

/**
 * Runs each of the agent's request paths once before the sandbox is handed out: a new
 * Node process compiles code on first use, which would otherwise land on the user's
 * first command (tens of milliseconds).
 */
async function warmUp(session: http2.ClientHttp2Session): Promise<void> {
  const json = Buffer.from(JSON.stringify({ process: { cmd: '/bin/bash', args: ['-l', '-c', 'true'] } }));
  const envelope = Buffer.alloc(5);
  envelope.writeUInt32BE(json.length, 1);
  const envd = { 'e2b-sandbox-port': '49983', 'connect-protocol-version': '1' };
  await Promise.all([
    agentRequest(session, { ...envd, ':method': 'POST', ':path': '/process.Process/Start', 'content-type': 'application/connect+json' }, Buffer.concat([envelope, json])),
    agentRequest(session, { ...envd, ':method': 'POST', ':path': '/filesystem.Filesystem/Stat', 'content-type': 'application/json' }, Buffer.from('{"path":"/"}')),
    agentRequest(session, { ...envd, ':method': 'GET', ':path': '/files?path=/etc/hostname' }),
    agentRequest(session, { 'e2b-sandbox-port': '49999', ':method': 'GET', ':path': '/contexts' }),
  ]);
}

export class SandboxRegistry {
  private readonly live = new Map<string, Sandbox>();
  private readonly pool: Sandbox[] = [];
  private poolFilling = 0;
  private pending = 0;
  private closed = false;
  private readonly slots: UidSlots;

  constructor(
    private readonly config: RuntimeConfig,
    private readonly cgroupVersion: CgroupVersion,
    private readonly image: SandboxImage,
    private readonly log: Logger,
  ) {
    this.slots = new UidSlots(config.uidBase);
  }

  get(id: string): Sandbox | undefined {
    const s = this.live.get(id);
    return s?.alive ? s : undefined;
  }

  all(): Sandbox[] {
    return [...this.live.values()].filter((s) => s.alive);
  }

  /** Starts a bare sandbox: namespaces, limits, agent up. Not yet anyone's. */
  private async start(limits: SandboxLimits): Promise<Sandbox> {
    const id = newSandboxId();
    const hostUid = this.slots.acquire();
    let cgroup;
    try {
      cgroup = createCgroup(this.cgroupVersion, id, limits, hostUid);
    } catch (err) {
      this.slots.release(hostUid);
      throw err;
    }
    const sbxLog = this.log.child({ sandboxID: id });
    try {
      const conn = await launch(
        {
          id,
          hostUid,
          image: this.image,
          diskMB: limits.diskMB,
          cgroupDirs: cgroup.userDirs,
          python: this.config.python,
          beforeStart: (pid) => cgroup.placeAgent(pid),
        },
        (line) => sbxLog.info({ agent: line }),
      );
      try {
        await waitForAgent(conn.session);
        await warmUp(conn.session);
      } catch (err) {
        process.kill(conn.initPid, 'SIGKILL');
        await conn.exited;
        throw err;
      }
      const sbx = new Sandbox(id, limits, newToken('envd'), newToken('traffic'), hostUid, cgroup, conn, (u) => this.slots.release(u));
      sbx.on('gone', (reason) => {
        this.live.delete(id);
        const i = this.pool.indexOf(sbx);
        if (i >= 0) this.pool.splice(i, 1);
        sbxLog.info({ reason }, 'sandbox ended');
      });
      sbx.on('warning', (err) => sbxLog.warn({ err }, 'teardown problem'));
      return sbx;
    } catch (err) {
      await cgroup.destroy().catch(() => {});
      this.slots.release(hostUid);
      throw err;
    }
  }

  /** Keeps the pool full in the background. */
  fillPool(): void {
    while (!this.closed && this.pool.length + this.poolFilling < this.config.warmPoolSize) {
      this.poolFilling++;
      this.start(this.config.limits)
        .then((s) => {
          if (this.closed) return s.kill('runtime closing');
          this.pool.push(s);
        })
        .catch((err) => this.log.error({ err }, 'could not start a warm sandbox'))
        .finally(() => this.poolFilling--);
    }
  }

  async create(settings: SandboxSettings, limits: SandboxLimits): Promise<Sandbox> {
    if (this.closed) throw new Error('the runtime is shutting down');
    if (this.live.size + this.pending >= this.config.maxSandboxes) {
      throw new LimitExceededError(`at most ${this.config.maxSandboxes} sandboxes may run at once`);
    }
    this.pending++;
    let sbx: Sandbox | undefined;
    try {
      if (sameLimits(limits, this.config.limits)) {
        while (this.pool.length && !sbx) {
          const s = this.pool.shift()!;
          if (s.alive) sbx = s;
        }
      }
      sbx ??= await this.start(limits);
      this.fillPool();
      sbx.settings = { ...settings };
      const status = await sbx.agentCall('/_internal/init', { envVars: settings.envVars });
      if (status !== 204) throw new Error(`sandbox agent refused its settings (${status})`);
      // close() may have run meanwhile: it did not see this sandbox, so it is ours to end.
      if (this.closed) throw new Error('the runtime is shutting down');
      sbx.setTimeout(settings.timeoutSeconds);
      this.live.set(sbx.id, sbx);
      return sbx;
    } catch (err) {
      if (sbx) await sbx.kill('create failed');
      throw err;
    } finally {
      this.pending--;
    }
  }

  async kill(id: string): Promise<boolean> {
    const s = this.get(id);
    if (!s) return false;
    await s.kill('killed');
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.live.values(), ...this.pool];
    await Promise.all(all.map((s) => s.kill('runtime shutdown')));
    // Pool starts still in flight finish and are killed by fillPool's continuation;
    // creates in flight see `closed` and end their sandbox before they settle.
    while (this.poolFilling > 0 || this.pending > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
