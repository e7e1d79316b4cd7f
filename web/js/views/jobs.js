// The jobs page: the organisation's jobs, newest first, with a status filter
// and pages; refreshes itself while any job on the page is running.

import { request } from '../api.js';
import { h, replace, alertBox, statusBadge } from '../dom.js';
import { workflowOf } from '../workflow.js';
import { num, dateTime, duration, secondsBetween, shortId } from '../format.js';

const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const RUNNING = new Set(['PENDING', 'PROCESSING', 'CANCELLING']);
const REFRESH_MS = 2000;

export function render(ctx) {
  ctx.setTitle('Jobs');
  const params = ctx.route.params;
  const status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  let timer = null;
  let pageSize = null;

  const select = h('select', { id: 'status-filter', name: 'status' },
    h('option', { value: '' }, 'All statuses'),
    STATUSES.map((s) => h('option', { value: s }, s.charAt(0) + s.slice(1).toLowerCase())));
  select.value = status;
  select.addEventListener('change', () => ctx.navigate(hashFor(select.value, 1)));

  const live = h('p', { id: 'jobs-live', class: 'hint', 'aria-live': 'polite' });
  const body = h('div', { id: 'jobs-body' }, h('p', { class: 'loading' }, 'Loading jobs…'));

  ctx.main.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Jobs'),
      h('a', { class: 'btn', href: '#/upload' }, 'Upload a file')),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field field-inline' }, h('label', { for: 'status-filter' }, 'Status'), select)),
    live, body);
  ctx.focusHeading();

  function hashFor(s, p) {
    const q = new URLSearchParams();
    if (s) q.set('status', s);
    if (p > 1) q.set('page', String(p));
    const qs = q.toString();
    return qs ? `#/jobs?${qs}` : '#/jobs';
  }

  async function load() {
    timer = null;
    let data;
    try {
      data = await request('GET', 'claims/csv-jobs/', { query: { status, page } });
    } catch (err) {
      if (!ctx.isCurrent() || err.status === 401) return;
      replace(body, alertBox('error', err.message));
      // Keep trying while the page is open: the server may come back.
      timer = setTimeout(load, REFRESH_MS * 5);
      return;
    }
    if (!ctx.isCurrent()) return;
    const jobs = Array.isArray(data.results) ? data.results : [];
    if (pageSize === null && (data.next || page > 1) && jobs.length) pageSize = jobs.length;
    show(data, jobs);
    const running = jobs.some((j) => RUNNING.has(String(j.status).toUpperCase()));
    live.textContent = running ? 'Jobs are running: this list updates itself.' : '';
    if (running) timer = setTimeout(load, REFRESH_MS);
  }

  function show(data, jobs) {
    if (jobs.length === 0) {
      replace(body, h('p', { class: 'empty' },
        status ? `No ${status.toLowerCase()} jobs.` : 'No jobs yet. ',
        status ? '' : h('a', { href: '#/upload' }, 'Upload your first file'), status ? '' : '.'));
      return;
    }
    const count = Number(data.count) || jobs.length;
    const size = pageSize || jobs.length;
    const pages = Math.max(1, Math.ceil(count / size));
    const table = h('table', { class: 'table jobs stack', id: 'jobs-table' },
      h('caption', { class: 'visually-hidden' }, 'Your organisation’s jobs, newest first'),
      h('thead', null, h('tr', null,
        ['Job', 'File', 'Asked for', 'Status', 'Rows', 'Succeeded', 'Failed', 'Created', 'Duration']
          .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, jobs.map(row)));
    replace(body,
      h('p', { class: 'hint', id: 'jobs-count' }, `${num(count)} ${count === 1 ? 'job' : 'jobs'}${status ? ` with status ${status.toLowerCase()}` : ''}.`),
      h('div', { class: 'table-wrap' }, table),
      pager(page, pages, data));
  }

  function row(j) {
    const st = String(j.status || '').toUpperCase();
    const dur = j.processing_duration ?? secondsBetween(j.started_at, j.completed_at);
    const total = Number(j.total_rows) || 0;
    const processed = Number(j.processed_rows) || 0;
    return h('tr', { dataset: { jobId: j.id } },
      h('td', { 'data-label': 'Job' }, h('a', {
        href: `#/jobs/${encodeURIComponent(j.id)}`, class: 'job-link mono', 'aria-label': `Open job ${shortId(j.id)}`,
      }, shortId(j.id))),
      h('td', { 'data-label': 'File', class: 'filename' }, j.filename || ''),
      h('td', { 'data-label': 'Asked for', class: 'workflow' }, workflowOf(j).label),
      h('td', { 'data-label': 'Status' }, h('span', null, statusBadge(st),
        RUNNING.has(st) && total ? h('span', { class: 'hint' }, ` ${Math.floor((processed / total) * 100)} %`) : null)),
      h('td', { 'data-label': 'Rows', class: 'num' }, num(j.total_rows)),
      h('td', { 'data-label': 'Succeeded', class: 'num' }, num(j.success_count)),
      h('td', { 'data-label': 'Failed', class: 'num' }, num(j.failure_count)),
      h('td', { 'data-label': 'Created' }, dateTime(j.created_at)),
      h('td', { 'data-label': 'Duration' }, RUNNING.has(st) ? 'running' : duration(dur)));
  }

  function pager(p, pages, data) {
    if (pages <= 1 && !data.next && !data.previous) return null;
    return h('nav', { class: 'pager', 'aria-label': 'Job pages' },
      data.previous || p > 1
        ? h('a', { class: 'btn btn-secondary btn-small', href: hashFor(status, p - 1), rel: 'prev' }, '‹ Newer')
        : null,
      h('span', { class: 'pager-text' }, `Page ${p} of ${pages}`),
      data.next
        ? h('a', { class: 'btn btn-secondary btn-small', href: hashFor(status, p + 1), rel: 'next' }, 'Older ›')
        : null);
  }

  load();
  return () => { if (timer) clearTimeout(timer); };
}
