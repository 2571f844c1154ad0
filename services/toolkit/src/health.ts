// gRPC health checking (grpc.health.v1.Health), as load balancers, Kubernetes gRPC probes
// and grpc_health_probe use it: https://github.com/grpc/grpc/blob/master/doc/health-checking.md
//
// The server ("") and every service it serves are SERVING until the server shuts down, and
// NOT_SERVING from then on. Shutdown is the only change, so the status is read from the
// shutdown signal itself rather than kept in a table that could drift from it.
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckRequest } from './gen/grpc/health/v1/health_pb.js';

/** The health spec's cap on List answers. */
const MAX_LISTED_SERVICES = 100;

/**
 * Serves grpc.health.v1.Health for the services registered on `router` (read at each call,
 * so services registered after this one count too).
 */
export function registerHealth(router: ConnectRouter, shutdownSignal: AbortSignal): void {
  const serviceNames = () => new Set(['', ...router.handlers.map((h) => h.service.typeName)]);
  const statusOf = (service: string): ServingStatus | undefined => {
    if (!serviceNames().has(service)) return undefined;
    return shutdownSignal.aborted ? ServingStatus.NOT_SERVING : ServingStatus.SERVING;
  };

  router.service(Health, {
    check(req) {
      const status = statusOf(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },

    list() {
      const names = [...serviceNames()];
      if (names.length > MAX_LISTED_SERVICES) {
        throw new ConnectError(`more than ${MAX_LISTED_SERVICES} services`, Code.ResourceExhausted);
      }
      return { statuses: Object.fromEntries(names.map((name) => [name, { status: statusOf(name) }])) };
    },

    // The current status at once, then each change. An unknown service is SERVICE_UNKNOWN
    // and the stream stays open, as the spec asks. At shutdown watchers get NOT_SERVING and
    // then the end of the stream (status OK: clients reconnect with backoff).
    async *watch(req: HealthCheckRequest, ctx: HandlerContext) {
      let sent: ServingStatus | undefined;
      for (;;) {
        const status = statusOf(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== sent) {
          yield { status };
          sent = status;
        }
        if (shutdownSignal.aborted || ctx.signal.aborted) return;
        await anyAbort(shutdownSignal, ctx.signal);
      }
    },
  });
}

/** Resolves when either signal aborts. */
function anyAbort(a: AbortSignal, b: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      a.removeEventListener('abort', done);
      b.removeEventListener('abort', done);
      resolve();
    };
    a.addEventListener('abort', done);
    b.addEventListener('abort', done);
  });
}
