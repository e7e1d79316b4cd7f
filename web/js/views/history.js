// One claim's history: the organisation's checks of a claim number across
// its jobs (GET claims/{claim_number}/history/, the claims ledger), newest
// first, in a modal <dialog> opened from the job page's results. The claim
// number stays in the page: never in the address or the title.

import { request } from '../api.js';
import { h, replace, alertBox, modalDialog } from '../dom.js';
import { num, money, dateTime, shortId, codes } from '../format.js';

// The UI's page of checks: the API's largest page.
const PAGE_SIZE = 100;

// What each check says against the one before it (the API's change).
export const CHANGE_LABEL = {
  new: ['★', 'First check'],
  changed: ['⚑', 'Changed'],
  unchanged: ['=', 'Unchanged'],
};

// A change as an icon (hidden from screen readers) and a word.
export function changeEl(change) {
  const c = CHANGE_LABEL[change];
  if (!c) return '';
  return h('span', { class: `change change-${change}` }, h('span', { 'aria-hidden': 'true' }, `${c[0]} `), c[1]);
}

// The dialog. jobId: the job whose page opens it (its check is marked).
// open(claim, btn) loads the claim's checks and shows them; focus moves
// to Close, Escape closes, and focus returns to btn.
export function historyDialog(ctx, jobId) {
  const { el, title, body, start, current } = modalDialog('history-dialog', 'Claim history');

  async function load(claim, page, mySeq) {
    try {
      return await request('GET', `claims/${encodeURIComponent(claim)}/history/`, {
        query: { page, page_size: PAGE_SIZE },
      });
    } catch (err) {
      if (!ctx.isCurrent() || !current(mySeq) || err.status === 401) return null;
      replace(body, alertBox('error', err.status === 404
        ? 'No check of this claim is on record for your organisation. The jobs that checked it may have been removed under the retention policy.'
        : `The history could not be loaded: ${err.message}`));
      ctx.announce(body.textContent);
      return null;
    }
  }

  async function open(claim, btn) {
    const mySeq = start(btn, 'Claim history');
    const data = await load(claim, 1, mySeq);
    if (!data || !ctx.isCurrent() || !current(mySeq)) return;
    title.textContent = `History of claim ${data.claim_number || claim}`;
    const tbody = h('tbody');
    const count = Number(data.count) || 0;
    const summary = h('p', { id: 'history-count', class: 'hint' });
    const more = h('div', { class: 'actions' });
    let page = 1;
    let shown = 0;
    const add = (d) => {
      const list = Array.isArray(d.results) ? d.results : [];
      tbody.append(...list.map(entryEl));
      shown += list.length;
      summary.textContent = shown < count
        ? `${num(count)} checks, newest first; the ${num(shown)} latest are shown.`
        : `${num(count)} ${count === 1 ? 'check' : 'checks'}, newest first.`;
      replace(more, d.next ? h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', id: 'history-more',
        onclick: async (ev) => {
          const b = ev.currentTarget;
          b.disabled = true;
          const next = await load(claim, page + 1, mySeq);
          if (!next || !ctx.isCurrent() || !current(mySeq)) return;
          page += 1;
          const first = tbody.rows.length;
          add(next);
          // Keyboard users continue at the first older check.
          const row = tbody.rows[first];
          if (row) {
            row.setAttribute('tabindex', '-1');
            row.focus();
          }
        },
      }, 'Show older checks') : null);
    };
    replace(body,
      summary,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table stack history', id: 'history-table', 'aria-describedby': 'history-count' },
          h('caption', { class: 'visually-hidden' }, 'Checks of this claim, newest first'),
          h('thead', null, h('tr', null,
            ['Checked at', 'Job', 'Row', 'Payer status', 'Billed', 'Allowed', 'Paid', 'Payment numbers', 'Denial codes', 'Since the check before']
              .map((t) => h('th', { scope: 'col' }, t)))),
          tbody)),
      more);
    add(data);
    ctx.announce(`${title.textContent}: ${summary.textContent}`);
  }

  function entryEl(e) {
    const here = e.job_id === jobId;
    return h('tr', { class: here ? 'history-here' : null, dataset: { job: e.job_id ?? '', row: e.row ?? '' } },
      h('td', { 'data-label': 'Checked at', class: 'date' }, dateTime(e.checked_at)),
      h('td', { 'data-label': 'Job', class: 'mono' },
        here ? h('span', null, shortId(e.job_id), ' (this job)')
          : h('a', { href: `#/jobs/${encodeURIComponent(e.job_id)}` }, shortId(e.job_id))),
      h('td', { 'data-label': 'Row', class: 'num' }, e.row ?? ''),
      h('td', { 'data-label': 'Payer status' }, e.status ?? ''),
      h('td', { 'data-label': 'Billed', class: 'num' }, money(e.total_charged)),
      h('td', { 'data-label': 'Allowed', class: 'num' }, money(e.total_allowed)),
      h('td', { 'data-label': 'Paid', class: 'num' }, money(e.total_paid)),
      h('td', { 'data-label': 'Payment numbers', class: 'mono' }, codes(e.payment_numbers)),
      h('td', { 'data-label': 'Denial codes', class: 'mono' }, codes(e.carc_codes)),
      h('td', { 'data-label': 'Since the check before', class: 'change-cell' }, changeEl(e.change)));
  }

  return { el, open };
}
