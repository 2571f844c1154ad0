// envd's plain-HTTP file transfer (wire protocol §3.5): GET /files streams a file out,
// POST /files streams multipart parts (or a raw body) in. Nothing is held in memory
// whole, and an upload lands atomically: it is written to a temporary file beside the
// target and renamed into place only when complete, so a failed or cut-off upload
// leaves the previous content untouched.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import busboy from 'busboy';
import { checkRead, checkWriteFile, mkdirpAs } from './access.js';
import { FsError, mapFsError } from './fs-errors.js';
import { resolvePath } from './paths.js';
import { userByName, type SandboxUser } from './users.js';
import { Code } from '@connectrpc/connect';

type Req = Http2ServerRequest;
type Res = Http2ServerResponse;

function sendJson(res: Res, status: number, body: unknown): void {
  if (res.headersSent) {
    res.stream?.close();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: Res, err: unknown, p: string): void {
  const e = mapFsError(err, p);
  sendJson(res, e.http, { code: e.http, message: e.message });
}

const MIME: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8', '.json': 'application/json', '.html': 'text/html; charset=utf-8',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml',
  '.csv': 'text/csv', '.pdf': 'application/pdf', '.py': 'text/x-python', '.js': 'text/javascript',
};

function userOf(url: URL): SandboxUser {
  try {
    return userByName(url.searchParams.get('username'));
  } catch (err) {
    throw new FsError(Code.Unauthenticated, 401, (err as Error).message);
  }
}

async function download(res: Res, url: URL): Promise<void> {
  const raw = url.searchParams.get('path');
  let p = raw ?? '';
  try {
    const user = userOf(url);
    p = resolvePath(raw ?? '', user);
    const st = await fs.promises.stat(p);
    if (st.isDirectory()) throw new FsError(Code.InvalidArgument, 400, `path '${p}' is a directory`);
    if (!st.isFile()) throw new FsError(Code.InvalidArgument, 400, `path '${p}' is not a regular file`);
    checkRead(p, user);
    const handle = await fs.promises.open(p, 'r');
    // Sent as is, never compressed: Node's fetch asks for gzip on every request, and
    // compressing on the fly costs far more than it saves between machines this close.
    res.writeHead(200, {
      'content-type': MIME[path.extname(p).toLowerCase()] ?? 'application/octet-stream',
      'content-disposition': `inline; filename="${encodeURIComponent(path.basename(p))}"`,
      'content-length': st.size,
    });
    await pipeline(handle.createReadStream(), res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    sendError(res, err, p);
  }
}

/** Streams one file's bytes to `target` through a temporary sibling, then renames it. */
async function writeAtomically(source: Readable, target: string, user: SandboxUser): Promise<void> {
  checkWriteFile(target, user);
  const existing = await fs.promises.lstat(target).catch(() => null);
  if (existing?.isDirectory()) throw new FsError(Code.InvalidArgument, 400, `path '${target}' is a directory`);
  await mkdirpAs(path.dirname(target), user);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.upload-${randomBytes(6).toString('hex')}`);
  try {
    await pipeline(source, fs.createWriteStream(tmp, { mode: existing ? existing.mode & 0o7777 : 0o644 }));
    if (existing) await fs.promises.lchown(tmp, existing.uid, existing.gid);
    else if (user.uid !== 0) await fs.promises.lchown(tmp, user.uid, user.gid);
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

interface Written {
  name: string;
  type: 'file';
  path: string;
}

async function uploadMultipart(req: Req, url: URL, user: SandboxUser): Promise<Written[]> {
  const queryPath = url.searchParams.get('path');
  const written: Written[] = [];
  const targets = new Set<string>();
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers as Record<string, string>, preservePath: true, limits: { fields: 100, parts: 1000 } });
  } catch (err) {
    throw new FsError(Code.InvalidArgument, 400, `malformed multipart request: ${(err as Error).message}`);
  }
  return new Promise<Written[]>((resolve, reject) => {
    let chain = Promise.resolve();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      reject(err);
    };
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || failed) {
        stream.resume();
        return;
      }
      // Parts are written one after another, in order; busboy pauses until each is read.
      chain = chain.then(async () => {
        if (failed) return void stream.resume();
        const rawTarget = queryPath ?? info.filename;
        if (!rawTarget) throw new FsError(Code.InvalidArgument, 400, 'a file part has no filename and there is no path query');
        const target = resolvePath(rawTarget, user);
        if (targets.has(target)) throw new FsError(Code.InvalidArgument, 400, `two parts write the same path '${target}'`);
        targets.add(target);
        try {
          await writeAtomically(stream, target, user);
        } catch (err) {
          throw mapFsError(err, target);
        }
        written.push({ name: path.basename(target), type: 'file', path: target });
      }).catch((err) => {
        stream.resume();
        fail(err);
      });
    });
    bb.on('error', (err) => fail(new FsError(Code.InvalidArgument, 400, `malformed multipart request: ${(err as Error).message}`)));
    bb.on('close', () => {
      chain.then(() => {
        if (failed) return;
        if (written.length === 0) fail(new FsError(Code.InvalidArgument, 400, 'no file part named "file" in the request'));
        else resolve(written);
      });
    });
    req.on('aborted', () => fail(new FsError(Code.Canceled, 400, 'upload cut off by the client')));
    req.pipe(bb);
  });
}

async function upload(req: Req, res: Res, url: URL): Promise<void> {
  let p = url.searchParams.get('path') ?? '';
  try {
    const user = userOf(url);
    const type = String(req.headers['content-type'] ?? '');
    let written: Written[];
    if (type.startsWith('multipart/form-data')) {
      written = await uploadMultipart(req, url, user);
    } else {
      if (!p) throw new FsError(Code.InvalidArgument, 400, 'a raw upload needs the path query');
      p = resolvePath(p, user);
      const gz = /\bgzip\b/.test(String(req.headers['content-encoding'] ?? ''));
      await writeAtomically(gz ? req.pipe(zlib.createGunzip()) : req, p, user);
      written = [{ name: path.basename(p), type: 'file', path: p }];
    }
    sendJson(res, 200, written);
  } catch (err) {
    sendError(res, err, p);
  }
}

export function handleFiles(req: Req, res: Res): void {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  if (req.method === 'GET') void download(res, url);
  else if (req.method === 'POST') void upload(req, res, url);
  else sendJson(res, 405, { code: 405, message: `method ${req.method} is not allowed on /files` });
}
