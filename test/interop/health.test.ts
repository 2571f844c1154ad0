// grpc.health.v1.Health as load balancers, Kubernetes probes and grpc_health_probe call it:
// a grpc-js client built from the vendored health.proto at run time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { addressOf, cancel, clientFor, failure, grpc, serverStream, TOOLKIT_SERVICES, unary, type GrpcClient } from './grpc-js.js';
import { startTestServer } from '../support/toolkit.js';

const HEALTH_PROTO = ['grpc/health/v1/health.proto'];

function startServer(name: string, apiKeys?: Set<string>): Promise<ToolkitServer> {
  return startTestServer(`interop-health-${name}`, {
    apiKeys,
    localRuntime: { warmPoolSize: 0 },
  });
}

/** Resolves with the next message of a stream. */
function nextMessage<T>(call: grpc.ClientReadableStream<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const onData = (m: T) => {
      call.off('error', onError);
      resolve(m);
    };
    const onError = (err: Error) => {
      call.off('data', onData);
      reject(err);
    };
    call.once('data', onData);
    call.once('error', onError);
  });
}

describe('an open (loopback, no keys) server', () => {
  let server: ToolkitServer;
  let health: GrpcClient;

  beforeAll(async () => {
    server = await startServer('open');
    health = clientFor(addressOf(server.url), HEALTH_PROTO, 'grpc.health.v1.Health');
  });

  afterAll(async () => {
    health?.close();
    await server?.close();
  });

  it('reports the server and each of its services as SERVING', async () => {
    expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    for (const name of TOOLKIT_SERVICES) {
      expect(await unary(health, 'Check', { service: `e2b_toolkit.v1.${name}` })).toEqual({ status: 'SERVING' });
    }
    expect(await unary(health, 'Check', { service: 'grpc.health.v1.Health' })).toEqual({ status: 'SERVING' });
  });

  it('answers NOT_FOUND for a service it does not serve', async () => {
    const err = await failure(unary(health, 'Check', { service: 'e2b_toolkit.v1.NoSuchService' }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
  });

  it('lists every service with its status', async () => {
    const { statuses } = await unary(health, 'List', {});
    expect(statuses['']).toEqual({ status: 'SERVING' });
    for (const name of TOOLKIT_SERVICES) expect(statuses[`e2b_toolkit.v1.${name}`]).toEqual({ status: 'SERVING' });
    expect(Object.keys(statuses)).toEqual(expect.arrayContaining(['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']));
  });

  it('keeps a Watch of an unknown service open with SERVICE_UNKNOWN', async () => {
    const call = serverStream(health, 'Watch', { service: 'nope.v1.Nothing' });
    expect(await nextMessage(call)).toEqual({ status: 'SERVICE_UNKNOWN' });
    expect((await cancel(call)).code).toBe(grpc.status.CANCELLED);
    // The server is unaffected.
    expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
  });

  it('tells watchers NOT_SERVING when the server shuts down, then ends their streams', async () => {
    const overall = serverStream(health, 'Watch', { service: '' });
    const sandboxes = serverStream(health, 'Watch', { service: 'e2b_toolkit.v1.SandboxService' });
    const seen = (call: grpc.ClientReadableStream<{ status: string }>) =>
      new Promise<{ statuses: string[]; error?: grpc.ServiceError }>((resolve) => {
        const statuses: string[] = [];
        call.on('data', (m) => statuses.push(m.status));
        call.on('error', (error: grpc.ServiceError) => resolve({ statuses, error }));
        call.on('end', () => resolve({ statuses }));
      });
    const overallSeen = seen(overall);
    const sandboxesSeen = seen(sandboxes);
    // Both watches are established (their first message arrived) before the shutdown.
    await new Promise<void>((resolve) => {
      let n = 0;
      const one = () => ++n === 2 && resolve();
      overall.once('data', one);
      sandboxes.once('data', one);
    });
    await server.close();
    expect(await overallSeen).toEqual({ statuses: ['SERVING', 'NOT_SERVING'] });
    expect(await sandboxesSeen).toEqual({ statuses: ['SERVING', 'NOT_SERVING'] });
  });
});

describe('a server with API keys', () => {
  let server: ToolkitServer;
  let health: GrpcClient;

  beforeAll(async () => {
    server = await startServer('keyed', new Set(['the-key']));
    health = clientFor(addressOf(server.url), HEALTH_PROTO, 'grpc.health.v1.Health');
  });

  afterAll(async () => {
    health?.close();
    await server?.close();
  });

  it('answers health checks without credentials, or with any', async () => {
    expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    expect(await unary(health, 'Check', { service: 'e2b_toolkit.v1.JobService' }, { key: 'not-a-key' })).toEqual({ status: 'SERVING' });
    const call = serverStream(health, 'Watch', { service: '' });
    expect(await nextMessage(call)).toEqual({ status: 'SERVING' });
    await cancel(call);
  });
});
