/**
 * API Gateway's stage and route throttles in the model (tools/bench/awsModel.ts): each route key is ONE token bucket
 * for every client of the stage together ("Throttle requests to your WebSocket APIs": a route's settings, else the
 * stage's DefaultRouteSettings), below the account's 10,000 requests/s. The buckets are the template's
 * (tools/bench/stackLimits.ts reads them), so a route the template throttles at 500/s refuses its 501st request of a
 * second whoever sends it; each refusal is a 429 its sender sees. A route that has no bucket refuses nothing here.
 */
import { Bucket, type QuotaUse, quotaUse } from './quotas';

/** A route's token bucket: requests per second, and the bucket's size. */
export interface RouteThrottle {
  rateLimit: number;
  burstLimit: number;
}

/** The routes the model's traffic calls, by route key. */
export class RouteBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    /** Each route's own bucket (the stage's RouteSettings, or a run's explicit one). */
    private readonly own: Readonly<Record<string, RouteThrottle>>,
    /** The stage's DefaultRouteSettings: every route without its own. */
    private readonly stageDefault?: RouteThrottle,
  ) {}

  /** The bucket a route key draws from, or none when neither the route nor the stage throttles it. */
  throttleOf(route: string): RouteThrottle | undefined {
    return this.own[route] ?? this.stageDefault;
  }

  /** A request on `route` at `at` (ms, never going back): false when its bucket is empty (429). */
  take(route: string, at: number): boolean {
    let bucket = this.buckets.get(route);
    if (!bucket) {
      const throttle = this.throttleOf(route);
      if (!throttle) return true;
      bucket = new Bucket(throttle);
      this.buckets.set(route, bucket);
    }
    return bucket.take(at);
  }

  /** Each route called so far: its refusals from second `from` on. */
  refusedByRoute(from = 0): Record<string, number> {
    return Object.fromEntries([...this.buckets].map(([route, b]) => [route, b.refusedSince(from)]));
  }

  /** Each route's bucket as a quota of the run (`<route> route throttle`), in the order the routes were first called. */
  uses(from = 0): QuotaUse[] {
    return [...this.buckets].map(([route, b]) =>
      quotaUse(`${route} route throttle`, b.settings.rateLimit, [b], from),
    );
  }
}
