// One Python kernel process: python/kernel_driver.py running as the sandbox user.
// It speaks the driver protocol (fd 3 events out, fd 4 commands in; fds 1 and 2 are the
// user's stdout and stderr, see the driver's docstring), keeps output and results in
// order (Sequencer), turns driver events into NDJSON lines, applies backpressure from
// the client to the kernel's pipes, and reports the kernel's death to the execution
// that was running.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { signalTree } from '../kill-tree.js';
import { WRAPPER_FAILED, type Spawner } from '../spawn.js';
import type { SandboxUser } from '../users.js';
import { LineSplitter } from './lines.js';
import { resultLine } from './mime.js';
import { Sequencer, type StreamName } from './sequencer.js';
import { trySignal } from './signal.js';
import { streamLine, type EndError, type Execution, type OutputLine, type Sink } from './runner.js';

export interface KernelOptions {
  spawner: Spawner;
  python: string;
  driver: string;
  user: SandboxUser;
  cwd: string;
  env: Record<string, string>;
  /** Sandbox-wide variables, sent with every execution: they may change after start. */
  globalEnv: () => Record<string, string>;
}

type DriverEvent =
  | { seq: number; ev: 'started'; execution_count: number }
  | { seq: number; ev: 'display'; data: Record<string, unknown>; main: boolean }
  | { seq: number; ev: 'error'; name: string; value: string; traceback: string }
  // No content: only its markers count, ordering stdout against stderr (Sequencer).
  | { seq: number; ev: 'sync' }
  | { seq: number; ev: 'done' };

interface ActiveRun {
  sink: Sink;
  /** Set once the driver reported `started`: output from then on belongs to this run. */
  running: boolean;
  onStarted: () => void;
  finish: (end: EndError | null) => void;
}

/** After the kernel exits, how long to wait for pipes held open by escaped children. */
const PIPE_GRACE_MS = 2000;
/** Unattributed output kept to explain a kernel that dies before running anything. */
const ORPHAN_TAIL = 4096;

const STATE_LOST = "The context's state (variables, imports) was lost; the next run starts a fresh kernel.";

export class KernelProcess {
  /** True once the driver is up; false if it exited before. */
  readonly ready: Promise<boolean>;
  readonly exited: Promise<void>;
  /** The kernel has taken at least one execution. */
  hasRun = false;

  private readonly child: ChildProcess;
  private readonly globalEnv: () => Record<string, string>;
  private readonly events: Readable;
  private readonly commands: Writable;
  private readonly sequencer: Sequencer<DriverEvent>;
  private run: ActiveRun | null = null;
  private isReady = false;
  private resolveReady!: (ok: boolean) => void;
  private resolveExited!: () => void;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: Error | null = null;
  private killReason: string | null = null;
  private orphanTail = '';
  private openPipes = 3;
  private graceTimer: NodeJS.Timeout | null = null;
  private sinkFull = false;
  private readonly blocked: Record<StreamName, boolean> = { stdout: false, stderr: false };

  constructor(o: KernelOptions) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    this.exited = new Promise((r) => (this.resolveExited = r));
    // A fresh random prefix per kernel: user output cannot collide with it by accident.
    const marker = `\0e2b-sync-${randomBytes(12).toString('hex')}:`;
    this.sequencer = new Sequencer<DriverEvent>(marker, {
      output: (stream, text) => this.onOutput(stream, text),
      event: (ev) => this.onEvent(ev),
      blocked: (stream, blocked) => {
        this.blocked[stream] = blocked;
        this.updateFlow();
      },
    });

