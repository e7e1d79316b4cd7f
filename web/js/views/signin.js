// The sign-in page.

import { request, setCsrfToken } from '../api.js';
import { h, alertBox, focusEl } from '../dom.js';

export function render(ctx) {
  ctx.setTitle('Sign in');
  const msg = h('div', { id: 'signin-message' });
  if (ctx.notice) msg.appendChild(alertBox(ctx.notice.kind, ctx.notice.text));

  const user = h('input', {
    id: 'username', name: 'username', type: 'text', autocomplete: 'username',
    required: true, autocapitalize: 'none', spellcheck: 'false', maxlength: 150,
  });
  const pass = h('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, maxlength: 1024,
  });
  const submit = h('button', { type: 'submit', class: 'btn' }, 'Sign in');

  const form = h('form', { class: 'card signin-form', novalidate: true, 'aria-describedby': 'signin-help' },
    h('div', { class: 'field' }, h('label', { for: 'username' }, 'User name'), user),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), pass),
    h('div', { class: 'actions' }, submit));

  let busy = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    msg.replaceChildren();
    if (!user.value.trim() || !pass.value) {
      msg.appendChild(alertBox('error', 'Enter your user name and password.'));
      focusEl(!user.value.trim() ? user : pass);
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const session = await request('POST', 'auth/login/', {
        json: { username: user.value.trim(), password: pass.value },
        quiet401: true,
      });
      pass.value = '';
      setCsrfToken(session.csrf_token);
      ctx.onSignedIn(session);
    } catch (err) {
      let text = err.message;
      // One wording for every refused sign-in (it tells nothing about
      // which of the two was wrong); throttling (429) keeps the server's.
      if (err.status === 401) text = 'The user name or password is not correct.';
      msg.appendChild(alertBox('error', text));
      pass.value = '';
      focusEl(pass);
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  ctx.main.append(
    h('div', { class: 'signin' },
      h('h1', null, 'Sign in'),
      h('p', { id: 'signin-help', class: 'lead' },
        'Sign in to upload claim files and download their results. You are signed out automatically after a period without activity.'),
      msg,
      form));

  if (ctx.notice) ctx.focusHeading();
  else user.focus();
}
