// Helpers for the browser tests: the environment scripts/test passes, the
// browser, a token-authenticated API client (to compare what the page shows
// with what the API says), screenshots, CSV files.
//
// Environment (set by scripts/test):
//   BC_URL        https://localhost:18443
//   BC_CACERT     the dev CA / certificate file for Node's requests
//   BC_VAR        the test var/ folder: demo-password, demo-token
//   BC_ARTIFACTS  where screenshots go (screenshots/ below it)
//   BC_USER       optional, default "demo"
//   BC_CHROMIUM   optional, default /usr/bin/chromium
//   BC_CONFIG     the stack's bulkclaims.conf (database.url, for sql())

import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const URL_BASE = (process.env.BC_URL || 'https://localhost:18443').replace(/\/+$/, '');
export const ARTIFACTS = process.env.BC_ARTIFACTS || path.join(here, 'artifacts');
export const SHOTS = path.join(ARTIFACTS, 'screenshots');
export const USER = process.env.BC_USER || 'demo';

function readVar(name) {
  const dir = process.env.BC_VAR;
  if (!dir) return null;
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8').trim();
  } catch {
    return null;
  }
}

export function password() {
  const p = process.env.BC_PASSWORD || readVar('demo-password');
  if (!p) throw new Error('no demo password: set BC_VAR (scripts/test does) or BC_PASSWORD');
  return p;
}

export function token() {
  const t = process.env.BC_TOKEN || readVar('demo-token');
  if (!t) throw new Error('no demo token: set BC_VAR (scripts/test does) or BC_TOKEN');
  return t;
}

const CA = process.env.BC_CACERT ? fs.readFileSync(process.env.BC_CACERT) : undefined;

