#!/usr/bin/env node
// `npm run toolkit`: serves the toolkit API, with the embedded local runtime unless
// E2B_API_KEY selects E2B.
import { loadConfig } from './config.js';
import { startToolkitServer } from './server.js';

try {
  const config = loadConfig();
  const server = await startToolkitServer(config);
  const lines = [
    '',
    `e2b-toolkit listening on ${server.url} (gRPC over HTTP/2; Connect and gRPC-Web over HTTP/1.1)`,
    config.e2b ? `sandboxes: E2B${config.e2b.domain ? ` (${config.e2b.domain})` : ''}` : `sandboxes: embedded local runtime at ${server.runtime!.url}`,
    config.apiKeys ? `API keys: ${config.apiKeys.size} configured` : 'API keys: none configured (loopback only): any bearer key is accepted',
    '',
  ];
  if (server.runtime) {
    lines.push('Point the official E2B SDKs at the local runtime:', `  export E2B_API_URL=${server.runtime.url}`, `  export E2B_SANDBOX_URL=${server.runtime.url}`, '');
  }
  process.stdout.write(lines.join('\n') + '\n');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping...\n`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${err?.message ?? err}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  process.stderr.write(`e2b-toolkit: ${(err as Error).message}\n`);
  process.exit(1);
}
