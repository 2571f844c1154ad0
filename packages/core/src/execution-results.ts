// Code-interpreter results in the API's messages: an E2B SDK result or error as the
// Result / ExecutionError message, and a result narrowed to the formats a caller asked for.
import { create, fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import type { ExecutionError as SdkExecutionError, Result as SdkResult } from '@e2b/code-interpreter';
import { ExecutionErrorSchema, ResultFormat, ResultSchema, type ExecutionError, type Result } from './gen/e2b_toolkit/v1/execution_pb.js';

/** The formats of a Result message, in field order. */
const FORMAT_FIELDS: [ResultFormat, keyof Result][] = [
  [ResultFormat.TEXT, 'text'],
  [ResultFormat.HTML, 'html'],
  [ResultFormat.MARKDOWN, 'markdown'],
  [ResultFormat.LATEX, 'latex'],
  [ResultFormat.SVG, 'svg'],
  [ResultFormat.PNG, 'png'],
  [ResultFormat.JPEG, 'jpeg'],
  [ResultFormat.PDF, 'pdf'],
  [ResultFormat.JAVASCRIPT, 'javascript'],
  [ResultFormat.JSON, 'json'],
  [ResultFormat.DATA, 'data'],
  [ResultFormat.CHART, 'chart'],
  [ResultFormat.EXTRA, 'extra'],
];

/** The result with only `formats` set (all when empty); `formats` still lists all it has. */
export function filterResult(result: Result, formats: ResultFormat[]): Result {
  if (!formats.length) return result;
  const copy = create(ResultSchema, { isMainResult: result.isMainResult, formats: result.formats });
  for (const [format, field] of FORMAT_FIELDS) {
    if (formats.includes(format)) (copy as unknown as Record<string, unknown>)[field] = result[field];
  }
  return copy;
}

/** An E2B result as the API's Result: base64 images and documents as bytes, JSON values as Struct/Value. */
export function resultMessage(r: SdkResult): Result {
  const bytes = (b64: string | undefined) => (b64 === undefined ? undefined : new Uint8Array(Buffer.from(b64, 'base64')));
  const struct = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (jsonSafe(v) as JsonObject) : undefined);
  const extra = r.extra && Object.keys(r.extra).length ? r.extra : undefined;
  const result = create(ResultSchema, {
    isMainResult: r.isMainResult,
    text: r.text,
    html: r.html,
    markdown: r.markdown,
    latex: r.latex,
    svg: r.svg,
    png: bytes(r.png),
    jpeg: bytes(r.jpeg),
    pdf: bytes(r.pdf),
    javascript: r.javascript,
    json: r.json === undefined ? undefined : fromJson(ValueSchema, jsonSafe(r.json)),
    data: struct(r.data),
    chart: struct(r.chart),
    extra: struct(extra),
  });
  result.formats = FORMAT_FIELDS.filter(([, field]) => result[field] !== undefined).map(([format]) => format);
  return result;
}

/** An E2B execution error as the API's ExecutionError (a traceback list joined into one text). */
export function errorMessage(e: SdkExecutionError): ExecutionError {
  const traceback = Array.isArray(e.traceback) ? (e.traceback as string[]).join('\n') : e.traceback;
  return create(ExecutionErrorSchema, { name: e.name, value: e.value, traceback });
}

/** A value JSON can carry (non-finite numbers become null, as JSON.stringify does). */
function jsonSafe(v: unknown): JsonValue {
  return JSON.parse(JSON.stringify(v ?? null)) as JsonValue;
}
