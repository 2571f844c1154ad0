// How RPC errors become the reference's `{status: 'error', error: message}` results.
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from './gen/google/rpc/error_details_pb.js';

/** The ErrorInfo domain of the toolkit's errors. */
export const ERROR_DOMAIN = 'e2b-toolkit';

export interface ErrorResult {
  status: 'error';
  /** The server's message (without the "[code]" prefix ConnectError adds). */
  error: string;
  /** The status code in snake_case, for example "not_found", "unimplemented", "deadline_exceeded". */
  code: string;
  /** The machine-readable reason from the error's google.rpc.ErrorInfo detail, for example "SANDBOX_EXPIRED". */
  reason?: string;
  [key: string]: unknown;
}

/** "NotFound" → "not_found". */
export function codeName(code: Code): string {
  return (Code[code] ?? 'unknown').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The error's google.rpc.ErrorInfo detail of the toolkit's domain, if it has one. */
export function errorInfoOf(err: ConnectError): { reason: string; metadata: Record<string, string> } | undefined {
  try {
    const info = err.findDetails(ErrorInfoSchema).find((i) => i.domain === ERROR_DOMAIN);
    if (info) return { reason: info.reason, metadata: { ...info.metadata } };
  } catch {
    // Undecodable details: no ErrorInfo.
  }
  return undefined;
}

/** The ErrorReason name (without ERROR_REASON_) the server sent, for example "JOB_NOT_FOUND". */
export function reasonOf(err: ConnectError): string | undefined {
  const info = errorInfoOf(err);
  return info?.reason && info.reason !== 'UNSPECIFIED' ? info.reason : undefined;
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
