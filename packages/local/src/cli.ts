#!/usr/bin/env node
// `npm start` / `npm run local`: serves the local runtime and says how to point the
// official E2B SDKs at it.
import { startLocalRuntime } from './runtime.js';
import { stopOnSignals } from './stop-on-signals.js';

try {
  const rt = await startLocalRuntime();
  const lines = [
    '',
    `e2b local runtime listening on ${rt.url} (sandbox domain ${rt.domain})`,
    '',
    'Point the official E2B SDKs (JS or Python) at it:',
    `  export E2B_API_URL=${rt.url}`,
    `  export E2B_SANDBOX_URL=${rt.url}`,
    `  export E2B_API_KEY=${rt.config.apiKey ?? 'local'}${rt.config.apiKey ? '' : '   # any non-empty key is accepted'}`,
    '',
    `Ports inside a sandbox: http://<port>-<sandboxID>.${rt.domain} (curl, browsers), or`,
    `  POST ${rt.url}/sandboxes/<sandboxID>/ports/<port> for a 127.0.0.1 URL any client opens.`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  stopOnSignals('every sandbox', () => rt.close());
} catch (err) {
  process.stderr.write(`e2b local runtime: ${(err as Error).message}\n`);
  process.exit(1);
}
