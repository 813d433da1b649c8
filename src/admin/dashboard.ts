/**
 * The "at a glance" page served at admin `/` to browsers (requests with `Accept: text/html`): one
 * static HTML page whose script polls `/stats?format=json` every second and shows, per HCM stat
 * prefix and in total, requests/s and the 5xx error rate (from counter deltas between polls),
 * downstream p50/p99 (Envoy's cumulative quantiles of `http.<prefix>.downstream_rq_time`), and per
 * cluster the healthy/total membership, requests/s, 5xx/s and upstream p99. No dependencies, no
 * build step; `curl /` still gets the text help.
 */

/** The page (UTF-8 HTML). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>attache admin</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.2em 0 .4em}
.tiles{display:flex;gap:1em;flex-wrap:wrap}.tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}
.tile b{display:block;font-size:1.6em}.tile span{color:#666;font-size:.85em}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:.25em .7em;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}.bad{color:#b00020;font-weight:bold}.ok{color:#087f23}
#status{color:#666;font-size:.85em}svg{background:#fff;border:1px solid #ddd;border-radius:6px}
a{color:#0b57d0}
</style></head><body>
<h1>attache</h1><div id="status">connecting…</div>
<div class="tiles">
<div class="tile"><span>requests/s</span><b id="rps">–</b></div>
<div class="tile"><span>5xx error rate</span><b id="err">–</b></div>
<div class="tile"><span>p50 (ms, since start)</span><b id="p50">–</b></div>
<div class="tile"><span>p99 (ms, since start)</span><b id="p99">–</b></div>
<div class="tile"><span>active requests</span><b id="act">–</b></div>
</div>
<h2>requests/s, last 60 s</h2><svg id="spark" width="600" height="80" viewBox="0 0 600 80" preserveAspectRatio="none"><polyline id="line" fill="none" stroke="#0b57d0" stroke-width="2" points=""/></svg>
<h2>clusters</h2><table id="clusters"><thead><tr><th>cluster</th><th>healthy / total</th><th>rq/s</th><th>5xx/s</th><th>cx active</th><th>p99 ms</th></tr></thead><tbody></tbody></table>
<h2>listeners (HTTP connection managers)</h2><table id="hcms"><thead><tr><th>stat prefix</th><th>rq/s</th><th>5xx %</th><th>p50 ms</th><th>p99 ms</th></tr></thead><tbody></tbody></table>
<p><a href="/help">/help</a> · <a href="/stats">/stats</a> · <a href="/stats/prometheus">/stats/prometheus</a> · <a href="/clusters">/clusters</a> · <a href="/config_dump">/config_dump</a> · <a href="/server_info">/server_info</a></p>
<script>
"use strict";
let prev = null, prevT = 0; const hist = [];
const fmt = (v, d) => (v === null || v === undefined || Number.isNaN(v)) ? '–' : Number(v).toFixed(d);
function q(h, name, i) { const e = h && h.get(name); return e ? e.values[i].cumulative : null; }
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]); }
async function tick() {
  try {
    const r = await fetch('/stats?format=json', { cache: 'no-store' });
    const j = await r.json(); const now = performance.now();
    const v = new Map(); let hq = null, qs = [];
    for (const s of j.stats) {
      if (s.histograms) { qs = s.histograms.supported_quantiles; hq = new Map(s.histograms.computed_quantiles.map((c) => [c.name, c])); }
      else v.set(s.name, s.value);
    }
    const i50 = qs.indexOf(50), i99 = qs.indexOf(99);
    const dt = prev ? (now - prevT) / 1000 : 0;
    const rate = (name) => (prev && dt > 0 && prev.has(name) ? Math.max(0, (v.get(name) - prev.get(name)) / dt) : null);
    const hcms = [...v.keys()].filter((n) => /^http\\.[^.]+\\.downstream_rq_total$/.test(n) && !n.startsWith('http.admin.')).map((n) => n.split('.')[1]);
    let rps = 0, e5 = 0, act = 0; const rows = [];
    for (const p of hcms) {
      const a = rate('http.' + p + '.downstream_rq_total'), b = rate('http.' + p + '.downstream_rq_5xx');
      rps += a || 0; e5 += b || 0; act += v.get('http.' + p + '.downstream_rq_active') || 0;
      rows.push('<tr><td>' + esc(p) + '</td><td>' + fmt(a, 1) + '</td><td>' + (a ? fmt(100 * (b || 0) / a, 2) : '–') + '</td><td>' + fmt(q(hq, 'http.' + p + '.downstream_rq_time', i50), 1) + '</td><td>' + fmt(q(hq, 'http.' + p + '.downstream_rq_time', i99), 1) + '</td></tr>');
    }
    document.querySelector('#hcms tbody').innerHTML = rows.join('');
    const first = hcms[0] ? 'http.' + hcms[0] + '.downstream_rq_time' : '';
    document.getElementById('rps').textContent = prev ? fmt(rps, 1) : '–';
    const er = rps > 0 ? 100 * e5 / rps : 0;
    const errEl = document.getElementById('err'); errEl.textContent = prev ? fmt(er, 2) + ' %' : '–'; errEl.className = er > 1 ? 'bad' : 'ok';
    document.getElementById('p50').textContent = fmt(q(hq, first, i50), 1);
    document.getElementById('p99').textContent = fmt(q(hq, first, i99), 1);
    document.getElementById('act').textContent = String(act);
    const clusters = [...v.keys()].filter((n) => /^cluster\\.[^.]+\\.membership_total$/.test(n)).map((n) => n.slice(8, -17));
    document.querySelector('#clusters tbody').innerHTML = clusters.map((c) => {
      const k = 'cluster.' + c + '.', h = v.get(k + 'membership_healthy'), t = v.get(k + 'membership_total');
      return '<tr><td>' + esc(c) + '</td><td class="' + (h < t || t === 0 ? 'bad' : 'ok') + '">' + h + ' / ' + t + '</td><td>' + fmt(rate(k + 'upstream_rq_total'), 1) + '</td><td>' + fmt(rate(k + 'upstream_rq_5xx'), 1) + '</td><td>' + (v.get(k + 'upstream_cx_active') ?? 0) + '</td><td>' + fmt(q(hq, k + 'upstream_rq_time', i99), 1) + '</td></tr>';
    }).join('');
    if (prev) { hist.push(rps); if (hist.length > 60) hist.shift(); }
    const max = Math.max(1, ...hist);
    document.getElementById('line').setAttribute('points', hist.map((x, i) => (i * 10) + ',' + (78 - 74 * x / max)).join(' '));
    document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · peak ' + fmt(max, 0) + ' rq/s';
    prev = v; prevT = now;
  } catch (err) {
    document.getElementById('status').textContent = 'admin unreachable: ' + err;
  }
}
tick(); setInterval(tick, 1000);
</script></body></html>
`;
