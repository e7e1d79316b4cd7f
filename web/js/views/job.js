// The job page: live progress (the progress endpoint polled every second
// while the job runs, with the payer calls per transaction), downloads,
// retry and cancel, the money totals of a details job, the claims and
// dollars per action bucket (what to do next, sql/functions/claim_actions.sql),
// and the results
// table from the rows endpoint with filters, search and pages; a row of a
// details or payment job opens its service lines and payments in a dialog,
// and every checked row its claim's history across jobs (history.js).

import { request, apiUrl } from '../api.js';
import { h, replace, alertBox, statusBadge, focusEl, modalDialog } from '../dom.js';
import { num, money, dateTime, duration, secondsBetween, rate, eta, percent, shortId, codes } from '../format.js';
import { workflowOf, hasDetails, hasPayments } from '../workflow.js';
import { historyDialog, changeEl } from './history.js';

const RUNNING = new Set(['PENDING', 'PROCESSING', 'CANCELLING']);
const POLL_MS = 1000;
// Row statuses the payer adapters report; statuses seen in the rows are
// added to the filter as they appear.
const KNOWN_ROW_STATUSES = ['Processed', 'Finalized', 'Denied', 'Rejected', 'Pending', 'In Review', 'Not Found'];

// Deadlines under this many days are marked on the job page.
const SOON_DAYS = 14;
const DEADLINE_LABEL = new Map([
  ['reconsideration', 'Reconsideration'],
  ['appeal', 'Appeal'],
  ['timely_filing', 'Timely filing'],
  ['corrected_claim', 'Corrected claim'],
]);

// The action buckets of the API, in its order, with what they say to do.
const ACTIONS = [
  ['paid', 'Paid'],
  ['partially_paid', 'Partially paid'],
  ['denied_correctable', 'Denied: correct and resubmit'],
  ['denied_appealable', 'Denied: appeal'],
  ['needs_information', 'Payer needs information'],
  ['pending', 'Pending (under 30 days)'],
  ['pending_long', 'Pending 30 days or more'],
  ['rejected', 'Rejected: fix and resubmit'],
  ['not_found', 'Not found at the payer'],
  ['input_invalid', 'Input invalid'],
  ['error', 'Payer error: retry'],
  ['review', 'Review'],
];
const ACTION_LABEL = new Map(ACTIONS);

// Once the server answers 404/405 to cancel, the button stays hidden for the
// rest of the visit.
let cancelUnsupported = false;

