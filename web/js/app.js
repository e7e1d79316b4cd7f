// The application shell: session, header, hash router and automatic logoff.
//
// Routes (the hash carries only page names, job ids, a job-status filter and
// a page number — never patient data):
//   #/signin  #/upload  #/jobs[?status=&page=]  #/jobs/<id>

import { request, setCsrfToken, setUnauthorizedHandler, lastServerContact } from './api.js';
import { h, replace, alertBox, focusEl } from './dom.js';
import { duration } from './format.js';
import * as signinView from './views/signin.js';
import * as uploadView from './views/upload.js';
import * as jobsView from './views/jobs.js';
import * as jobView from './views/job.js';

const APP = 'bulkclaims';

const state = {
  session: null,      // {user, csrf_token, idle_timeout_s}
  cleanup: null,      // the current view's teardown
  notice: null,       // a message for the next sign-in page
  returnTo: null,     // the hash to go to after signing in
  renderSeq: 0,
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- routing

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(qs || '');
  if (parts.length === 0) return { name: 'home', params };
  if (parts[0] === 'signin' && parts.length === 1) return { name: 'signin', params };
  if (parts[0] === 'upload' && parts.length === 1) return { name: 'upload', params };
  if (parts[0] === 'jobs' && parts.length === 1) return { name: 'jobs', params };
  if (parts[0] === 'jobs' && parts.length === 2) return { name: 'job', id: decodeURIComponent(parts[1]), params };
  return { name: 'notfound', params };
}

export function navigate(hash, { replaceState = false } = {}) {
  if (location.hash === hash) {
    render();
    return;
  }
  if (replaceState) {
    history.replaceState(null, '', hash);
    render();
  } else {
    location.hash = hash;
  }
}

function setTitle(text) {
  document.title = text ? `${text} — ${APP}` : APP;
}

// Politely tells screen-reader users about something that changed.
function announce(text) {
  const el = $('announcer');
  el.textContent = '';
  // A fresh text node in a new task makes repeated messages announced again.
  setTimeout(() => { el.textContent = text; }, 50);
}

function teardown() {
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch (e) {
      console.error(e);
    }
  }
  state.cleanup = null;
}

