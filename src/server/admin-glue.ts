/**
 * Wires the admin server (src/admin) to the supervisor: the AdminContext implementation.
 */
import type { Bootstrap, ConfigSnapshot } from '../config/model';
import type { Options } from './options';
import type { Supervisor } from './supervisor';

/** Inputs for the admin context. */
export interface AdminGlueOptions {
  bootstrap: Bootstrap;
  supervisor: Supervisor;
  opts: Options;
  startMs: number;
  version: string;
  concurrency: number;
  snapshot: () => ConfigSnapshot;
  shutdown: (reason: string) => void;
}

/** A started admin listener. */
export interface RunningAdmin {
  readonly port: number;
  markDraining(): void;
  close(): Promise<void>;
}

export async function startAdmin(_o: AdminGlueOptions): Promise<RunningAdmin> {
  return { port: 0, markDraining() {}, close: async () => {} };
}
