// The in-sandbox agent: envd-compatible process and filesystem RPC, /files, and the
// code interpreter, served over HTTP/2 to the runtime on an inherited socket; plus
// CONNECT tunnels to servers listening inside the sandbox's network namespace.
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { loadConfig } from './config.js';
import { closeInheritedFds, openControlSocket } from './control-socket.js';
import { Spawner } from './spawn.js';
import { ProcessTable } from './processes.js';
import { processService } from './process-service.js';
import { filesystemService } from './filesystem-service.js';
import { Process } from './gen/process/process_pb.js';
import { Filesystem } from './gen/filesystem/filesystem_pb.js';
import { handleFiles } from './files-http.js';
import { createInterpreter } from './interpreter/index.js';
import { DEFAULT_USER } from './users.js';

const config = loadConfig();
delete process.env.E2B_AGENT_CONFIG;
closeInheritedFds([config.controlFd]);
// Changing the effective uid makes the kernel mark this process non-dumpable, and it
// stays so: then only CAP_SYS_PTRACE, which no process in the sandbox has, lets anyone
// trace the agent, read its memory or copy its descriptors (the control socket), sandbox
// root included. The capabilities come back with uid 0.
process.seteuid!(65534);
process.seteuid!(0);

// The home directory is a fresh tmpfs owned by sandbox root; it belongs to the user.
fs.chownSync(DEFAULT_USER.home, DEFAULT_USER.uid, DEFAULT_USER.gid);

const spawner = new Spawner(config.cgroupProcs);
const processes = new ProcessTable(spawner);
const interpreter = createInterpreter({
  spawner,
  python: config.python,
  kernelDriver: config.kernelDriver,
  globalEnv: () => processes.globalEnv,
});

const envd = connectNodeAdapter({
  routes(router) {
    router.service(Process, processService(processes, config.defaultKeepaliveSeconds));
    router.service(Filesystem, filesystemService(config.defaultKeepaliveSeconds));
  },
  connect: true,
  grpc: false,
  grpcWeb: false,
});

function json(res: http2.Http2ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: http2.Http2ServerRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

/** Calls only the runtime makes; the runtime refuses to forward these paths from clients. */
async function internal(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) {
  if (req.url === '/_internal/init' && req.method === 'POST') {
    const body = (await readJson(req)) as { envVars?: Record<string, string> };
    processes.globalEnv = { ...(body.envVars ?? {}) };
    res.writeHead(204).end();
    return;
  }
  json(res, 404, { code: 404, message: 'unknown internal call' });
}

function route(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) {
  const port = req.headers['e2b-sandbox-port'];
  const url = req.url ?? '/';
  if (url.startsWith('/_internal/')) return void internal(req, res).catch((e) => json(res, 400, { code: 400, message: String(e) }));
  if (port === '49999') return interpreter.handle(req, res);
  if (url === '/health') return void res.writeHead(204).end();
  if (url === '/files' || url.startsWith('/files?')) return handleFiles(req, res);
  if (url === '/envs' && req.method === 'GET') return json(res, 200, processes.globalEnv);
  envd(req, res);
}

/** A tunnel to 127.0.0.1:<port> inside the sandbox, for the runtime's port proxy. */
function tunnel(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) {
  const port = Number(String(req.headers[':authority'] ?? '').split(':').pop());
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    res.writeHead(400).end();
    return;
  }
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.once('connect', () => {
    res.writeHead(200);
    sock.pipe(req.stream);
    req.stream.pipe(sock);
  });
  sock.once('error', () => {
    if (!res.headersSent) res.writeHead(502).end();
    else req.stream.destroy();
  });
  req.stream.once('close', () => sock.destroy());
}

const server = http2.createServer({
  settings: { initialWindowSize: 8 << 20, maxFrameSize: 1 << 20, maxConcurrentStreams: 10_000 },
  maxSessionMemory: 64,
});
server.on('request', route);
server.on('connect', tunnel);
server.on('session', (s) => s.setLocalWindowSize(32 << 20));

const socket = openControlSocket(config.controlFd);
server.emit('connection', socket);

function shutdown() {
  processes.killAll();
  interpreter.shutdown();
  process.exit(0);
}
// The runtime going away means the sandbox is over.
socket.on('close', shutdown);
process.on('SIGTERM', shutdown);
process.on('uncaughtException', (err) => {
  process.stderr.write(`agent: uncaught ${err?.stack ?? err}\n`);
});
interpreter.prewarm();
