#!/usr/bin/env node
// Committed entry point, so npm links `e2b-toolkit` at install time, before the build
// has made dist/. The CLI itself is clients/ts/src/cli/.
try {
  await import('../dist/cli/main.js');
} catch (err) {
  // Only a missing build is explained here; the CLI reports its own errors.
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
  process.stderr.write('e2b-toolkit: the CLI is not built: run "npm run build" in the repository (not_built)\n');
  process.exit(1);
}
