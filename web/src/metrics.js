// Pure helpers for the operator view: per-second rates from counter deltas
// and sparkline geometry. No DOM (unit tested in node).

/**
 * Per-second rates of each key of two counter maps taken dtSec apart.
 * A counter that went backwards (server restart) or a missing previous
 * sample gives null.
 */
export function counterRates(prev, cur, dtSec) {
  const out = {};
  for (const [k, v] of Object.entries(cur || {})) {
    const p = prev ? prev[k] : undefined;
    out[k] =
      typeof v === 'number' && typeof p === 'number' && dtSec > 0 && v >= p ? (v - p) / dtSec : null;
  }
  return out;
}

/** Sum of the non-null values of a rates map (null when all are null). */
export function sumRates(rates) {
  let sum = null;
  for (const v of Object.values(rates || {})) if (typeof v === 'number') sum = (sum || 0) + v;
  return sum;
}

/**
 * Points of a sparkline ("x,y x,y ...") for samples [{t, v}] over the window
 * [end - windowMs, end], in a width × height box (y grows downwards; 2 px
 * padding). Samples with a null value are skipped. → {points, max, min}
 */
export function sparkline(samples, { end, windowMs = 300000, width = 300, height = 40 } = {}) {
  const vals = samples.filter((s) => typeof s.v === 'number' && Number.isFinite(s.v) && s.t >= end - windowMs);
  if (!vals.length) return { points: '', max: 0, min: 0 };
  let max = -Infinity;
  let min = Infinity;
  for (const s of vals) {
    max = Math.max(max, s.v);
    min = Math.min(min, s.v);
  }
  const top = max > 0 ? max : 1;
  const pad = 2;
  const points = vals
    .map((s) => {
      const x = ((s.t - (end - windowMs)) / windowMs) * width;
      const y = height - pad - (Math.max(0, s.v) / top) * (height - 2 * pad);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  return { points, max, min };
}

/** "12.3/s", "0/s", "–" for a rate. */
export function formatRate(r) {
  if (typeof r !== 'number' || !Number.isFinite(r)) return '–';
  if (r === 0) return '0/s';
  if (r < 10) return `${r.toFixed(1)}/s`;
  if (r < 1000) return `${Math.round(r)}/s`;
  return `${(r / 1000).toFixed(r < 10000 ? 1 : 0)}k/s`;
}
