// The one table from core errors to Connect/gRPC status codes, and the google.rpc.ErrorInfo
// detail every toolkit error carries (see proto/e2b_toolkit/v1/errors.proto).
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema, ErrorReason, InvalidArgumentError, ToolkitError } from '@e2b-toolkit/core';

/** The ErrorInfo domain of every toolkit error. */
export const ERROR_DOMAIN = 'e2b-toolkit';

const CODE_OF_REASON: Record<ErrorReason, Code> = {
  [ErrorReason.UNSPECIFIED]: Code.Unknown,
  [ErrorReason.API_KEY_INVALID]: Code.Unauthenticated,
  [ErrorReason.SANDBOX_NOT_FOUND]: Code.NotFound,
  [ErrorReason.SANDBOX_EXPIRED]: Code.NotFound,
  [ErrorReason.SANDBOX_SHUT_DOWN]: Code.NotFound,
  [ErrorReason.NO_DEFAULT_SANDBOX]: Code.FailedPrecondition,
  [ErrorReason.SANDBOX_LIMIT_REACHED]: Code.ResourceExhausted,
  [ErrorReason.BACKEND_UNAVAILABLE]: Code.Unavailable,
  [ErrorReason.EXECUTION_TIMED_OUT]: Code.DeadlineExceeded,
  [ErrorReason.REQUEST_DEADLINE_EXCEEDED]: Code.DeadlineExceeded,
  [ErrorReason.KERNEL_DIED]: Code.Aborted,
  [ErrorReason.EXECUTION_NOT_FOUND]: Code.NotFound,
  [ErrorReason.RESULT_NOT_FOUND]: Code.NotFound,
  [ErrorReason.RESULT_FORMAT_NOT_FOUND]: Code.NotFound,
  [ErrorReason.JOB_NOT_FOUND]: Code.NotFound,
  [ErrorReason.JOB_ALREADY_EXISTS]: Code.AlreadyExists,
  [ErrorReason.PORT_NOT_READY]: Code.FailedPrecondition,
  [ErrorReason.PORT_IN_USE]: Code.FailedPrecondition,
  [ErrorReason.FILE_NOT_FOUND]: Code.NotFound,
  [ErrorReason.IS_A_DIRECTORY]: Code.FailedPrecondition,
  [ErrorReason.NOT_A_DIRECTORY]: Code.FailedPrecondition,
  [ErrorReason.FILE_PERMISSION_DENIED]: Code.PermissionDenied,
  [ErrorReason.PATH_OUTSIDE_SANDBOX]: Code.PermissionDenied,
  [ErrorReason.PAYLOAD_TOO_LARGE]: Code.ResourceExhausted,
  [ErrorReason.SANDBOX_DISK_FULL]: Code.ResourceExhausted,
  [ErrorReason.UPLOAD_STALLED]: Code.DeadlineExceeded,
  [ErrorReason.JOB_RUNNING]: Code.FailedPrecondition,
};

/** The status code a core error is reported with. */
export function codeOf(err: unknown): Code {
  if (err instanceof ConnectError) return err.code;
  if (err instanceof InvalidArgumentError) return Code.InvalidArgument;
  if (err instanceof ToolkitError) return err.interrupted ? Code.Aborted : (CODE_OF_REASON[err.reason] ?? Code.Unknown);
  return Code.Internal;
}

/**
 * A ConnectError carrying the ErrorInfo detail for `reason` and `metadata`. connect-node sends
 * details on every protocol: grpc-status-details-bin (gRPC, gRPC-Web), "details" (Connect).
 * An UNSPECIFIED reason with no metadata has nothing to tell, so it carries no detail.
 */
export function reasonError(
  reason: ErrorReason,
  message: string,
  metadata: Record<string, string> = {},
  code: Code = CODE_OF_REASON[reason] ?? Code.Unknown,
  cause?: unknown,
): ConnectError {
  const details =
    reason === ErrorReason.UNSPECIFIED && Object.keys(metadata).length === 0
      ? undefined
      : [{ desc: ErrorInfoSchema, value: { reason: ErrorReason[reason], domain: ERROR_DOMAIN, metadata: { ...metadata } } }];
  return new ConnectError(message, code, undefined, details, cause);
}

/** Any thrown value as the ConnectError the client receives. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ToolkitError) return reasonError(err.reason, err.message, err.metadata, codeOf(err), err);
  // errors.proto has no reason for INVALID_ARGUMENT (the code says it all) and no metadata key
  // for the field (it is in the message), so an invalid argument carries no detail.
  if (err instanceof InvalidArgumentError) return new ConnectError(err.message, Code.InvalidArgument, undefined, undefined, err);
  return ConnectError.from(err, Code.Internal);
}
