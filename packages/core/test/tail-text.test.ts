// The end of a text stream kept for inline output: bounded, cut at a character boundary,
// every byte counted.
import { describe, expect, it } from 'vitest';
import { TailText } from '../src/tail-text.js';

describe('TailText', () => {
  it('keeps everything under the limit', () => {
    const t = new TailText(10);
    t.push('abc');
    t.push('def');
    expect(t.result()).toEqual({ text: 'abcdef', truncated: false, totalBytes: 6 });
  });

  it('keeps the last bytes past the limit and counts all of them', () => {
    const t = new TailText(5);
    for (const chunk of ['0123', '4567', '89']) t.push(chunk);
    expect(t.result()).toEqual({ text: '56789', truncated: true, totalBytes: 10 });
  });

  it('never splits a character', () => {
    const t = new TailText(4);
    t.push('aé€'); // 1 + 2 + 3 bytes: the last 4 bytes start inside 'é'
    expect(t.result()).toEqual({ text: '€', truncated: true, totalBytes: 6 });
  });

  it('drops whole chunks as output grows, keeping memory near the limit', () => {
    const t = new TailText(1000);
    for (let i = 0; i < 10_000; i++) t.push('x'.repeat(100));
    const r = t.result();
    expect(r.text.length).toBe(1000);
    expect(r.totalBytes).toBe(1_000_000);
  });
});
