// Keeps streamed uploads through the E2B SDK at bounded memory.
//
// `sandbox.files.write(path, stream)` sends the stream through fetch (undici). When a request
// may follow redirects, undici clones it first, and cloning tees a streamed body: the branch
// that is never read keeps every chunk sent, so a 1 GiB upload held 1 GiB in memory
// (nodejs/undici#4058). A request with redirect 'error' is sent as it is. The sandbox's file
// API never redirects, so the SDK's envd client is given a middleware (openapi-fetch's
// `use`, which the SDK itself uses for logging) that sets it on requests with a streamed body.
import type { Sandbox } from 'e2b';

const fixed = new WeakSet<object>();
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
      return new Request(request, { redirect: 'error', duplex: 'half' } as RequestInit);
    },
  });
}
