// Isolation probes: what a hostile program inside a sandbox would try, run inside real
// sandboxes through the official SDK. Each probe checks the sandbox sees only itself:
// its own namespaces, a minimal /etc, no host files or secrets, no host processes, no
// host loopback (the runtime included), nothing of another sandbox, and no way out
// through symlinks or `..` in the files API.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Sandbox, CommandExitError, SandboxError, FileNotFoundError, type CommandResult } from 'e2b';
import { useRuntime, withSandbox, eventually } from '../support/runtime.js';

// A host secret the sandboxes must never see: in the runtime's environment and in a
// host file. Set before the runtime starts, so it would be inherited if anything leaked.
const SECRET = `host-secret-${randomBytes(8).toString('hex')}`;
process.env.E2B_TOOLKIT_TEST_SECRET = SECRET;
const hostSecretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2b-isolation-'));
const hostSecretFile = path.join(hostSecretDir, 'secret.txt');
fs.writeFileSync(hostSecretFile, SECRET);

const h = useRuntime({ maxSandboxes: 6 });

// A listener on a host abstract unix socket: reachable from any process in the host's
// network namespace, and from none outside it.
const abstractName = `e2b-isolation-${randomBytes(6).toString('hex')}`;
const abstractServer = net.createServer((s) => s.on('error', () => {}).end('host-abstract-socket\n'));
beforeAll(async () => {
  await new Promise<void>((resolve) => abstractServer.listen(`\0${abstractName}`, resolve));
});
afterAll(() => {
  abstractServer.close();
  fs.rmSync(hostSecretDir, { recursive: true, force: true });
  delete process.env.E2B_TOOLKIT_TEST_SECRET;
});

/** Runs a command; a non-zero exit is a result, not an exception. */
async function sh(sbx: Sandbox, cmd: string, opts: { user?: 'root' | 'user' } = {}): Promise<CommandResult> {
  try {
    return await sbx.commands.run(cmd, { timeoutMs: 30_000, ...opts });
  } catch (err) {
    if (err instanceof CommandExitError) return err;
    throw err;
  }
}

/** Runs a Python program inside the sandbox (the way a hostile script would). */
async function py(sbx: Sandbox, code: string, opts: { user?: 'root' | 'user' } = {}): Promise<CommandResult> {
  const file = `/tmp/probe-${randomBytes(4).toString('hex')}.py`;
  await sbx.files.write(file, code);
  return sh(sbx, `/usr/bin/python3 ${file}`, opts);
}

function hostUidOf(sbx: Sandbox): number {
  const s = h.rt.registry.get(sbx.sandboxId);
  if (!s) throw new Error(`sandbox ${sbx.sandboxId} is not in the registry`);
  return s.hostUid;
}

function runtimePort(): number {
  return Number(new URL(h.rt.url).port);
}

