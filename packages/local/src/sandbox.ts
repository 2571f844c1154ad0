// One live sandbox: its identity and settings, the agent session, its limits, its
// expiry, and a teardown that leaves nothing behind (processes, cgroups, uid range,
// port listeners).
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import type { AgentConnection } from './launcher.js';
import type { SandboxCgroup } from './cgroups.js';
import type { SandboxLimits } from './config.js';

export const ENVD_VERSION = '0.5.7';

export interface SandboxSettings {
  templateID: string;
  alias?: string;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  timeoutSeconds: number;
}

export class Sandbox extends EventEmitter {
  readonly startedAt = new Date();
  endAt: Date;
  settings: SandboxSettings;
  state: 'running' | 'stopping' | 'gone' = 'running';
  private timer: NodeJS.Timeout | undefined;
  private teardown: Promise<void> | undefined;
  /** Things to close with the sandbox (exposed-port listeners). */
  readonly closers = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly limits: SandboxLimits,
    readonly envdAccessToken: string,
    readonly trafficAccessToken: string,
    readonly hostUid: number,
    readonly cgroup: SandboxCgroup,
    readonly conn: AgentConnection,
    private readonly releaseUid: (uid: number) => void,
  ) {
    super();
    this.settings = { templateID: 'base', metadata: {}, envVars: {}, timeoutSeconds: 0 };
    this.endAt = new Date(8.64e15);
    // The agent (and with it the sandbox's init) ending on its own means the sandbox is gone.
    conn.exited.then(() => void this.kill('agent exited'));
    conn.session.once('close', () => void this.kill('agent session closed'));
  }

  get alive(): boolean {
    return this.state === 'running';
  }

  /** Sets expiry to now + seconds, extending or shortening it (as E2B does). */
  setTimeout(seconds: number): void {
    this.settings.timeoutSeconds = seconds;
    this.endAt = new Date(Date.now() + seconds * 1000);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.kill('timeout'), Math.max(0, seconds * 1000));
  }

  /** Calls the agent itself (not on a client's behalf). */
  agentCall(path: string, body: unknown): Promise<number> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.conn.session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
      } catch (err) {
        return reject(err);
      }
      stream.on('response', (h) => {
        stream.resume();
        stream.on('end', () => resolve(Number(h[':status'])));
      });
      stream.on('error', reject);
      stream.on('close', () => reject(new Error(`agent stream closed (code ${stream.rstCode})`)));
      stream.end(JSON.stringify(body));
    });
  }

  kill(reason: string): Promise<void> {
    if (this.teardown) return this.teardown;
    this.state = 'stopping';
    this.emit('stopping', reason);
    if (this.timer) clearTimeout(this.timer);
    this.teardown = (async () => {
      for (const close of this.closers) close();
      this.closers.clear();
      try {
        process.kill(this.conn.initPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      this.conn.session.destroy();
      await this.conn.exited;
      await this.cgroup.destroy().catch((err) => this.emit('warning', err));
      this.releaseUid(this.hostUid);
      this.state = 'gone';
      this.emit('gone', reason);
    })();
    return this.teardown;
  }
}
