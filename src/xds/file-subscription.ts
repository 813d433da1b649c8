/**
 * Filesystem subscriptions (Envoy's FilesystemSubscriptionImpl): a ConfigSource with `path` (or
 * `path_config_source`) names a YAML or JSON file holding a DiscoveryResponse
 * (`{version_info, resources: [{'@type': ..., ...}]}`). The file is read at start and again each
 * time it changes; its directory is watched, so an atomic `mv` of a new file over it is seen, and
 * the file is also polled every {@link POLL_MS} ms through symlinks, which covers Kubernetes
 * ConfigMap volumes (a `..data` symlink swapped atomically: Envoy's `watched_directory` case) and
 * filesystems without change events.
 * A file that fails to parse or validate is rejected and the last good config kept (there is no
 * control plane to NACK to: the error is logged and kept for /config_dump).
 */
import { readFile, stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { logger } from '../common/logger';
import { canonicalResourceType, resourceNameOf } from '../config/resource';
import type { TypeWatch } from './grpc-stream';

const log = logger('config');

/** Debounce of change events, ms (editors write a file in several steps). */
const DEBOUNCE_MS = 30;

/** Poll period of the file's identity (inode, size, mtime) through symlinks, ms. */
const POLL_MS = 500;

/** What the path resolves to, for change detection: inode, size and mtime. */
function identity(st: { ino: number; size: number; mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** One watched file feeding one type watch. */
export class FileSubscription {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastText: string | undefined;
  private stopped = false;
  private poll: NodeJS.Timeout | null = null;
  private lastId = '';

  constructor(private readonly file: string, private readonly w: TypeWatch) {}

  /** Reads the file once and starts watching its directory. */
  start(): void {
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: false }, (_ev, name) => {
        if (name === null || name === path.basename(this.file)) this.schedule();
      });
      this.watcher.on('error', (e) => log.warn(`watching ${this.file}: ${e.message}`));
    } catch (e) {
      log.warn(`cannot watch ${this.file}: ${(e as Error).message}`);
    }
    this.poll = setInterval(() => void this.checkIdentity(), POLL_MS);
    this.poll.unref();
    void this.load();
  }

  /** Reloads when what the path resolves to changed (symlink swap, in-place write, replace). */
  private async checkIdentity(): Promise<void> {
    try {
      if (identity(await stat(this.file)) !== this.lastId) this.schedule();
    } catch {
      /* missing for now: the next poll or event will see it */
    }
  }

  /** Re-reads the file now (also used when the watched names change). */
  reload(): void {
    this.lastText = undefined;
    void this.load();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.watcher?.close();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      // The identity is taken before the read: a change after it shows at the next poll.
      this.lastId = identity(await stat(this.file));
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      log.warn(`filesystem subscription ${this.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return;
    }
    if (this.stopped || text === this.lastText) return;
    this.lastText = text;
    let doc: { version_info?: unknown; resources?: unknown };
    try {
      doc = (parseYaml(text) ?? {}) as typeof doc;
    } catch (e) {
      log.warn(`filesystem subscription ${this.file}: ${(e as Error).message}`);
      return;
    }
    const resources = Array.isArray(doc.resources) ? doc.resources : [];
    const want = this.w.names();
    const mine = resources.filter((r) => {
      const t = (r as Record<string, unknown> | null)?.['@type'];
      if (typeof t === 'string' && canonicalResourceType(t) !== canonicalResourceType(this.w.typeUrl)) return false;
      if (want === null) return true;
      const n = resourceNameOf(this.w.typeUrl, r);
      return n !== undefined && want.includes(n);
    });
    const err = this.w.onResponse(mine, doc.version_info === undefined ? '' : String(doc.version_info));
    if (err !== null) log.warn(`filesystem subscription ${this.file} rejected: ${err}`);
  }
}