describe('namespaces', () => {
  test('every namespace is the sandbox’s own, unlike the host’s and another sandbox’s', async () => {
    const kinds = ['pid', 'mnt', 'net', 'ipc', 'uts', 'user'];
    const host = kinds.map((k) => fs.readlinkSync(`/proc/self/ns/${k}`));
    const read = async (sbx: Sandbox) => {
      const r = await sh(sbx, kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; '));
      expect(r.exitCode).toBe(0);
      return r.stdout.trim().split('\n');
    };
    await withSandbox(h, (a) =>
      withSandbox(h, async (b) => {
        const [na, nb] = [await read(a), await read(b)];
        for (let i = 0; i < kinds.length; i++) {
          expect(na[i], kinds[i]).toMatch(new RegExp(`^${kinds[i]}:\\[\\d+\\]$`));
          expect(na[i], `${kinds[i]} vs host`).not.toBe(host[i]);
          expect(nb[i], `${kinds[i]} vs host`).not.toBe(host[i]);
          expect(na[i], `${kinds[i]} vs the other sandbox`).not.toBe(nb[i]);
        }
      }),
    );
  });

  test('sandbox uids map to an unprivileged host range of the sandbox’s own', async () => {
    await withSandbox(h, (a) =>
      withSandbox(h, async (b) => {
        const map = async (sbx: Sandbox) => (await sh(sbx, 'cat /proc/self/uid_map /proc/self/gid_map')).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
        const [ma, mb] = [await map(a), await map(b)];
        for (const [m, sbx] of [[ma, a], [mb, b]] as const) {
          // One line per map: sandbox 0..65535 → host uid range starting well above 0.
          expect(m).toEqual([[0, hostUidOf(sbx), 65536], [0, hostUidOf(sbx), 65536]]);
          expect(hostUidOf(sbx)).toBeGreaterThanOrEqual(65536);
        }
        // The ranges do not overlap.
        expect(Math.abs(ma[0][1] - mb[0][1])).toBeGreaterThanOrEqual(65536);
      }),
    );
  });

  test('the hostname and UTS namespace are the sandbox’s; setting it as root does not change the host', async () => {
    const hostName = os.hostname();
    await withSandbox(h, async (sbx) => {
      expect((await sh(sbx, 'hostname')).stdout.trim()).toBe('e2b.local');
      const r = await sh(sbx, 'hostname hacked-by-sandbox && hostname', { user: 'root' });
      // Root of the sandbox may rename its own UTS namespace; the host keeps its name.
      if (r.exitCode === 0) expect(r.stdout.trim()).toBe('hacked-by-sandbox');
      expect(os.hostname()).toBe(hostName);
      expect(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).toBe(hostName);
    });
  });

  test('no host processes: /proc and ps show only the sandbox’s own, the runtime is invisible', async () => {
    await withSandbox(h, async (sbx) => {
      const r = await sh(sbx, 'ls /proc | grep -E "^[0-9]+$"; echo ---; ps -eo pid=,args=', { user: 'root' });
      expect(r.exitCode).toBe(0);
      const [pidList, psList] = r.stdout.split('---\n');
      const pids = pidList.trim().split('\n').map(Number);
      // The sandbox init, the agent and this command (and its short-lived helpers).
      expect(pids.length).toBeLessThan(15);
      expect(Math.max(...pids)).toBeLessThan(1000);
      expect(pids).not.toContain(process.pid);
      expect(psList).not.toMatch(/vitest|\/work\//);
      // The host's pid 1 is not the sandbox's pid 1.
      const inside1 = (await sh(sbx, 'cat /proc/1/comm', { user: 'root' })).stdout.trim();
      expect(inside1).toBe('bwrap');
      // A host pid (this test runner) cannot be found or signalled.
      const k = await sh(sbx, `kill -0 ${process.pid} 2>&1; cat /proc/${process.pid}/environ 2>&1`, { user: 'root' });
      expect(k.stdout + k.stderr).not.toContain(SECRET);
      if (process.pid > 1000) expect(k.stdout).toMatch(/No such process/);
    });
  });

  test('IPC is private: SysV objects made in one sandbox are not seen by another or the host', async () => {
    await withSandbox(h, (a) =>
      withSandbox(h, async (b) => {
        const made = await py(a, 'import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.shmget(0x5eed, 4096, 0o1666))\n');
        expect(Number(made.stdout.trim())).toBeGreaterThanOrEqual(0);
        // /proc/sysvipc/shm lists keys in decimal: 0x5eed is 24301.
        const hasKey = (table: string) => table.split('\n').some((l) => l.trim().split(/\s+/)[0] === String(0x5eed));
        expect(hasKey((await sh(a, 'cat /proc/sysvipc/shm')).stdout)).toBe(true);
        expect(hasKey((await sh(b, 'cat /proc/sysvipc/shm')).stdout)).toBe(false);
        expect(hasKey(fs.readFileSync('/proc/sysvipc/shm', 'utf8'))).toBe(false);
      }),
    );
  });
});

describe('files and secrets', () => {
  test('/etc is minimal and the sandbox’s own: its two users, no shadow, no host identity', async () => {
    await withSandbox(h, async (sbx) => {
      const passwd = (await sh(sbx, 'cat /etc/passwd')).stdout;
      const names = passwd.trim().split('\n').map((l) => l.split(':')[0]);
      expect(names).toEqual(expect.arrayContaining(['root', 'user']));
      expect(names.filter((n) => n !== 'nobody')).toEqual(['root', 'user']);
      expect((await sh(sbx, 'id -un; id -u')).stdout).toBe('user\n1000\n');
      expect((await sh(sbx, 'id -un; id -u', { user: 'root' })).stdout).toBe('root\n0\n');
      for (const f of ['/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/ssh', '/etc/machine-id', '/etc/hostname.host']) {
        const r = await sh(sbx, `cat ${f}`, { user: 'root' });
        expect(r.exitCode, f).not.toBe(0);
      }
      expect((await sh(sbx, 'cat /etc/hostname')).stdout.trim()).toBe('e2b.local');
      // Nothing in /etc but the generated files and the safe shared ones.
      const etc = (await sh(sbx, 'ls -A /etc')).stdout.trim().split('\n');
      expect(etc.length).toBeLessThan(40);
      for (const bad of ['shadow', 'gshadow', 'sudoers', 'ssh', 'machine-id', 'docker', 'kubernetes', 'npmrc', 'environment.d']) {
        expect(etc, bad).not.toContain(bad);
      }
    });
  });

  test('no host files or secrets: /root, /work, /home, host temp files, the host environment', async () => {
    await withSandbox(h, async (sbx) => {
      const asRoot = await sh(
        sbx,
        [
          'ls -A /root',
          'echo ---',
          'ls -A /home',
          'echo ---',
          'ls -A /',
          'echo ---',
          `cat ${hostSecretFile} 2>&1`,
          `ls ${hostSecretDir} 2>&1`,
          'ls /work /var/lib /var/run/docker.sock /run/secrets 2>&1',
          'env',
          'cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"',
          'cat /proc/1/cmdline /proc/2/cmdline 2>/dev/null | tr "\\0" " "',
        ].join('; '),
        { user: 'root' },
      );
      const out = asRoot.stdout + asRoot.stderr;
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain('E2B_TOOLKIT_TEST_SECRET');
      const [rootDir, homeDir, top] = asRoot.stdout.split('---\n').map((s) => s.trim().split('\n').filter(Boolean));
      expect(rootDir).toEqual([]); // the sandbox's own empty /root, not the host's
      expect(homeDir).toEqual(['user']);
      expect(top).not.toContain('work');
      expect(top).not.toContain('sys');
      expect(top).not.toContain('boot');
      expect(out).toMatch(/No such file or directory/);

      // And through the files API, as either user.
      await expect(sbx.files.read(hostSecretFile, { user: 'root' })).rejects.toBeInstanceOf(FileNotFoundError);
      await expect(sbx.files.read('/work/main/package.json', { user: 'root' })).rejects.toBeInstanceOf(FileNotFoundError);
      await expect(sbx.files.exists('/work')).resolves.toBe(false);
      const rootEntries = (await sbx.files.list('/')).map((e) => e.name);
      expect(rootEntries).not.toContain('work');
    });
  });

  test('the unprivileged user cannot read root’s files; root’s home is root’s', async () => {
    await withSandbox(h, async (sbx) => {
      await sbx.files.write('/root/private.txt', 'root only', { user: 'root' });
      const r = await sh(sbx, 'ls /root; cat /root/private.txt');
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
      expect(r.stdout).not.toContain('root only');
      await expect(sbx.files.read('/root/private.txt')).rejects.toThrow(/not accessible|may not|permission/i);
      await expect(sbx.files.read('/root/private.txt', { user: 'root' })).resolves.toBe('root only');
      // No way up: sudo/su do not exist or do not work, setuid bits are ignored.
      const up = await sh(sbx, 'sudo id -u 2>&1 || su -c "id -u" root 2>&1 </dev/null || true; grep -E "^(CapEff|CapPrm|NoNewPrivs)" /proc/self/status');
      expect(up.stdout).not.toMatch(/^0$/m);
      expect(up.stdout).toMatch(/CapEff:\s+0000000000000000/);
    });
  });

  test('the system is read-only, for root too; home and /tmp are writable', async () => {
    await withSandbox(h, async (sbx) => {
      for (const p of ['/usr/evil', '/etc/evil', '/evil', '/opt/e2b/evil', '/usr/bin/python3']) {
        const r = await sh(sbx, `echo x > ${p}`, { user: 'root' });
        expect(r.exitCode, p).not.toBe(0);
        expect(r.stderr, p).toMatch(/Read-only file system|Permission denied|No such file/);
      }
      await expect(sbx.files.write('/usr/evil', 'x', { user: 'root' })).rejects.toBeInstanceOf(SandboxError);
      await expect(sbx.files.write('/etc/passwd', 'root::0:0::/:/bin/sh\n', { user: 'root' })).rejects.toBeInstanceOf(SandboxError);
      expect((await sh(sbx, 'cat /etc/passwd')).stdout).toMatch(/^root:x:0:0:/);
      expect((await sh(sbx, 'echo ok > ~/w && echo ok > /tmp/w && cat ~/w /tmp/w')).stdout).toBe('ok\nok\n');
      // The host's /usr was not touched.
      expect(fs.existsSync('/usr/evil')).toBe(false);
    });
  });

  test('symlinks lead only into the sandbox’s own view, through commands and the files API', async () => {
    const hostHostname = fs.readFileSync('/etc/hostname', 'utf8');
    await withSandbox(h, async (sbx) => {
      const r = await sh(
        sbx,
        [
          'ln -s /etc/shadow ~/to-shadow',
          'ln -s / ~/to-root',
          'ln -s /etc/hostname ~/to-hostname',
          `ln -s ${hostSecretFile} ~/to-host-secret`,
          'ln -s /proc/1/root ~/to-init-root',
          'ln -s ../../../../../../work ~/to-work',
        ].join(' && '),
      );
      expect(r.exitCode).toBe(0);
      const home = '/home/user';
      await expect(sbx.files.read(`${home}/to-shadow`, { user: 'root' })).rejects.toBeInstanceOf(FileNotFoundError);
      await expect(sbx.files.read(`${home}/to-host-secret`, { user: 'root' })).rejects.toBeInstanceOf(FileNotFoundError);
      await expect(sbx.files.read(`${home}/to-work/main/package.json`, { user: 'root' })).rejects.toBeInstanceOf(FileNotFoundError);
      const viaLink = await sbx.files.read('to-hostname');
      expect(viaLink).toBe('e2b.local\n');
      if (hostHostname.trim() !== 'e2b.local') expect(viaLink).not.toBe(hostHostname);
      expect(await sbx.files.read('to-root/etc/passwd')).toBe((await sh(sbx, 'cat /etc/passwd')).stdout);
      const listed = (await sbx.files.list('to-root')).map((e) => e.name).sort();
      expect(listed).toEqual((await sh(sbx, 'ls -A /')).stdout.trim().split('\n').sort());
      expect(listed).not.toContain('work');
      // /proc/1/root is the sandbox init's root: the sandbox again, never the host's.
      const initRoot = (await sh(sbx, 'ls -A ~/to-init-root/ 2>&1', { user: 'root' })).stdout;
      expect(initRoot).not.toMatch(/^work$/m);
      await expect(sbx.files.read(`${home}/to-init-root/work/main/package.json`, { user: 'root' })).rejects.toBeInstanceOf(SandboxError);
      // Writing through a symlink into the system fails, and never lands on the host.
      await expect(sbx.files.write(`${home}/to-root/usr/escaped`, 'x', { user: 'root' })).rejects.toBeInstanceOf(SandboxError);
      await expect(sbx.files.write(`${home}/to-root/etc/escaped`, 'x', { user: 'root' })).rejects.toBeInstanceOf(SandboxError);
      await expect(sbx.files.write('to-root/usr/escaped', 'x')).rejects.toBeInstanceOf(SandboxError);
      expect(fs.existsSync('/usr/escaped')).toBe(false);
      expect(fs.existsSync('/etc/escaped')).toBe(false);
      // The symlink itself is reported as a symlink, not followed into the host.
      const info = await sbx.files.getInfo('to-shadow');
      expect(info.symlinkTarget).toBe('/etc/shadow');
    });
  });

  test('`..` in paths resolves inside the sandbox', async () => {
    await withSandbox(h, async (sbx) => {
      expect(await sbx.files.read('../../etc/passwd')).toBe((await sh(sbx, 'cat /etc/passwd')).stdout);
      expect(await sbx.files.read('../../../../../../../etc/hostname')).toBe('e2b.local\n');
      await expect(sbx.files.read('../../../../work/main/package.json', { user: 'root' })).rejects.toBeInstanceOf(FileNotFoundError);
      const marker = `escape-${randomBytes(4).toString('hex')}`;
      await expect(sbx.files.write(`../../../../../tmp/../${marker}`, 'x', { user: 'root' })).rejects.toBeInstanceOf(SandboxError);
      expect(fs.existsSync(`/${marker}`)).toBe(false);
      const w = await sbx.files.write(`../../tmp/${marker}`, 'inside');
      expect(w.path).toBe(`/tmp/${marker}`);
      expect((await sh(sbx, `cat /tmp/${marker}`)).stdout).toBe('inside');
      expect(fs.existsSync(path.join(os.tmpdir(), marker))).toBe(false);
    });
  });
});

describe('network', () => {
  test('the runtime’s port and any host loopback service are unreachable (own loopback only)', async () => {
    await withSandbox(h, async (sbx) => {
      const port = runtimePort();
      const r = await py(
        sbx,
        `import socket, errno
def probe(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(addr)
        print("CONNECTED", addr)
    except OSError as e:
        print("refused" if e.errno == errno.ECONNREFUSED else "unreachable" if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL) else "other:" + str(e), addr)
    finally:
        s.close()
probe(socket.AF_INET, ("127.0.0.1", ${port}))
probe(socket.AF_INET, ("localhost", ${port}))
probe(socket.AF_INET6, ("::1", ${port}))
probe(socket.AF_UNIX, "\\0${abstractName}")
`,
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout).not.toContain('CONNECTED');
      expect(r.stdout.trim().split('\n')).toHaveLength(4);
      for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/^(refused|unreachable|other:.*No such file)/);
      // The same probes work on the host, so the probes themselves are sound.
      await new Promise<void>((resolve, reject) => {
        const c = net.connect(`\0${abstractName}`, () => {
          c.destroy();
          resolve();
        });
        c.on('error', reject);
      });
      // curl as root, for good measure.
      const curl = await sh(sbx, `curl -sS -m 5 http://127.0.0.1:${port}/health 2>&1 || true`, { user: 'root' });
      expect(curl.stdout).not.toMatch(/"code"|HTTP/);
    });
  });

  test('no route out: host addresses and the internet are unreachable, no DNS', async () => {
    const hostAddrs = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === 'IPv4')
      .map((a) => a!.address);
    await withSandbox(h, async (sbx) => {
      const targets = [...hostAddrs.map((a) => `("${a}", ${runtimePort()})`), '("1.1.1.1", 80)', '("8.8.8.8", 53)'];
      const r = await py(
        sbx,
        `import socket
for addr in [${targets.join(', ')}]:
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(addr)
        print("CONNECTED", addr)
    except OSError as e:
        print("failed", addr, e)
try:
    print("RESOLVED", socket.gethostbyname("example.com"))
except OSError as e:
    print("no dns", e)
`,
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout).not.toMatch(/CONNECTED|RESOLVED/);
      expect(r.stdout).toMatch(/no dns/);
      const links = (await sh(sbx, 'ls /sys/class/net 2>/dev/null || cat /proc/net/dev')).stdout;
      expect(links).toMatch(/lo/);
      expect(links).not.toMatch(/eth|ens|enp|veth|docker|wl/);
    });
  });
});

