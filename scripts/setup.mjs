#!/usr/bin/env node
// Installs what the project needs and is missing, so that `npm start` and `npm test`
// work on a fresh machine with no step before them: Debian packages (bubblewrap, the
// sandbox's Python stack) and the npm dependencies. Uses only Node built-ins, because
// it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Debian packages, and why each is needed. */
const DEBIAN = {
  bubblewrap: 'sandbox isolation (bwrap)',
  'python3-ipython': 'the code interpreter kernel',
  'python3-matplotlib': 'charts in the code interpreter',
  'python3-numpy': 'numpy in sandboxes',
  'python3-pandas': 'DataFrames in the code interpreter',
  'python3-grpcio': 'the Python client (clients/python)',
  'python3-protobuf': 'the Python client (clients/python)',
  'python3-pytest': "the Python client's tests",
  'protobuf-compiler': 'protoc, to generate the Python client from proto/',
  'protobuf-compiler-grpc': 'grpc_python_plugin, to generate the Python client stubs',
  'golang-go': 'the Go client (clients/go): go 1.19 to build and test it',
  'golang-google-grpc-dev': 'grpc-go sources the Go client builds against offline',
  'golang-google-protobuf-dev': 'protobuf-go sources (runtime and protoc-gen-go) for the Go client',
  'golang-github-golang-protobuf-1-5-dev': 'github.com/golang/protobuf 1.5, which grpc-go 1.33 needs to marshal protobuf-go messages',
  'protoc-gen-go-grpc': "protoc-gen-go-grpc, to generate the Go client's gRPC stubs",
};

function installedDebian(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function run(cmd, args, opts = {}) {
  process.stdout.write(`setup: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}

function ensureDebian() {
  if (!fs.existsSync('/usr/bin/dpkg-query')) {
    process.stderr.write('setup: not a Debian system; install by hand: ' + Object.keys(DEBIAN).join(' ') + '\n');
    return;
  }
  const missing = Object.keys(DEBIAN).filter((p) => !installedDebian(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; run as root or: sudo apt-get install -y ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-q'], { env });
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const fresh = fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  // `npm install` follows the lockfile; `npm ci` would refuse it, because the registry
  // this machine reaches has no metadata for other platforms' optional binaries (buf,
  // turbo), which the lockfile therefore cannot list.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
}

try {
  ensureDebian();
  ensureNodeModules();
} catch (err) {
  process.stderr.write(`setup failed: ${err.message}\n`);
  process.exit(1);
}
