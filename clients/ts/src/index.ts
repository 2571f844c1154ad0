// e2b-toolkit: the TypeScript client of the e2b-toolkit API.
//  - createToolkitClients: typed Connect/gRPC/gRPC-Web clients for the six services;
//  - SandboxManager and E2BToolkit: the reference toolkit's API (camelCase) on top of them.
export * from './clients.js';
export * from './errors.js';
export * from './manager.js';
export * from './toolkit.js';
export * from './gen/e2b_toolkit/v1/errors_pb.js';
export * from './gen/google/rpc/error_details_pb.js';
export * from './gen/e2b_toolkit/v1/job_pb.js';
export * from './gen/e2b_toolkit/v1/execution_pb.js';
export * from './gen/e2b_toolkit/v1/sandbox_service_pb.js';
export * from './gen/e2b_toolkit/v1/command_service_pb.js';
export * from './gen/e2b_toolkit/v1/job_service_pb.js';
export * from './gen/e2b_toolkit/v1/code_service_pb.js';
export * from './gen/e2b_toolkit/v1/file_service_pb.js';
export * from './gen/e2b_toolkit/v1/network_service_pb.js';
