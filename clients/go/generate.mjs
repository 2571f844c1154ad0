#!/usr/bin/env node
// Generates the Go protobuf and gRPC code of the toolkit API into gen/ (gitignored), offline.
// Node built-ins only.
//
// protoc-gen-go is built from the google.golang.org/protobuf sources Debian ships, so the
// generated code matches the runtime library it compiles against exactly; protoc-gen-go-grpc
// is Debian's binary. As for the Python client, buf (a dependency of the TS build) compiles
// proto/ into a FileDescriptorSet, so protoc needs no well-known-type sources.
//
// The protos carry no `go_package` (they serve several languages), so the import path is given
// per file with M options. Generation goes to a temporary directory swapped in at the end: a
// failed run leaves the previous gen/ as it was.
import fs from 'node:fs';
import path from 'node:path';
import { buildDescriptorSet, failer, findTool, root, runTool, toolkitProtoFiles } from '../../scripts/protoc-support.mjs';
import { cacheDir } from './offline.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const outDir = path.join(here, 'gen');
const MODULE = 'github.com/e2b-toolkit/e2b-toolkit/clients/go';
const GO_PACKAGE = `${MODULE}/gen/e2b_toolkit/v1;toolkitv1`;
const fail = failer('clients/go');

/** Builds protoc-gen-go from Debian's sources in GOPATH mode (no modules, no network). */
function buildProtocGenGo(go) {
  const bin = path.join(cacheDir, 'bin', 'protoc-gen-go');
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: '/usr/share/gocode',
    GOFLAGS: '',
    GOCACHE: path.join(cacheDir, 'gocache'),
  };
  runTool(fail, go, ['build', '-o', bin, 'google.golang.org/protobuf/cmd/protoc-gen-go'], { env });
  return bin;
}

function goFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? goFiles(p) : e.name.endsWith('.go') ? [p] : [];
  });
}

const go = findTool(['go', '/usr/lib/go/bin/go']);
if (!go) fail('go not found: install the Debian package golang-go (npm run setup does it)');
const protoc = findTool(['/usr/bin/protoc', 'protoc']);
if (!protoc) fail('protoc not found: install the Debian package protobuf-compiler (npm run setup does it)');
const grpcPlugin = findTool(['/usr/bin/protoc-gen-go-grpc', 'protoc-gen-go-grpc']);
if (!grpcPlugin) fail('protoc-gen-go-grpc not found: install the Debian package protoc-gen-go-grpc (npm run setup does it)');
if (!fs.existsSync('/usr/share/gocode/src/google.golang.org/protobuf/cmd/protoc-gen-go')) {
  fail('google.golang.org/protobuf sources not found: install the Debian package golang-google-protobuf-dev (npm run setup does it)');
}
fs.mkdirSync(cacheDir, { recursive: true });
const goPlugin = buildProtocGenGo(go);
const tmp = fs.mkdtempSync(path.join(cacheDir, 'gen-'));
try {
  const descriptorSet = path.join(tmp, 'toolkit.binpb');
  buildDescriptorSet(fail, descriptorSet, ['e2b_toolkit/v1']);
  const out = path.join(tmp, 'out');
  fs.mkdirSync(out);
  const files = toolkitProtoFiles();
  const mappings = files.map((f) => `M${f}=${GO_PACKAGE}`);
  runTool(fail, protoc, [
    `--descriptor_set_in=${descriptorSet}`,
    `--plugin=protoc-gen-go=${goPlugin}`,
    `--plugin=protoc-gen-go-grpc=${grpcPlugin}`,
    `--go_out=${out}`,
    `--go_opt=module=${MODULE}`,
    ...mappings.map((m) => `--go_opt=${m}`),
    `--go-grpc_out=${out}`,
    `--go-grpc_opt=module=${MODULE}`,
    ...mappings.map((m) => `--go-grpc_opt=${m}`),
    ...files,
  ]);
  const generated = path.join(out, 'gen');
  if (!fs.existsSync(generated)) fail(`protoc wrote nothing under ${generated}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(generated, outDir);
  process.stdout.write(`clients/go: generated ${goFiles(outDir).length} files in ${path.relative(root, outDir)}\n`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
