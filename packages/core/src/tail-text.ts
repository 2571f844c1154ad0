// The end of a text stream, for results that carry output inline (a foreground command's,
// an execution's): the last `limit` bytes are kept, cut at a character boundary, and every
// byte is counted. (Background jobs keep all their output instead: job-log.ts.)

export interface TailTextResult {
  text: string;
  /** True when `text` is only the end of the output. */
  truncated: boolean;
  /** Bytes (UTF-8) of the whole output. */
  totalBytes: number;
}

export class TailText {
  #chunks: string[] = [];
  #sizes: number[] = [];
  #kept = 0;
  #total = 0;
  constructor(readonly limit: number) {}

  push(text: string): void {
    const size = Buffer.byteLength(text);
    this.#total += size;
    this.#chunks.push(text);
    this.#sizes.push(size);
    this.#kept += size;
    // Drop whole chunks while what remains still covers the limit.
    while (this.#chunks.length > 1 && this.#kept - this.#sizes[0] >= this.limit) {
      this.#chunks.shift();
      this.#kept -= this.#sizes.shift()!;
    }
  }

  result(): TailTextResult {
    const all = this.#chunks.join('');
    if (this.#kept <= this.limit) return { text: all, truncated: this.#total > this.#kept, totalBytes: this.#total };
    const buf = Buffer.from(all);
    // Cut at a character boundary: skip UTF-8 continuation bytes.
    let start = buf.length - this.limit;
    while (start < buf.length && (buf[start] & 0xc0) === 0x80) start++;
    return { text: buf.subarray(start).toString('utf8'), truncated: true, totalBytes: this.#total };
  }
}
