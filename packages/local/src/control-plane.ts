// The E2B control-plane REST API (wire protocol §2) that the SDKs call at E2B_API_URL:
// create, connect, inspect, list, time out and kill sandboxes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from 'find-my-way';
import { z } from 'zod';
import type { RuntimeConfig, SandboxLimits } from './config.js';
import { HttpError, readJsonBody, sendError, sendJson } from './http-util.js';
import { LimitExceededError, type SandboxRegistry } from './registry.js';
import { ENVD_VERSION, type Sandbox } from './sandbox.js';
import type { PortExposer } from './port-exposure.js';

const stringMap = z.record(z.string(), z.string());

const CreateBody = z
  .object({
    templateID: z.string().min(1, 'templateID is required'),
    timeout: z.number().int().optional(),
    metadata: stringMap.nullish(),
    envVars: stringMap.nullish(),
    // Limit overrides for direct REST callers; SDK users set them through metadata.
    memoryMB: z.number().int().positive().optional(),
    cpuCount: z.number().positive().optional(),
    diskSizeMB: z.number().int().positive().optional(),
    maxProcesses: z.number().int().positive().optional(),
  })
  .passthrough();

const TimeoutBody = z.object({ timeout: z.number().int() });
const ConnectBody = z.object({ timeout: z.number().int().optional() }).passthrough();