export function render(ctx) {
  const id = ctx.route.id;
  ctx.setTitle(`Job ${shortId(id)}`);
  const canWrite = ctx.session && ctx.session.user && ctx.session.user.role !== 'viewer';

  let job = null;
  let prog = null;
  let pollTimer = null;
  let pollTicks = 0;
  let retrying = false;
  let lastMilestone = -1;
  let lastStatus = null;
  let rowsLoadedFor = null; // the status the rows were last loaded at
  const seenStatuses = new Set(KNOWN_ROW_STATUSES);
  const filt = { success: '', status: '', action: '', change: '', q: '', ordering: '', page: 1 };
  let rowsPageSize = null;
  let rowsSeq = 0;

  // ---- skeleton
  const head = h('div', { class: 'job-head' },
    h('p', { class: 'crumb' }, h('a', { href: '#/jobs' }, '‹ All jobs')),
    h('h1', null, 'Job ', h('span', { class: 'mono' }, shortId(id))),
    h('div', { id: 'job-meta', class: 'job-meta' }));
  const errBox = h('div', { id: 'job-error' });
  const bar = h('progress', { id: 'job-progress', max: 100, 'aria-labelledby': 'progress-title', 'aria-describedby': 'progress-text' });
  const progressText = h('p', { id: 'progress-text', class: 'progress-text' }, 'Loading…');
  const stats = h('dl', { class: 'summary stats', id: 'job-stats' });
  const progressSection = h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
    h('h2', { id: 'progress-title' }, 'Progress'),
    h('div', { class: 'progress-row' }, bar, h('span', { id: 'progress-pct', class: 'progress-pct', 'aria-hidden': 'true' }, '')),
    progressText, stats);
  const totalsList = h('dl', { class: 'summary', id: 'totals' });
  const totalsSection = h('section', { class: 'card', id: 'job-totals', hidden: true, 'aria-labelledby': 'totals-title' },
    h('h2', { id: 'totals-title' }, 'Totals'), totalsList);
  const bucketsBody = h('tbody');
  const bucketsSection = h('section', { class: 'card', id: 'job-buckets', hidden: true, 'aria-labelledby': 'buckets-title' },
    h('h2', { id: 'buckets-title' }, 'What to do next'),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'actions-table' },
        h('caption', { class: 'visually-hidden' }, 'Claims and dollars by action'),
        h('thead', null, h('tr', null, ['Action', 'Claims', 'Billed', 'Paid'].map((t) => h('th', { scope: 'col' }, t)))),
        bucketsBody)),
    h('p', { class: 'hint' }, 'Buckets from the payer status and denial codes; check them against your payer contracts.'));
  // Run-to-run changes: the rows whose claim changed since its last check
  // (the job detail's changes); the button filters the results on them.
  const changesCount = h('span', { id: 'job-changes-count' });
  const changesBox = h('p', { class: 'job-changes', id: 'job-changes', hidden: true },
    changesCount, ' ',
    h('button', {
      type: 'button', class: 'btn btn-secondary btn-small', id: 'job-changes-filter',
      onclick: () => filterChange('changed'),
    }, 'Show them'));
  const actionMsg = h('div', { id: 'action-messages' });
  const actions = h('div', { class: 'actions job-actions', id: 'job-actions' });
  const resultsSection = h('section', { id: 'results', 'aria-labelledby': 'results-title' });

  const dialog = rowDialog();
  const claimHistory = historyDialog(ctx, id);
  ctx.main.append(head, errBox, progressSection, totalsSection, bucketsSection, changesBox, actionMsg, actions, resultsSection, dialog.el, claimHistory.el);
  ctx.focusHeading();
  buildResults();

  // ---- loading and polling

  async function loadJob() {
    const j = await request('GET', `claims/csv-jobs/${encodeURIComponent(id)}/`);
    if (!ctx.isCurrent()) return;
    job = j;
    renderMeta();
  }

  async function start() {
    try {
      await loadJob();
    } catch (err) {
      if (!ctx.isCurrent() || err.status === 401) return;
      progressSection.hidden = true;
      replace(errBox, alertBox('error', err.status === 404
        ? 'This job was not found. It may belong to another organisation, or the link is wrong.'
        : err.message));
      resultsSection.hidden = true;
      return;
    }
    prog = progressFromJob(job);
    renderProgress();
    renderActions();
    loadRows({ quiet: true });
    if (RUNNING.has(status())) poll();
    else loadCalls();
  }

  // A finished job's payer calls are in its progress only.
  async function loadCalls() {
    try {
      const p = await request('GET', `claims/csv-jobs/${encodeURIComponent(id)}/progress/`);
      if (!ctx.isCurrent() || !p || !p.payer_calls || RUNNING.has(status())) return;
      prog = Object.assign({}, prog, { payer_calls: p.payer_calls });
      renderProgress();
    } catch {
      // the calls are extra; the rest of the page stands without them
    }
  }

  async function poll() {
    pollTimer = null;
    try {
      const p = await request('GET', `claims/csv-jobs/${encodeURIComponent(id)}/progress/`);
      if (!ctx.isCurrent()) return;
      prog = p;
    } catch (err) {
      if (!ctx.isCurrent() || err.status === 401) return;
      progressText.textContent = `Could not get the progress: ${err.message} Trying again…`;
      pollTimer = setTimeout(poll, POLL_MS * 3);
      return;
    }
    const st = status();
    if (RUNNING.has(st)) {
      renderProgress();
      // The table follows the job too, every few seconds, unless the user
      // is in it (a refresh would take the focus away).
      pollTicks += 1;
      const inTable = resultsSection.querySelector('#rows-body').contains(document.activeElement);
      if (pollTicks % 3 === 0 && !inTable) loadRows({ quiet: true });
      pollTimer = setTimeout(poll, POLL_MS);
      return;
    }
    // Finished: the whole record has the times and the error message;
    // fetched before the page says "Finished" so the two agree.
    try {
      await loadJob();
    } catch (err) {
      if (!ctx.isCurrent() || err.status === 401) return;
    }
    if (!ctx.isCurrent()) return;
    prog = Object.assign({}, prog, pickProgress(job));
    renderProgress();
    renderActions();
    if (retrying) {
      retrying = false;
      replace(actionMsg, alertBox(st === 'COMPLETED' ? 'success' : 'warning',
        `The retry has finished: ${num(prog.success_count)} succeeded, ${num(prog.failure_count)} failed.`));
    }
    if (rowsLoadedFor !== st) loadRows({ quiet: true });
  }

  function status() {
    return String((prog && prog.status) || (job && job.status) || '').toUpperCase();
  }

  // ---- meta, progress, actions

  function renderMeta() {
    const meta = head.querySelector('#job-meta');
    const st = status() || String(job.status || '').toUpperCase();
    replace(meta,
      h('p', null, h('span', { class: 'visually-hidden' }, 'Status: '), statusBadge(st)),
      h('p', null, 'File ', h('strong', { class: 'filename', id: 'job-filename' }, job.filename || '—'),
        ` · ${num(job.total_rows)} rows · created ${dateTime(job.created_at)}`),
      h('p', null, 'Asked the payer for: ', h('strong', { id: 'job-workflow', dataset: { workflow: workflowOf(job).id } }, workflowOf(job).label),
        ` — ${workflowOf(job).what}`));
    renderTotals();
    renderBuckets();
    renderChanges();
    if (job.purged_at) {
      replace(errBox, alertBox('info', `The rows and results of this job were removed on ${dateTime(job.purged_at)} under the retention policy. The counts remain.`));
    } else if (st === 'FAILED' && job.error_message) {
      replace(errBox, alertBox('error', h('span', null, 'The job failed: '), h('span', { id: 'job-error-message' }, job.error_message)));
    } else if (job.error_message && st !== 'COMPLETED') {
      replace(errBox, alertBox('warning', job.error_message));
    } else {
      errBox.replaceChildren();
    }
  }

  // Billed, allowed, paid, patient responsibility and denied: the money a
  // manager looks for, for the jobs that ask for claim details.
  function renderTotals() {
    const t = job && job.totals;
    if (!t || typeof t !== 'object' || !hasDetails(workflowOf(job)) || job.purged_at) {
      totalsSection.hidden = true;
      return;
    }
    const items = [
      ['Billed', t.billed, 'totals-billed'],
      ['Allowed', t.allowed, 'totals-allowed'],
      ['Paid', t.paid, 'totals-paid'],
      ['Patient responsibility', t.patient_responsibility, 'totals-patient'],
      ['Denied', t.denied, 'totals-denied'],
    ];
    replace(totalsList, items.map(([k, v, i]) => h('div', null, h('dt', null, k), h('dd', { id: i }, v == null ? '—' : money(v)))));
    totalsSection.hidden = false;
  }

  // Claims, billed and paid per action bucket (the job detail's actions),
  // the buckets with claims only; a bucket's name filters the results.
  function renderBuckets() {
    const a = job && job.actions;
    const used = a && typeof a === 'object' && !job.purged_at
      ? ACTIONS.filter(([k]) => a[k] && Number(a[k].count) > 0) : [];
    if (used.length === 0) {
      bucketsSection.hidden = true;
      return;
    }
    replace(bucketsBody, used.map(([k, label]) => h('tr', { dataset: { action: k } },
      h('td', { 'data-label': 'Action' },
        h('button', {
          type: 'button', class: 'btn btn-secondary btn-small bucket-filter', dataset: { action: k },
          onclick: () => filterAction(k),
        }, label)),
      h('td', { 'data-label': 'Claims', class: 'num' }, num(a[k].count)),
      h('td', { 'data-label': 'Billed', class: 'num' }, money(a[k].billed)),
      h('td', { 'data-label': 'Paid', class: 'num' }, money(a[k].paid)))));
    bucketsSection.hidden = false;
  }

  function renderChanges() {
    const c = job && job.changes;
    const n = c && typeof c === 'object' && !job.purged_at ? Number(c.changed) || 0 : 0;
    if (n === 0) {
      changesBox.hidden = true;
      return;
    }
    changesCount.textContent = `${num(n)} changed since the last check.`;
    changesBox.hidden = false;
  }

  function filterChange(k) {
    const sel = resultsSection.querySelector('#filter-change');
    sel.value = k;
    sel.dispatchEvent(new Event('change'));
    focusEl(resultsSection.querySelector('#results-title'));
  }

  function filterAction(k) {
    const sel = resultsSection.querySelector('#filter-action');
    sel.value = k;
    sel.dispatchEvent(new Event('change'));
    focusEl(resultsSection.querySelector('#results-title'));
  }

  function renderProgress() {
    const st = status();
    const total = Number(prog.total_rows ?? (job && job.total_rows)) || 0;
    const done = Number(prog.processed_rows) || 0;
    let pct = Number(prog.progress_percentage);
    if (!Number.isFinite(pct)) pct = total ? (done / total) * 100 : 0;
    if (st === 'COMPLETED' && total === done) pct = 100;

    if (st === 'PENDING' && done === 0) bar.removeAttribute('value');
    else bar.value = Math.min(100, Math.max(0, pct));
    bar.setAttribute('aria-valuetext', `${percent(pct)}, ${num(done)} of ${num(total)} rows`);
    progressSection.querySelector('#progress-pct').textContent = percent(pct);

    const word = {
      PENDING: 'Waiting to start',
      PROCESSING: 'Checking claims',
      CANCELLING: 'Stopping',
      COMPLETED: 'Finished',
      FAILED: 'Failed',
      CANCELLED: 'Cancelled',
    }[st] || st;
    // A payer outage pauses the job: say so instead of a stall.
    const waiting = st === 'PROCESSING' && prog.waiting_for_payer === true;
    const label = waiting ? 'Waiting for payer (it is not answering; the job resumes by itself)' : word;
    progressText.textContent = `${label}: ${num(done)} of ${num(total)} rows checked (${percent(pct)}).`;

    const running = RUNNING.has(st);
    const items = [
      ['Succeeded', h('span', null, h('span', { 'aria-hidden': 'true', class: 'ok' }, '✔ '), num(prog.success_count)), 'stat-succeeded'],
      ['Failed', h('span', null, h('span', { 'aria-hidden': 'true', class: 'bad' }, '✖ '), num(prog.failure_count)), 'stat-failed'],
    ];
    if (running) {
      items.push(['Rate', rate(prog.rows_per_second), 'stat-rate']);
      items.push(['Time left', eta(prog.eta_seconds), 'stat-eta']);
    } else if (job) {
      const dur = job.processing_duration ?? secondsBetween(job.started_at, job.completed_at);
      items.push(['Duration', duration(dur), 'stat-duration']);
      items.push(['Completed', dateTime(job.completed_at), 'stat-completed']);
    }
    // Payer calls per transaction (retries included): what the job cost.
    const calls = prog.payer_calls;
    if (calls && typeof calls === 'object') {
      const wf = workflowOf(job || prog);
      items.push(['Status calls', num(calls.status ?? 0), 'stat-calls-status']);
      if (hasDetails(wf) || Number(calls.details)) items.push(['Details calls', num(calls.details ?? 0), 'stat-calls-details']);
      if (hasPayments(wf) || Number(calls.payment)) items.push(['Payment calls', num(calls.payment ?? 0), 'stat-calls-payment']);
    }
    replace(stats, items.map(([k, v, i]) => h('div', null, h('dt', null, k), h('dd', { id: i }, v))));

    // Announce status changes and every quarter, not every second.
    const milestone = Math.floor(pct / 25);
    if (st !== lastStatus) {
      if (lastStatus !== null || !running) {
        ctx.announce(running ? `${word}.` : `Job ${word.toLowerCase()}: ${num(prog.success_count)} succeeded, ${num(prog.failure_count)} failed.`);
      }
      if (job && lastStatus !== null) {
        job.status = st;
        renderMeta();
      }
      lastStatus = st;
      renderActions();
    } else if (running && milestone > lastMilestone && milestone > 0 && milestone < 4) {
      ctx.announce(`${percent(pct)} done.`);
    }
    lastMilestone = milestone;
  }

  function renderActions() {
    if (!job) return;
    const st = status();
    const finished = !RUNNING.has(st);
    const failures = Number((prog && prog.failure_count) ?? job.failure_count) || 0;
    const base = `claims/csv-jobs/${encodeURIComponent(id)}/results/`;
    const list = [];
    if (job.purged_at) {
      replace(actions);
      resultsSection.hidden = true;
      return;
    }
    if (finished && st !== 'PURGED') {
      list.push(h('a', { class: 'btn', id: 'download-plain', href: apiUrl(base), download: '' }, '⤓ Download results (CSV)'));
      list.push(h('a', { class: 'btn btn-secondary', id: 'download-extended', href: apiUrl(base, { format: 'extended' }), download: '' },
        '⤓ Extended results'));
      const wf = workflowOf(job);
      if (hasDetails(wf)) {
        list.push(h('a', { class: 'btn btn-secondary', id: 'download-lines', href: apiUrl(base, { format: 'lines' }), download: '' },
          '⤓ Service lines'));
      }
      if (hasPayments(wf)) {
        list.push(h('a', { class: 'btn btn-secondary', id: 'download-payments', href: apiUrl(base, { format: 'payments' }), download: '' },
          '⤓ Payments'));
      }
      if (failures > 0) {
        list.push(h('a', { class: 'btn btn-secondary', id: 'download-failed', href: apiUrl(base, { rows: 'failed' }), download: '' },
          `⤓ Failed rows only (${num(failures)})`));
      }
    }
    if (canWrite && (st === 'FAILED' || (st === 'COMPLETED' && failures > 0))) {
      list.push(h('button', { type: 'button', class: 'btn btn-secondary', id: 'retry', onclick: retry },
        st === 'FAILED' ? '↻ Retry the job' : `↻ Retry the ${num(failures)} failed ${failures === 1 ? 'row' : 'rows'}`));
    }
    if (canWrite && !cancelUnsupported && (st === 'PENDING' || st === 'PROCESSING')) {
      list.push(h('button', { type: 'button', class: 'btn btn-danger', id: 'cancel', onclick: askCancel }, '■ Cancel the job'));
    }
    // A question about cancelling is moot once the job has stopped.
    if (finished && actionMsg.querySelector('#cancel-confirm')) actionMsg.replaceChildren();
    const hadFocus = actions.contains(document.activeElement) ? document.activeElement.id : null;
    replace(actions, list);
    if (hadFocus) {
      const again = actions.querySelector(`#${hadFocus}`);
      if (again) again.focus();
      else focusEl(progressSection.querySelector('h2'));
    }
  }

  async function retry(ev) {
    const btn = ev.currentTarget;
    btn.disabled = true;
    actionMsg.replaceChildren();
    try {
      const r = await request('POST', `claims/csv-jobs/${encodeURIComponent(id)}/retry/`);
      if (!ctx.isCurrent()) return;
      if (r && r.status) prog = Object.assign({}, prog, { status: r.status });
      else prog = Object.assign({}, prog, { status: 'PENDING' });
      replace(actionMsg, alertBox('success', 'The job was queued again. Progress is shown above.'));
      rowsLoadedFor = null; // reload the table when it finishes
      retrying = true;
      ctx.announce('Retry started.');
      lastMilestone = -1;
      if (job) job.status = status();
      renderMeta();
      renderProgress();
      renderActions();
      focusEl(progressSection.querySelector('h2'));
      if (!pollTimer) poll();
    } catch (err) {
      if (!ctx.isCurrent() || err.status === 401) return;
      btn.disabled = false;
      replace(actionMsg, alertBox('error', err.message));
    }
  }

  function askCancel(ev) {
    const btn = ev.currentTarget;
    const yes = h('button', { type: 'button', class: 'btn btn-danger', id: 'cancel-confirm' }, 'Yes, cancel the job');
    const no = h('button', { type: 'button', class: 'btn btn-secondary', id: 'cancel-keep' }, 'No, keep it running');
    replace(actionMsg, alertBox('warning',
      'Cancel this job? Rows already checked keep their results; the others are not checked.',
      h('div', { class: 'actions' }, yes, no)));
    no.addEventListener('click', () => { actionMsg.replaceChildren(); btn.focus(); });
    yes.addEventListener('click', () => cancel(yes));
    yes.focus();
  }

  async function cancel(btn) {
    btn.disabled = true;
    try {
      const r = await request('POST', `claims/csv-jobs/${encodeURIComponent(id)}/cancel/`);
      if (!ctx.isCurrent()) return;
      prog = Object.assign({}, prog, { status: (r && r.status) || 'CANCELLING' });
      replace(actionMsg, alertBox('info', 'Cancelling the job.'));
      renderProgress();
      renderActions();
      if (!pollTimer && RUNNING.has(status())) poll();
      else if (!RUNNING.has(status())) poll();
    } catch (err) {
      if (!ctx.isCurrent() || err.status === 401) return;
      if (err.status === 404 || err.status === 405) {
        cancelUnsupported = true;
        replace(actionMsg, alertBox('info', 'Cancelling jobs is not available on this server.'));
        renderActions();
        return;
      }
      replace(actionMsg, alertBox('error', err.message));
    }
  }

  // ---- results table

  function buildResults() {
    const success = h('select', { id: 'filter-success', name: 'success' },
      h('option', { value: '' }, 'All rows'),
      h('option', { value: 'true' }, 'Succeeded'),
      h('option', { value: 'false' }, 'Failed'));
    const statusSel = h('select', { id: 'filter-status', name: 'status' });
    const actionSel = h('select', { id: 'filter-action', name: 'action' },
      h('option', { value: '' }, 'Any action'),
      ACTIONS.map(([k, label]) => h('option', { value: k }, label)));
    const changeSel = h('select', { id: 'filter-change', name: 'change' },
      h('option', { value: '' }, 'Any'),
      h('option', { value: 'changed' }, 'Changed since the last check'),
      h('option', { value: 'new' }, 'Not checked before'),
      h('option', { value: 'unchanged' }, 'Unchanged'));
    const orderSel = h('select', { id: 'filter-ordering', name: 'ordering' },
      h('option', { value: '' }, 'Row order'),
      h('option', { value: 'days_left' }, 'Days left, most urgent first'));
    const q = h('input', {
      id: 'filter-q', name: 'q', type: 'search', autocomplete: 'off', spellcheck: 'false',
      maxlength: 64, inputmode: 'text',
    });
    fillStatuses(statusSel);
    const form = h('form', { class: 'filters', id: 'rows-filters', role: 'search', 'aria-label': 'Filter results' },
      h('div', { class: 'field field-inline' }, h('label', { for: 'filter-success' }, 'Result'), success),
      h('div', { class: 'field field-inline' }, h('label', { for: 'filter-status' }, 'Payer status'), statusSel),
      h('div', { class: 'field field-inline' }, h('label', { for: 'filter-action' }, 'Action'), actionSel),
      h('div', { class: 'field field-inline' }, h('label', { for: 'filter-change' }, 'Since the last check'), changeSel),
      h('div', { class: 'field field-inline' }, h('label', { for: 'filter-ordering' }, 'Sort'), orderSel),
      h('div', { class: 'field field-inline' }, h('label', { for: 'filter-q' }, 'Claim number'), q),
      h('div', { class: 'field field-inline field-buttons' },
        h('button', { type: 'submit', class: 'btn btn-small' }, 'Search'),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'filter-clear' }, 'Clear')));
    const apply = () => {
      filt.success = success.value;
      filt.status = statusSel.value;
      filt.action = actionSel.value;
      filt.change = changeSel.value;
      filt.ordering = orderSel.value;
      filt.q = q.value.trim();
      filt.page = 1;
      loadRows();
    };
    success.addEventListener('change', apply);
    statusSel.addEventListener('change', apply);
    actionSel.addEventListener('change', apply);
    changeSel.addEventListener('change', apply);
    orderSel.addEventListener('change', apply);
    form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
    form.querySelector('#filter-clear').addEventListener('click', () => {
      success.value = '';
      statusSel.value = '';
      actionSel.value = '';
      changeSel.value = '';
      orderSel.value = '';
      q.value = '';
      apply();
      q.focus();
    });
    replace(resultsSection,
      h('div', { class: 'page-head' }, h('h2', { id: 'results-title' }, 'Results'),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'rows-refresh', onclick: () => loadRows() }, '↻ Refresh results')),
      form,
      h('p', { id: 'rows-count', class: 'hint' }),
      h('div', { id: 'rows-body' }));
  }

  function fillStatuses(sel) {
    const keep = sel.value;
    replace(sel, h('option', { value: '' }, 'Any status'),
      [...seenStatuses].sort().map((s) => h('option', { value: s }, s)));
    sel.value = keep;
  }

  // Loads the current page of rows with the current filters. quiet: an
  // automatic refresh, not announced to screen readers.
  async function loadRows({ quiet = false } = {}) {
    const seq = ++rowsSeq;
    rowsLoadedFor = status();
    const bodyEl = resultsSection.querySelector('#rows-body');
    const countEl = resultsSection.querySelector('#rows-count');
    bodyEl.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await request('GET', `claims/csv-jobs/${encodeURIComponent(id)}/rows/`, {
        query: {
          page: filt.page, status: filt.status, success: filt.success, action: filt.action,
          change: filt.change, q: filt.q, ordering: filt.ordering,
        },
      });
    } catch (err) {
      if (!ctx.isCurrent() || seq !== rowsSeq || err.status === 401) return;
      bodyEl.removeAttribute('aria-busy');
      countEl.textContent = '';
      replace(bodyEl, alertBox(err.status === 410 ? 'info' : 'error',
        err.status === 410 ? 'The rows of this job have been removed under the retention policy.' : `The results could not be loaded: ${err.message}`));
      return;
    }
    if (!ctx.isCurrent() || seq !== rowsSeq) return;
    bodyEl.removeAttribute('aria-busy');
    const rows = Array.isArray(data.results) ? data.results : [];
    const count = Number(data.count) || 0;
    if (rowsPageSize === null && (data.next || filt.page > 1) && rows.length) rowsPageSize = rows.length;
    let added = false;
    for (const r of rows) {
      if (r.status && !seenStatuses.has(r.status)) {
        seenStatuses.add(r.status);
        added = true;
      }
    }
    if (added) fillStatuses(resultsSection.querySelector('#filter-status'));
    const filtered = filt.status || filt.success || filt.action || filt.change || filt.q;
    countEl.textContent = `${num(count)} ${count === 1 ? 'row' : 'rows'}${filtered ? ' match the filters' : ''}.`;
    if (!quiet) ctx.announce(countEl.textContent);
    if (rows.length === 0) {
      replace(bodyEl, h('p', { class: 'empty' }, filtered ? 'No rows match these filters.' : 'No rows yet.'));
      return;
    }
    const pages = Math.max(1, Math.ceil(count / (rowsPageSize || rows.length)));
    replace(bodyEl,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table rows stack', id: 'rows-table' },
          h('caption', { class: 'visually-hidden' }, 'Result of each row of the file'),
          h('thead', null, h('tr', null,
            ['Row', 'Claim number', 'Claim history', 'Payer status', 'Patient', 'Charged', 'Paid', 'Processed', 'Result', 'Message', 'Action',
              'Since the last check', 'Next deadline']
              .concat(extraColumns().map((c) => c[0]), hasParts() ? ['Lines and payments'] : [])
              .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, rows.map(rowEl)))),
      rowsPager(pages, data));
  }

  function rowEl(r) {
    const ok = r.success === true || r.success === 'true';
    const pending = r.success === null || r.success === undefined;
    return h('tr', { dataset: { row: r.row } },
      h('td', { 'data-label': 'Row', class: 'num' }, r.row ?? ''),
      h('td', { 'data-label': 'Claim number', class: 'mono claim' }, r.claim_number ?? ''),
      // A checked claim is in the ledger: its checks across jobs.
      h('td', { 'data-label': 'Claim history' }, r.change && r.claim_number ? h('button', {
        type: 'button', class: 'btn btn-secondary btn-small claim-history', dataset: { row: r.row },
        'aria-label': `History of the claim of row ${r.row}`, 'aria-haspopup': 'dialog',
        onclick: (ev) => claimHistory.open(r.claim_number, ev.currentTarget),
      }, 'History') : ''),
      h('td', { 'data-label': 'Payer status' }, r.status ?? ''),
      h('td', { 'data-label': 'Patient' }, r.patient_name ?? ''),
      h('td', { 'data-label': 'Charged', class: 'num' }, money(r.total_charged)),
      h('td', { 'data-label': 'Paid', class: 'num' }, money(r.total_paid)),
      h('td', { 'data-label': 'Processed', class: 'date' }, r.processed_date ?? ''),
      h('td', { 'data-label': 'Result', class: 'result' },
        pending ? h('span', { class: 'res res-pending' }, h('span', { 'aria-hidden': 'true' }, '◷ '), 'Not yet')
          : ok ? h('span', { class: 'res res-ok' }, h('span', { 'aria-hidden': 'true' }, '✔ '), 'Succeeded')
            : h('span', { class: 'res res-bad' }, h('span', { 'aria-hidden': 'true' }, '✖ '), 'Failed')),
      h('td', { 'data-label': 'Message', class: 'message' }, r.error_message ?? ''),
      h('td', { 'data-label': 'Action', class: 'action', dataset: { action: r.action ?? '' } },
        r.action ? (ACTION_LABEL.get(r.action) || r.action) : ''),
      h('td', { 'data-label': 'Since the last check', class: 'change-cell', dataset: { change: r.change ?? '' } }, changeEl(r.change)),
      deadlineCell(r),
      extraColumns().map(([label, cls, value]) => h('td', { 'data-label': label, class: cls }, value(r))),
      hasParts() ? h('td', { 'data-label': 'Lines and payments' },
        h('button', {
          type: 'button', class: 'btn btn-secondary btn-small row-open', dataset: { row: r.row },
          'aria-label': `Lines and payments of row ${r.row}`, 'aria-haspopup': 'dialog',
          onclick: (ev) => dialog.open(r, ev.currentTarget),
        }, 'Open')) : null);
  }

  // The row's next deadline: date, kind and days left; under 14 days
  // (or past) marked in words, not by colour alone.
  function deadlineCell(r) {
    if (!r.next_deadline) return h('td', { 'data-label': 'Next deadline', class: 'deadline' }, '');
    const left = Number(r.days_left);
    const soon = left < SOON_DAYS;
    const when = left < 0 ? `${num(-left)} ${left === -1 ? 'day' : 'days'} ago`
      : left === 0 ? 'today' : `in ${num(left)} ${left === 1 ? 'day' : 'days'}`;
    return h('td', {
      'data-label': 'Next deadline',
      class: soon ? 'deadline deadline-soon' : 'deadline',
      dataset: { daysLeft: String(left) },
    },
    soon ? h('strong', { class: 'deadline-flag' }, left < 0 ? 'Overdue: ' : 'Due soon: ') : null,
    `${DEADLINE_LABEL.get(r.deadline_kind) || r.deadline_kind} by ${r.next_deadline} (${when})`);
  }

  // Whether this job's rows have lines or payments to open.
  function hasParts() {
    const wf = workflowOf(job);
    return hasDetails(wf) || hasPayments(wf);
  }

  // [label, class, value(row)] of the columns the workflow adds.
  function extraColumns() {
    const wf = workflowOf(job);
    const cols = [];
    if (hasDetails(wf)) {
      cols.push(['Allowed', 'num', (r) => money(r.total_allowed)],
        ['Patient resp.', 'num', (r) => money(r.patient_responsibility)],
        ['Lines', 'num', (r) => (r.line_count == null ? '' : num(r.line_count))],
        ['Denied lines', 'num', (r) => (r.denied_line_count == null ? '' : num(r.denied_line_count))],
        ['Denial reasons', 'message', (r) => r.denial_reasons || codes(r.carc_codes)]);
    }
    if (hasPayments(wf)) {
      cols.push(['Payment numbers', 'mono', (r) => codes(r.payment_numbers)],
        ['Method', '', (r) => codes(r.payment_method)],
        ['Paid by payments', 'num', (r) => money(r.claim_paid_amount)],
        ['Void/reissue', '', (r) => (r.void_reissue === true ? 'Yes' : r.void_reissue === false ? 'No' : '')]);
    }
    return cols;
  }

  // The dialog with one row's service lines and payments. A <dialog>
  // opened with showModal(): focus stays inside, Escape closes it, and
  // focus returns to the button that opened it.
  function rowDialog() {
    const { el, title, body, start, current } = modalDialog('row-dialog', 'Row');
    async function open(r, btn) {
      const mySeq = start(btn, `Row ${r.row}: lines and payments`);
      let data;
      try {
        data = await request('GET', `claims/csv-jobs/${encodeURIComponent(id)}/rows/${encodeURIComponent(r.row)}/`);
      } catch (err) {
        if (!ctx.isCurrent() || !current(mySeq) || err.status === 401) return;
        replace(body, alertBox('error', `The row could not be loaded: ${err.message}`));
        return;
      }
      if (!ctx.isCurrent() || !current(mySeq)) return;
      replace(body, rowParts(data, workflowOf(job)));
      ctx.announce(title.textContent);
    }
    return { el, open };
  }

  function rowsPager(pages, data) {
    if (pages <= 1 && !data.next && !data.previous) return null;
    const go = (p) => () => {
      filt.page = p;
      loadRows().then(() => focusEl(resultsSection.querySelector('#results-title')));
    };
    return h('nav', { class: 'pager', 'aria-label': 'Result pages' },
      filt.page > 1 ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'rows-prev', onclick: go(filt.page - 1) }, '‹ Previous') : null,
      h('span', { class: 'pager-text', id: 'rows-page' }, `Page ${filt.page} of ${pages}`),
      data.next ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'rows-next', onclick: go(filt.page + 1) }, 'Next ›') : null);
  }

  start();
  return () => {
    if (pollTimer) clearTimeout(pollTimer);
    if (dialog.el.open) dialog.el.close();
    if (claimHistory.el.open) claimHistory.el.close();
  };
}

