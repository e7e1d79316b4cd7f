// The upload page: choose or drop a CSV file, see the validate-only preview,
// then start the job. Both the preview and the upload send the file with
// XMLHttpRequest so the transfer shows a progress bar.

import { apiUrl, uploadFile, randomKey } from '../api.js';
import { h, replace, alertBox, focusEl } from '../dom.js';
import { num, bytes } from '../format.js';
import { WORKFLOWS } from '../workflow.js';

const REQUIRED = ['claim_number', 'first_name', 'last_name', 'date_of_birth', 'subscriber_id'];
const FIELD_LABEL = {
  claim_number: 'Claim number',
  first_name: 'First name',
  last_name: 'Last name',
  date_of_birth: 'Date of birth',
  subscriber_id: 'Subscriber (member) ID',
};
const MAX_ERRORS_SHOWN = 50;

export function render(ctx) {
  ctx.setTitle('Upload claims');
  const role = ctx.session && ctx.session.user && ctx.session.user.role;
  if (role === 'viewer') {
    ctx.main.append(h('h1', null, 'Upload claims'),
      alertBox('info', 'Your account can read your organisation’s jobs but not upload files. Ask an administrator of your organisation if you need to upload.'),
      h('p', null, h('a', { href: '#/jobs' }, 'See the jobs'), '.'));
    ctx.focusHeading();
    return null;
  }
  let current = null; // {abort} of the transfer in flight
  let file = null;
  let idemKey = null;

  const input = h('input', {
    id: 'file', name: 'file', type: 'file', class: 'file-input',
    accept: '.csv,text/csv,text/plain', 'aria-describedby': 'file-help',
  });
  const chooseLabel = h('label', { for: 'file', class: 'btn file-label' }, 'Choose a CSV file');
  const dropzone = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', { class: 'dropzone-text' },
      h('span', { class: 'dropzone-icon', 'aria-hidden': 'true' }, '⇪'),
      ' Drag and drop your CSV file here, or'),
    input, chooseLabel,
    h('p', { id: 'file-help', class: 'hint' },
      'A CSV file with a header row: ', REQUIRED.join(', '),
      '. Other columns are kept. Files saved from Excel as “CSV UTF-8” or “CSV” both work.'));

  // What to ask the payer: sent with the preview and the upload.
  const workflow = h('fieldset', { class: 'workflow-choice', id: 'workflow' },
    h('legend', null, 'What to ask the payer'),
    WORKFLOWS.map((w) => h('div', { class: 'radio' },
      h('input', {
        type: 'radio', name: 'workflow', id: `workflow-${w.id}`, value: w.id,
        checked: w.id === 'status', 'aria-describedby': `workflow-${w.id}-help`,
      }),
      h('label', { for: `workflow-${w.id}` }, w.label),
      h('p', { class: 'hint', id: `workflow-${w.id}-help` }, `${w.what} ${w.calls}`))));
  // A new choice is a new upload, not a repeat of one already sent.
  workflow.addEventListener('change', () => { if (idemKey) idemKey = randomKey(); });
  const chosenWorkflow = () => {
    const c = workflow.querySelector('input[name="workflow"]:checked');
    return c ? c.value : 'status';
  };

  const transfer = h('div', { class: 'transfer', id: 'transfer', hidden: true },
    h('label', { for: 'transfer-bar', id: 'transfer-label' }, 'Sending the file'),
    h('progress', { id: 'transfer-bar', max: 100, value: 0 }),
    h('span', { id: 'transfer-text', class: 'transfer-text' }, ''),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'transfer-cancel', onclick: () => current && current.abort() }, 'Stop'));

  const messages = h('div', { id: 'upload-messages' });
  const preview = h('section', { id: 'preview', class: 'preview', hidden: true, 'aria-labelledby': 'preview-title' });

  ctx.main.append(
    h('h1', null, 'Upload claims'),
    h('p', { class: 'lead' },
      'Upload a file of claims to check their status with the payer. You will see what was found in the file before anything is sent. ',
      h('a', { href: apiUrl('claims/bulk/template/'), download: 'claims-template.csv', id: 'template-link' },
        'Download the CSV template'),
      '.'),
    dropzone, workflow, transfer, messages, preview);
  ctx.focusHeading();

  let lastQuarter = -1;
  function setTransfer(label, loaded, total) {
    if (transfer.hidden) lastQuarter = -1;
    transfer.hidden = false;
    transfer.querySelector('#transfer-label').textContent = label;
    const bar = transfer.querySelector('#transfer-bar');
    const pct = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
    bar.value = pct;
    // Screen readers hear the transfer every quarter, not every event.
    const quarter = Math.floor(pct / 25);
    if (quarter !== lastQuarter && pct > 0) {
      lastQuarter = quarter;
      ctx.announce(pct >= 100 ? 'File sent. Waiting for the server.' : `${pct} % sent.`);
    }
    transfer.querySelector('#transfer-text').textContent =
      pct >= 100 ? `${pct} % sent — waiting for the server…` : `${pct} % (${bytes(loaded)} of ${bytes(total)})`;
  }

  function showError(err, extra) {
    replace(messages, alertBox('error', err.message, extra || null));
    focusEl(messages.firstChild);
  }

  function reset() {
    file = null;
    idemKey = null;
    input.value = '';
    preview.hidden = true;
    preview.replaceChildren();
    messages.replaceChildren();
    transfer.hidden = true;
    dropzone.hidden = false;
  }

  async function choose(f) {
    if (current) current.abort();
    reset();
    if (!f) return;
    file = f;
    if (/\.xlsx?$/i.test(f.name)) {
      // Still sent: the server explains it too, but say it at once.
      replace(messages, alertBox('warning',
        'This looks like an Excel workbook. In Excel choose File › Save As › “CSV UTF-8 (Comma delimited)” and upload the .csv file.'));
    }
    current = uploadFile('claims/bulk/validate/', f, {
      fields: { workflow: chosenWorkflow() },
      onProgress: (l, t) => setTransfer(`Checking “${f.name}”`, l, t),
    });
    setTransfer(`Checking “${f.name}”`, 0, f.size);
    ctx.announce('Checking the file.');
    try {
      const result = await current.promise;
      if (!ctx.isCurrent()) return;
      transfer.hidden = true;
      showPreview(f, result);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      transfer.hidden = true;
      if (err.aborted) {
        replace(messages, alertBox('info', 'Stopped. No file was sent.'));
        return;
      }
      if (err.status === 401) return; // signed out by the app
      if (err.status === 404 || err.status === 405) {
        // A server without the validate-only endpoint: upload directly.
        showPreview(f, null);
        return;
      }
      showError(err, structuralHint(err));
      input.value = '';
    } finally {
      current = null;
    }
  }

  function showPreview(f, v) {
    idemKey = randomKey();
    if (!v) {
      const start = h('button', { type: 'button', class: 'btn', id: 'start-upload' }, 'Upload and start checking');
      const again = h('button', { type: 'button', class: 'btn btn-secondary', id: 'choose-again' }, 'Choose a different file');
      start.addEventListener('click', () => commit(f, false, start));
      again.addEventListener('click', () => { reset(); input.focus(); });
      replace(preview,
        h('h2', { id: 'preview-title' }, 'Ready to upload'),
        h('p', null, 'File ', h('strong', { class: 'filename' }, f.name), ` (${bytes(f.size)}).`),
        alertBox('info', 'This server cannot check a file before it is uploaded. Rows with problems are marked failed in the results, with the reason.'),
        h('div', { class: 'actions' }, start, again));
      preview.hidden = false;
      dropzone.hidden = true;
      focusEl(preview.querySelector('h2'));
      return;
    }
    const total = Number(v.total_rows) || 0;
    const invalid = Number(v.invalid_rows) || 0;
    const good = Math.max(0, total - invalid);
    const errors = Array.isArray(v.row_errors) ? v.row_errors : [];
    const warnings = Array.isArray(v.warnings) ? v.warnings : [];
    const mapping = v.column_mapping && typeof v.column_mapping === 'object' ? v.column_mapping : {};
    const found = Array.isArray(v.columns_found) ? v.columns_found : [];
    const mapped = new Set(Object.values(mapping).map(String));
    const extra = found.filter((c) => !mapped.has(String(c)));

    const parts = [
      h('h2', { id: 'preview-title' }, 'Check before you start'),
      h('p', null, 'File ', h('strong', { class: 'filename' }, f.name), ` (${bytes(f.size)}).`),
      h('dl', { class: 'summary', id: 'preview-summary' },
        h('div', null, h('dt', null, 'Rows found'), h('dd', { id: 'preview-rows' }, num(total))),
        h('div', null, h('dt', null, 'Rows ready to check'), h('dd', { id: 'preview-good' }, num(good))),
        h('div', null, h('dt', null, 'Rows with problems'), h('dd', { id: 'preview-invalid' }, num(invalid)))),
    ];
    if (v.converted_from_cp1252) {
      parts.push(alertBox('info', 'The file was saved in the Windows-1252 encoding; it was converted to UTF-8. Check that names with accents look right in the results.'));
    }
    parts.push(h('h3', null, 'Columns'),
      h('table', { class: 'table mapping', id: 'mapping' },
        h('caption', { class: 'visually-hidden' }, 'How the columns of your file are used'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Needed'), h('th', { scope: 'col' }, 'Column in your file'))),
        h('tbody', null, REQUIRED.map((k) => h('tr', null,
          h('th', { scope: 'row' }, FIELD_LABEL[k]),
          h('td', null, mapping[k] !== undefined ? String(mapping[k]) : h('span', { class: 'missing' }, '✖ not found')))))));
    if (extra.length) {
      parts.push(h('p', { class: 'hint' }, 'Other columns, kept and echoed in the extended results: ', extra.join(', '), '.'));
    }
    if (warnings.length) {
      parts.push(h('h3', null, 'Warnings'),
        h('ul', { class: 'warnings', id: 'preview-warnings' },
          warnings.map((w) => h('li', null, h('span', { 'aria-hidden': 'true' }, '⚠ '), warningText(w)))));
    }
    if (errors.length || invalid) {
      const shown = errors.slice(0, MAX_ERRORS_SHOWN);
      parts.push(h('h3', null, 'Rows with problems'),
        h('p', null, invalid === 1 ? '1 row has a problem. ' : `${num(invalid)} rows have problems. `,
          'These rows will not be sent to the payer: they are marked failed in the results with the reason. You can fix them and upload them again later.',
          errors.length > shown.length || invalid > shown.length ? ` The first ${shown.length} are listed.` : ''),
        h('div', { class: 'table-wrap' },
          h('table', { class: 'table errors stack', id: 'preview-errors' },
            h('caption', { class: 'visually-hidden' }, 'Problems found in rows of the file'),
            h('thead', null, h('tr', null,
              h('th', { scope: 'col' }, 'Row'), h('th', { scope: 'col' }, 'Line'),
              h('th', { scope: 'col' }, 'Column'), h('th', { scope: 'col' }, 'Problem'))),
            h('tbody', null, shown.map((e) => h('tr', null,
              h('td', { 'data-label': 'Row' }, e.row ?? ''),
              h('td', { 'data-label': 'Line' }, e.line ?? ''),
              h('td', { 'data-label': 'Column' }, e.column ?? ''),
              h('td', { 'data-label': 'Problem' }, e.message ?? '')))))));
    } else {
      parts.push(alertBox('success', 'No problems were found in the rows.'));
    }

    const start = h('button', { type: 'button', class: 'btn', id: 'start-upload' },
      good > 0 ? `Start checking ${num(total)} ${total === 1 ? 'claim' : 'claims'}` : 'Upload anyway');
    const again = h('button', { type: 'button', class: 'btn btn-secondary', id: 'choose-again' }, 'Choose a different file');
    start.addEventListener('click', () => commit(f, false, start));
    again.addEventListener('click', () => {
      reset();
      input.focus();
    });
    parts.push(h('div', { class: 'actions' }, start, again));
    if (total === 0 || good === 0) {
      parts.push(h('p', { class: 'hint' }, 'No row can be checked as the file is now.'));
    }
    replace(preview, ...parts);
    preview.hidden = false;
    dropzone.hidden = true;
    if (!messages.querySelector('.alert-warning')) messages.replaceChildren();
    ctx.announce(`File checked: ${total} rows found, ${invalid} with problems.`);
    focusEl(preview.querySelector('h2'));
  }

  async function commit(f, allowDuplicate, button) {
    if (current) return;
    button.disabled = true;
    messages.replaceChildren();
    setTransfer(`Uploading “${f.name}”`, 0, f.size);
    current = uploadFile('claims/bulk/upload/', f, {
      query: allowDuplicate ? { allow_duplicate: 1 } : null,
      headers: { 'Idempotency-Key': idemKey || randomKey() },
      fields: { workflow: chosenWorkflow() },
      onProgress: (l, t) => setTransfer(`Uploading “${f.name}”`, l, t),
    });
    try {
      const job = await current.promise;
      current = null;
      if (!ctx.isCurrent()) return;
      ctx.announce('Upload complete. The job has started.');
      ctx.navigate(`#/jobs/${encodeURIComponent(job.id)}`);
    } catch (err) {
      current = null;
      if (!ctx.isCurrent()) return;
      transfer.hidden = true;
      button.disabled = false;
      if (err.aborted) {
        replace(messages, alertBox('info', 'The upload was stopped. No job was started.'));
        return;
      }
      if (err.status === 401) return;
      if (err.status === 409) {
        const earlier = err.detail.job_id || err.detail.existing_job_id || err.detail.id;
        const extra = h('span', null, ' ',
          earlier ? h('a', { href: `#/jobs/${encodeURIComponent(earlier)}`, id: 'earlier-job' }, 'Open the earlier job') : null,
          earlier ? ' or ' : '',
          h('button', {
            type: 'button', class: 'btn btn-secondary btn-small', id: 'upload-anyway',
            onclick: (ev) => { idemKey = randomKey(); commit(f, true, ev.currentTarget); },
          }, 'upload it again anyway'), '.');
        showError(err, extra);
        return;
      }
      showError(err, structuralHint(err));
    }
  }

  input.addEventListener('change', () => choose(input.files && input.files[0]));

  // Drag and drop: the whole zone accepts a file; the page itself does not
  // open a file dropped outside it.
  const stop = (ev) => { ev.preventDefault(); ev.stopPropagation(); };
  dropzone.addEventListener('dragenter', (ev) => { stop(ev); dropzone.classList.add('dragover'); });
  dropzone.addEventListener('dragover', (ev) => { stop(ev); if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy'; dropzone.classList.add('dragover'); });
  dropzone.addEventListener('dragleave', (ev) => { stop(ev); if (!dropzone.contains(ev.relatedTarget)) dropzone.classList.remove('dragover'); });
  dropzone.addEventListener('drop', (ev) => {
    stop(ev);
    dropzone.classList.remove('dragover');
    const files = ev.dataTransfer && ev.dataTransfer.files;
    if (!files || files.length === 0) return;
    if (files.length > 1) {
      replace(messages, alertBox('error', 'Drop one file at a time.'));
      return;
    }
    choose(files[0]);
  });
  const swallow = (ev) => ev.preventDefault();
  window.addEventListener('dragover', swallow);
  window.addEventListener('drop', swallow);

  return () => {
    if (current) current.abort();
    window.removeEventListener('dragover', swallow);
    window.removeEventListener('drop', swallow);
  };
}

// A warning may be a string or an object {message, row, column, …}.
function warningText(w) {
  if (w && typeof w === 'object') {
    const where = [w.row ? `row ${w.row}` : '', w.line ? `line ${w.line}` : '', w.column ? `column ${w.column}` : '']
      .filter(Boolean).join(', ');
    return (where ? `${where}: ` : '') + (w.message || JSON.stringify(w));
  }
  return String(w);
}

// Extra help for the structural errors people meet most: what the server's
// message does not say already, and what to do about it.
function structuralHint(err) {
  const d = err.detail || {};
  const msg = err.message || '';
  const missing = d.missing_columns || d.missing;
  const found = d.found_columns || d.columns_found;
  const bits = [];
  if (Array.isArray(missing) && missing.length && !/missing/i.test(msg)) bits.push(`Missing: ${missing.join(', ')}.`);
  if (Array.isArray(found) && found.length && !/columns found|found columns/i.test(msg)) bits.push(`Columns found: ${found.join(', ')}.`);
  if (d.line && !/\bline\b/i.test(msg)) bits.push(`Line ${d.line}.`);
  if (Array.isArray(missing) && missing.length) bits.push('Rename the columns in the first row of the file, or start from the template.');
  if (err.status === 413) bits.push('Split the file into smaller files and upload them one by one.');
  if (err.status === 415 || /xlsx|excel|workbook/i.test(msg)) {
    bits.push('In Excel choose File › Save As › “CSV UTF-8 (Comma delimited)”.');
  }
  if (!bits.length) return null;
  return h('span', { class: 'hint-inline' }, ' ', bits.join(' '));
}
