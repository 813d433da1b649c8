import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadBootstrap } from '../../../src/config/index';
import { isAttacheError, type ConfigError } from '../../../src/common/errors';

/** test/fixtures/config (tests run from dist/test/unit/config). */
export const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/config');

/** A minimal valid v3 bootstrap; tests replace one line to break it. Line numbers are noted. */
export const BASE = `static_resources:
  listeners:
  - name: l0
    address:
      socket_address: { address: 127.0.0.1, port_value: 10000 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: vh
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: c0 }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c0
    connect_timeout: 1.5s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: c0
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 8080 }
`;

/** BASE with `from` replaced by `to` (asserts `from` occurs). */
export function variant(from: string, to: string): string {
  assert.ok(BASE.includes(from), `BASE has no ${JSON.stringify(from)}`);
  return BASE.replace(from, to);
}

/** Loads inline YAML and returns the ConfigError it must throw. */
export function loadError(yaml: string): ConfigError {
  try {
    loadBootstrap({ yaml });
  } catch (e) {
    assert.ok(isAttacheError(e), `not an AttacheError: ${String(e)}`);
    assert.equal((e as Error).name, 'ConfigError');
    return e as ConfigError;
  }
  assert.fail('expected a ConfigError');
}

/** Asserts an error's message, path, line and column. */
export function assertError(e: ConfigError, want: { message: string | RegExp; path?: string; line: number; column: number; hint?: RegExp }): void {
  if (typeof want.message === 'string') assert.equal(e.message, want.message);
  else assert.match(e.message, want.message);
  if (want.path !== undefined) assert.equal(e.path, want.path);
  assert.equal(e.line, want.line, `line of: ${e.format()}`);
  assert.equal(e.column, want.column, `column of: ${e.format()}`);
  if (want.hint) assert.match(e.hint ?? '', want.hint);
}
