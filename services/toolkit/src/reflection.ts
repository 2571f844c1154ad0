// gRPC server reflection (grpc.reflection.v1 and its older twin v1alpha), so that grpcurl,
// Postman, Evans and other generic clients can list and call our services without the
// .proto files: https://github.com/grpc/grpc/blob/master/doc/server-reflection.md
//
// The descriptors come from the generated code of the services registered on the router,
// so reflection always describes exactly what this server serves, plus the error detail
// types its errors carry (google.rpc.ErrorInfo), which no service imports but clients such
// as grpcurl resolve to print error details.
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, type ConnectRouter } from '@connectrpc/connect';
import { file_google_rpc_error_details } from '@e2b-toolkit/core';
import { DescriptorIndex } from './descriptor-index.js';
import * as v1 from './gen/grpc/reflection/v1/reflection_pb.js';
import * as v1alpha from './gen/grpc/reflection/v1alpha/reflection_pb.js';

type Response = MessageInitShape<typeof v1.ServerReflectionResponseSchema>;

/**
 * Serves both reflection versions for the services registered on `router`. The index is
 * built at the first request, when every service has been registered.
 */
export function registerReflection(router: ConnectRouter): void {
  let index: DescriptorIndex | undefined;
  const indexOf = () => (index ??= new DescriptorIndex(router.handlers.map((h) => h.service), [file_google_rpc_error_details]));

  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield answer(indexOf(), req);
    },
  });

  // v1alpha's messages are v1's under another package, field for field: translate through
  // the wire format rather than answer twice.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const asV1 = fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, req));
        const res = create(v1.ServerReflectionResponseSchema, answer(indexOf(), asV1));
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, res));
      }
    },
  });
}

/** The answer to one request of the stream; a lookup that fails is an error_response, not the end of the stream. */
function answer(index: DescriptorIndex, req: v1.ServerReflectionRequest): Response {
  const base = { validHost: req.host, originalRequest: req };
  const error = (code: Code, message: string): Response => ({
    ...base,
    messageResponse: { case: 'errorResponse', value: { errorCode: code, errorMessage: message } },
  });
  const files = (fileDescriptorProto: Uint8Array[]): Response => ({
    ...base,
    messageResponse: { case: 'fileDescriptorResponse', value: { fileDescriptorProto } },
  });

  const { messageRequest: request } = req;
  switch (request.case) {
    case 'listServices':
      return {
        ...base,
        messageResponse: { case: 'listServicesResponse', value: { service: index.serviceNames.map((name) => ({ name })) } },
      };
    case 'fileByFilename': {
      const file = index.fileByName(request.value);
      return file ? files(index.encodeWithDependencies(file)) : error(Code.NotFound, `file not found: ${request.value}`);
    }
    case 'fileContainingSymbol': {
      const file = index.fileContainingSymbol(request.value);
      return file ? files(index.encodeWithDependencies(file)) : error(Code.NotFound, `symbol not found: ${request.value}`);
    }
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = request.value;
      const extension = index.extensionsOfType(containingType).find((e) => e.number === extensionNumber);
      return extension
        ? files(index.encodeWithDependencies(extension.file))
        : error(Code.NotFound, `extension not found: ${containingType} field ${extensionNumber}`);
    }
    case 'allExtensionNumbersOfType': {
      if (!index.isMessage(request.value)) return error(Code.NotFound, `message type not found: ${request.value}`);
      const extensionNumber = index.extensionsOfType(request.value).map((e) => e.number);
      return {
        ...base,
        messageResponse: { case: 'allExtensionNumbersResponse', value: { baseTypeName: request.value.replace(/^\./, ''), extensionNumber } },
      };
    }
    default:
      return error(Code.InvalidArgument, 'the request sets none of the message_request fields');
  }
}
