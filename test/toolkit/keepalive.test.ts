// withKeepalives: a silent stream gets keepalives between its items, and ends or fails as
// its source does.
import { describe, expect, it } from 'vitest';
import { withKeepalives } from '../../services/toolkit/src/keepalive.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withKeepalives', () => {
  it('sends keepalives while the source is silent, then its items in order', async () => {
    async function* slow() {
      yield 'a';
      await sleep(120);
      yield 'b';
    }
    const seen: string[] = [];
    for await (const x of withKeepalives(slow(), () => 'ka', 20)) seen.push(x);
    expect(seen[0]).toBe('a');
    expect(seen.at(-1)).toBe('b');
    expect(seen.filter((x) => x === 'ka').length).toBeGreaterThan(0);
    expect(seen.filter((x) => x !== 'ka')).toEqual(['a', 'b']);
  });

  it('sends none to a busy source, and passes its error on', async () => {
    async function* failing() {
      yield 1;
      yield 2;
      throw new Error('source broke');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const x of withKeepalives(failing(), () => 0, 10_000)) seen.push(x);
      })(),
    ).rejects.toThrow('source broke');
    expect(seen).toEqual([1, 2]);
  });
});
