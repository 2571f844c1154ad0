// Processes started through the envd Process API: their output fan-out to any number of
// attached streams, stdin, signals and the end event. A process keeps running when its
// client goes away (only Connect-Timeout-Ms kills it, as in envd).
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ConnectError, Code } from '@connectrpc/connect';
import { Channel } from './channel.js';
import { signalTree } from './kill-tree.js';
import { Spawner, baseEnv, WRAPPER_FAILED } from './spawn.js';
import type { SandboxUser } from './users.js';

export type ProcEvent =
  | { case: 'start'; value: { pid: number } }
  | { case: 'data'; value: { output: { case: 'stdout' | 'stderr'; value: Uint8Array } } }
  | { case: 'end'; value: EndInfo }
  | { case: 'keepalive'; value: Record<string, never> };

export interface EndInfo {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

export interface ProcessSpec {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
  tag?: string;
  stdin: boolean;
  user: SandboxUser;
}

const SIGNAL_TEXT: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGPIPE: 'broken pipe',
  SIGQUIT: 'quit',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
};

/** Go's os.ProcessState wording, which the SDK shows users as the command's error. */
export function endInfo(code: number | null, signal: NodeJS.Signals | null): EndInfo {
  if (signal) {
    const text = `signal: ${SIGNAL_TEXT[signal] ?? signal}`;
    return { exitCode: -1, exited: false, status: text, error: text };
  }
  const c = code ?? -1;
  const status = `exit status ${c}`;
  return c === 0 ? { exitCode: 0, exited: true, status } : { exitCode: c, exited: true, status, error: status };
}

type Subscriber = Channel<ProcEvent>;

export class ManagedProcess {
  readonly subscribers = new Set<Subscriber>();
  ended: EndInfo | null = null;
  private paused = false;

  constructor(
    readonly pid: number,
    readonly spec: ProcessSpec,
    readonly cwd: string,
    readonly child: ChildProcess,
  ) {}

  /** Attach a stream. Output from now on is delivered; earlier output is not replayed. */
  subscribe(keepaliveMs: number): Subscriber {
    const ch = new Channel<ProcEvent>(4 << 20, keepaliveMs, () => ({ case: 'keepalive', value: {} }));
    ch.push({ case: 'start', value: { pid: this.pid } });
    if (this.ended) {
      ch.push({ case: 'end', value: this.ended });
      ch.close();
    } else {
      this.subscribers.add(ch);
    }
    return ch;
  }

  unsubscribe(ch: Subscriber): void {
    this.subscribers.delete(ch);
    ch.close();
    this.maybeResume();
  }

  emitData(kind: 'stdout' | 'stderr', chunk: Buffer): void {
    let behind = false;
    for (const s of this.subscribers) {
      if (!s.push({ case: 'data', value: { output: { case: kind, value: chunk } } }, chunk.length)) {
        behind = true;
        s.onDrain(() => this.maybeResume());
      }
    }
    // Backpressure: a slow reader slows the process (its writes block) rather than
    // growing the agent's memory. With no reader attached, output is drained and dropped.
    if (behind && !this.paused) {
      this.paused = true;
      this.child.stdout?.pause();
      this.child.stderr?.pause();
    }
  }

  private maybeResume(): void {
    if (!this.paused) return;
    for (const s of this.subscribers) if (s.full) return;
    this.paused = false;
    this.child.stdout?.resume();
    this.child.stderr?.resume();
  }

  finish(info: EndInfo): void {
    this.ended = info;
    for (const s of this.subscribers) {
      s.push({ case: 'end', value: info });
      s.close();
    }
    this.subscribers.clear();
  }

  signal(sig: 'SIGKILL' | 'SIGTERM'): void {
    if (!this.ended) signalTree(this.pid, sig);
  }
}

export class ProcessTable {
  private readonly running = new Map<number, ManagedProcess>();
  /** Ended processes stay reachable by Connect for a while, then are forgotten. */
  private readonly recent = new Map<number, ManagedProcess>();
  globalEnv: Record<string, string> = {};

  constructor(private readonly spawner: Spawner, private readonly retainEndedMs = 60_000) {}

  start(spec: ProcessSpec): ManagedProcess {
    if (!spec.cmd) throw new ConnectError('process.cmd is required', Code.InvalidArgument);
    if (spec.tag && this.byTag(spec.tag)) {
      throw new ConnectError(`a running process already has tag '${spec.tag}'`, Code.AlreadyExists);
    }
    const cwd = spec.cwd ? path.resolve(spec.user.home, spec.cwd) : spec.user.home;
    let st: fs.Stats;
    try {
      st = fs.statSync(cwd);
    } catch {
      throw new ConnectError(`cwd '${cwd}' does not exist`, Code.InvalidArgument);
    }
    if (!st.isDirectory()) throw new ConnectError(`cwd '${cwd}' is not a directory`, Code.InvalidArgument);

    const child = this.spawner.spawn({
      cmd: spec.cmd,
      args: spec.args,
      user: spec.user,
      env: { ...baseEnv(spec.user), ...this.globalEnv, ...spec.envs },
      cwd,
      stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) {
      throw new ConnectError('could not start the process (sandbox out of resources?)', Code.ResourceExhausted);
    }
    const proc = new ManagedProcess(child.pid, spec, cwd, child);
    this.running.set(proc.pid, proc);
    child.stdin?.on('error', () => {});
    child.stdout!.on('data', (c: Buffer) => proc.emitData('stdout', c));
    child.stderr!.on('data', (c: Buffer) => proc.emitData('stderr', c));
    child.on('error', () => {});
    child.on('close', (code, signal) => {
      let info = endInfo(code, signal);
      if (code === WRAPPER_FAILED) {
        info = { ...info, error: 'could not place the process in the sandbox cgroup (process limit reached?)' };
      }
      proc.finish(info);
      this.running.delete(proc.pid);
      this.recent.set(proc.pid, proc);
      setTimeout(() => this.recent.delete(proc.pid), this.retainEndedMs).unref();
    });
    return proc;
  }

  list(): ManagedProcess[] {
    return [...this.running.values()];
  }

  private byTag(tag: string): ManagedProcess | undefined {
    for (const p of this.running.values()) if (p.spec.tag === tag) return p;
    return undefined;
  }

  /** Running first; `includeEnded` also finds a recently ended one (for Connect). */
  find(sel: { pid?: number; tag?: string }, includeEnded = false): ManagedProcess {
    let p: ManagedProcess | undefined;
    if (sel.pid !== undefined) p = this.running.get(sel.pid) ?? (includeEnded ? this.recent.get(sel.pid) : undefined);
    else if (sel.tag !== undefined) p = this.byTag(sel.tag);
    else throw new ConnectError('process selector (pid or tag) is required', Code.InvalidArgument);
    if (!p) throw new ConnectError('process not found', Code.NotFound);
    return p;
  }

  killAll(): void {
    for (const p of this.running.values()) p.signal('SIGKILL');
  }
}
