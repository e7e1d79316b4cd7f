// Formatting of numbers, times and durations for people.

const nf = new Intl.NumberFormat('en-US');

export function num(n) {
  if (n === null || n === undefined || n === '') return '—';
  const x = Number(n);
  return Number.isFinite(x) ? nf.format(x) : String(n);
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function money(v) {
  if (v === null || v === undefined || v === '') return '';
  const x = Number(v);
  if (!Number.isFinite(x)) return String(v);
  return x.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
}

// An ISO time as local date and time, e.g. "Nov 28, 2026, 1:05:07 PM".
export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString('en-US', {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: 'numeric', minute: '2-digit', second: '2-digit',
  });
}

// Seconds as "1 h 2 min", "3 min 4 s", "5.2 s". Accepts a number of seconds
// or a "[D ]HH:MM:SS[.ffffff]" string (DRF's timedelta).
export function duration(v) {
  if (v === null || v === undefined || v === '') return '—';
  let s = typeof v === 'number' ? v : NaN;
  if (typeof v === 'string') {
    // DRF writes a timedelta as "[D ]HH:MM:SS[.ffffff]".
    const m = /^(?:(\d+) (?:days?,? )?)?(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(v.trim());
    if (m) s = (Number(m[1] || 0) * 86400) + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
    else s = Number(v);
  }
  if (!Number.isFinite(s) || s < 0) return String(v);
  if (s < 10) return `${s.toFixed(1)} s`;
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h} h ${m} min`;
  return sec ? `${m} min ${sec} s` : `${m} min`;
}

// Seconds between two ISO times, or null.
export function secondsBetween(a, b) {
  if (!a || !b) return null;
  const t = (new Date(b).getTime() - new Date(a).getTime()) / 1000;
  return Number.isFinite(t) && t >= 0 ? t : null;
}

export function rate(rowsPerSecond) {
  const x = Number(rowsPerSecond);
  if (!Number.isFinite(x) || x <= 0) return '—';
  return `${x >= 10 ? Math.round(x) : x.toFixed(1)} rows/s`;
}

export function eta(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const x = Number(seconds);
  if (!Number.isFinite(x) || x < 0) return '—';
  if (x < 1) return 'less than a second';
  return `about ${duration(x)}`;
}

export function percent(p) {
  const x = Number(p);
  if (!Number.isFinite(x)) return '0 %';
  return `${Math.floor(Math.max(0, Math.min(100, x)))} %`;
}

// A short, non-identifying label for a job id (the first 8 characters).
export function shortId(id) {
  return String(id || '').slice(0, 8);
}

// A list the payer sends ';'-separated ("50;97") as "50, 97".
export function codes(v) {
  return v ? String(v).split(';').filter(Boolean).join(', ') : '';
}