/** Metadata keys that set a sandbox's limits when created through an SDK. */
export const LIMIT_METADATA = {
  memoryMB: 'toolkit.memoryMB',
  cpuCount: 'toolkit.cpuCount',
  diskMB: 'toolkit.diskMB',
  maxProcesses: 'toolkit.maxProcesses',
} as const;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new HttpError(400, `invalid request body: ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return r.data;
}

export class ControlPlane {
  private readonly router = Router({ ignoreTrailingSlash: true });

  constructor(
    private readonly config: RuntimeConfig,
    private readonly registry: SandboxRegistry,
    private readonly exposer: PortExposer,
    private readonly domain: string,
  ) {
    const r = this.router;
    r.on('POST', '/sandboxes', (req, res) => this.run(req, res, () => this.create(req, res)));
    r.on('POST', '/v2/sandboxes', (req, res) => this.run(req, res, () => this.create(req, res)));
    r.on('GET', '/sandboxes', (req, res) => this.run(req, res, () => sendJson(res, 200, this.registry.all().map((s) => this.listed(s)))));
    r.on('GET', '/v2/sandboxes', (req, res) => this.run(req, res, () => this.list(req, res)));
    r.on('GET', '/sandboxes/:id', (req, res, p) => this.run(req, res, () => sendJson(res, 200, this.detail(this.find(p.id!)))));
    r.on('DELETE', '/sandboxes/:id', (req, res, p) => this.run(req, res, () => this.kill(res, p.id!)));
    r.on('POST', '/sandboxes/:id/timeout', (req, res, p) => this.run(req, res, () => this.setTimeout(req, res, p.id!)));
    r.on('POST', '/sandboxes/:id/connect', (req, res, p) => this.run(req, res, () => this.connect(req, res, p.id!)));
    r.on('POST', '/v2/sandboxes/:id/connect', (req, res, p) => this.run(req, res, () => this.connect(req, res, p.id!)));
    r.on('GET', '/sandboxes/:id/metrics', (req, res, p) => this.run(req, res, () => sendJson(res, 200, [this.metrics(this.find(p.id!))])));
    r.on('POST', '/sandboxes/:id/pause', (req, res, p) =>
      this.run(req, res, () => {
        this.find(p.id!);
        throw new HttpError(501, 'pause is not supported by the local runtime');
      }),
    );
    r.on('POST', '/sandboxes/:id/ports/:port', (req, res, p) => this.run(req, res, () => this.expose(res, p.id!, p.port!)));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.router.lookup(req, res);
  }

  private authorize(req: IncomingMessage): void {
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) throw new HttpError(401, 'missing X-API-KEY header (set E2B_API_KEY)');
    if (this.config.apiKey && key !== this.config.apiKey) throw new HttpError(401, 'invalid API key');
  }

  private async run(req: IncomingMessage, res: ServerResponse, fn: () => unknown): Promise<void> {
    try {
      this.authorize(req);
      await fn();
    } catch (err) {
      if (err instanceof HttpError) sendError(res, err.status, err.message, err.extra);
      else if (err instanceof LimitExceededError) sendError(res, 429, err.message);
      else sendError(res, 500, (err as Error)?.message ?? String(err));
    }
  }

  private find(id: string): Sandbox {
    const s = this.registry.get(id);
    if (!s) throw new HttpError(404, `sandbox '${id}' not found`);
    return s;
  }

  private timeoutSeconds(t: number | undefined): number {
    const v = t ?? this.config.defaultTimeoutSeconds;
    if (v < 1 || v > this.config.maxTimeoutSeconds) {
      throw new HttpError(400, `timeout must be between 1 and ${this.config.maxTimeoutSeconds} seconds, got ${v}`);
    }
    return v;
  }

  private limits(body: z.infer<typeof CreateBody>): SandboxLimits {
    const meta = body.metadata ?? {};
    const pick = (key: keyof SandboxLimits, direct: number | undefined): number => {
      const raw = meta[LIMIT_METADATA[key]];
      const v = raw !== undefined ? Number(raw) : direct ?? this.config.limits[key];
      if (!Number.isFinite(v) || v <= 0) throw new HttpError(400, `${LIMIT_METADATA[key]} must be a positive number, got '${raw}'`);
      if (v > this.config.maxLimits[key]) {
        throw new HttpError(400, `${key} ${v} is above this runtime's maximum of ${this.config.maxLimits[key]}`);
      }
      return key === 'cpuCount' ? v : Math.floor(v);
    };
    return {
      memoryMB: pick('memoryMB', body.memoryMB),
      cpuCount: pick('cpuCount', body.cpuCount),
      diskMB: pick('diskMB', body.diskSizeMB),
      maxProcesses: pick('maxProcesses', body.maxProcesses),
    };
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parse(CreateBody, await readJsonBody(req));
    if (!this.config.templates.includes(body.templateID)) {
      throw new HttpError(404, `template '${body.templateID}' not found (this runtime has: ${this.config.templates.join(', ')})`);
    }
    const sbx = await this.registry.create(
      {
        templateID: body.templateID,
        metadata: body.metadata ?? {},
        envVars: body.envVars ?? {},
        timeoutSeconds: this.timeoutSeconds(body.timeout),
      },
      this.limits(body),
    );
    sendJson(res, 201, this.created(sbx));
  }

  private created(s: Sandbox) {
    return {
      sandboxID: s.id,
      templateID: s.settings.templateID,
      clientID: 'local',
      envdVersion: ENVD_VERSION,
      envdAccessToken: s.envdAccessToken,
      trafficAccessToken: s.trafficAccessToken,
      domain: this.domain,
    };
  }

  private listed(s: Sandbox) {
    return {
      sandboxID: s.id,
      templateID: s.settings.templateID,
      clientID: 'local',
      envdVersion: ENVD_VERSION,
      metadata: s.settings.metadata,
      startedAt: s.startedAt.toISOString(),
      endAt: s.endAt.toISOString(),
      state: 'running',
      cpuCount: s.limits.cpuCount,
      memoryMB: s.limits.memoryMB,
      diskSizeMB: s.limits.diskMB,
      volumeMounts: [],
    };
  }

  private detail(s: Sandbox) {
    return {
      ...this.listed(s),
      envdAccessToken: s.envdAccessToken,
      domain: this.domain,
      allowInternetAccess: false,
      lifecycle: { onTimeout: 'kill', autoResume: false },
    };
  }

  private metrics(s: Sandbox) {
    const now = new Date();
    return {
      timestamp: now.toISOString(),
      timestampUnix: Math.floor(now.getTime() / 1000),
      cpuCount: s.limits.cpuCount,
      cpuUsedPct: 0,
      memUsed: s.cgroup.memoryBytes(),
      memTotal: s.limits.memoryMB * 2 ** 20,
      diskUsed: 0,
      diskTotal: s.limits.diskMB * 2 ** 20,
    };
  }

  private list(req: IncomingMessage, res: ServerResponse): void {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    // metadata arrives as a query string encoded once more as a value (§2.6).
    const wanted = new URLSearchParams(q.get('metadata') ?? '');
    const states = (q.get('state') ?? 'running,paused').split(',').map((s) => s.trim());
    const limitRaw = q.get('limit');
    const limit = limitRaw === null ? 100 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, 'limit must be an integer from 1 to 1000');
    let items = this.registry
      .all()
      .filter((s) => states.includes('running'))
      .filter((s) => [...wanted].every(([k, v]) => s.settings.metadata[k] === v))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || a.id.localeCompare(b.id));
    const token = q.get('nextToken');
    if (token) {
      let after: { t: number; id: string };
      try {
        after = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {
        throw new HttpError(400, 'invalid nextToken');
      }
      items = items.filter((s) => s.startedAt.getTime() < after.t || (s.startedAt.getTime() === after.t && s.id > after.id));
    }
    const page = items.slice(0, limit);
    const headers: Record<string, string> = {};
    if (items.length > limit) {
      const last = page[page.length - 1];
      headers['x-next-token'] = Buffer.from(JSON.stringify({ t: last.startedAt.getTime(), id: last.id })).toString('base64url');
    }
    sendJson(res, 200, page.map((s) => this.listed(s)), headers);
  }

  private async kill(res: ServerResponse, id: string): Promise<void> {
    if (!(await this.registry.kill(id))) throw new HttpError(404, `sandbox '${id}' not found`);
    res.writeHead(204).end();
  }

  private async setTimeout(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = parse(TimeoutBody, await readJsonBody(req));
    const s = this.find(id);
    s.setTimeout(this.timeoutSeconds(body.timeout));
    res.writeHead(204).end();
  }

  private async connect(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = parse(ConnectBody, await readJsonBody(req));
    const s = this.find(id);
    const seconds = this.timeoutSeconds(body.timeout);
    // Connecting never shortens a sandbox's life, only extends it.
    if (Date.now() + seconds * 1000 > s.endAt.getTime()) s.setTimeout(seconds);
    sendJson(res, 200, this.created(s));
  }

  private async expose(res: ServerResponse, id: string, portText: string): Promise<void> {
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HttpError(400, `port must be 1-65535, got '${portText}'`);
    const s = this.find(id);
    const url = await this.exposer.expose(s, port);
    sendJson(res, 201, { sandboxID: s.id, port, url });
  }
}
