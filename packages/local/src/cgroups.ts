// Kernel-enforced limits per sandbox, with cgroup v1 (per-controller hierarchies) or
// v2 (unified). Only user processes are limited: each one joins the sandbox's "user"
// cgroup before it runs (see the agent's spawn wrapper), while the agent stays outside
// it, so a fork bomb or memory hog cannot starve the agent that must report on it.
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxLimits } from './config.js';
import { alive } from './proc.js';

const ROOT = '/sys/fs/cgroup';
const GROUP = 'e2b-toolkit';
/** Each runtime process has its own subtree, so runtimes side by side never collide. */
const RUNTIME = `rt${process.pid}`;
const V1_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

export interface SandboxCgroup {
  /** Host directories user processes join, by a name to mount them under in the sandbox. */
  readonly userDirs: { name: string; hostDir: string }[];
  /** Put the sandbox's first process where the agent lives (v2 needs it in the subtree). */
  placeAgent(pid: number): void;
  memoryBytes(): number;
  /** Kill every process still in the sandbox's cgroups and remove them. */
  destroy(): Promise<void>;
}

function write(file: string, value: string | number): void {
  fs.writeFileSync(file, String(value));
}

function tryWrite(file: string, value: string | number): void {
  try {
    write(file, value);
  } catch {
    /* controller file absent on this kernel (e.g. memsw without swap accounting) */
  }
}

/**
 * Lets every uid of the sandbox move its own processes into the group (the kernel only
 * lets a process move itself or its own uid's processes): the file is reachable only
 * through the sandbox's bind mount and from the host.
 */
function joinable(procsFile: string, owner: number): void {
  fs.chownSync(procsFile, owner, owner);
  fs.chmodSync(procsFile, 0o666);
}

