// Servers inside a sandbox, reached through the runtime's proxy: by the routing
// headers, by Host `<port>-<id>.<domain>` (what getHost returns), and by the loopback
// URL the runtime hands out on request; HTTP and WebSocket; closed ports and dead
// sandboxes answer 502 with E2B's JSON body.
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, test, beforeAll, afterAll } from 'vitest';
import WebSocket from 'ws';
import { Sandbox } from 'e2b';
import { useRuntime, eventually, jsonOf } from '../support/runtime.js';

const h = useRuntime();
let sbx: Sandbox;

// A WebSocket echo server with nothing but Node's standard library, run in the sandbox.
const WS_ECHO = String.raw`
const http = require('http'), crypto = require('crypto');
const srv = http.createServer((q, s) => s.end('plain http on 8001'));
srv.on('upgrade', (req, sock) => {
  const key = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + key + '\r\n\r\n');
  sock.on('data', (b) => {
    const len = b[1] & 127, mask = b.subarray(2, 6), data = Buffer.from(b.subarray(6, 6 + len));
    for (let i = 0; i < data.length; i++) data[i] ^= mask[i % 4];
    sock.write(Buffer.concat([Buffer.from([0x81, data.length]), data]));
  });
});
srv.listen(8001, '127.0.0.1');`;

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  sbx = await Sandbox.create(h.opts);
  await sbx.files.write('/home/user/site/index.html', '<h1>hello from the sandbox</h1>');
  await sbx.commands.run('python3 -m http.server 8000 --bind 127.0.0.1', { background: true, cwd: '/home/user/site', timeoutMs: 0 });
  await sbx.files.write('/home/user/ws.js', WS_ECHO);
  await sbx.commands.run('node /home/user/ws.js', { background: true, timeoutMs: 0 });
  const hdr = (port: number) => ({ 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': String(port) });
  await eventually(async () => (await get(h.rt.url + '/', hdr(8000)).catch(() => ({ status: 0 }))).status === 200);
  await eventually(async () => (await get(h.rt.url + '/', hdr(8001)).catch(() => ({ status: 0 }))).status === 200);
});
afterAll(async () => {
  await sbx?.kill();
});

describe('HTTP to a server in the sandbox', () => {
  test('by routing headers', async () => {
    const r = await get(h.rt.url + '/index.html', { 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '8000' });
    expect(r).toEqual({ status: 200, body: '<h1>hello from the sandbox</h1>' });
  });

  test('by the Host that getHost() returns', async () => {
    const host = sbx.getHost(8000);
    expect(host).toBe(`8000-${sbx.sandboxId}.${h.rt.domain}`);
    const r = await get(h.rt.url + '/index.html', { host });
    expect(r.body).toBe('<h1>hello from the sandbox</h1>');
    // curl resolves *.localhost itself, so the getHost URL works as is. (Asynchronously:
    // the runtime answering it lives in this process.)
    const { stdout } = await promisify(execFile)('curl', ['-s', `http://${host}/index.html`], { encoding: 'utf8' });
    expect(stdout).toBe('<h1>hello from the sandbox</h1>');
  });

  test('by a loopback URL any client can open (extension endpoint)', async () => {
    const res = await fetch(`${h.rt.url}/sandboxes/${sbx.sandboxId}/ports/8000`, { method: 'POST', headers: { 'x-api-key': 'k' } });
    expect(res.status).toBe(201);
    const { url } = await jsonOf(res);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(url + '/index.html')).text()).toBe('<h1>hello from the sandbox</h1>');
    // Asking again gives the same listener.
    const again = await jsonOf(fetch(`${h.rt.url}/sandboxes/${sbx.sandboxId}/ports/8000`, { method: 'POST', headers: { 'x-api-key': 'k' } }));
    expect(again.url).toBe(url);
    const bad = await fetch(`${h.rt.url}/sandboxes/${sbx.sandboxId}/ports/70000`, { method: 'POST', headers: { 'x-api-key': 'k' } });
    expect(bad.status).toBe(400);
  });
});

describe('WebSocket', () => {
  async function echo(url: string, headers: Record<string, string> = {}): Promise<string> {
    const ws = new WebSocket(url, { headers });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
      ws.send('ping through the proxy');
      return await reply;
    } finally {
      ws.close();
    }
  }

  test('through Host routing and through the loopback URL', async () => {
    expect(await echo(h.rt.url.replace('http', 'ws') + '/', { host: sbx.getHost(8001) })).toBe('ping through the proxy');
    const { url } = await jsonOf(fetch(`${h.rt.url}/sandboxes/${sbx.sandboxId}/ports/8001`, { method: 'POST', headers: { 'x-api-key': 'k' } }));
    expect(await echo(url.replace('http', 'ws') + '/')).toBe('ping through the proxy');
  });
});

describe('closed ports and dead sandboxes', () => {
  test('a closed port answers 502 with the port named', async () => {
    const r = await get(h.rt.url + '/', { 'e2b-sandbox-id': sbx.sandboxId, 'e2b-sandbox-port': '9999' });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ sandboxId: sbx.sandboxId, port: 9999, code: 502 });
  });

  test('a killed sandbox answers 502, its loopback listeners close', async () => {
    const other = await Sandbox.create(h.opts);
    await other.commands.run('python3 -m http.server 8000 --bind 127.0.0.1', { background: true, timeoutMs: 0 });
    const { url } = await jsonOf(fetch(`${h.rt.url}/sandboxes/${other.sandboxId}/ports/8000`, { method: 'POST', headers: { 'x-api-key': 'k' } }));
    await other.kill();
    const r = await get(h.rt.url + '/', { host: other.getHost(8000) });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toEqual({ sandboxId: other.sandboxId, message: 'The sandbox was not found', code: 502 });
    await expect(fetch(url)).rejects.toThrow();
    // The first sandbox's server is unaffected.
    expect((await get(h.rt.url + '/index.html', { host: sbx.getHost(8000) })).status).toBe(200);
  });
});