describe('other sandboxes', () => {
  test('another sandbox’s files and processes are invisible and cannot be signalled', async () => {
    const marker = `neighbour-${randomBytes(6).toString('hex')}`;
    // The file's content never appears in any command b runs, so b's output can only
    // contain it if b really read a's file.
    const [half1, half2] = [randomBytes(6).toString('hex'), randomBytes(6).toString('hex')];
    await withSandbox(h, (a) =>
      withSandbox(h, async (b) => {
        await a.files.write(`/home/user/${marker}.txt`, half1 + half2);
        await a.files.write(`/tmp/${marker}.txt`, half1 + half2);
        const sleeper = await a.commands.run(`exec -a sleeper-${marker} sleep 600`, { background: true });
        try {
          // Find the sleeper's host pid through a's cgroup (the host view).
          const hostPid = await hostPidOf(a, marker);
          const listing = await sh(b, 'ls -A /home/user /tmp; ps -eo args', { user: 'root' });
          expect(listing.stdout).not.toContain(marker);
          expect(listing.stdout).not.toContain('sleeper-');
          const read = await sh(b, `cat /home/user/${marker}.txt /tmp/${marker}.txt 2>&1; grep -rs "${half1}""${half2}" /home /tmp /run /var 2>/dev/null; echo end`, { user: 'root' });
          expect(read.stdout).not.toContain(half1 + half2);
          await expect(b.files.read(`/home/user/${marker}.txt`)).rejects.toBeInstanceOf(FileNotFoundError);
          // Root in b tries the host pid and a's in-sandbox pid: neither is a's sleeper.
          const kill = await sh(b, `kill -9 ${hostPid} 2>&1; kill -9 ${sleeper.pid} 2>&1; true`, { user: 'root' });
          expect(kill.exitCode).toBe(0);
          expect((await sh(a, `kill -0 ${sleeper.pid} && echo alive`, { user: 'root' })).stdout).toBe('alive\n');
          expect(fs.existsSync(`/proc/${hostPid}`)).toBe(true);
          expect(await a.files.read(`/home/user/${marker}.txt`)).toBe(half1 + half2);
        } finally {
          await sleeper.kill().catch(() => {});
        }
      }),
    );
  });

  test('`kill -9 -1` in one sandbox leaves the other sandbox (and the runtime) untouched', async () => {
    await withSandbox(h, (a) =>
      withSandbox(h, async (b) => {
        const sleeper = await a.commands.run('sleep 600', { background: true });
        try {
          // As the unprivileged user: it kills the user's own processes only; the agent lives.
          const bSleeper = await b.commands.run('sleep 600', { background: true });
          await sh(b, 'kill -9 -1');
          await expect(bSleeper.wait()).rejects.toBeInstanceOf(CommandExitError);
          expect((await b.commands.run('echo b-still-answers')).stdout).toBe('b-still-answers\n');
          // As root: this takes b's own agent with it (that is b's business), never a.
          await b.commands.run('kill -9 -1', { user: 'root', timeoutMs: 10_000 }).catch(() => undefined);
          expect((await a.commands.run('echo a-still-answers')).stdout).toBe('a-still-answers\n');
          expect((await sh(a, `kill -0 ${sleeper.pid} && echo alive`)).stdout).toBe('alive\n');
          // b is gone, and reported so.
          await eventually(() => h.rt.registry.get(b.sandboxId) === undefined);
          expect(await b.isRunning()).toBe(false);
          await withSandbox(h, async (c) => expect((await c.commands.run('echo fresh')).stdout).toBe('fresh\n'));
        } finally {
          await sleeper.kill().catch(() => {});
        }
      }),
    );
  });
});

