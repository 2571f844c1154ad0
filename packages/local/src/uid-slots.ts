// Each sandbox's user namespace maps its uids 0..65535 onto a host range of its own, so
// processes of two sandboxes are different host users: they cannot signal, ptrace or
// read each other even without the PID and mount namespaces. Ranges are claimed with
// lock files, so several runtimes on one machine never hand out the same range.
import fs from 'node:fs';
import path from 'node:path';
import { alive } from './proc.js';

export const RANGE = 65536;
const LOCK_DIR = '/run/e2b-toolkit/uid-slots';

export class UidSlots {
  private readonly mine = new Set<number>();

  constructor(private readonly base: number, private readonly maxSlots = 4096, private readonly lockDir = LOCK_DIR) {
    fs.mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  }

  /** Claims a free range; returns the first host uid of it. */
  acquire(): number {
    for (let slot = 0; slot < this.maxSlots; slot++) {
      if (this.mine.has(slot)) continue;
      const file = path.join(this.lockDir, String(slot));
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      } catch {
        // Taken: reclaim it only if its owner is gone.
        const owner = Number(fs.readFileSync(file, 'utf8').trim());
        if (owner && (owner === process.pid || alive(owner))) continue;
        fs.rmSync(file, { force: true });
        try {
          fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        } catch {
          continue;
        }
      }
      this.mine.add(slot);
      return this.base + slot * RANGE;
    }
    throw new Error('no free uid range for a new sandbox');
  }

  release(firstUid: number): void {
    const slot = (firstUid - this.base) / RANGE;
    if (!this.mine.delete(slot)) return;
    fs.rmSync(path.join(this.lockDir, String(slot)), { force: true });
  }
}
