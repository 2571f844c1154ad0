// The local runtime: one HTTP server that is both E2B_API_URL (control plane) and
// E2B_SANDBOX_URL (sandbox traffic), plus the sandboxes behind it.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { agentAssets, loadConfig, type RuntimeConfig } from './config.js';
import { ControlPlane } from './control-plane.js';
import { detectCgroups, removeRuntimeGroup, removeStaleGroups } from './cgroups.js';
import { SandboxProxy } from './sandbox-proxy.js';
import { SandboxRegistry } from './registry.js';
import { PortExposer } from './port-exposure.js';
import { prepareImage } from './sandbox-image.js';
import { log as rootLog } from './log.js';
import { sendError } from './http-util.js';
import { alive } from './proc.js';

export interface LocalRuntime {
  config: RuntimeConfig;
  /** Base URL for E2B_API_URL and E2B_SANDBOX_URL alike. */
  url: string;
  domain: string;
  registry: SandboxRegistry;
  close(): Promise<void>;
}

/** Refuses to start where sandboxes cannot be made, with the reason. */
function preflight(): void {
  if (process.platform !== 'linux') throw new Error('the local runtime needs Linux (namespaces and cgroups)');
  if (process.getuid?.() !== 0) {
    throw new Error('the local runtime must run as root: it maps each sandbox to its own uid range and sets cgroup limits');
  }
  try {
    execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or run `npm start`, which installs it');
  }
}

const OWN_DIR_PREFIX = 'e2b-local-';
const OWNER_FILE = 'runtime.pid';

/** Removes data directories that runtimes which died without cleaning up made. */
function removeStaleDataDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(OWN_DIR_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    try {
      const owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
      if (owner && !alive(owner)) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* no owner file yet (a runtime starting right now), or not ours */
    }
  }
}

export async function startLocalRuntime(overrides: Partial<RuntimeConfig> = {}): Promise<LocalRuntime> {
  const config = loadConfig(process.env, overrides);
  const log = rootLog;
  preflight();
  const cgroupVersion = detectCgroups();
  await removeStaleGroups(cgroupVersion);

  const ownDataDir = !config.dataDir;
  if (ownDataDir) removeStaleDataDirs();
  const dataDir = config.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), OWN_DIR_PREFIX));
  fs.mkdirSync(dataDir, { recursive: true });
  if (ownDataDir) fs.writeFileSync(path.join(dataDir, OWNER_FILE), String(process.pid));
  const image = prepareImage(dataDir, agentAssets());

  const registry = new SandboxRegistry(config, cgroupVersion, image, log);
  const exposer = new PortExposer(config.host);
  const proxy = new SandboxProxy(registry);
  let controlPlane: ControlPlane | undefined;

  const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => {
    try {
      if (proxy.handle(req, res)) return;
      controlPlane!.handle(req, res);
    } catch (err) {
      sendError(res, 500, (err as Error).message);
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (!proxy.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${hostForUrl}:${addr.port}`;
  const domain = config.domain ?? `localhost:${addr.port}`;
  controlPlane = new ControlPlane(config, registry, exposer, domain);
  registry.fillPool();
  log.info({ url, domain, cgroupVersion, dataDir }, 'local runtime listening');

  let closing: Promise<void> | undefined;
  return {
    config: { ...config, port: addr.port },
    url,
    domain,
    registry,
    close() {
      closing ??= (async () => {
        server.close();
        await registry.close();
        server.closeAllConnections();
        removeRuntimeGroup(cgroupVersion);
        if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
