// A Jupyter MIME bundle as a `result` line: known MIME types become flat keys
// (protocol reference §4.2), anything else goes under `extra`, present only when needed
// (the SDK's Result puts unknown top-level keys in `extra`; official tests expect it empty).
import type { OutputLine } from './runner.js';

const KEYS: ReadonlyMap<string, string> = new Map([
  ['text/plain', 'text'],
  ['text/html', 'html'],
  ['text/markdown', 'markdown'],
  ['image/svg+xml', 'svg'],
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['application/pdf', 'pdf'],
  ['text/latex', 'latex'],
  ['application/json', 'json'],
  ['application/javascript', 'javascript'],
  ['e2b/data', 'data'],
  ['e2b/chart', 'chart'],
]);

const BASE64_KEYS = new Set(['png', 'jpeg', 'pdf']);

/** E2B shows the repr of a string result without its quotes: 'hi' reads as hi. */
function unquote(text: string): string {
  if (text.length >= 2 && (text[0] === "'" || text[0] === '"') && text[text.length - 1] === text[0]) {
    return text.slice(1, -1);
  }
  return text;
}

export function resultLine(bundle: Record<string, unknown>, isMain: boolean): OutputLine {
  const line: Record<string, unknown> = { type: 'result' };
  const extra: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) {
    if (value === null || value === undefined) continue;
    const key = KEYS.get(mime);
    if (!key) extra[mime] = value;
    else if (key === 'text' && typeof value === 'string') line.text = unquote(value);
    // Raw base64, as the SDK expects: no data: prefix, no line breaks.
    else if (BASE64_KEYS.has(key) && typeof value === 'string') line[key] = value.replace(/\s+/g, '');
    else line[key] = value;
  }
  if (Object.keys(extra).length > 0) line.extra = extra;
  line.is_main_result = isMain;
  return line as OutputLine;
}
