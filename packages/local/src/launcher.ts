// Starts one sandbox: bubblewrap, run as the sandbox's own unprivileged host uid, makes
// every namespace; the runtime writes the user namespace's uid map (0..65535 inside →
// the sandbox's host range) while bwrap waits, then lets it go on to start the agent.
// The agent talks to the runtime over a socketpair inherited at descriptor 9: HTTP/2,
// the agent serving, the runtime the client.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { RANGE } from './uid-slots.js';
import { mountArgs, type MountPlan } from './sandbox-image.js';

export const CONTROL_FD = 9;

export interface LaunchSpec extends MountPlan {
  id: string;
  hostUid: number;
  python: string;
  /** Called with the sandbox's init pid (host view) before anything runs inside. */
  beforeStart(initPid: number): void;
}

export interface AgentConnection {
  session: http2.ClientHttp2Session;
  /** Host pid of the sandbox's PID-namespace init: killing it ends every process inside. */
  initPid: number;
  bwrap: ChildProcess;
  exited: Promise<void>;
}

// No cgroup namespace: one made here would be rooted at the runtime's own cgroups
// (bwrap is not yet in the sandbox's when it unshares), and would let sandbox root mount
// the host's cgroup hierarchies from their root: every sandbox's groups and every host
// pid in view. In the host's cgroup namespace such a mount needs host privileges.
function bwrapArgs(spec: LaunchSpec): string[] {
  const agentConfig = {
    controlFd: CONTROL_FD,
    cgroupProcs: spec.cgroupDirs.map((d) => `/run/e2b/cgroup/${d.name}/cgroup.procs`),
    python: spec.python,
    kernelDriver: '/opt/e2b/python/kernel_driver.py',
  };
  return [
    '--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts',
    '--userns-block-fd', '4', '--info-fd', '3',
    '--die-with-parent', '--new-session',
    '--cap-add', 'ALL', '--cap-drop', 'CAP_SYS_PTRACE',
    '--hostname', 'e2b.local',
    ...mountArgs(spec),
    '--chdir', '/home/user',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--setenv', 'HOME', '/root',
    '--setenv', 'E2B_AGENT_CONFIG', JSON.stringify(agentConfig),
    '--', '/usr/bin/node', '--max-old-space-size=256', '/opt/e2b/agent.mjs',
  ];
}

export function launch(spec: LaunchSpec, log: (line: string) => void): Promise<AgentConnection> {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe'];
  const bwrap = spawn('bwrap', bwrapArgs(spec), { stdio, uid: spec.hostUid, gid: spec.hostUid, env: {} });
  const exited = new Promise<void>((resolve) => bwrap.once('close', () => resolve()));
  const output = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log(line);
  };
  // The sandbox can die at any moment; its pipes then reset, which is not our error.
  for (const s of bwrap.stdio) (s as Socket | null)?.on?.('error', () => {});
  bwrap.stdout!.on('data', output);
  bwrap.stderr!.on('data', output);

  return new Promise<AgentConnection>((resolve, reject) => {
    let info = '';
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      bwrap.kill('SIGKILL');
      reject(err);
    };
    bwrap.once('error', (err) => fail(new Error(`cannot run bwrap (is bubblewrap installed?): ${err.message}`)));
    bwrap.once('close', (code) => fail(new Error(`sandbox ${spec.id} exited during start (bwrap status ${code})`)));
    const infoPipe = bwrap.stdio[3] as Socket;
    infoPipe.on('data', (d: Buffer) => {
      info += d.toString('utf8');
      let initPid: number;
      try {
        initPid = JSON.parse(info)['child-pid'];
      } catch {
        return; // not all of it yet
      }
      try {
        const map = `0 ${spec.hostUid} ${RANGE}\n`;
        fs.writeFileSync(`/proc/${initPid}/uid_map`, map);
        fs.writeFileSync(`/proc/${initPid}/gid_map`, map);
        spec.beforeStart(initPid);
      } catch (err) {
        return fail(new Error(`cannot set up sandbox ${spec.id}: ${(err as Error).message}`));
      }
      (bwrap.stdio[4] as Socket).end('go');
      const sock = (bwrap.stdio as unknown as Socket[])[CONTROL_FD];
      const session = http2.connect('http://sandbox-agent', {
        createConnection: () => sock,
        settings: { initialWindowSize: 8 << 20, maxFrameSize: 1 << 20, enablePush: false },
        maxSessionMemory: 64,
      });
      session.on('error', () => {});
      session.once('connect', () => session.setLocalWindowSize(32 << 20));
      session.once('remoteSettings', () => {
        if (settled) return;
        // The agent has spoken, so the sandbox's init has forked it: init itself now joins
        // the user limits. It only reaps orphans, but sandbox root can ptrace it (same uid, no
        // capabilities), and whatever it is made to fork must not land outside the limits.
        try {
          for (const { hostDir } of spec.cgroupDirs) fs.writeFileSync(path.join(hostDir, 'cgroup.procs'), String(initPid));
        } catch (err) {
          return fail(new Error(`cannot set up sandbox ${spec.id}: ${(err as Error).message}`));
        }
        try {
          // Never the OOM killer's pick, where the runtime may say so (CAP_SYS_RESOURCE):
          // its death would end the whole sandbox. It is tiny, so it is a late pick anyway.
          fs.writeFileSync(`/proc/${initPid}/oom_score_adj`, '-1000');
        } catch {
          /* not permitted here */
        }
        settled = true;
        resolve({ session, initPid, bwrap, exited });
      });
    });
  });
}
