// A bash context runs each execution as its own `bash -c <code>` in the context's cwd,
// not in one persistent shell. Chosen because it keeps a context unbreakable: `exit`,
// `set -e` or a stuck `read` end one execution, not the context; an interrupt reaches
// the whole command (SIGINT to its process group); a non-zero exit status is the
// execution's error. The cost: shell variables and `cd` do not carry over between
// executions (files do, and so do background processes started with `&`).
import type { ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { signalTree } from '../kill-tree.js';
import { WRAPPER_FAILED, type Spawner } from '../spawn.js';
import type { SandboxUser } from '../users.js';
import { failedExecution, streamLine, type EndError, type Execution, type Runner, type Sink } from './runner.js';
import { trySignal } from './signal.js';

export interface BashOptions {
  spawner: Spawner;
  user: SandboxUser;
  cwd: string;
  env: () => Record<string, string>;
}

/** After bash exits, how long to keep reading pipes that background jobs inherited. */
const PIPE_GRACE_MS = 200;

export class BashRunner implements Runner {
  private count = 0;
  private current: ChildProcess | null = null;

  constructor(private readonly o: BashOptions) {}

  prewarm(): void {}

  /** Nothing persists between executions; a running command is killed. */
  async restart(): Promise<void> {
    this.dispose();
  }

  dispose(): void {
    if (this.current?.pid !== undefined) signalTree(this.current.pid, 'SIGKILL');
  }

  run(code: string, env: Record<string, string>, sink: Sink): Execution {
    this.count += 1;
    sink.write({ type: 'number_of_executions', execution_count: this.count });
    let killed = false;
    let child: ChildProcess;
    try {
      child = this.o.spawner.spawn({
        cmd: '/bin/bash',
        args: ['-c', code],
        user: this.o.user,
        env: { ...this.o.env(), ...env },
        cwd: this.o.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      return failedExecution({ name: 'CommandExitError', value: `bash could not be started: ${(err as Error).message}` });
    }
    this.current = child;
    const finished = new Promise<EndError | null>((resolve) => {
      const pipes = [child.stdout!, child.stderr!];
      const decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')];
      let paused = false;
      let open = pipes.length;
      let exit: EndError | null | undefined;
      let done = false;

      const emit = (i: number, text: string) => {
        if (!text || done) return;
        if (sink.write(streamLine(i === 0 ? 'stdout' : 'stderr', text)) || paused) return;
        paused = true;
        for (const p of pipes) p.pause();
        sink.onDrain(() => {
          paused = false;
          for (const p of pipes) p.resume();
        });
      };
      const finish = () => {
        if (done || exit === undefined) return;
        decoders.forEach((d, i) => emit(i, d.end()));
        done = true;
        // Background jobs may still write to the pipes: keep draining them into the void.
        for (const p of pipes as Readable[]) {
          p.removeAllListeners('data');
          p.resume();
        }
        if (this.current === child) this.current = null;
        resolve(exit);
      };

      // Output still queued for a slow client is not given up on: wait while paused.
      const afterGrace = () => setTimeout(() => (paused ? afterGrace() : finish()), PIPE_GRACE_MS);

      pipes.forEach((p, i) => {
        p.on('data', (c: Buffer) => emit(i, decoders[i].write(c)));
        p.on('error', () => {});
        p.once('close', () => {
          open -= 1;
          if (open === 0) finish();
        });
      });
      child.on('error', (err) => {
        if (child.pid !== undefined) return;
        exit = { name: 'CommandExitError', value: `bash could not be started: ${err.message}` };
        open = 0;
        finish();
      });
      child.on('exit', (code, signal) => {
        if (killed) exit = { name: 'CommandExitError', value: 'The command did not stop when interrupted, so it was killed.' };
        else if (code === WRAPPER_FAILED) {
          exit = { name: 'CommandExitError', value: 'could not place the command in the sandbox cgroup (process limit reached?)' };
        } else if (signal) exit = { name: 'CommandExitError', value: `bash was terminated by ${signal}` };
        else exit = code === 0 ? null : { name: 'CommandExitError', value: `exit status ${code}` };
        if (open === 0) finish();
        else afterGrace();
      });
    });
    return {
      started: Promise.resolve(),
      finished,
      interrupt: () => {
        if (child.pid !== undefined) trySignal(-child.pid, 'SIGINT');
      },
      kill: () => {
        killed = true;
        if (child.pid !== undefined) signalTree(child.pid, 'SIGKILL');
      },
    };
  }
}
