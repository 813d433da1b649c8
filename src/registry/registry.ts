/**
 * Registries of named factories keyed by `@type` URL and by name, as Envoy's
 * envoy/registry/registry.h. Registration throws on duplicates; lookups are config-time only.
 */

/** Anything registrable: a canonical name, aliases and the type URLs it accepts. */
export interface Registrable {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly typeUrls: readonly string[];
}

/** A registry of factories of one category (HTTP filters, network filters, access loggers, ...). */
export class Registry<F extends Registrable> {
  private readonly byName = new Map<string, F>();
  private readonly byType = new Map<string, F>();
  constructor(readonly category: string) {}

  /** @throws Error when a name or type URL is already registered. */
  register(f: F): void {
    for (const n of [f.name, ...(f.aliases ?? [])]) {
      if (this.byName.has(n)) throw new Error(`${this.category}: duplicate factory name ${n}`);
      this.byName.set(n, f);
    }
    for (const t of f.typeUrls) {
      if (this.byType.has(t)) throw new Error(`${this.category}: duplicate factory type ${t}`);
      this.byType.set(t, f);
    }
  }

  /** Finds by `@type` first (Envoy's rule since 1.17), then by name. */
  lookup(typeUrl: string | undefined, name: string | undefined): F | undefined {
    if (typeUrl !== undefined) {
      const f = this.byType.get(typeUrl);
      if (f) return f;
      // TypedStruct / udpa wrappers are not supported: fall through to name lookup.
    }
    return name !== undefined ? this.byName.get(name) : undefined;
  }

  /** Registered canonical names (for error hints). */
  names(): string[] {
    return [...new Set([...this.byName.values()].map((f) => f.name))].sort();
  }
}
