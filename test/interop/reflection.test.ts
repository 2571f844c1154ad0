// Server reflection (grpc.reflection.v1 and v1alpha) as grpcurl, Postman and Evans use it:
// list the services, fetch the files that declare a symbol, then call an RPC with nothing
// but the reflected descriptors.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import * as protoLoader from '@grpc/proto-loader';
import type { ToolkitServer } from '../../services/toolkit/src/server.js';
import { addressOf, bearer, clientFor, failure, grpc, LOADER_OPTIONS, TOOLKIT_SERVICES, unary, type GrpcClient } from './grpc-js.js';
import { startTestServer } from '../support/toolkit.js';

const VERSIONS = ['v1', 'v1alpha'] as const;
type Version = (typeof VERSIONS)[number];

function reflectionClient(server: ToolkitServer, version: Version): GrpcClient {
  return clientFor(addressOf(server.url), [`grpc/reflection/${version}/reflection.proto`], `grpc.reflection.${version}.ServerReflection`);
}

/** One ServerReflectionInfo stream, asked one request at a time as grpcurl does. */
class ReflectionSession {
  private readonly call: grpc.ClientDuplexStream<object, any>;

  constructor(client: GrpcClient, key?: string) {
    this.call = client.ServerReflectionInfo(bearer(key));
  }

  async ask(request: object): Promise<any> {
    const answered = once(this.call, 'data');
    this.call.write(request);
    const [response] = await answered;
    return response;
  }

  /** The FileDescriptorProtos of a file_descriptor_response, decoded. */
  async files(request: object): Promise<FileDescriptorProto[]> {
    const res = await this.ask(request);
    expect(res.message_response).toBe('file_descriptor_response');
    return res.file_descriptor_response.file_descriptor_proto.map((b: Buffer) => fromBinary(FileDescriptorProtoSchema, b));
  }

  async end(): Promise<void> {
    const ended = once(this.call, 'end');
    this.call.end();
    this.call.resume();
    await ended;
  }
}

function startServer(name: string, apiKeys?: Set<string>): Promise<ToolkitServer> {
  return startTestServer(`interop-reflection-${name}`, {
    apiKeys,
    localRuntime: { warmPoolSize: 0 },
  });
}

