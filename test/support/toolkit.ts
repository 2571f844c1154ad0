// Test helpers for the toolkit server: starting one, a transport per protocol with a bearer
// key, and the status code a call ends with.
import os from 'node:os';
import path from 'node:path';
import { Code, ConnectError, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { startToolkitServer, type ToolkitServer, type ToolkitServerOptions } from '../../services/toolkit/src/server.js';

export type Protocol = 'connect' | 'grpc' | 'grpc-web';

function bearer(key: string): Interceptor {
  return (next) => (req) => {
    req.header.set('authorization', `Bearer ${key}`);
    return next(req);
  };
}

/** gRPC over HTTP/2; Connect and gRPC-Web over HTTP/1.1, as browsers and curl use them. */
export function toolkitTransport(baseUrl: string, protocol: Protocol, key: string): Transport {
  const interceptors = [bearer(key)];
  if (protocol === 'grpc') return createGrpcTransport({ baseUrl, interceptors });
  if (protocol === 'grpc-web') return createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors });
  return createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors });
}

/** The code a call failed with, or undefined when it succeeded. */
export async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/**
 * A toolkit server for a test file: loopback, a free port, its own data directory (named
 * after `name`), the embedded runtime with a warm pool of one unless `options` say otherwise.
 */
export function startTestServer(name: string, options: Partial<ToolkitServerOptions> = {}): Promise<ToolkitServer> {
  return startToolkitServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(os.tmpdir(), `toolkit-${name}-${process.pid}`),
    ...options,
    localRuntime: { warmPoolSize: 1, ...options.localRuntime },
  });
}