// The contents of the row dialog: the claim's detail amounts, its service
// lines (denied ones marked, with the reason) and its payments.
function rowParts(r, wf) {
  const lines = Array.isArray(r.lines) ? r.lines : [];
  const payments = Array.isArray(r.payments) ? r.payments : [];
  const out = [];
  const facts = [
    ['Claim number', r.claim_number],
    ['Payer status', r.status],
    ['Payer claim number', r.payer_claim_number],
    ['Service dates', r.service_from ? (r.service_to && r.service_to !== r.service_from ? `${r.service_from} to ${r.service_to}` : r.service_from) : ''],
    ['Charged', money(r.total_charged)],
    ['Allowed', money(r.total_allowed)],
    ['Paid', money(r.total_paid)],
    ['Patient responsibility', money(r.patient_responsibility)],
    ['Deductible', money(r.deductible)],
    ['Copay', money(r.copay)],
    ['Coinsurance', money(r.coinsurance)],
    ['Denied amount', money(r.denied_amount)],
    ['Paid by payments', money(r.claim_paid_amount)],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (facts.length) {
    out.push(h('dl', { class: 'facts', id: 'row-facts' }, facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, String(v))))));
  }

  out.push(h('h3', { id: 'row-lines-title' }, 'Service lines'));
  if (r.details_note) out.push(h('p', { class: 'hint', id: 'row-details-note' }, r.details_note));
  if (lines.length) {
    out.push(h('div', { class: 'table-wrap' },
      h('table', { class: 'table stack lines', id: 'row-lines', 'aria-labelledby': 'row-lines-title' },
        h('thead', null, h('tr', null,
          ['Line', 'Procedure', 'Outcome', 'Date', 'Units', 'Charged', 'Allowed', 'Paid', 'Patient resp.', 'Adjustments', 'Remarks']
            .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, lines.map(lineEl)))));
  } else if (!r.details_note) {
    out.push(h('p', { class: 'empty' }, hasDetails(wf) ? 'No service lines are stored for this row.' : 'This job did not ask for claim details.'));
  }

  out.push(h('h3', { id: 'row-payments-title' }, 'Payments'));
  if (r.payments_note) out.push(h('p', { class: 'hint', id: 'row-payments-note' }, r.payments_note));
  if (payments.length) {
    out.push(h('div', { class: 'table-wrap' },
      h('table', { class: 'table stack payments', id: 'row-payments', 'aria-labelledby': 'row-payments-title' },
        h('thead', null, h('tr', null,
          ['Payment number', 'Method', 'Issued', 'Payment amount', 'For this claim', 'Status']
            .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, payments.map((p) => h('tr', { class: /void/i.test(p.status || '') ? 'payment-void' : null },
          h('td', { 'data-label': 'Payment number', class: 'mono' }, p.payment_number ?? ''),
          h('td', { 'data-label': 'Method' }, p.payment_method ?? ''),
          h('td', { 'data-label': 'Issued', class: 'date' }, p.issue_date ?? ''),
          h('td', { 'data-label': 'Payment amount', class: 'num' }, money(p.payment_amount)),
          h('td', { 'data-label': 'For this claim', class: 'num' }, money(p.claim_paid_amount)),
          h('td', { 'data-label': 'Status' }, p.status ?? '')))))));
  } else if (!r.payments_note) {
    out.push(h('p', { class: 'empty' }, hasPayments(wf) ? 'No payments are stored for this row.' : 'This job did not ask for payments.'));
  }
  return out;
}

// One service line; a denied line says so in words and an icon, with the
// reason (the payer's adjustment reason code in plain English if known).
function lineEl(l) {
  const adj = Array.isArray(l.adjustments) ? l.adjustments : [];
  const denied = l.denied === true;
  // The server's reason; else the first adjustment that is not the
  // patient's share (PR) nor the fee schedule (45).
  const cause = adj.find((a) => a.group !== 'PR' && String(a.reason) !== '45');
  const reason = l.reason || l.denial_reason || (cause ? cause.description || `${cause.group}-${cause.reason}` : '');
  return h('tr', { class: denied ? 'line-denied' : null, dataset: { line: l.line_number ?? l.line ?? '' } },
    h('td', { 'data-label': 'Line', class: 'num' }, l.line_number ?? l.line ?? ''),
    h('td', { 'data-label': 'Procedure', class: 'mono' }, l.procedure_code ?? '', l.modifiers ? `-${codes(l.modifiers).replace(/, /g, '-')}` : ''),
    h('td', { 'data-label': 'Outcome', class: 'outcome' }, denied
      ? h('span', { class: 'res res-bad line-outcome' }, h('span', { 'aria-hidden': 'true' }, '✖ '), 'Denied', reason ? `: ${reason}` : '')
      : h('span', { class: 'res res-ok line-outcome' }, h('span', { 'aria-hidden': 'true' }, '✔ '), 'Paid')),
    h('td', { 'data-label': 'Date', class: 'date' }, l.service_date ?? ''),
    h('td', { 'data-label': 'Units', class: 'num' }, l.units ?? ''),
    h('td', { 'data-label': 'Charged', class: 'num' }, money(l.charged)),
    h('td', { 'data-label': 'Allowed', class: 'num' }, money(l.allowed)),
    h('td', { 'data-label': 'Paid', class: 'num' }, money(l.paid)),
    h('td', { 'data-label': 'Patient resp.', class: 'num' }, money(l.patient_responsibility)),
    h('td', { 'data-label': 'Adjustments', class: 'message' }, adj.map((a, i) => [i ? '; ' : '',
      `${a.group ?? ''}-${a.reason ?? ''} ${money(a.amount)}`, a.description ? ` (${a.description})` : ''])),
    h('td', { 'data-label': 'Remarks', class: 'mono' }, codes(l.remark_codes)));
}

function pickProgress(j) {
  return {
    status: j.status,
    total_rows: j.total_rows,
    processed_rows: j.processed_rows,
    success_count: j.success_count,
    failure_count: j.failure_count,
  };
}

function progressFromJob(j) {
  const p = pickProgress(j);
  const t = Number(j.total_rows) || 0;
  p.progress_percentage = t ? (Number(j.processed_rows) || 0) * 100 / t : (j.status === 'COMPLETED' ? 100 : 0);
  return p;
}