function updateHeader(routeName) {
  const signedIn = !!state.session;
  $('site-nav').hidden = !signedIn;
  $('whoami').hidden = !signedIn;
  if (signedIn) {
    const u = state.session.user || {};
    $('whoami-user').textContent = u.username || '';
    $('whoami-role').textContent = u.role ? `(${u.role})` : '';
    $('whoami-org').textContent = (u.organization && u.organization.name) || '';
  }
  for (const a of document.querySelectorAll('#site-nav a')) {
    const active = a.dataset.route === routeName || (a.dataset.route === 'jobs' && routeName === 'job');
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function render() {
  teardown();
  const seq = ++state.renderSeq;
  const route = parseHash();
  const main = $('main');

  if (!state.session && route.name !== 'signin') {
    if (route.name !== 'home') state.returnTo = location.hash;
    history.replaceState(null, '', '#/signin');
    return render();
  }
  if (state.session && (route.name === 'signin' || route.name === 'home')) {
    history.replaceState(null, '', '#/upload');
    return render();
  }
  updateHeader(route.name);

  const ctx = {
    main,
    route,
    session: state.session,
    navigate,
    setTitle,
    announce,
    isCurrent: () => seq === state.renderSeq,
    // Puts focus on the page's heading so keyboard and screen-reader users
    // start at the top of the new page.
    focusHeading() {
      focusEl(main.querySelector('h1'));
    },
  };

  main.replaceChildren();
  let view;
  switch (route.name) {
    case 'signin':
      view = signinView;
      ctx.notice = state.notice;
      state.notice = null;
      ctx.onSignedIn = signedIn;
      break;
    case 'upload':
      view = uploadView;
      break;
    case 'jobs':
      view = jobsView;
      break;
    case 'job':
      view = jobView;
      break;
    default:
      setTitle('Page not found');
      replace(main, h('h1', null, 'Page not found'),
        h('p', null, 'There is no such page. ', h('a', { href: '#/jobs' }, 'Go to your jobs'), '.'));
      ctx.focusHeading();
      return;
  }
  const cleanup = view.render(ctx);
  state.cleanup = typeof cleanup === 'function' ? cleanup : null;
}

// ---------------------------------------------------------------- session

function signedIn(session) {
  state.session = session;
  setCsrfToken(session.csrf_token);
  startIdleTimer();
  const back = state.returnTo;
  state.returnTo = null;
  navigate(back && back !== '#/signin' ? back : '#/upload', { replaceState: true });
}

// Ends the session locally and shows the sign-in page with `notice`
// ({kind, text}).
function endSession(notice) {
  stopIdleTimer();
  state.session = null;
  setCsrfToken(null);
  state.notice = notice || null;
  teardown();
  updateHeader('signin');
  history.replaceState(null, '', '#/signin');
  render();
}

async function signOut() {
  const btn = $('signout');
  btn.disabled = true;
  try {
    await request('POST', 'auth/logout/', { quiet401: true });
  } catch (e) {
    // Signed out locally whatever the server answered: the cookie is
    // HttpOnly, so a failed logout can only leave a session that times out.
    if (e.status !== 401) console.warn('logout failed', e.status);
  } finally {
    btn.disabled = false;
  }
  state.returnTo = null;
  endSession({ kind: 'success', text: 'You have signed out.' });
}

setUnauthorizedHandler(() => {
  if (!state.session) return;
  state.returnTo = location.hash;
  endSession({
    kind: 'warning',
    text: 'Your session has ended and you were signed out automatically (after a period without activity, or because the session expired). Please sign in again.',
  });
});

// ---------------------------------------------------------------- automatic logoff
//
// The server ends idle sessions; polling the progress endpoint must not keep
// an unattended screen signed in, so the page also counts the user's own
// activity and signs out after idle_timeout_s, with a warning a minute before.

const idle = { last: Date.now(), timer: null, warned: false };
const ACTIVITY = ['keydown', 'pointerdown', 'wheel', 'touchstart', 'mousemove'];

function noteActivity(ev) {
  idle.last = Date.now();
  // A press on "Stay signed in" must reach its click handler.
  if (idle.warned && !(ev && ev.target instanceof Node && $('idle-warning').contains(ev.target))) hideIdleWarning();
}

function idleLimitMs() {
  const s = Number(state.session && state.session.idle_timeout_s);
  return (Number.isFinite(s) && s > 0 ? s : 900) * 1000;
}

function startIdleTimer() {
  stopIdleTimer();
  idle.last = Date.now();
  for (const ev of ACTIVITY) window.addEventListener(ev, noteActivity, { passive: true, capture: true });
  idle.timer = setInterval(checkIdle, 1000);
}

function stopIdleTimer() {
  if (idle.timer) clearInterval(idle.timer);
  idle.timer = null;
  for (const ev of ACTIVITY) window.removeEventListener(ev, noteActivity, { capture: true });
  hideIdleWarning();
}

function checkIdle() {
  if (!state.session) return;
  const limit = idleLimitMs();
  const left = limit - (Date.now() - idle.last);
  if (left <= 0) {
    request('POST', 'auth/logout/', { quiet401: true }).catch(() => {});
    state.returnTo = location.hash;
    endSession({
      kind: 'warning',
      text: `For your security you were signed out automatically after ${duration(limit / 1000)} without activity. Please sign in again.`,
    });
    return;
  }
  // Someone is working on a page that makes no requests (reading results):
  // tell the server, whose idle clock only sees requests.
  if (Date.now() - idle.last < 60000 && Date.now() - lastServerContact() > limit / 2 && !idle.pinging) {
    idle.pinging = true;
    request('GET', 'auth/me/').then((me) => setCsrfToken(me.csrf_token), () => {}).finally(() => { idle.pinging = false; });
  }
  const warnAt = Math.min(60000, limit / 4);
  if (left <= warnAt) showIdleWarning(Math.ceil(left / 1000));
}

function showIdleWarning(seconds) {
  const box = $('idle-warning');
  const text = `You will be signed out in ${seconds} seconds because there has been no activity.`;
  if (!idle.warned) {
    idle.warned = true;
    replace(box, h('span', { id: 'idle-text' }, text), ' ',
      h('button', {
        type: 'button',
        class: 'btn btn-small',
        onclick: async () => {
          hideIdleWarning();
          noteActivity();
          try {
            const me = await request('GET', 'auth/me/');
            state.session = me;
            setCsrfToken(me.csrf_token);
          } catch {
            // A 401 here signs out through the unauthorized handler.
          }
        },
      }, 'Stay signed in'));
    box.hidden = false;
  } else {
    const t = $('idle-text');
    if (t) t.textContent = text;
  }
}

function hideIdleWarning() {
  idle.warned = false;
  const box = $('idle-warning');
  box.hidden = true;
  box.replaceChildren();
}

// ---------------------------------------------------------------- start

async function boot() {
  $('signout').addEventListener('click', signOut);
  // The hash is the router's: the skip link moves focus itself.
  $('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    focusEl($('main'));
  });
  window.addEventListener('hashchange', render);
  // Who is signed in? A rate limit or a server restart is waited out a few
  // times before the sign-in page says the server cannot be reached.
  for (let attempt = 0; ; attempt++) {
    try {
      const me = await request('GET', 'auth/me/', { quiet401: true });
      state.session = me;
      setCsrfToken(me.csrf_token);
      startIdleTimer();
      break;
    } catch (e) {
      state.session = null;
      if (e.status === 401) break;
      const transient = e.status === 0 || e.status === 429 || e.status >= 502;
      if (!transient || attempt >= 5) {
        state.notice = { kind: 'error', text: e.message };
        break;
      }
      replace($('main'), h('p', { class: 'loading', role: 'status' }, 'Connecting to the server…'));
      await new Promise((r) => setTimeout(r, 1000 * 2 ** Math.min(attempt, 3)));
    }
  }
  render();
}

// Exposed for views that need to show a page-level error.
export function pageError(main, err) {
  main.appendChild(alertBox('error', err.message));
}

boot();
