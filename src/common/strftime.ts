/**
 * Envoy's START_TIME formatting (`%START_TIME(<format>)%` in access logs and header values): a
 * strftime subset, always in UTC as Envoy formats it, compiled once per format at config time.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => (n < 10 ? '0' : '') + n;

/**
 * strftime subset in UTC (Envoy formats START_TIME in UTC): %Y %y %m %d %e %H %M %S %j %a %b %T %F
 * %s (epoch s), %z, %Z, %% and Envoy's %E<n>S (seconds with n fractional digits), %<n>f / %f
 * (fraction, default 9 digits).
 */
export function compileStrftime(fmt: string): (ms: number) => string {
  const pieces: Array<string | ((d: Date, ms: number) => string)> = [];
  const re = /%(E(\d)S|(\d)?f|[YymdeHMSjabTFszZ%])/g;
  let last = 0;
  for (const m of fmt.matchAll(re)) {
    if (m.index! > last) pieces.push(fmt.slice(last, m.index));
    last = m.index! + m[0].length;
    const frac = (digits: number) => (_d: Date, t: number) => {
      const ns = String(Math.floor(((t % 1000) + 1000) % 1000) * 1_000_000).padStart(9, '0');
      return ns.slice(0, digits);
    };
    switch (m[1][0]) {
      case 'E': { const f = frac(Number(m[2])); pieces.push((d, t) => p2(d.getUTCSeconds()) + (Number(m[2]) > 0 ? '.' + f(d, t) : '')); break; }
      case 'Y': pieces.push((d) => String(d.getUTCFullYear())); break;
      case 'y': pieces.push((d) => p2(d.getUTCFullYear() % 100)); break;
      case 'm': pieces.push((d) => p2(d.getUTCMonth() + 1)); break;
      case 'd': pieces.push((d) => p2(d.getUTCDate())); break;
      case 'e': pieces.push((d) => String(d.getUTCDate()).padStart(2, ' ')); break;
      case 'H': pieces.push((d) => p2(d.getUTCHours())); break;
      case 'M': pieces.push((d) => p2(d.getUTCMinutes())); break;
      case 'S': pieces.push((d) => p2(d.getUTCSeconds())); break;
      case 'j': pieces.push((d) => String(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1).padStart(3, '0')); break;
      case 'a': pieces.push((d) => DAYS[d.getUTCDay()]); break;
      case 'b': pieces.push((d) => MONTHS[d.getUTCMonth()]); break;
      case 'T': pieces.push((d) => `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`); break;
      case 'F': pieces.push((d) => `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`); break;
      case 's': pieces.push((_d, t) => String(Math.floor(t / 1000))); break;
      case 'z': pieces.push('+0000'); break;
      case 'Z': pieces.push('UTC'); break;
      case '%': pieces.push('%'); break;
      default: pieces.push(frac(m[3] ? Number(m[3]) : 9));
    }
  }
  if (last < fmt.length) pieces.push(fmt.slice(last));
  return (t: number) => {
    const d = new Date(t);
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : p(d, t);
    return out;
  };
}
