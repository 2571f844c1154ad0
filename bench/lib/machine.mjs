// The machine the numbers come from.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

function firstMatch(file, re) {
  try {
    return re.exec(fs.readFileSync(file, 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function machine() {
  const memKiB = Number(firstMatch('/proc/meminfo', /^MemTotal:\s+(\d+)/m));
  return {
    cpu: firstMatch('/proc/cpuinfo', /^model name\s*:(.*)$/m) ?? os.cpus()[0]?.model ?? 'unknown',
    cores: tryRun('nproc', []) ?? String(os.availableParallelism()),
    memory: `${(memKiB / 2 ** 20).toFixed(1)} GiB`,
    kernel: tryRun('uname', ['-r']) ?? os.release(),
    node: process.version,
    python: tryRun('/usr/bin/python3', ['-c', 'import sys, IPython; print(sys.version.split()[0], "IPython", IPython.__version__)']) ?? 'unknown',
    bwrap: tryRun('bwrap', ['--version']) ?? 'unknown',
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}
