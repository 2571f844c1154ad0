// Identifiers and secrets. Sandbox ids are 20 lowercase alphanumerics like E2B's, with
// no '-' or '.', because host-based routing splits `<port>-<id>.<domain>` on them.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newSandboxId(): string {
  const bytes = randomBytes(20);
  let id = '';
  // 256 % 36 = 4: a bias of < 2% on the first four letters; ids are names, not secrets.
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
