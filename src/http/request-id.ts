/**
 * x-request-id values: random (version 4) UUIDs, as Envoy's default request ID extension
 * (envoy.request_id.uuid, UUIDRequestIDExtension) generates them.
 *
 * The randomness is node:crypto's (`randomFillSync`, 16 bytes per id, drawn 4 KiB at a time as
 * `crypto.randomUUID` does). The formatting is ours because `randomUUID()` returns its id as a
 * string built by 20 concatenations: a rope that every later byte-level use (the head encoder
 * writes it char by char) has to walk or flatten, which cost about 0.3 us per request on the proxy
 * path. Here the 36 characters are written into a scratch Buffer and read back as one flat latin1
 * string.
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { latin1 } from '../codec/http1/header-names';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let pos = POOL_BYTES;
const out = Buffer.allocUnsafeSlow(36);

/** Two lowercase hex digits per byte value: low byte the first char, high byte the second. */
const HEX = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const s = i.toString(16).padStart(2, '0');
  HEX[i] = s.charCodeAt(0) | (s.charCodeAt(1) << 8);
}

/** A new random UUID, `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx` (RFC 9562 version 4, variant 10). */
export function newRequestId(): string {
  if (pos === POOL_BYTES) {
    randomFillSync(pool);
    pos = 0;
  }
  const p = pos;
  pos += 16;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    let b = pool[p + i];
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10
    const h = HEX[b];
    out[o++] = h & 0xff;
    out[o++] = h >> 8;
    if (i === 3 || i === 5 || i === 7 || i === 9) out[o++] = 45; // '-'
  }
  return latin1(out, 0, 36);
}
