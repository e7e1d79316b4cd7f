// DOM helpers. Everything is built with createElement and textContent: data
// from the server or from a file never goes through innerHTML.

// h('button', {class: 'btn', type: 'button', onclick: fn}, 'Text', child…)
// Attribute values of false/null/undefined are left out; true sets "".
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'class') {
        el.className = v;
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' && 'value' in el) {
        el.value = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Replaces all children of el.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// An alert box. kind: 'error' | 'warning' | 'info' | 'success'. The icon
// and the heading word carry the meaning as well as the colour.
const KIND = {
  error: { icon: '✖', word: 'Error' },
  warning: { icon: '⚠', word: 'Warning' },
  info: { icon: 'ℹ', word: 'Note' },
  success: { icon: '✔', word: 'Done' },
};

export function alertBox(kind, ...children) {
  const k = KIND[kind] || KIND.info;
  return h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'alert-icon', 'aria-hidden': 'true' }, k.icon),
    h('div', { class: 'alert-body' }, h('strong', { class: 'alert-word' }, k.word + ': '), ...children));
}

// A status badge: text and an icon, never colour alone.
const STATUS_ICON = {
  PENDING: '◷',
  PROCESSING: '↻',
  CANCELLING: '↻',
  COMPLETED: '✔',
  FAILED: '✖',
  CANCELLED: '■',
  PURGED: '∅',
};

export function statusBadge(status) {
  const s = String(status || 'UNKNOWN').toUpperCase();
  const label = s.charAt(0) + s.slice(1).toLowerCase();
  return h('span', { class: `badge badge-${s.toLowerCase()}` },
    h('span', { 'aria-hidden': 'true' }, (STATUS_ICON[s] || '•') + ' '), label);
}

// Moves keyboard focus to el without scrolling surprises; el gets
// tabindex=-1 when it is not focusable itself.
export function focusEl(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    el.setAttribute('tabindex', '-1');
  }
  el.focus({ preventScroll: false });
}

// A modal <dialog> (ids name, name-title, name-body, name-close) with a
// title, a body and a Close button. showModal() keeps focus inside and
// Escape closes it; closing returns focus to the button that opened it.
// start(btn, text) shows it with text as title and "Loading…" as body,
// and returns a token; current(token) is false once a later start or a
// close has made that opening stale (its answer must not be shown).
export function modalDialog(name, text) {
  const title = h('h2', { id: `${name}-title` }, text);
  const body = h('div', { id: `${name}-body` });
  const close = h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: `${name}-close` }, 'Close');
  const el = h('dialog', { id: name, class: 'row-dialog', 'aria-labelledby': `${name}-title` },
    h('div', { class: 'page-head' }, title, close), body);
  let opener = null;
  let seq = 0;
  close.addEventListener('click', () => el.close());
  el.addEventListener('close', () => {
    seq += 1;
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
  function start(btn, t) {
    seq += 1;
    opener = btn;
    title.textContent = t;
    replace(body, h('p', { class: 'loading' }, 'Loading…'));
    if (!el.open) el.showModal();
    close.focus();
    return seq;
  }
  return { el, title, body, start, current: (token) => token === seq };
}
