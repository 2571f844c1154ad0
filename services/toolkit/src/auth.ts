// API keys: `Authorization: Bearer <key>`. The key is the tenant everything belongs to.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import { ErrorReason } from '@e2b-toolkit/core';
import { reasonError } from './errors.js';
import { Health } from './gen/grpc/health/v1/health_pb.js';

/**
 * Services anyone may call, keys configured or not: load balancers and Kubernetes probes
 * check health without credentials, and a health status reveals nothing. Reflection is
 * not among them: with keys configured it describes the API to key holders only.
 */
const OPEN_SERVICES: ReadonlySet<string> = new Set([Health.typeName]);

/** The caller's API key, set by the auth interceptor. */
export const apiKeyKey = createContextKey<string>('anonymous', { description: 'the caller API key' });

/** The key of a request without credentials on an open (loopback, no keys) server. */
export const ANONYMOUS_KEY = 'anonymous';

/**
 * Accepts the keys in `apiKeys`; without keys configured (allowed on loopback only) any
 * bearer is accepted and none means the anonymous key. OPEN_SERVICES need no key at all.
 */
export function authInterceptor(apiKeys: ReadonlySet<string> | undefined): Interceptor {
  const accepts = apiKeys && keyMatcher(apiKeys);
  return (next) => async (req) => {
    if (OPEN_SERVICES.has(req.service.typeName)) {
      req.contextValues.set(apiKeyKey, ANONYMOUS_KEY);
      return next(req);
    }
    const header = req.header.get('authorization');
    const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (header && !match) throw reasonError(ErrorReason.API_KEY_INVALID, 'the authorization header must be "Bearer <api key>"');
    const key = match?.[1];
    if (accepts) {
      if (!key) throw reasonError(ErrorReason.API_KEY_INVALID, 'an API key is required: send "Authorization: Bearer <api key>"');
      if (!accepts(key)) throw reasonError(ErrorReason.API_KEY_INVALID, 'the API key is not valid');
    }
    req.contextValues.set(apiKeyKey, key ?? ANONYMOUS_KEY);
    return next(req);
  };
}

/**
 * Whether a key is one of `keys`, in time that does not depend on how much of it matches
 * (digests compared with timingSafeEqual, every configured key each time).
 */
function keyMatcher(keys: ReadonlySet<string>): (key: string) => boolean {
  const digest = (k: string) => createHash('sha256').update(k).digest();
  const known = [...keys].map(digest);
  return (key) => {
    const d = digest(key);
    let found = false;
    for (const k of known) found = timingSafeEqual(k, d) || found;
    return found;
  };
}

export function tenantOf(ctx: HandlerContext): string {
  return ctx.values.get(apiKeyKey);
}
