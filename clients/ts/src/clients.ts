// The generated clients of the six toolkit services over one transport.
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { CodeService } from './gen/e2b_toolkit/v1/code_service_pb.js';
import { CommandService } from './gen/e2b_toolkit/v1/command_service_pb.js';
import { FileService } from './gen/e2b_toolkit/v1/file_service_pb.js';
import { JobService } from './gen/e2b_toolkit/v1/job_service_pb.js';
import { NetworkService } from './gen/e2b_toolkit/v1/network_service_pb.js';
import { SandboxService } from './gen/e2b_toolkit/v1/sandbox_service_pb.js';

/** The wire protocol: Connect and gRPC-Web over HTTP/1.1, gRPC over HTTP/2 (cleartext h2c for http:// URLs). */
export type ToolkitProtocol = 'connect' | 'grpc' | 'grpc-web';

export interface ToolkitClientOptions {
  /** The server, for example "http://127.0.0.1:50051". */
  baseUrl: string;
  /** Sent as "Authorization: Bearer <apiKey>". Unset: no header (fine for a loopback server without keys). */
  apiKey?: string;
  /** Default "connect". */
  protocol?: ToolkitProtocol;
  /**
   * The client_id this caller uses (see SandboxService in the protos). Not sent by the
   * transport: requests carry it in their client_id fields. Returned as `clientId` for
   * convenience. Default: a fresh random id.
   */
  clientId?: string;
  /** More interceptors, run after the auth one. */
  interceptors?: Interceptor[];
}

export interface ToolkitClients {
  clientId: string;
  transport: Transport;
  sandboxes: Client<typeof SandboxService>;
  commands: Client<typeof CommandService>;
  jobs: Client<typeof JobService>;
  code: Client<typeof CodeService>;
  files: Client<typeof FileService>;
  network: Client<typeof NetworkService>;
}

/** An interceptor that sends `Authorization: Bearer <apiKey>` on every call. */
export function bearerAuth(apiKey: string): Interceptor {
  return (next) => (req) => {
    req.header.set('authorization', `Bearer ${apiKey}`);
    return next(req);
  };
}

export function createToolkitTransport(options: ToolkitClientOptions): Transport {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const interceptors = [...(options.apiKey ? [bearerAuth(options.apiKey)] : []), ...(options.interceptors ?? [])];
  switch (options.protocol ?? 'connect') {
    case 'grpc':
      return createGrpcTransport({ baseUrl, interceptors });
    case 'grpc-web':
      return createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors });
    case 'connect':
      return createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors });
    default:
      throw new Error(`unknown protocol ${String(options.protocol)}: use "connect", "grpc" or "grpc-web"`);
  }
}

/** Typed clients for all six services, sharing one transport. */
export function createToolkitClients(options: ToolkitClientOptions): ToolkitClients {
  const transport = createToolkitTransport(options);
  return {
    clientId: options.clientId ?? randomClientId(),
    transport,
    sandboxes: createClient(SandboxService, transport),
    commands: createClient(CommandService, transport),
    jobs: createClient(JobService, transport),
    code: createClient(CodeService, transport),
    files: createClient(FileService, transport),
    network: createClient(NetworkService, transport),
  };
}

export function randomClientId(prefix = 'ts'): string {
  return `${prefix}-${crypto.randomUUID()}`;
}