// A raw request to the stack; resolves {status, headers, body: Buffer}.
export function rawRequest(method, urlPath, { headers = {}, body } = {}) {
  const u = new URL(urlPath.startsWith('http') ? urlPath : URL_BASE + urlPath);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, ca: CA, timeout: 60000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${u.pathname}`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// The API as the demo user's token sees it.
export const api = {
  async get(p) {
    return rawRequest('GET', '/api/v1/' + p.replace(/^\/+/, ''), {
      headers: { Authorization: `Token ${token()}`, Accept: 'application/json' },
    });
  },
  async json(p) {
    const r = await this.get(p);
    if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
    return JSON.parse(r.body.toString('utf8'));
  },
};

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const spkiHash = (der) => crypto.createHash('sha256').update(der).digest('base64');

// The SPKI hashes Chromium is told to trust: the key of the certificate in
// BC_CACERT, and the key of the certificate the stack presents once Node has
// verified it against BC_CACERT. The browser then treats the stack as a
// proper secure origin (an ignored certificate error would not: Chromium
// blocks downloads from such pages).
async function trustedSpki() {
  const out = [];
  if (!CA) return out;
  try {
    out.push(spkiHash(new crypto.X509Certificate(CA).publicKey.export({ type: 'spki', format: 'der' })));
  } catch {
    // not a single PEM certificate: rely on the live check below
  }
  const u = new URL(URL_BASE);
  if (u.protocol !== 'https:') return out;
  await new Promise((resolve) => {
    const s = tls.connect({ host: u.hostname, port: Number(u.port || 443), servername: u.hostname, ca: CA }, () => {
      const c = s.getPeerCertificate();
      if (s.authorized && c && c.pubkey) out.push(spkiHash(c.pubkey));
      s.end();
      resolve();
    });
    s.on('error', () => resolve());
    s.setTimeout(10000, () => { s.destroy(); resolve(); });
  });
  return [...new Set(out)];
}

let spki = [];

// Debian's chromium, driven by playwright-core (which never downloads a
// browser). Playwright gives every launch a fresh, empty profile.
export async function launch() {
  spki = await trustedSpki();
  return chromium.launch({
    executablePath: process.env.BC_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: spki.length ? [...FLAGS, `--ignore-certificate-errors-spki-list=${spki.join(',')}`] : FLAGS,
    timeout: 60000,
  });
}

// A browser context with a page that records script errors and CSP
// violations (checked by the last test).
export const problems = [];
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    // The browser trusts the stack's key (launch); this is for page.request,
    // which runs in Node and knows no CA file.
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: opts.viewport || { width: 1280, height: 900 },
    storageState: opts.storageState,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (execute|load|apply|connect)/i.test(t)) problems.push(`CSP: ${t}`);
  });
  return { context, page };
}

// Basic accessibility checks of what the page shows now: one h1, a name for
// every control, table headers, a progress bar with a name. Findings go to
// `problems` (reported by the last test).
export async function checkA11y(page, where) {
  const found = await page.evaluate(() => {
    const out = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const h1s = [...document.querySelectorAll('h1')].filter(visible);
    if (h1s.length !== 1) out.push(`${h1s.length} visible h1 elements`);
    const nameOf = (el) => {
      if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
      if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(' ').trim();
      return (el.textContent || '').trim();
    };
    for (const el of document.querySelectorAll('input, select, textarea, button, a[href], progress')) {
      if (el.type === 'hidden' || el.closest('[hidden]')) continue;
      if (!nameOf(el)) out.push(`no accessible name: <${el.tagName.toLowerCase()} id="${el.id}" class="${el.className}">`);
    }
    for (const t of document.querySelectorAll('table')) {
      if (!t.querySelector('th')) out.push(`table without headers: ${t.id}`);
    }
    return out;
  });
  for (const f of found) problems.push(`a11y (${where}): ${f}`);
}

let shotNo = 0;
export async function screenshot(page, name) {
  await checkA11y(page, name);
  fs.mkdirSync(SHOTS, { recursive: true });
  shotNo += 1;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export const HEADER = 'claim_number,first_name,last_name,date_of_birth,subscriber_id\n';

// n synthetic rows (fake names, deterministic for a seed): {csv, rows}.
// notFoundRows get the simulator's NOTFOUND prefix (answer: Not Found);
// retriedRows its ERR5032 prefix (503 twice, then Processed: the job runs a
// second or two longer, so the page is seen at work).
export function claimsCsv(n, { seed = 1, badDateRows = [], notFoundRows = [], retriedRows = [] } = {}) {
  let x = seed >>> 0;
  const rnd = (m) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % m;
  };
  const rows = [];
  const tag = Date.now().toString(36).toUpperCase();
  for (let i = 1; i <= n; i++) {
    let claim = `ZE${tag}${String(i).padStart(4, '0')}`;
    if (notFoundRows.includes(i)) claim = `NOTFOUND${tag}${i}`;
    if (retriedRows.includes(i)) claim = `ERR5032${tag}${i}`;
    const dob = badDateRows.includes(i)
      ? '13/45/1980'
      : `19${30 + rnd(69)}-${String(1 + rnd(12)).padStart(2, '0')}-${String(1 + rnd(28)).padStart(2, '0')}`;
    rows.push({ claim, first: `Testfirst${i}`, last: `Testlast${i}`, dob, sub: `SUB${String(rnd(1e6)).padStart(6, '0')}` });
  }
  const csv = HEADER + rows.map((r) => [r.claim, r.first, r.last, r.dob, r.sub].join(',') + '\n').join('');
  return { csv, rows };
}

// A key of the running stack's config file (BC_CONFIG), or null.
export function configValue(key) {
  if (!process.env.BC_CONFIG) return null;
  for (const line of fs.readFileSync(process.env.BC_CONFIG, 'utf8').split('\n')) {
    const m = /^\s*([^#=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] === key) return m[2];
  }
  return null;
}

// Runs SQL on the stack's database with psql (the test cluster trusts its
// socket); returns the rows as arrays of strings (tab-separated).
export function sql(text) {
  const url = configValue('database.url');
  if (!url) throw new Error('no database.url: set BC_CONFIG (scripts/test does)');
  const out = execFileSync('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\t'],
    { input: text, encoding: 'utf8', timeout: 60000, stdio: ['pipe', 'pipe', 'pipe'] });
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg || 'assertion failed');
}

export function eq(a, b, msg) {
  if (a !== b) throw new Error(`${msg || 'not equal'}: got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
}
