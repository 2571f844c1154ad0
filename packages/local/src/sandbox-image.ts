// What a sandbox sees: the host's /usr read-only (programs, Python and its libraries),
// a minimal /etc of its own, and nothing else of the host: no /home, /root, /var,
// /run, /work or host secrets. Files the sandbox needs from the runtime (the agent
// bundle, the Python kernel driver) are copied into the data directory once, so no
// path into the repository or node_modules is ever mounted.
import fs from 'node:fs';
import path from 'node:path';

/** Host /etc entries that are safe and useful to share read-only. Nothing with secrets. */
const SHARED_ETC = [
  'alternatives', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'ssl', 'ca-certificates', 'python3',
  'python3.11', 'matplotlibrc', 'mime.types', 'localtime', 'timezone', 'profile', 'profile.d',
  'bash.bashrc', 'inputrc', 'terminfo', 'fonts', 'protocols', 'services', 'magic', 'magic.mime',
  'debian_version', 'os-release', 'shells', 'login.defs', 'skel', 'environment',
];

const GENERATED_ETC: Record<string, string> = {
  passwd: 'root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  group: 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n',
  hostname: 'e2b.local\n',
  hosts: '127.0.0.1\tlocalhost e2b.local\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  'resolv.conf': '# no network: the sandbox has only its own loopback\n',
  'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n',
};

export interface SandboxImage {
  dir: string;
  agentBundle: string;
  pythonDir: string;
}

export function prepareImage(dataDir: string, assets: { bundle: string; pythonDir: string }): SandboxImage {
  const dir = path.join(dataDir, 'image');
  const etc = path.join(dir, 'etc');
  fs.mkdirSync(etc, { recursive: true, mode: 0o755 });
  for (const [name, content] of Object.entries(GENERATED_ETC)) fs.writeFileSync(path.join(etc, name), content, { mode: 0o644 });
  if (!fs.existsSync(assets.bundle)) {
    throw new Error(`agent bundle ${assets.bundle} is missing: build first (npm run build)`);
  }
  const agentBundle = path.join(dir, 'agent.mjs');
  fs.copyFileSync(assets.bundle, agentBundle);
  fs.chmodSync(agentBundle, 0o644);
  const pythonDir = path.join(dir, 'python');
  fs.cpSync(assets.pythonDir, pythonDir, { recursive: true, filter: (src) => !src.includes('__pycache__') && !src.includes('/tests') });
  // Every directory on the way must be traversable by the sandboxes' unprivileged host uids.
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o005) !== 0o005) fs.chmodSync(d, mode | 0o005);
    if (d === dataDir) break;
  }
  chmodTree(dir);
  return { dir, agentBundle, pythonDir };
}

function chmodTree(p: string): void {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const n of fs.readdirSync(p)) chmodTree(path.join(p, n));
}

export interface MountPlan {
  image: SandboxImage;
  diskMB: number;
  cgroupDirs: { name: string; hostDir: string }[];
}

/** bwrap's filesystem arguments for one sandbox. */
export function mountArgs(plan: MountPlan): string[] {
  const size = String(plan.diskMB * 2 ** 20);
  const a: string[] = [
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    '--symlink', 'usr/lib', '/lib',
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  if (fs.existsSync('/lib64')) a.push('--symlink', 'usr/lib64', '/lib64');
  a.push('--perms', '0755', '--tmpfs', '/etc');
  for (const name of Object.keys(GENERATED_ETC)) a.push('--ro-bind', path.join(plan.image.dir, 'etc', name), `/etc/${name}`);
  for (const name of SHARED_ETC) a.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  a.push('--remount-ro', '/etc');
  a.push('--perms', '1777', '--size', size, '--tmpfs', '/tmp');
  a.push('--perms', '0755', '--size', size, '--tmpfs', '/home/user');
  a.push('--perms', '0700', '--size', String(64 * 2 ** 20), '--tmpfs', '/root');
  a.push('--perms', '1777', '--size', String(64 * 2 ** 20), '--tmpfs', '/dev/shm');
  a.push('--dir', '/var', '--symlink', '../tmp', '/var/tmp');
  // bwrap would make these parents 0700; user processes must reach the kernel driver.
  a.push('--perms', '0755', '--dir', '/opt', '--perms', '0755', '--dir', '/opt/e2b');
  a.push('--ro-bind', plan.image.agentBundle, '/opt/e2b/agent.mjs');
  a.push('--ro-bind', plan.image.pythonDir, '/opt/e2b/python');
  // Every user process joins these groups itself, so every uid must reach them.
  for (const dir of ['/run', '/run/e2b', '/run/e2b/cgroup']) a.push('--perms', '0755', '--dir', dir);
  for (const { name, hostDir } of plan.cgroupDirs) a.push('--bind', hostDir, `/run/e2b/cgroup/${name}`);
  a.push('--remount-ro', '/');
  return a;
}
