// The API client: JSON requests with the session cookie, the CSRF header on
// every state-changing request, errors turned into ApiError with the server's
// message, and uploads through XMLHttpRequest so the transfer can show
// progress. Nothing here touches the DOM.

export const API = '/api/v1/';

let csrfToken = null;
let lastContact = 0;

// When the server last answered a request of this session (ms since epoch).
export function lastServerContact() {
  return lastContact;
}
let onUnauthorized = null;

// Called with the csrf_token of a login or /auth/me/ answer.
export function setCsrfToken(token) {
  csrfToken = token || null;
}

// fn(err) is called when any request answers 401: the session is gone
// (signed out, idle timeout, or never signed in).
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// Messages for answers that carry no JSON error (a proxy, a dropped
// connection). Worded for a billing specialist, not for a developer.
const STATUS_TEXT = {
  0: 'The server could not be reached. Check your connection and try again.',
  400: 'The request was not accepted.',
  401: 'Your session has ended. Please sign in again.',
  403: 'Your account is not allowed to do this.',
  404: 'Not found. It may have been removed, or it belongs to another organisation.',
  405: 'This action is not available.',
  409: 'This cannot be done in the current state.',
  410: 'The data has been removed under the retention policy.',
  413: 'The file is too large.',
  415: 'The file is not a CSV file.',
  429: 'Too many requests. Please wait a moment and try again.',
  500: 'The server had a problem. Please try again later.',
  502: 'The service is unavailable. Please try again later.',
  503: 'A service the system depends on is unavailable. Please try again later.',
  504: 'The server took too long to answer. Please try again.',
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && typeof body === 'object' && body.error ? body.error : null;
    const msg = (e && typeof e.message === 'string' && e.message) ||
      STATUS_TEXT[status] ||
      (status >= 500 ? STATUS_TEXT[500] : `The request failed (HTTP ${status}).`);
    super(msg);
    this.name = 'ApiError';
    this.status = status;
    this.code = e && e.code ? String(e.code) : '';
    this.detail = e || {};
  }
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function fail(status, body, opts) {
  const err = new ApiError(status, body);
  if (status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized(err);
  throw err;
}

// request('GET', 'claims/csv-jobs/', {query: {page: 2}}) → parsed JSON (or
// null for 204). Throws ApiError.
export async function request(method, path, opts = {}) {
  const url = apiUrl(path, opts.query);
  const headers = { Accept: 'application/json' };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRFToken'] = csrfToken;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, null);
  }
  const text = await res.text();
  const data = parseJson(text);
  if (res.status !== 401) lastContact = Date.now();
  if (!res.ok) fail(res.status, data, opts);
  return data;
}

// The URL of an API path with query parameters (empty values left out).
export function apiUrl(path, query) {
  let url = API + path.replace(/^\/+/, '');
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

// A random key for Idempotency-Key; crypto.getRandomValues works outside
// secure contexts too, unlike crypto.randomUUID.
export function randomKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// Sends `file` as multipart field "file" with XMLHttpRequest (fetch cannot
// report upload progress), after the text `fields` ({workflow: 'full'}).
// onProgress(loaded, total) during the transfer.
// Returns {promise, abort}; the promise resolves to the JSON answer or rejects
// with ApiError.
export function uploadFile(path, file, { query, onProgress, headers, fields } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', apiUrl(path, query));
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRFToken', csrfToken);
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    if (onProgress) {
      xhr.upload.addEventListener('progress', (ev) => {
        onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
      });
    }
    xhr.addEventListener('load', () => {
      const data = parseJson(xhr.responseText);
      if (xhr.status !== 401) lastContact = Date.now();
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data);
        return;
      }
      try {
        fail(xhr.status, data, {});
      } catch (err) {
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, null)));
    xhr.addEventListener('timeout', () => reject(new ApiError(504, null)));
    xhr.addEventListener('abort', () => {
      const err = new ApiError(0, null);
      err.aborted = true;
      reject(err);
    });
    const form = new FormData();
    for (const [k, v] of Object.entries(fields || {})) form.append(k, String(v));
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
