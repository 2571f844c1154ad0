// The one place that starts user processes. Each starts as the requested user (the
// kernel drops every capability when sandbox root switches to an unprivileged uid, and
// bwrap's no_new_privs keeps setuid binaries from giving any back), then runs the
// wrapper below, which (1) moves itself into the sandbox's limit cgroups before any
// user code runs, so a fork bomb is born inside its pids limit, and (2) closes the
// agent's control socket so user code can never talk to the runtime.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { SandboxUser } from './users.js';

const WRAPPER = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done',
  'exec 9>&-',
  'exec "$@"',
].join('\n');

/** Exit status the wrapper uses when it cannot place the process in its cgroup. */
export const WRAPPER_FAILED = 125;

export interface SpawnOptions {
  cmd: string;
  args: string[];
  user: SandboxUser;
  env: Record<string, string>;
  cwd: string;
  stdio: StdioOptions;
}

export class Spawner {
  constructor(private readonly cgroupProcs: string[]) {}

  spawn(o: SpawnOptions): ChildProcess {
    return spawn(
      '/bin/sh',
      ['-c', WRAPPER, 'e2b-spawn', String(this.cgroupProcs.length), ...this.cgroupProcs, o.cmd, ...o.args],
      {
        ...(o.user.uid === 0 ? {} : { uid: o.user.uid, gid: o.user.gid }),
        cwd: o.cwd,
        env: o.env,
        stdio: o.stdio,
        // Its own session and process group: signals reach the whole job, not the agent.
        detached: true,
        argv0: 'e2b-spawn',
      },
    );
  }
}

/** The environment every process starts with, before sandbox-wide and per-call envs. */
export function baseEnv(user: SandboxUser): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: 'C.UTF-8',
    SHELL: '/bin/bash',
  };
}
