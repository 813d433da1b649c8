/**
 * The worker's "server is failing health checks" flag (Envoy's `Server::Instance::healthCheckFailed()`),
 * set by admin `POST /healthcheck/fail` and cleared by `POST /healthcheck/ok` through a main → worker
 * `healthcheck` message. Module state: each worker thread loads its own copy, so no locks.
 */

let failed = false;

/** True after `/healthcheck/fail` until `/healthcheck/ok`. */
export function healthCheckFailed(): boolean {
  return failed;
}

/** Sets the flag (worker runtime, on the `healthcheck` message or the task's initial state). */
export function setHealthCheckFailed(value: boolean): void {
  failed = value;
}
