// Control plane (wire protocol §2) through the official SDK: create on both path
// families, connect, getInfo, list with filters and pagination, setTimeout, kill,
// expiry, limits of the runtime, and the errors bad input gets.
import { describe, expect, test } from 'vitest';
import { Sandbox, SandboxError, NotFoundError, AuthenticationError, RateLimitError } from 'e2b';
import { Sandbox as LegacySandbox } from 'e2b-legacy';
import { useRuntime, withSandbox, eventually, jsonOf } from '../support/runtime.js';

const h = useRuntime({ maxSandboxes: 6 });

async function raw(path: string, init: RequestInit = {}) {
  return fetch(h.rt.url + path, { ...init, headers: { 'x-api-key': 'k', 'content-type': 'application/json', ...(init.headers ?? {}) } });
}

describe('create', () => {
  test('newest SDK creates on /v2/sandboxes with metadata, envVars and timeout', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        expect(sbx.sandboxId).toMatch(/^[a-z0-9]{20}$/);
        const info = await sbx.getInfo();
        expect(info.metadata).toEqual({ team: 'a', purpose: 'test' });
        expect(info.state).toBe('running');
        expect(info.envdVersion).toMatch(/^\d+\.\d+\.\d+$/);
        const lifetime = info.endAt.getTime() - info.startedAt.getTime();
        expect(lifetime).toBeGreaterThan(110_000);
        expect(lifetime).toBeLessThan(130_000);
        const r = await sbx.commands.run('echo "$GREETING"');
        expect(r.stdout).toBe('hello from create\n');
        expect(await sbx.isRunning()).toBe(true);
      },
      { metadata: { team: 'a', purpose: 'test' }, envs: { GREETING: 'hello from create' }, timeoutMs: 120_000 },
    );
  });

  test('an SDK on the /sandboxes paths (e2b 2.49) works the same', async () => {
    const sbx = await LegacySandbox.create({ ...h.opts, metadata: { legacy: 'yes' } });
    try {
      expect((await sbx.commands.run('echo legacy')).stdout).toBe('legacy\n');
      const again = await LegacySandbox.connect(sbx.sandboxId, h.opts);
      expect((await again.getInfo()).metadata).toEqual({ legacy: 'yes' });
    } finally {
      expect(await sbx.kill()).toBe(true);
    }
  });

  test('the code-interpreter template is accepted; an unknown template is refused', async () => {
    const ci = await Sandbox.create('code-interpreter-v1', h.opts);
    try {
      expect((await ci.getInfo()).templateId).toBe('code-interpreter-v1');
    } finally {
      await ci.kill();
    }
    await expect(Sandbox.create('no-such-template', h.opts)).rejects.toThrow(/template 'no-such-template' not found/);
  });

  test('limits can be set per sandbox through metadata and are reported', async () => {
    await withSandbox(
      h,
      async (sbx) => {
        const info = await sbx.getInfo();
        expect(info.memoryMB).toBe(256);
        expect(info.cpuCount).toBe(2);
      },
      { metadata: { 'toolkit.memoryMB': '256', 'toolkit.cpuCount': '2' } },
    );
    await expect(Sandbox.create({ ...h.opts, metadata: { 'toolkit.memoryMB': 'lots' } })).rejects.toThrow(/toolkit.memoryMB must be a positive number/);
    await expect(Sandbox.create({ ...h.opts, metadata: { 'toolkit.memoryMB': String(10 ** 9) } })).rejects.toThrow(/above this runtime's maximum/);
  });
});

