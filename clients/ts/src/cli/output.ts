// Everything the CLI prints goes through here: JSON documents for scripts (--json), text for people.
import type { ErrorDescription } from './errors.js';

/** JSON.stringify that writes bigints as numbers and bytes as base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return Number(v);
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    return v;
  });
}

export class Output {
  constructor(readonly json: boolean) {}

  /** Prints `value` as one JSON document with --json, else the human text (if any). */
  result(value: unknown, human: string | string[] | undefined): void {
    if (this.json) process.stdout.write(`${toJson(value)}\n`);
    else if (human !== undefined) process.stdout.write(lines(human));
  }

  /** One line of a JSON Lines stream (logs --json). */
  jsonLine(value: unknown): void {
    process.stdout.write(`${toJson(value)}\n`);
  }

  /** A remark for people (progress, summaries), on stderr so that stdout stays the data; silent with --json. */
  note(text: string): void {
    if (!this.json) process.stderr.write(lines(text));
  }

  /** The one-line error on stderr; with --json also an error document on stdout for scripts. */
  error(e: ErrorDescription): void {
    process.stderr.write(`e2b-toolkit: ${oneLine(e.message)} (${e.code})\n`);
    if (this.json) process.stdout.write(`${toJson({ status: 'error', error: e.message, code: e.code, ...(e.reason ? { reason: e.reason } : {}) })}\n`);
  }
}

function lines(text: string | string[]): string {
  const s = Array.isArray(text) ? text.join('\n') : text;
  return s.endsWith('\n') || s === '' ? s : `${s}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

/** "key  value" lines, keys aligned, empty values left out. */
export function fields(pairs: [string, string | number | undefined | null][]): string[] {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

/** 1536 → "1.5 KiB". */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