    this.globalEnv = o.globalEnv;
    this.child = o.spawner.spawn({
      cmd: o.python,
      args: [o.driver],
      user: o.user,
      env: o.env,
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child.on('error', (err) => {
      // The process could not be created at all: there will be no 'exit'.
      if (this.child.pid === undefined) {
        this.spawnError = err;
        this.openPipes = 0;
        this.maybeFinish();
      }
    });
    if (!this.child.stdout || !this.child.stderr || !this.child.stdio[3] || !this.child.stdio[4]) {
      throw new Error('no pipes for the kernel (too many open files?)');
    }
    this.events = this.child.stdio[3] as Readable;
    this.commands = this.child.stdio[4] as Writable;
    this.commands.on('error', () => {}); // EPIPE once the kernel is gone; 'exit' reports it

    this.child.stdout!.on('data', (c: Buffer) => this.sequencer.pushOutput('stdout', c));
    this.child.stderr!.on('data', (c: Buffer) => this.sequencer.pushOutput('stderr', c));
    const lines = new LineSplitter();
    this.events.on('data', (c: Buffer) => lines.push(c, (line) => this.onEventLine(line)));
    for (const pipe of [this.child.stdout!, this.child.stderr!, this.events]) {
      pipe.on('error', () => {});
      pipe.once('close', () => {
        this.openPipes--;
        this.maybeFinish();
      });
    }
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.commands.write(JSON.stringify({ op: 'init', marker, global_env: this.globalEnv() }) + '\n');
  }

  get alive(): boolean {
    return this.exit === null && this.spawnError === null;
  }

  /** Starts an execution on a live kernel; the caller (the context's queue) runs one at a time. */
  execute(code: string, env: Record<string, string>, sink: Sink): Execution {
    if (this.run || !this.alive) throw new Error('kernel is busy or gone'); // callers check first
    this.hasRun = true;
    let onStarted!: () => void;
    let finish!: (end: EndError | null) => void;
    const started = new Promise<void>((r) => (onStarted = r));
    const finished = new Promise<EndError | null>((r) => (finish = r));
    const run: ActiveRun = { sink, running: false, onStarted, finish };
    this.run = run;
    this.commands.write(JSON.stringify({ op: 'execute', code, env, global_env: this.globalEnv() }) + '\n');
    return {
      started,
      finished,
      interrupt: () => {
        if (this.run === run && this.alive) trySignal(this.child.pid!, 'SIGINT');
      },
      kill: () => {
        if (this.run === run) {
          this.kill('The code did not stop when interrupted, so its kernel was restarted. ' + STATE_LOST);
        }
      },
    };
  }

  /** Kills the kernel and every process it started; a running execution ends with `reason`. */
  kill(reason: string): void {
    this.killReason ??= reason;
    if (this.child.pid !== undefined && this.alive) signalTree(this.child.pid, 'SIGKILL');
  }

  private onEventLine(line: Buffer): void {
    let ev: { ev?: string; seq?: number };
    try {
      ev = JSON.parse(line.toString('utf8'));
    } catch {
      return; // not protocol: only a broken driver could write this
    }
    if (ev.ev === 'ready') {
      this.isReady = true;
      this.resolveReady(true);
    } else if (typeof ev.seq === 'number') {
      this.sequencer.pushEvent(ev as DriverEvent);
    }
  }

  private onOutput(stream: StreamName, text: string): void {
    if (this.run?.running) {
      this.write(streamLine(stream, text));
    } else {
      // Startup noise, or a background thread between executions: nobody asked for it.
      this.orphanTail = (this.orphanTail + text).slice(-ORPHAN_TAIL);
    }
  }

  private onEvent(ev: DriverEvent): void {
    const run = this.run;
    if (!run) return;
    switch (ev.ev) {
      case 'started':
        run.running = true;
        run.onStarted();
        this.write({ type: 'number_of_executions', execution_count: ev.execution_count });
        break;
      case 'display':
        if (run.running) this.write(resultLine(ev.data, ev.main));
        break;
      case 'error':
        if (run.running) this.write({ type: 'error', name: ev.name, value: ev.value, traceback: ev.traceback });
        break;
      case 'done':
        this.sequencer.flushDecoders();
        this.endRun(null);
        break;
    }
  }

  private write(line: OutputLine): void {
    const run = this.run!;
    if (run.sink.write(line) || this.sinkFull) return;
    // The client is behind: stop reading the kernel until it catches up, so a flood of
    // output blocks the kernel's writes instead of filling the agent's memory.
    this.sinkFull = true;
    this.updateFlow();
    run.sink.onDrain(() => {
      if (this.run !== run) return;
      this.sinkFull = false;
      this.updateFlow();
    });
  }

  private endRun(end: EndError | null): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    if (this.sinkFull) {
      this.sinkFull = false;
      this.updateFlow();
    }
    run.finish(end);
  }

  private updateFlow(): void {
    setFlow(this.child.stdout!, !this.sinkFull && !this.blocked.stdout);
    setFlow(this.child.stderr!, !this.sinkFull && !this.blocked.stderr);
    setFlow(this.events, !this.sinkFull);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exit = { code, signal };
    // Children left in the kernel's process group would keep the pipes open.
    trySignal(-this.child.pid!, 'SIGKILL');
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.exit === null && this.spawnError === null) return;
    if (this.openPipes > 0) {
      // A process that left the group (setsid) may hold the pipes forever; a paused
      // pipe (slow client) is still being delivered, so wait for it.
      if (!this.graceTimer) this.armGrace();
      return;
    }
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.sequencer.finish();
    if (!this.isReady) this.resolveReady(false);
    this.endRun({ name: 'KernelDiedError', value: this.describeDeath() });
    this.resolveExited();
  }

  private armGrace(): void {
    this.graceTimer = setTimeout(() => {
      if (this.sinkFull) return this.armGrace();
      for (const pipe of [this.child.stdout!, this.child.stderr!, this.events]) pipe.destroy();
    }, PIPE_GRACE_MS);
  }

  /** Why the kernel is gone, for the error line of the execution it was running. */
  describeDeath(): string {
    if (this.killReason) return this.killReason;
    let what: string;
    if (this.spawnError) what = `The Python kernel could not be started (${this.spawnError.message})`;
    else if (this.exit?.code === WRAPPER_FAILED) {
      what = 'The Python kernel could not be placed in the sandbox cgroup (process limit reached?)';
    } else if (this.exit?.signal === 'SIGKILL') {
      what = 'The Python kernel was killed (SIGKILL), most likely because the sandbox ran out of memory';
    } else if (this.exit?.signal === 'SIGSEGV') what = 'The Python kernel crashed (segmentation fault)';
    else if (this.exit?.signal) what = `The Python kernel was terminated by ${this.exit.signal}`;
    else what = `The Python kernel exited with status ${this.exit?.code}`;
    if (!this.isReady) {
      const output = this.orphanTail.trim();
      return `${what} while starting.${output ? `\n${output}` : ''}`;
    }
    return `${what}. ${STATE_LOST}`;
  }
}

function setFlow(stream: Readable, flowing: boolean): void {
  if (flowing) stream.resume();
  else stream.pause();
}
