// The one place that starts user processes. Every process user code can control goes
// through the wrapper below, which (1) moves itself into the sandbox's limit cgroups
// before any user code runs, so a fork bomb is born inside its pids limit; (2) closes
// the agent's control socket so user code can never talk to the runtime; (3) drops to
// the requested user with no capabilities before exec.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { SandboxUser } from './users.js';

const WRAPPER = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done',
  'exec 9>&-',
  'uid=$1; gid=$2; shift 2',
  'if [ "$uid" = 0 ]; then exec "$@"; fi',
  'exec setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- "$@"',
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
      ['-c', WRAPPER, 'e2b-spawn', String(this.cgroupProcs.length), ...this.cgroupProcs,
        String(o.user.uid), String(o.user.gid), o.cmd, ...o.args],
      {
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
