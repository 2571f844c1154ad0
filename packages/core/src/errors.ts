// Errors the core reports. Each carries the API's ErrorReason (or is an invalid argument),
// so the transport can pick a status code from one table without knowing the core.
import { ErrorReason } from './gen/e2b_toolkit/v1/errors_pb.js';

export { ErrorReason };

/** A failure with a machine-readable reason; `metadata` names the ids it is about. */
export class ToolkitError extends Error {
  override readonly name = 'ToolkitError';
  constructor(
    readonly reason: ErrorReason,
    message: string,
    readonly metadata: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request field breaks a constraint stated in the API. Nothing was done. */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
