#!/usr/bin/env node
// Committed entry point, so npm links `e2b-toolkit` at install time, before the build
// has made dist/. The CLI itself is clients/ts/src/cli/.
import '../dist/cli/main.js';
