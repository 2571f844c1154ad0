// Test helpers for the toolkit server: a transport per protocol with a bearer key, and the
// status code a call ends with.
import { Code, ConnectError, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';

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
