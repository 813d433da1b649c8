/**
 * The registry of HTTP filter factories, keyed by `@type` URL and by name (v3 and legacy names).
 * New filters (fault, RBAC, local rate limit, ...) register here; the connection manager never
 * changes for them.
 */
import { Registry } from '../../registry/registry';
import type { HttpFilterFactory } from '../../http/filter';
import { routerFilterFactory } from './router/config';
import { healthCheckFilterFactory } from './health_check/config';

/** The process-wide HTTP filter registry (each worker loads its own copy of this module). */
export const httpFilterRegistry = new Registry<HttpFilterFactory>('http filter');
httpFilterRegistry.register(routerFilterFactory);
httpFilterRegistry.register(healthCheckFilterFactory);