describe('connect, info, timeout, kill', () => {
  test('connect returns a working handle; kill twice gives true then false', async () => {
    const sbx = await Sandbox.create(h.opts);
    const other = await Sandbox.connect(sbx.sandboxId, h.opts);
    expect((await other.commands.run('echo via-connect')).stdout).toBe('via-connect\n');
    expect(await Sandbox.kill(sbx.sandboxId, h.opts)).toBe(true);
    expect(await Sandbox.kill(sbx.sandboxId, h.opts)).toBe(false);
    expect(await sbx.isRunning()).toBe(false);
    await expect(Sandbox.connect(sbx.sandboxId, h.opts)).rejects.toBeInstanceOf(NotFoundError);
    await expect(Sandbox.getInfo(sbx.sandboxId, h.opts)).rejects.toBeInstanceOf(NotFoundError);
    await expect(Sandbox.setTimeout(sbx.sandboxId, 10_000, h.opts)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('setTimeout moves the end, and a sandbox past its timeout is gone', async () => {
    const sbx = await Sandbox.create(h.opts);
    await sbx.setTimeout(60_000);
    const info = await sbx.getInfo();
    expect(info.endAt.getTime() - Date.now()).toBeGreaterThan(50_000);
    await sbx.setTimeout(1_000);
    await eventually(async () => !(await sbx.isRunning()), 10_000, 200);
    expect(await Sandbox.kill(sbx.sandboxId, h.opts)).toBe(false);
    // Traffic to it now gets the proxy's 502 body, which the SDK reports as a timeout.
    await expect(sbx.commands.run('true')).rejects.toThrow();
  });

  test('bad timeouts are refused with a clear message', async () => {
    await withSandbox(h, async (sbx) => {
      const r = await raw(`/sandboxes/${sbx.sandboxId}/timeout`, { method: 'POST', body: JSON.stringify({ timeout: -5 }) });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ code: 400, message: expect.stringMatching(/timeout must be between/) });
      const r2 = await raw(`/sandboxes/${sbx.sandboxId}/timeout`, { method: 'POST', body: JSON.stringify({ timeout: 'soon' }) });
      expect(r2.status).toBe(400);
      expect(await sbx.isRunning()).toBe(true);
    });
  });

  test('metrics report memory against the limit', async () => {
    await withSandbox(h, async (sbx) => {
      const m = await sbx.getMetrics();
      expect(m.length).toBeGreaterThan(0);
      expect(m[0].memTotal).toBe(1024 * 2 ** 20);
      expect(m[0].cpuCount).toBe(1);
    });
  });
});

describe('list', () => {
  test('filters by metadata and state and pages with X-Next-Token', async () => {
    const tag = `run-${Date.now()}`;
    const made = await Promise.all([0, 1, 2].map((i) => Sandbox.create({ ...h.opts, metadata: { tag, i: String(i) } })));
    try {
      const one = await Sandbox.list({ ...h.opts, query: { metadata: { tag, i: '1' } } }).nextItems();
      expect(one.map((s) => s.sandboxId)).toEqual([made[1].sandboxId]);

      const pager = Sandbox.list({ ...h.opts, query: { metadata: { tag }, state: ['running'] }, limit: 2 });
      const first = await pager.nextItems();
      expect(first).toHaveLength(2);
      expect(pager.hasNext).toBe(true);
      const second = await pager.nextItems();
      expect(second).toHaveLength(1);
      expect(pager.hasNext).toBe(false);
      expect(new Set([...first, ...second].map((s) => s.sandboxId))).toEqual(new Set(made.map((s) => s.sandboxId)));

      const paused = await Sandbox.list({ ...h.opts, query: { metadata: { tag }, state: ['paused'] } }).nextItems();
      expect(paused).toEqual([]);
    } finally {
      await Promise.all(made.map((s) => s.kill()));
    }
  });

  test('a bad page token or limit is a 400', async () => {
    expect((await raw('/v2/sandboxes?nextToken=%%%')).status).toBe(400);
    expect((await raw('/v2/sandboxes?limit=0')).status).toBe(400);
  });
});

describe('bad input to the control plane', () => {
  test('no API key and a wrong API key', async () => {
    const r = await fetch(h.rt.url + '/v2/sandboxes', { method: 'POST', body: '{}' });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ code: 401 });
  });

  test('malformed JSON, a missing templateID, wrong field types', async () => {
    for (const body of ['{not json', '{}', '{"templateID":"base","metadata":{"a":1}}', '{"templateID":"base","timeout":"x"}']) {
      const r = await raw('/v2/sandboxes', { method: 'POST', body });
      expect(r.status, body).toBe(400);
      const j = await jsonOf(r);
      expect(j.code).toBe(400);
      expect(typeof j.message).toBe('string');
    }
  });

  test('a huge body is refused without reading it all', async () => {
    const r = await raw('/v2/sandboxes', { method: 'POST', body: JSON.stringify({ templateID: 'base', metadata: { x: 'y'.repeat(2 << 20) } }) });
    expect(r.status).toBe(413);
  });

  test('unknown ids are 404 with the JSON body the SDK needs', async () => {
    expect(await Sandbox.kill('doesnotexist0000000', h.opts)).toBe(false);
    await expect(Sandbox.getInfo('doesnotexist0000000', h.opts)).rejects.toBeInstanceOf(NotFoundError);
    const r = await raw('/sandboxes/doesnotexist0000000');
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ code: 404 });
  });

  test('pause is refused as unsupported, and the sandbox keeps running', async () => {
    await withSandbox(h, async (sbx) => {
      await expect(sbx.pause()).rejects.toBeInstanceOf(SandboxError);
      expect(await sbx.isRunning()).toBe(true);
    });
  });

  test('creating past the configured maximum is a RateLimitError; others keep working', async () => {
    const made: Sandbox[] = [];
    try {
      for (let i = 0; i < 6; i++) made.push(await Sandbox.create(h.opts));
      await expect(Sandbox.create(h.opts)).rejects.toBeInstanceOf(RateLimitError);
      expect((await made[0].commands.run('echo still')).stdout).toBe('still\n');
    } finally {
      await Promise.all(made.map((s) => s.kill()));
    }
    await withSandbox(h, async (s) => expect(await s.isRunning()).toBe(true));
  });

  test('the SDK refuses to run without a key at all', async () => {
    await expect(Sandbox.create({ apiUrl: h.rt.url, sandboxUrl: h.rt.url, apiKey: '' })).rejects.toBeInstanceOf(AuthenticationError);
  });
});
