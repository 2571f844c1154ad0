// Parsers for option values. They throw commander's InvalidArgumentError, which commander turns
// into "option '--timeout <seconds>' argument 'x' is invalid. <why>" (a usage error).
import { InvalidArgumentError } from 'commander';
import { seconds } from '../manager.js';

/** A positive number of seconds (fractions allowed). */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds.');
  return n;
}

/** An optional option's seconds as a google.protobuf.Duration (unset: the server's default). */
export function durationOf(s: number | undefined): ReturnType<typeof seconds> | undefined {
  return s === undefined ? undefined : seconds(s);
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number from 1 to 65535.');
  return n;
}

export function parseByteCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a number of bytes (0 or more).');
  return n;
}

/** "KEY=VALUE", repeatable (for --env and --metadata). */
export function collectPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected KEY=VALUE.');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
