// FileService: files in and out of sandboxes, streamed for any size.
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { FileInfoSchema, InvalidArgumentError, type FileEntry, type FileInfo, type FileService, type Files, type UploadFileRequest } from '@e2b-toolkit/core';
import { tenantOf } from '../auth.js';
import { clientId } from '../convert.js';

export function fileService(files: Files): ServiceImpl<typeof FileService> {
  return {
    async uploadFile(requests, ctx) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done || first.value.part.case !== 'header') {
        await iterator.return?.();
        throw new InvalidArgumentError('header', 'the first message must be the header');
      }
      const header = first.value.part.value;
      const file = await files.upload(
        tenantOf(ctx),
        {
          sandboxId: header.sandboxId,
          clientId: clientId(header.clientId),
          path: header.path,
          sizeBytes: header.sizeBytes === undefined ? undefined : Number(header.sizeBytes),
        },
        chunksOf(iterator),
        ctx.signal,
      );
      return { file: fileMessage(file) };
    },

    async *downloadFile(req, ctx) {
      const parts = files.download(
        tenantOf(ctx),
        { sandboxId: req.sandboxId, clientId: clientId(req.clientId), path: req.path, offset: Number(req.offset) },
        ctx.signal,
      );
      for await (const part of parts) {
        yield part.case === 'file' ? { part: { case: 'file' as const, value: fileMessage(part.value) } } : { part: { case: 'chunk' as const, value: part.value } };
      }
    },

    async readFile(req, ctx) {
      const { file, content } = await files.read(tenantOf(ctx), { sandboxId: req.sandboxId, clientId: clientId(req.clientId), path: req.path });
      return { file: fileMessage(file), content };
    },

    async writeFile(req, ctx) {
      const file = await files.write(tenantOf(ctx), { sandboxId: req.sandboxId, clientId: clientId(req.clientId), path: req.path }, req.content);
      return { file: fileMessage(file) };
    },

    async listFiles(req, ctx) {
      const { entries, truncated } = await files.list(tenantOf(ctx), { sandboxId: req.sandboxId, clientId: clientId(req.clientId), path: req.path, depth: req.depth });
      return { entries: entries.map(fileMessage), truncated };
    },
  };
}

/** The chunks after the header; a second header is an invalid argument. */
async function* chunksOf(iterator: AsyncIterator<UploadFileRequest>): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const part = next.value.part;
      if (part.case === 'chunk') yield part.value;
      else if (part.case === 'header') throw new InvalidArgumentError('header', 'only the first message may be the header');
    }
  } finally {
    await iterator.return?.();
  }
}

export function fileMessage(f: FileEntry): FileInfo {
  return create(FileInfoSchema, {
    name: f.name,
    path: f.path,
    type: f.type,
    sizeBytes: BigInt(f.sizeBytes),
    mode: f.mode,
    modifyTime: f.modifyTime && timestampFromDate(f.modifyTime),
    symlinkTarget: f.symlinkTarget,
  });
}
