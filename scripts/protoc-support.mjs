// What the generators of the non-TypeScript clients (clients/python, clients/go) share: finding
// protoc and its plugins, running them with one-line failures, and compiling proto/ into a
// FileDescriptorSet with buf. protoc needs the sources of the well-known types
// (google/protobuf/duration.proto...), which Debian ships only in libprotobuf-dev; buf (a
// dependency of the TS build) has them built in, so protoc reads buf's descriptor set instead.
// Node built-ins only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const protoDir = path.join(root, 'proto');

/** A reporter that prints `<who>: <message>` and exits 1. */
export function failer(who) {
  return (message) => {
    process.stderr.write(`${who}: ${message}\n`);
    process.exit(1);
  };
}

/** The first existing executable among the candidates (absolute paths or names on PATH). */
export function findTool(candidates) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const c of candidates) {
    for (const p of path.isAbsolute(c) ? [c] : dirs.map((d) => path.join(d, c))) {
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

/** buf from the repository's node_modules/.bin, else from PATH. */
export function findBuf() {
  const local = path.join(root, 'node_modules', '.bin', 'buf');
  return fs.existsSync(local) ? local : findTool(['buf']);
}

/** Runs a tool from the repository root; a failure ends the process with its stderr. */
export function runTool(fail, cmd, args, opts = {}) {
  try {
    execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], ...opts });
  } catch (err) {
    const stderr = err.stderr ? String(err.stderr).trim() : err.message;
    fail(`${path.basename(cmd)} failed: ${stderr}`);
  }
}

/** The toolkit API's files, as protoc names them (relative to proto/). */
export function toolkitProtoFiles() {
  return fs
    .readdirSync(path.join(protoDir, 'e2b_toolkit', 'v1'))
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => `e2b_toolkit/v1/${f}`);
}

/** Compiles the given proto/ subdirectories (and their imports) into a descriptor set at `out`. */
export function buildDescriptorSet(fail, out, dirs) {
  const buf = findBuf();
  if (!buf) fail('buf not found: run npm install at the repository root (it is a devDependency)');
  runTool(fail, buf, ['build', 'proto', ...dirs.flatMap((d) => ['--path', `proto/${d}`]), '--as-file-descriptor-set', '-o', out]);
}
