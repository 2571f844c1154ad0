// envd's filesystem.Filesystem service (wire protocol §3.4). Runs inside the sandbox's
// mount namespace: paths, `..` and symlinks resolve within the sandbox only.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ConnectError, Code, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Filesystem, EventType, type FilesystemEventSchema } from './gen/filesystem/filesystem_pb.js';
import { entryInfo } from './entry-info.js';
import { checkRead, checkWriteEntry, mkdirpAs } from './access.js';
import { toConnectError } from './fs-errors.js';
import { resolvePath } from './paths.js';
import { Channel } from './channel.js';
import { userFromAuthorization, type SandboxUser } from './users.js';

type FsEvent = MessageInitShape<typeof FilesystemEventSchema>;

function actingUser(ctx: HandlerContext): SandboxUser {
  return userFromAuthorization(ctx.requestHeader.get('authorization'));
}

async function guard<T>(p: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConnectError(err, p);
  }
}

async function listDir(root: string, depth: number) {
  const out: Awaited<ReturnType<typeof entryInfo>>[] = [];
  async function walk(dir: string, level: number) {
    const names = await fs.promises.readdir(dir);
    names.sort();
    for (const name of names) {
      const p = path.join(dir, name);
      let st: fs.Stats;
      try {
        st = await fs.promises.lstat(p);
      } catch {
        continue;
      }
      out.push(await entryInfo(p, st));
      if (st.isDirectory() && level < depth) await walk(p, level + 1);
    }
  }
  await walk(root, 1);
  return out;
}

/** Watches a directory; yields envd-style events named relative to the watched root. */
class DirWatcher {
  private readonly watcher: fs.FSWatcher;
  constructor(
    readonly root: string,
    recursive: boolean,
    includeEntry: boolean,
    onEvent: (e: FsEvent) => void,
    onError: (err: Error) => void,
  ) {
    this.watcher = fs.watch(root, { recursive }, (kind, name) => {
      if (!name) return;
      const rel = name.toString();
      const full = path.join(root, rel);
      fs.promises.lstat(full).then(
        async (st) => {
          const type = kind === 'change' ? EventType.WRITE : EventType.CREATE;
          onEvent({ name: rel, type, entry: includeEntry ? await entryInfo(full, st) : undefined });
        },
        () => onEvent({ name: rel, type: kind === 'change' ? EventType.WRITE : EventType.REMOVE }),
      );
    });
    this.watcher.on('error', onError);
  }
  close() {
    this.watcher.close();
  }
}

async function openWatch(p: string, user: SandboxUser) {
  const st = await fs.promises.stat(p);
  if (!st.isDirectory()) throw new ConnectError(`path '${p}' is not a directory`, Code.InvalidArgument);
  checkRead(p, user);
}

const MAX_POLLED_EVENTS = 10_000;

export function filesystemService(keepaliveSeconds: number): Partial<ServiceImpl<typeof Filesystem>> {
  const watchers = new Map<string, { w: DirWatcher; events: FsEvent[] }>();

  return {
    async stat(req, ctx) {
      const user = actingUser(ctx);
      const p = resolvePath(req.path, user);
      return guard(p, async () => {
        checkRead(path.dirname(p), user);
        return { entry: await entryInfo(p) };
      });
    },

    async makeDir(req, ctx) {
      const user = actingUser(ctx);
      const p = resolvePath(req.path, user);
      return guard(p, async () => {
        const existing = await fs.promises.lstat(p).catch(() => null);
        if (existing) {
          if (existing.isDirectory()) throw new ConnectError(`directory '${p}' already exists`, Code.AlreadyExists);
          throw new ConnectError(`path '${p}' already exists and is not a directory`, Code.InvalidArgument);
        }
        checkWriteEntry(p, user);
        await mkdirpAs(p, user);
        return { entry: await entryInfo(p) };
      });
    },

    async move(req, ctx) {
      const user = actingUser(ctx);
      const src = resolvePath(req.source, user);
      const dst = resolvePath(req.destination, user);
      return guard(src, async () => {
        await fs.promises.lstat(src);
        checkWriteEntry(src, user);
        checkWriteEntry(dst, user);
        await mkdirpAs(path.dirname(dst), user);
        await fs.promises.rename(src, dst);
        return { entry: await entryInfo(dst) };
      });
    },

    async listDir(req, ctx) {
      const user = actingUser(ctx);
      const p = resolvePath(req.path, user);
      const depth = req.depth === 0 ? 1 : req.depth;
      return guard(p, async () => {
        const st = await fs.promises.stat(p);
        if (!st.isDirectory()) throw new ConnectError(`path '${p}' is not a directory`, Code.InvalidArgument);
        checkRead(p, user);
        return { entries: await listDir(p, depth) };
      });
    },

    async remove(req, ctx) {
      const user = actingUser(ctx);
      const p = resolvePath(req.path, user);
      return guard(p, async () => {
        await fs.promises.lstat(p);
        checkWriteEntry(p, user);
        await fs.promises.rm(p, { recursive: true, force: false });
        return {};
      });
    },

    async *watchDir(req, ctx) {
      const user = actingUser(ctx);
      const p = resolvePath(req.path, user);
      await guard(p, () => openWatch(p, user));
      const s = Number(ctx.requestHeader.get('keepalive-ping-interval'));
      const ch = new Channel<MessageInitShape<typeof FilesystemEventSchema> | 'keepalive' | Error>(
        1 << 20,
        (Number.isFinite(s) && s > 0 ? s : keepaliveSeconds) * 1000,
        () => 'keepalive',
      );
      const w = new DirWatcher(p, req.recursive, req.includeEntry, (e) => ch.push(e, 256), (err) => {
        ch.push(err);
        ch.close();
      });
      const stop = () => ch.close();
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        yield { event: { case: 'start' as const, value: {} } };
        for await (const e of ch) {
          if (e === 'keepalive') yield { event: { case: 'keepalive' as const, value: {} } };
          else if (e instanceof Error) throw new ConnectError(`watch of '${p}' failed: ${e.message}`, Code.Internal);
          else yield { event: { case: 'filesystem' as const, value: e } };
        }
      } finally {
        ctx.signal.removeEventListener('abort', stop);
        w.close();
      }
    },

    async createWatcher(req, ctx) {
      const user = actingUser(ctx);
      const p = resolvePath(req.path, user);
      await guard(p, () => openWatch(p, user));
      const id = randomUUID();
      const entry = {
        events: [] as FsEvent[],
        w: new DirWatcher(p, req.recursive, req.includeEntry, (e) => {
          if (entry.events.length < MAX_POLLED_EVENTS) entry.events.push(e);
        }, () => {}),
      };
      watchers.set(id, entry);
      return { watcherId: id };
    },

    getWatcherEvents(req) {
      const entry = watchers.get(req.watcherId);
      if (!entry) throw new ConnectError(`watcher '${req.watcherId}' not found`, Code.NotFound);
      const events = entry.events;
      entry.events = [];
      return { events };
    },

    removeWatcher(req) {
      const entry = watchers.get(req.watcherId);
      if (!entry) throw new ConnectError(`watcher '${req.watcherId}' not found`, Code.NotFound);
      entry.w.close();
      watchers.delete(req.watcherId);
      return {};
    },
  };
}
