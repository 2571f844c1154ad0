// Sandbox traffic (E2B_SANDBOX_URL, and Host `<port>-<id>.<domain>`): finds the sandbox,
// checks its access token, and hands the request to its agent (envd on 49983, code
// interpreter on 49999) or tunnels it to a server inside the sandbox (any other port).
// Dead sandboxes and closed ports answer 502 with E2B's JSON body (§1.2).
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AgentGoneError, PortClosedError, forwardRequest, forwardableHeaders, openTunnel } from './agent-link.js';
import { sendError, sendJson } from './http-util.js';
import type { SandboxRegistry } from './registry.js';
import type { Sandbox } from './sandbox.js';

export const ENVD_PORT = 49983;
export const INTERPRETER_PORT = 49999;

export interface Target {
  sandboxId: string;
  port: number;
}

/** Which sandbox and port a request is for, or null for the control plane. */
export function targetOf(req: IncomingMessage): Target | { error: string } | null {
  const id = req.headers['e2b-sandbox-id'];
  const port = req.headers['e2b-sandbox-port'];
  if (id !== undefined || port !== undefined) {
    if (typeof id !== 'string' || typeof port !== 'string') return { error: 'both E2b-Sandbox-Id and E2b-Sandbox-Port are required' };
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) return { error: `invalid E2b-Sandbox-Port '${port}'` };
    return { sandboxId: id, port: n };
  }
  const host = req.headers.host ?? '';
  const m = /^(\d{1,5})-([a-z0-9]+)\./.exec(host);
  if (m) {
    const n = Number(m[1]);
    if (n >= 1 && n <= 65535) return { sandboxId: m[2], port: n };
  }
  return null;
}

function tokenEquals(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** envd's signed-URL scheme (§3.7): the token is part of the hash, so it identifies the sandbox. */
export function fileSignature(path: string, operation: string, user: string, token: string, expiration?: string): string {
  const raw = expiration ? `${path}:${operation}:${user}:${token}:${expiration}` : `${path}:${operation}:${user}:${token}`;
  return `v1_${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

function signedFileSandbox(req: IncomingMessage, registry: SandboxRegistry): Sandbox | undefined | 'expired' | 'invalid' {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/files') return undefined;
  const sig = url.searchParams.get('signature');
  if (!sig) return undefined;
  const exp = url.searchParams.get('signature_expiration') ?? undefined;
  const op = req.method === 'GET' ? 'read' : 'write';
  const p = url.searchParams.get('path') ?? '';
  const user = url.searchParams.get('username') ?? '';
  for (const s of registry.all()) {
    if (tokenEquals(sig, fileSignature(p, op, user, s.envdAccessToken, exp))) {
      if (exp && Number(exp) * 1000 < Date.now()) return 'expired';
      return s;
    }
  }
  // A signed URL names no sandbox but through its signature: one that matches none is void.
  return req.headers['e2b-sandbox-id'] ? undefined : 'invalid';
}

export class SandboxProxy {
  constructor(private readonly registry: SandboxRegistry) {}

  private gone(res: ServerResponse, sandboxId: string): void {
    sendJson(res, 502, { sandboxId, message: 'The sandbox was not found', code: 502 });
  }

  /** True when the request was sandbox traffic (and has been answered or forwarded). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const signed = signedFileSandbox(req, this.registry);
    if (signed === 'expired' || signed === 'invalid') {
      sendError(res, 401, signed === 'expired' ? 'the signed URL has expired' : 'invalid file URL signature');
      return true;
    }
    if (signed) {
      this.toAgent(signed, ENVD_PORT, req, res);
      return true;
    }
    const t = targetOf(req);
    if (t === null) return false;
    if ('error' in t) {
      sendError(res, 400, t.error);
      return true;
    }
    const sbx = this.registry.get(t.sandboxId);
    if (!sbx) {
      this.gone(res, t.sandboxId);
      return true;
    }
    const path = req.url ?? '/';
    if (path.startsWith('/_internal/')) {
      sendError(res, 404, 'not found');
      return true;
    }
    if (t.port === ENVD_PORT) {
      const open = path === '/health' || path.startsWith('/health?');
      if (!open && !tokenEquals(req.headers['x-access-token'], sbx.envdAccessToken)) {
        sendJson(res, 401, { code: 'unauthenticated', message: 'invalid or missing X-Access-Token' });
        return true;
      }
      this.toAgent(sbx, ENVD_PORT, req, res);
    } else if (t.port === INTERPRETER_PORT) {
      const ok =
        tokenEquals(req.headers['x-access-token'], sbx.envdAccessToken) ||
        tokenEquals(req.headers['e2b-traffic-access-token'], sbx.trafficAccessToken);
      if (!ok) {
        sendError(res, 401, 'invalid or missing access token');
        return true;
      }
      this.toAgent(sbx, INTERPRETER_PORT, req, res);
    } else {
      void this.toPort(sbx, t.port, req, res);
    }
    return true;
  }

  private toAgent(sbx: Sandbox, port: number, req: IncomingMessage, res: ServerResponse): void {
    forwardRequest(sbx.conn.session, req, res, port, () => this.gone(res, sbx.id));
  }

  private closedPort(res: ServerResponse, sbx: Sandbox, port: number): void {
    sendJson(res, 502, {
      message: `The sandbox is running but port is not open`,
      sandboxId: sbx.id,
      port,
      code: 502,
    });
  }

  /** HTTP to a server inside the sandbox, over a tunnel the agent opens. */
  private async toPort(sbx: Sandbox, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let tunnel: Duplex;
    try {
      tunnel = await openTunnel(sbx.conn.session, port);
    } catch (err) {
      if (err instanceof PortClosedError) this.closedPort(res, sbx, port);
      else this.gone(res, sbx.id);
      req.resume();
      return;
    }
    const upstream = http.request({
      method: req.method,
      path: req.url,
      headers: { ...forwardableHeaders(req.headers), host: req.headers.host ?? `127.0.0.1:${port}`, connection: 'close' },
      createConnection: () => tunnel as unknown as import('node:net').Socket,
    });
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, forwardableHeaders(up.headers));
      res.flushHeaders();
      up.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) this.closedPort(res, sbx, port);
      else res.destroy();
    });
    res.on('close', () => tunnel.destroy());
    req.pipe(upstream);
  }

  /** WebSocket and other upgrades: the raw connection is spliced to the sandbox port. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const t = targetOf(req);
    if (t === null) return false;
    const reject = (status: number, body: object) => {
      const data = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(data)}\r\nconnection: close\r\n\r\n${data}`);
    };
    if ('error' in t) {
      reject(400, { code: 400, message: t.error });
      return true;
    }
    const sbx = this.registry.get(t.sandboxId);
    if (!sbx || t.port === ENVD_PORT || t.port === INTERPRETER_PORT) {
      reject(502, { sandboxId: t.sandboxId, message: 'The sandbox was not found', code: 502 });
      return true;
    }
    openTunnel(sbx.conn.session, t.port).then(
      (tunnel) => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        tunnel.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length) tunnel.write(head);
        socket.pipe(tunnel).pipe(socket);
        const end = () => {
          socket.destroy();
          tunnel.destroy();
        };
        socket.on('error', end).on('close', end);
        tunnel.on('error', end).on('close', end);
      },
      (err) =>
        err instanceof AgentGoneError
          ? reject(502, { sandboxId: sbx.id, message: 'The sandbox was not found', code: 502 })
          : reject(502, { message: 'The sandbox is running but port is not open', sandboxId: sbx.id, port: t.port, code: 502 }),
    );
    return true;
  }
}
