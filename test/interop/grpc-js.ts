// Calling the toolkit the way a plain grpc-js user does: the .proto files loaded at run time
// with @grpc/proto-loader (no generated code), credentials in metadata, errors as
// grpc.ServiceError with the google.rpc.Status details in grpc-status-details-bin.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export { grpc };

export const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));

/** Field names as in the .proto files, enums as names, 64-bit integers as strings. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export const TOOLKIT_SERVICES = [
  'SandboxService',
  'CommandService',
  'JobService',
  'CodeService',
  'FileService',
  'NetworkService',
] as const;
export type ToolkitServiceName = (typeof TOOLKIT_SERVICES)[number];

const TOOLKIT_PROTOS = TOOLKIT_SERVICES.map((s) => `e2b_toolkit/v1/${s.replace(/Service$/, '').toLowerCase()}_service.proto`);

/** A client as grpc-js builds it from a loaded service: methods by their proto names. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GrpcClient = grpc.Client & Record<string, any>;

/** Looks up a dotted name (package and service) in what grpc.loadPackageDefinition returned. */
function serviceConstructor(loaded: grpc.GrpcObject, fullName: string): grpc.ServiceClientConstructor {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ctor = fullName.split('.').reduce<any>((obj, part) => obj?.[part], loaded);
  if (typeof ctor !== 'function') throw new Error(`no service ${fullName} in the loaded protos`);
  return ctor;
}

/** A client of `fullName` (e.g. "grpc.health.v1.Health") defined in `protoFiles` (paths under proto/). */
export function clientFor(address: string, protoFiles: string[], fullName: string): GrpcClient {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoFiles, LOADER_OPTIONS));
  const Ctor = serviceConstructor(loaded, fullName);
  return new Ctor(address, grpc.credentials.createInsecure()) as GrpcClient;
}

/** One client per e2b_toolkit.v1 service, all on one channel. */
export function toolkitClients(address: string): Record<ToolkitServiceName, GrpcClient> & { close(): void } {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(TOOLKIT_PROTOS, LOADER_OPTIONS));
  const first = new (serviceConstructor(loaded, `e2b_toolkit.v1.${TOOLKIT_SERVICES[0]}`))(address, grpc.credentials.createInsecure());
  const channel = first.getChannel();
  const clients = Object.fromEntries(
    TOOLKIT_SERVICES.map((name) => [
      name,
      new (serviceConstructor(loaded, `e2b_toolkit.v1.${name}`))(address, grpc.credentials.createInsecure(), { channelOverride: channel }),
    ]),
  ) as Record<ToolkitServiceName, GrpcClient>;
  return { ...clients, close: () => first.close() };
}

/** host:port of a server URL, as grpc-js addresses take. */
export function addressOf(url: string): string {
  return new URL(url).host;
}

export function bearer(key: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (key !== undefined) md.set('authorization', `Bearer ${key}`);
  return md;
}

export interface CallOptions {
  /** The API key; undefined sends no authorization header. */
  key?: string;
  deadlineMs?: number;
}

function grpcOptions(options: CallOptions): grpc.CallOptions {
  return options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
}

/** A unary call as a promise. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function unary<T = any>(client: GrpcClient, method: string, request: object, options: CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, bearer(options.key), grpcOptions(options), (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/** A server-streaming call: the grpc-js call object, readable and cancellable. */
export function serverStream(client: GrpcClient, method: string, request: object, options: CallOptions = {}): grpc.ClientReadableStream<any> {
  return client[method](request, bearer(options.key), grpcOptions(options));
}

/** A client-streaming call: writes `messages`, then resolves with the one response. */
export function clientStream<T = any>(client: GrpcClient, method: string, messages: Iterable<object>, options: CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const call: grpc.ClientWritableStream<object> = client[method](bearer(options.key), grpcOptions(options), (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
    for (const message of messages) call.write(message);
    call.end();
  });
}

/** Cancels a call the way a client gives up on it; resolves with the CANCELLED status it ends with. */
export function cancel(call: grpc.ClientReadableStream<unknown>): Promise<grpc.ServiceError> {
  const ended = new Promise<grpc.ServiceError>((resolve) => call.once('error', resolve));
  call.cancel();
  return ended;
}

/** Reads a server stream to its end. */
export async function readAll<T = any>(call: grpc.ClientReadableStream<T>): Promise<T[]> {
  const messages: T[] = [];
  for await (const message of call) messages.push(message as T);
  return messages;
}

/** The error a call failed with (a grpc.ServiceError), or throws if it succeeded. */
export async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call succeeded');
}

// google.rpc.Status is not among the vendored protos; it is three fields, declared here.
const statusRoot = protobuf.parse(`
  syntax = "proto3";
  package google.rpc;
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message Any { string type_url = 1; bytes value = 2; }
`, { keepCase: true }).root;
const StatusType = statusRoot.lookupType('google.rpc.Status');
const ErrorInfoType = protobuf.loadSync(`${PROTO_ROOT}/google/rpc/error_details.proto`).lookupType('google.rpc.ErrorInfo');

export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

/** The google.rpc.ErrorInfo in an error's grpc-status-details-bin trailer, if any. */
export function errorInfoOf(err: grpc.ServiceError): ErrorInfo | undefined {
  const [bin] = err.metadata.get('grpc-status-details-bin');
  if (!bin) return undefined;
  const status = StatusType.toObject(StatusType.decode(bin as Buffer), { defaults: true }) as {
    code: number;
    details: { type_url: string; value: Uint8Array }[];
  };
  if (status.code !== err.code) throw new Error(`grpc-status-details-bin says code ${status.code}, the call ended with ${err.code}`);
  const info = status.details.find((d) => d.type_url === 'type.googleapis.com/google.rpc.ErrorInfo');
  if (!info) return undefined;
  const decoded = ErrorInfoType.toObject(ErrorInfoType.decode(info.value), { defaults: true }) as ErrorInfo;
  return { reason: decoded.reason, domain: decoded.domain, metadata: { ...decoded.metadata } };
}