describe.each(VERSIONS)('grpc.reflection.%s on an open server', (version) => {
  let server: ToolkitServer;
  let client: GrpcClient;
  let session: ReflectionSession;

  beforeAll(async () => {
    server = await startServer(version);
    client = reflectionClient(server, version);
    session = new ReflectionSession(client);
  });

  afterAll(async () => {
    await session?.end();
    client?.close();
    await server?.close();
  });

  it('lists every service, the standard ones included', async () => {
    const res = await session.ask({ host: 'localhost', list_services: '*' });
    expect(res.message_response).toBe('list_services_response');
    const names = res.list_services_response.service.map((s: { name: string }) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        ...TOOLKIT_SERVICES.map((s) => `e2b_toolkit.v1.${s}`),
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
      ]),
    );
    expect(res.valid_host).toBe('localhost');
    expect(res.original_request).toMatchObject({ host: 'localhost', list_services: '*' });
  });

  it('sends the file declaring a service, then its transitive dependencies', async () => {
    const files = await session.files({ file_containing_symbol: 'e2b_toolkit.v1.SandboxService' });
    expect(files[0].name).toBe('e2b_toolkit/v1/sandbox_service.proto');
    expect(files[0].service.map((s) => s.name)).toEqual(['SandboxService']);
    expect(files.map((f) => f.name).sort()).toEqual([
      'e2b_toolkit/v1/errors.proto',
      'e2b_toolkit/v1/sandbox_service.proto',
      'google/protobuf/duration.proto',
      'google/protobuf/timestamp.proto',
    ]);
    // Every import of every file sent is among the files sent.
    const sent = new Set(files.map((f) => f.name));
    for (const f of files) for (const dep of f.dependency) expect(sent).toContain(dep);
  });

  it('finds the file of methods, nested messages, fields and enum values', async () => {
    const fileOf = async (symbol: string) => (await session.files({ file_containing_symbol: symbol }))[0].name;
    expect(await fileOf('e2b_toolkit.v1.JobService.TailJobLogs')).toBe('e2b_toolkit/v1/job_service.proto');
    expect(await fileOf('e2b_toolkit.v1.TailJobLogsResponse.LogChunk')).toBe('e2b_toolkit/v1/job_service.proto');
    expect(await fileOf('e2b_toolkit.v1.Job')).toBe('e2b_toolkit/v1/job.proto');
    expect(await fileOf('e2b_toolkit.v1.Job.job_id')).toBe('e2b_toolkit/v1/job.proto');
    expect(await fileOf('e2b_toolkit.v1.JOB_STATUS_RUNNING')).toBe('e2b_toolkit/v1/job.proto');
    expect(await fileOf('google.rpc.ErrorInfo')).toBe('google/rpc/error_details.proto');
    expect(await fileOf('grpc.health.v1.Health.Watch')).toBe('grpc/health/v1/health.proto');
  });

  it('finds files by name, and answers NOT_FOUND in the stream for unknown names and symbols', async () => {
    const [job] = await session.files({ file_by_filename: 'e2b_toolkit/v1/job.proto' });
    expect(job.messageType.map((m) => m.name)).toContain('Job');

    for (const request of [
      { file_by_filename: 'e2b_toolkit/v1/nope.proto' },
      { file_containing_symbol: 'e2b_toolkit.v1.NoSuchThing' },
      { file_containing_extension: { containing_type: 'e2b_toolkit.v1.Job', extension_number: 100 } },
      { all_extension_numbers_of_type: 'e2b_toolkit.v1.NoSuchMessage' },
    ]) {
      const res = await session.ask(request);
      expect(res.message_response).toBe('error_response');
      expect(res.error_response.error_code).toBe(grpc.status.NOT_FOUND);
      expect(res.error_response.error_message).not.toBe('');
    }
    // The stream goes on after an error response.
    const res = await session.ask({ list_services: '' });
    expect(res.message_response).toBe('list_services_response');
  });

  it('lists the (no) extension numbers of a message', async () => {
    const res = await session.ask({ all_extension_numbers_of_type: 'e2b_toolkit.v1.Job' });
    expect(res.message_response).toBe('all_extension_numbers_response');
    expect(res.all_extension_numbers_response).toEqual({ base_type_name: 'e2b_toolkit.v1.Job', extension_number: [] });
  });

  it('answers a request that asks nothing with INVALID_ARGUMENT', async () => {
    const res = await session.ask({ host: 'x' });
    expect(res.message_response).toBe('error_response');
    expect(res.error_response.error_code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('describes services well enough to call them with no .proto files (as grpcurl does)', async () => {
    const reflected = new Map<string, FileDescriptorProto>();
    for (const symbol of ['e2b_toolkit.v1.SandboxService', 'grpc.health.v1.Health']) {
      for (const f of await session.files({ file_containing_symbol: symbol })) reflected.set(f.name, f);
    }
    const set = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [...reflected.values()] }));
    const definition = protoLoader.loadFileDescriptorSetFromBuffer(Buffer.from(set), LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as any;

    const sandboxes: GrpcClient = new loaded.e2b_toolkit.v1.SandboxService(addressOf(server.url), grpc.credentials.createInsecure());
    const health: GrpcClient = new loaded.grpc.health.v1.Health(addressOf(server.url), grpc.credentials.createInsecure());
    try {
      expect(await unary(sandboxes, 'ListSandboxes', { all_clients: true }, { key: 'reflected' })).toEqual({ sandboxes: [], next_page_token: '' });
      expect(await unary(health, 'Check', { service: 'e2b_toolkit.v1.SandboxService' })).toEqual({ status: 'SERVING' });
    } finally {
      sandboxes.close();
      health.close();
    }
  });
});

describe('reflection on a server with API keys', () => {
  let server: ToolkitServer;

  beforeAll(async () => {
    server = await startServer('keyed', new Set(['the-key']));
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each(VERSIONS)('%s needs a valid key', async (version) => {
    const client = reflectionClient(server, version);
    try {
      for (const key of [undefined, 'wrong-key']) {
        const err = await failure(new ReflectionSession(client, key).ask({ list_services: '' }));
        expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      }
      const session = new ReflectionSession(client, 'the-key');
      expect((await session.ask({ list_services: '' })).message_response).toBe('list_services_response');
      await session.end();
    } finally {
      client.close();
    }
  });
});
