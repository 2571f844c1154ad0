// The grpc-message header as the gRPC spec encodes it. connect-node percent-encodes the
// message with encodeURIComponent, which also escapes printable characters such as ':' and
// '/'. Clients that decode it per the spec, as @grpc/grpc-js does (decodeURI), then show
// "%3A" and "%2F" in every error message. The spec escapes only bytes outside 0x20-0x7E and
// '%' itself, which every client decodes alike, so responses are re-encoded that way.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';

const HEADER = 'grpc-message';

/** Percent-encodes a message as the gRPC spec says (UTF-8 bytes outside 0x20-0x7E, and '%'). */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function respec(headers: unknown): void {
  if (!headers || typeof headers !== 'object') return;
  const h = headers as Record<string, unknown>;
  const value = h[HEADER];
  if (typeof value !== 'string') return;
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    return;
  }
  h[HEADER] = encodeGrpcMessage(text);
}

/** Makes `res` re-encode grpc-message in its headers (trailers-only errors) and trailers. */
export function specGrpcMessages(res: ServerResponse | Http2ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => unknown;
  (res as { writeHead: unknown }).writeHead = (...args: unknown[]) => {
    respec(args[args.length - 1]);
    return writeHead(...args);
  };
  const addTrailers = res.addTrailers.bind(res) as (headers: unknown) => void;
  (res as { addTrailers: unknown }).addTrailers = (headers: unknown) => {
    respec(headers);
    addTrailers(headers);
  };
}
