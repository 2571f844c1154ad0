// Errors the core reports. Each carries the API's ErrorReason (or is an invalid argument),
// so the transport can pick a status code from one table without knowing the core.
import { ErrorReason } from './gen/e2b_toolkit/v1/errors_pb.js';

export { ErrorReason };

/**
 * A failure with a machine-readable reason; `metadata` names the ids it is about.
 * `interrupted`: the work was under way and something else ended it (its sandbox expired or
 * was shut down during the call), which the API reports as ABORTED rather than NOT_FOUND.
 */
export class ToolkitError extends Error {
  override readonly name = 'ToolkitError';
  readonly interrupted: boolean;
  constructor(
    readonly reason: ErrorReason,
    message: string,
    readonly metadata: Record<string, string> = {},
    options?: { cause?: unknown; interrupted?: boolean },
  ) {
    super(message, options);
    this.interrupted = options?.interrupted ?? false;
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
