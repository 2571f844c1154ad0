// Streamed uploads through the E2B SDK: bounded memory, and a declared length.
//
// `sandbox.files.write(path, stream)` sends the stream through fetch (undici). When a request
// may follow redirects, undici clones it first, and cloning tees a streamed body: the branch
// that is never read keeps every chunk sent, so a 1 GiB upload held 1 GiB in memory
// (nodejs/undici#4058). A request with redirect 'error' is sent as it is. The sandbox's file
// API never redirects, so the SDK's envd client is given a middleware (openapi-fetch's
// `use`, which the SDK itself uses for logging) that sets it on requests with a streamed body.
//
// The same middleware sends a Content-Length for uploads whose size is known (see
// expectUploadSize), instead of chunked encoding: then a body cut short by a failure or a
// cancellation can never reach the sandbox as a complete one.
import type { Sandbox } from 'e2b';

const fixed = new WeakSet<object>();
/** Sizes of uploads in flight, by sandbox path (the upload's unique hidden file). */
const sizes = new Map<string, number>();

/** Declares the size of the upload to `path`; returns the function that forgets it. */
export function expectUploadSize(path: string, bytes: number): () => void {
  sizes.set(path, bytes);
  return () => sizes.delete(path);
}
let warned = false;

interface OpenApiClient {
  use(middleware: { onRequest(ctx: { request: Request }): Request | undefined }): void;
}

/** Installs the middleware on this SDK sandbox handle (once per handle). */
export function boundUploadMemory(sandbox: Sandbox): void {
  if (fixed.has(sandbox)) return;
  fixed.add(sandbox);
  // Not part of the SDK's typed API: checked at run time, so an SDK that changes it only
  // loses the fix (with a warning), never the upload.
  const api = (sandbox as unknown as { envdApi?: { api?: Partial<OpenApiClient> } }).envdApi?.api;
  if (typeof api?.use !== 'function') {
    if (!warned) process.emitWarning('e2b SDK without envdApi.api.use: streamed uploads may hold the whole file in memory', 'E2BToolkitWarning');
    warned = true;
    return;
  }
  api.use({
    onRequest({ request }) {
      if (request.body === null || request.redirect === 'error') return undefined;
      const size = request.method === 'POST' ? sizes.get(new URL(request.url).searchParams.get('path') ?? '') : undefined;
      const headers = new Headers(request.headers);
      if (size !== undefined) headers.set('content-length', String(size));
      return new Request(request, { redirect: 'error', duplex: 'half', headers } as RequestInit);
    },
  });
}
