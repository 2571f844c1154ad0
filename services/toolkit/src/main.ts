#!/usr/bin/env node
// `npm start`: serves the toolkit API, with the embedded local runtime (on E2B_LOCAL_PORT,
// default 49982, so the E2B SDKs can be pointed at it too) unless E2B_API_KEY selects E2B.
import { loadConfig as loadRuntimeConfig, stopOnSignals } from '@e2b-toolkit/local';
import { loadConfig } from './config.js';
import { startToolkitServer } from './server.js';

try {
  const config = loadConfig();
  const server = await startToolkitServer({ ...config, localRuntime: { port: loadRuntimeConfig().port } });
  const lines = [
    '',
    `e2b-toolkit listening on ${server.url}`,
    '  gRPC (HTTP/2 cleartext), Connect and gRPC-Web (HTTP/1.1 and HTTP/2); services e2b_toolkit.v1.*,',
    '  grpc.health.v1.Health and server reflection',
    config.e2b ? `sandboxes: E2B${config.e2b.domain ? ` (${config.e2b.domain})` : ''}` : `sandboxes: embedded local runtime at ${server.runtime!.url}`,
    config.apiKeys ? `API keys: ${config.apiKeys.size} configured` : 'API keys: none configured (loopback only): any bearer key is accepted',
    '',
    'Try it:',
    `  npx e2b-toolkit --url ${server.url} sandbox create`,
    `  curl -s ${server.url}/e2b_toolkit.v1.SandboxService/ListSandboxes -H 'content-type: application/json' -d '{}'`,
    '',
  ];
  if (server.runtime) {
    lines.push('The official E2B SDKs work against the embedded runtime too:', `  export E2B_API_URL=${server.runtime.url}`, `  export E2B_SANDBOX_URL=${server.runtime.url}`, `  export E2B_API_KEY=${server.runtime.config.apiKey ?? 'local'}`, '');
  }
  process.stdout.write(lines.join('\n') + '\n');
  stopOnSignals('every job and sandbox', () => server.close());
} catch (err) {
  process.stderr.write(`e2b-toolkit: ${(err as Error).message}\n`);
  process.exit(1);
}
