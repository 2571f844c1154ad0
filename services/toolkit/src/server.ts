// The toolkit server: gRPC over HTTP/2 cleartext, and Connect and gRPC-Web over HTTP/1.1, on
// one port. A plain TCP listener peeks at each connection's first bytes and hands it to the
// HTTP/2 server when they are the HTTP/2 preface, else to the HTTP/1.1 server.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { CommandService, JobService, Jobs, SandboxManager, SandboxService, type BackendConfig } from '@e2b-toolkit/core';
import { startLocalRuntime, type LocalRuntime, type RuntimeConfig } from '@e2b-toolkit/local';
import { authInterceptor } from './auth.js';
import { isLoopback, type ToolkitConfig } from './config.js';
import { toConnectError } from './errors.js';
import { specGrpcMessages } from './grpc-message.js';
import { commandService } from './handlers/command.js';
import { jobService } from './handlers/job.js';
import { sandboxService } from './handlers/sandbox.js';
import { FileService, Files, Network, NetworkService, type FilesOptions } from '@e2b-toolkit/core';
import { fileService } from './handlers/file.js';
import { networkService } from './handlers/network.js';
import { CodeService, Executions, type ExecutionsOptions } from '@e2b-toolkit/core';
import { codeService } from './handlers/code.js';
import { registerHealth } from './health.js';
import { registerReflection } from './reflection.js';

export interface ToolkitServerOptions extends ToolkitConfig {
  /** Settings of the embedded local runtime (when not using E2B). */
  localRuntime?: Partial<RuntimeConfig>;
  /** Settings of Python executions (retention, output limit, run-in-all workers). */
  code?: Omit<ExecutionsOptions, 'manager' | 'backend' | 'jobs'>;
  /** Settings of file transfers (unary size limit, upload idle limit). */
  files?: Omit<FilesOptions, 'manager'>;
}

export interface ToolkitServer {
  /** http://host:port */
  url: string;
  port: number;
  /** The embedded local runtime, when there is one. */
  runtime?: LocalRuntime;
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export async function startToolkitServer(options: ToolkitServerOptions): Promise<ToolkitServer> {
  if (!options.apiKeys && !isLoopback(options.host)) {
    throw new Error(`refusing to listen on ${options.host} without API keys: set TOOLKIT_API_KEYS, or listen on 127.0.0.1`);
  }
  fs.mkdirSync(options.dataDir, { recursive: true });

  let runtime: LocalRuntime | undefined;
  let backend: BackendConfig;
  if (options.e2b) {
    backend = { apiKey: options.e2b.apiKey, domain: options.e2b.domain, apiUrl: options.e2b.apiUrl };
  } else {
    runtime = await startLocalRuntime({ port: 0, ...options.localRuntime });
    backend = { apiKey: runtime.config.apiKey ?? 'local', apiUrl: runtime.url, sandboxUrl: runtime.url, domain: runtime.domain };
  }
  const manager = new SandboxManager({ backend, defaultTemplate: options.e2b ? undefined : 'code-interpreter-v1', retentionMs: options.retentionMs });
  const jobs = new Jobs({ manager, dataDir: options.dataDir, retentionMs: options.retentionMs });
  const executions = new Executions({ retentionMs: options.retentionMs, ...options.code, manager, backend, jobs });
  const files = new Files({ spoolDir: options.dataDir, ...options.files, manager });
  const network = new Network({ manager, jobs, localRuntime: runtime && { apiUrl: runtime.url, apiKey: backend.apiKey } });

  const shutdown = new AbortController();
  // Every call in flight links its own signal to this one: many concurrent calls are normal.
  setMaxListeners(0, shutdown.signal);
  const routes = (router: ConnectRouter) => {
    router.service(SandboxService, sandboxService(manager));
    router.service(CommandService, commandService(jobs));
    router.service(JobService, jobService(jobs));
    router.service(CodeService, codeService(executions));
    router.service(FileService, fileService(files));
    router.service(NetworkService, networkService(network));
    // gRPC's standard services, for load balancers and probes (health) and for generic
    // clients such as grpcurl (reflection). Both describe whatever is registered above.
    registerHealth(router, shutdown.signal);
    registerReflection(router);
  };
  const handler = connectNodeAdapter({
    routes,
    interceptors: [errorInterceptor, authInterceptor(options.apiKeys)],
    grpc: true,
    grpcWeb: true,
    connect: true,
    shutdownSignal: shutdown.signal,
    // Compressed requests are accepted, but responses are never compressed: most clients
    // (grpc-js, connect-es, grpcio) ask for gzip, and gzip on large messages capped file
    // downloads and log tails at about 20 MB/s for little gain on loopback or a LAN.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
  });

  const serve = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    specGrpcMessages(res);
    handler(req as never, res as never);
  };
  const h1 = http.createServer(serve);
  const h2 = http2.createServer(serve);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    // Streams of small frames (gRPC chunks) would otherwise wait on Nagle's algorithm.
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    sniff(socket, (isH2, seen) => {
      if (isH2) h2.emit('connection', replay(socket, seen));
      else {
        socket.unshift(seen);
        h1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port, options.host, () => resolve());
  });
  const { port } = listener.address() as net.AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    runtime,
    close() {
      closing ??= (async () => {
        listener.close();
        shutdown.abort();
        for (const s of sessions) s.close();
        h1.closeIdleConnections();
        await jobs.close();
        executions.close();
        manager.close();
        await runtime?.close();
        // Streams that saw the shutdown are sending their last messages and status (health
        // watchers their NOT_SERVING): let them flush, briefly, before cutting what remains.
        await sessionsClosed(sessions, SHUTDOWN_GRACE_MS);
        // Whatever did not end by itself.
        for (const s of sessions) s.destroy();
        h1.closeAllConnections();
        for (const s of sockets) s.destroy();
        await fs.promises.rm(options.dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** How long close() waits for HTTP/2 sessions to finish their streams before destroying them. */
const SHUTDOWN_GRACE_MS = 1000;

/** Resolves when every session has closed, or after `ms`. */
function sessionsClosed(sessions: ReadonlySet<http2.ServerHttp2Session>, ms: number): Promise<void> {
  const open = [...sessions].filter((s) => !s.destroyed);
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    let left = open.length;
    for (const s of open) {
      s.once('close', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/** Reads until the bytes seen can or cannot be the HTTP/2 preface. */
function sniff(socket: net.Socket, decide: (isH2: boolean, seen: Buffer) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (data: Buffer) => {
    seen = Buffer.concat([seen, data]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const matches = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matches && n < H2_PREFACE.length) return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    decide(matches, seen);
  };
  const onError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('error', onError);
}

/**
 * The socket as a JS stream that first yields the bytes already read. The HTTP/2 server
 * reads a net.Socket through its native handle, which would skip bytes put back with
 * unshift; given a plain Duplex it reads through JS instead.
 */
function replay(socket: net.Socket, seen: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  duplex.push(seen);
  socket.on('data', (data) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

/** Reports every core error with its status code (see errors.ts), streams included. */
const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (!res.stream) return res;
    return { ...res, message: mapErrors(res.message) };
  } catch (err) {
    throw toConnectError(err);
  }
};

async function* mapErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw err instanceof ConnectError ? err : toConnectError(err);
  }
}
