// How RPC errors become the reference's `{status: 'error', error: message}` results.
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorReason } from './gen/e2b_toolkit/v1/errors_pb.js';

export interface ErrorResult {
  status: 'error';
  /** The server's message (without the "[code]" prefix ConnectError adds). */
  error: string;
  /** The status code in snake_case, for example "not_found", "unimplemented", "deadline_exceeded". */
  code: string;
  /** The machine-readable reason when the server sent an ErrorDetail, for example "SANDBOX_EXPIRED". */
  reason?: string;
  [key: string]: unknown;
}

/** "NotFound" → "not_found". */
export function codeName(code: Code): string {
  return (Code[code] ?? 'unknown').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export function reasonOf(err: ConnectError): string | undefined {
  try {
    const detail = err.findDetails(ErrorDetailSchema)[0];
    if (detail && detail.reason !== ErrorReason.UNSPECIFIED) return ErrorReason[detail.reason];
  } catch {
    // Undecodable details: no reason.
  }
  return undefined;
}

/** Any thrown value as an error result. Extra keys (sandbox_id, job_id...) are merged in. */
export function errorResult(err: unknown, extra: Record<string, unknown> = {}): ErrorResult {
  const e = ConnectError.from(err);
  const reason = reasonOf(e);
  return { status: 'error', error: e.rawMessage, code: codeName(e.code), ...(reason ? { reason } : {}), ...extra };
}

export function isCode(err: unknown, code: Code): boolean {
  return err instanceof ConnectError && err.code === code;
}
