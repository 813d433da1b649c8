/**
 * re2js (RE2 semantics: linear time, no backreferences or lookaround, as Envoy's `google_re2`),
 * loaded on first use: it costs ~2 MiB per thread, and most configs have no regex.
 */
import type { RE2JS } from 're2js';

let loaded: typeof RE2JS | undefined;

/** The RE2JS class. @throws what `require('re2js')` throws (the package is a dependency). */
export function re2(): typeof RE2JS {
  return (loaded ??= (require('re2js') as typeof import('re2js')).RE2JS);
}