describe('the agent and the cgroups are out of user code’s reach', () => {
  test('user processes do not inherit the control socket (fd 9) or the agent’s config', async () => {
    await withSandbox(h, async (sbx) => {
      for (const user of ['user', 'root'] as const) {
        const r = await sh(sbx, 'ls /proc/self/fd; echo ---; ls /proc/$$/fd; echo ---; env', { user });
        expect(r.exitCode).toBe(0);
        const [selfFds, shellFds, env] = r.stdout.split('---\n');
        const fds = [...selfFds.trim().split('\n'), ...shellFds.trim().split('\n')].map(Number);
        expect(fds, user).not.toContain(9);
        for (const fd of fds) expect([0, 1, 2, 3, 255], `${user} fd ${fd}`).toContain(fd);
        expect(env).not.toContain('E2B_AGENT_CONFIG');
        expect(env).not.toContain(SECRET);
      }
      // A Python child (the interpreter's path) too.
      const p = await py(sbx, 'import os\nprint(sorted(int(f) for f in os.listdir("/proc/self/fd")))\n');
      expect(JSON.parse(p.stdout.trim())).not.toContain(9);
    });
  });

  test('the unprivileged user cannot signal, trace or inspect the agent', async () => {
    await withSandbox(h, async (sbx) => {
      const agentPid = (await sh(sbx, 'pgrep -f \'^/usr/bin/node .*/opt/e2b/agent.mjs\'', { user: 'root' })).stdout.trim();
      expect(Number(agentPid)).toBeGreaterThan(0);
      const r = await py(
        sbx,
        `import ctypes, os, signal
pid = ${agentPid}
libc = ctypes.CDLL(None, use_errno=True)
for what, fn in [
    ("kill", lambda: os.kill(pid, signal.SIGKILL)),
    ("environ", lambda: open(f"/proc/{pid}/environ", "rb").read()),
    ("fds", lambda: os.listdir(f"/proc/{pid}/fd")),
    ("mem", lambda: open(f"/proc/{pid}/mem", "rb").read(1)),
]:
    try:
        fn()
        print("DID", what)
    except OSError as e:
        print("denied", what, e.errno)
print("ptrace", libc.ptrace(16, pid, 0, 0), ctypes.get_errno())
`,
      );
      expect(r.stdout).not.toContain('DID');
      expect(r.stdout).toMatch(/^ptrace -1 1$/m); // EPERM
      expect((await sbx.commands.run('echo agent-alive')).stdout).toBe('agent-alive\n');
    });
  });

  test('root inside cannot take over the agent: no ptrace, no memory, no control socket', async () => {
    // The agent sits outside the limit cgroups and holds the socket to the runtime: a root
    // process that could trace it or copy its descriptor 9 could escape the limits and
    // speak to the runtime directly. (Root may still kill it, which ends its own sandbox.)
    await withSandbox(h, async (sbx) => {
      const agentPid = (await sh(sbx, 'pgrep -f \'^/usr/bin/node .*/opt/e2b/agent.mjs\'', { user: 'root' })).stdout.trim();
      const r = await py(
        sbx,
        `import ctypes, os
pid = ${agentPid}
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, pid, 0, 0)
print("ptrace", r)
if r == 0:
    os.waitpid(pid, 0x40000000)
    libc.ptrace(17, pid, 0, 0)
pidfd = libc.syscall(434, pid, 0)
print("pidfd_getfd", libc.syscall(438, pidfd, 9, 0) if pidfd >= 0 else -1)
try:
    with open(f"/proc/{pid}/mem", "rb") as m:
        m.read(1)
    print("mem readable")
except OSError:
    print("mem denied")
`,
        { user: 'root' },
      );
      expect(r.stdout).toMatch(/^ptrace -1$/m);
      expect(r.stdout).toMatch(/^pidfd_getfd -1$/m);
      expect(r.stdout).toMatch(/^mem denied$/m);
      expect((await sbx.commands.run('echo agent-untouched')).stdout).toBe('agent-untouched\n');
    });
  });

  test('user processes are in the sandbox’s limit cgroups and cannot leave or loosen them', async () => {
    await withSandbox(h, async (sbx) => {
      const own = (await sh(sbx, 'cat /proc/self/cgroup')).stdout;
      for (const c of ['memory', 'pids', 'cpu']) {
        expect(own).toMatch(new RegExp(`:${c}(,[a-z_]+)*:.*e2b-toolkit/rt${process.pid}/${sbx.sandboxId}$`, 'm'));
      }
      const r = await sh(
        sbx,
        [
          'echo 999999999999 > /run/e2b/cgroup/memory/memory.limit_in_bytes',
          'echo max > /run/e2b/cgroup/pids/pids.max',
          'echo -1 > /run/e2b/cgroup/cpu/cpu.cfs_quota_us',
          'echo $$ > /run/e2b/cgroup/memory/../cgroup.procs',
          'mkdir /run/e2b/cgroup/pids/escape',
          'mkdir -p /tmp/cg && mount -t cgroup -o pids none /tmp/cg',
          'mkdir -p /tmp/cg2 && mount -t cgroup2 none /tmp/cg2',
        ]
          .map((c) => `(${c}) 2>/dev/null && echo "DID: ${c.replace(/["$]/g, '')}"`)
          .join('; ') + '; cat /proc/self/cgroup; true',
        { user: 'root' },
      );
      expect(r.stdout).not.toContain('DID:');
      expect(r.stdout).toMatch(new RegExp(`:memory:.*${sbx.sandboxId}$`, 'm'));
      const mem = `/sys/fs/cgroup/memory/e2b-toolkit/rt${process.pid}/${sbx.sandboxId}/memory.limit_in_bytes`;
      if (fs.existsSync(mem)) expect(Number(fs.readFileSync(mem, 'utf8'))).toBe(1024 * 2 ** 20);
    });
  });

  test('a cgroup mount from inside shows only the sandbox’s own group: no other sandbox, no host pids', async () => {
    await withSandbox(h, (a) =>
      withSandbox(h, async (b) => {
        // Root may make a cgroup namespace of its own (rooted at its own group) and mount
        // the hierarchy there; whatever it gets to see must not reach beyond the sandbox.
        const r = await sh(
          b,
          'mkdir -p /tmp/cg && for c in pids memory cpu; do mount -t cgroup -o $c none /tmp/cg 2>&1 && find /tmp/cg -type d && umount /tmp/cg; done; ' +
            'for c in pids memory cpu; do unshare -C sh -c "mount -t cgroup -o $c none /tmp/cg && find /tmp/cg -name cgroup.procs -exec cat {} + && find /tmp/cg -type d && umount /tmp/cg" 2>&1; done; ' +
            'unshare -C sh -c "mount -t cgroup2 none /tmp/cg && find /tmp/cg -type d && cat /tmp/cg/cgroup.procs" 2>&1; true',
          { user: 'root' },
        );
        expect(r.stdout).not.toContain(a.sandboxId);
        expect(r.stdout).not.toContain('e2b-toolkit');
        expect(r.stdout).not.toContain(String(process.pid));
        expect(r.stdout).not.toContain(String(h.rt.registry.get(a.sandboxId)!.conn.initPid));
      }),
    );
  });

  test('unshare and mount inside the sandbox stay inside it', async () => {
    await withSandbox(h, async (sbx) => {
      // The unprivileged user has no mount rights in the sandbox's namespaces.
      const m = await sh(sbx, 'mkdir -p ~/mnt && mount -t tmpfs none ~/mnt');
      expect(m.exitCode).not.toBe(0);
      // Root may mount within its own mount namespace; the host sees nothing of it.
      const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
      const mounted = await sh(sbx, 'mkdir -p /tmp/m && mount -t tmpfs e2b-probe /tmp/m && grep -c e2b-probe /proc/self/mountinfo', { user: 'root' });
      expect(mounted.stdout.trim()).toBe('1');
      expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMounts);
      expect(hostMounts).not.toContain('e2b-probe');
      await sh(sbx, 'umount /tmp/m', { user: 'root' });
      // Nested namespaces are children of the sandbox's: still no host, no network.
      const n = await sh(sbx, 'unshare -r -n sh -c "id -u; ls /work 2>&1; cat /etc/hostname"');
      expect(n.stdout).not.toMatch(/^main$/m);
      expect((await sh(sbx, 'unshare -r sh -c "cat /proc/self/uid_map"')).stdout).not.toMatch(/^\s*0\s+0\s/m);
    });
  });
});

/** The host pid of a sandbox process whose command line contains `marker`. */
async function hostPidOf(sbx: Sandbox, marker: string): Promise<number> {
  const procs = `/sys/fs/cgroup/pids/e2b-toolkit/rt${process.pid}/${sbx.sandboxId}/cgroup.procs`;
  let found = 0;
  await eventually(() => {
    for (const pid of fs.readFileSync(procs, 'utf8').split('\n').filter(Boolean)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) {
          found = Number(pid);
          return true;
        }
      } catch {
        /* gone */
      }
    }
    return false;
  });
  return found;
}