function pidsIn(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function killAndRemove(dirs: string[]): Promise<void> {
  // Deepest first: a cgroup directory can only go once its children are gone.
  const ordered = [...dirs].sort((a, b) => b.length - a.length);
  for (let attempt = 0; attempt < 100; attempt++) {
    let left = 0;
    for (const d of ordered) {
      if (!fs.existsSync(d)) continue;
      for (const pid of pidsIn(d)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      try {
        fs.rmdirSync(d);
      } catch {
        left++;
      }
    }
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`could not remove cgroups: ${ordered.filter((d) => fs.existsSync(d)).join(', ')}`);
}

class V1Cgroup implements SandboxCgroup {
  readonly userDirs: { name: string; hostDir: string }[];
  constructor(id: string, limits: SandboxLimits, owner: number) {
    this.userDirs = V1_CONTROLLERS.map((c) => ({ name: c, hostDir: path.join(ROOT, c, GROUP, RUNTIME, id) }));
    for (const { hostDir } of this.userDirs) {
      fs.mkdirSync(hostDir, { recursive: true });
      joinable(path.join(hostDir, 'cgroup.procs'), owner);
    }
    const [mem, pids, cpu] = this.userDirs.map((d) => d.hostDir);
    const bytes = limits.memoryMB * 2 ** 20;
    write(path.join(mem, 'memory.limit_in_bytes'), bytes);
    tryWrite(path.join(mem, 'memory.memsw.limit_in_bytes'), bytes);
    tryWrite(path.join(mem, 'memory.swappiness'), 0);
    write(path.join(pids, 'pids.max'), limits.maxProcesses);
    write(path.join(cpu, 'cpu.cfs_period_us'), 100_000);
    write(path.join(cpu, 'cpu.cfs_quota_us'), Math.round(limits.cpuCount * 100_000));
    write(path.join(cpu, 'cpu.shares'), Math.max(2, Math.round(limits.cpuCount * 1024)));
  }
  placeAgent(): void {
    /* v1: the agent stays in the runtime's own groups, outside the user limits */
  }
  memoryBytes(): number {
    try {
      return Number(fs.readFileSync(path.join(this.userDirs[0].hostDir, 'memory.usage_in_bytes'), 'utf8'));
    } catch {
      return 0;
    }
  }
  destroy(): Promise<void> {
    return killAndRemove(this.userDirs.map((d) => d.hostDir));
  }
}

class V2Cgroup implements SandboxCgroup {
  readonly userDirs: { name: string; hostDir: string }[];
  private readonly top: string;
  private readonly agent: string;
  constructor(id: string, limits: SandboxLimits, owner: number) {
    const group = path.join(ROOT, GROUP, RUNTIME);
    fs.mkdirSync(group, { recursive: true });
    tryWrite(path.join(ROOT, GROUP, 'cgroup.subtree_control'), '+memory +pids +cpu');
    tryWrite(path.join(group, 'cgroup.subtree_control'), '+memory +pids +cpu');
    this.top = path.join(group, id);
    this.agent = path.join(this.top, 'agent');
    const user = path.join(this.top, 'user');
    fs.mkdirSync(this.agent, { recursive: true });
    write(path.join(this.top, 'cgroup.subtree_control'), '+memory +pids +cpu');
    fs.mkdirSync(user);
    // Moving a process from agent/ to user/ needs write access to their common parent.
    joinable(path.join(this.top, 'cgroup.procs'), owner);
    joinable(path.join(user, 'cgroup.procs'), owner);
    write(path.join(user, 'memory.max'), limits.memoryMB * 2 ** 20);
    tryWrite(path.join(user, 'memory.swap.max'), 0);
    write(path.join(user, 'pids.max'), limits.maxProcesses);
    write(path.join(user, 'cpu.max'), `${Math.round(limits.cpuCount * 100_000)} 100000`);
    this.userDirs = [{ name: 'unified', hostDir: user }];
  }
  placeAgent(pid: number): void {
    write(path.join(this.agent, 'cgroup.procs'), pid);
  }
  memoryBytes(): number {
    try {
      return Number(fs.readFileSync(path.join(this.userDirs[0].hostDir, 'memory.current'), 'utf8'));
    } catch {
      return 0;
    }
  }
  destroy(): Promise<void> {
    return killAndRemove([this.top, this.agent, this.userDirs[0].hostDir]);
  }
}

export type CgroupVersion = 1 | 2;

/** Finds a usable cgroup hierarchy, or explains why there is none. */
export function detectCgroups(): CgroupVersion {
  if (fs.existsSync(path.join(ROOT, 'cgroup.controllers'))) return 2;
  if (V1_CONTROLLERS.every((c) => fs.existsSync(path.join(ROOT, c, 'cgroup.procs')))) return 1;
  throw new Error(
    `no usable cgroup hierarchy under ${ROOT} (need cgroup v2, or v1 with the memory, pids and cpu controllers): ` +
      'sandbox limits cannot be enforced on this machine',
  );
}

export function createCgroup(version: CgroupVersion, id: string, limits: SandboxLimits, owner: number): SandboxCgroup {
  return version === 2 ? new V2Cgroup(id, limits, owner) : new V1Cgroup(id, limits, owner);
}

function subdirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name));
  } catch {
    return [];
  }
}

/** Removes what runtimes that died without cleaning up left behind. */
export async function removeStaleGroups(version: CgroupVersion): Promise<void> {
  const parents = version === 2 ? [path.join(ROOT, GROUP)] : V1_CONTROLLERS.map((c) => path.join(ROOT, c, GROUP));
  for (const parent of parents) {
    for (const rt of subdirs(parent)) {
      const pid = Number(/^rt(\d+)$/.exec(path.basename(rt))?.[1]);
      if (!pid || pid === process.pid || alive(pid)) continue;
      const all: string[] = [rt];
      for (const sbx of subdirs(rt)) all.push(sbx, ...subdirs(sbx));
      await killAndRemove(all).catch(() => {});
    }
  }
}

/** Removes this runtime's own (by then empty) subtree at shutdown. */
export function removeRuntimeGroup(version: CgroupVersion): void {
  const dirs = version === 2 ? [path.join(ROOT, GROUP, RUNTIME)] : V1_CONTROLLERS.map((c) => path.join(ROOT, c, GROUP, RUNTIME));
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* absent, or a sandbox is still being torn down */
    }
  }
}
