// The log-in form of every entry page (the shop, the door scanner, the console): email and password,
// then, for an account with two-factor login, the authenticator code asked for in place. On success
// the session and the account (GET /v1/me) are saved and `onDone(me)` runs. Problems are said next to
// their fields (web/js/field_errors.js); a wrong email or password is one message for the form, since
// the server does not say which of the two it was.
import { api, session } from './api.js';
import { $, esc, say } from './ui.js';
import { fieldRow, showErrors, check, emailProblem } from './field_errors.js';

const LOGIN_CHECKS = {
  email: emailProblem,
  password: (v) => (v === '' ? 'Enter your password.' : ''),
};
const TOTP_CHECK = { totp: (v) => (/^[0-9]{6}$/.test(v.trim()) ? '' : 'Enter the 6 digits your authenticator app shows.') };

export function loginForm({ title, intro = '', footer = '', onDone }) {
  const html = `
    <h1>${esc(title)}</h1>
    <form id="login" class="card" novalidate>
      ${intro ? `<p>${esc(intro)}</p>` : ''}
      <div id="login-msg"></div>
      ${fieldRow('login', 'email', 'Email', 'type="email" autocomplete="username" required')}
      ${fieldRow('login', 'password', 'Password', 'type="password" autocomplete="current-password" required')}
      <div id="totp-row" hidden>${fieldRow('login', 'totp', 'Code from your authenticator app',
        'inputmode="numeric" autocomplete="one-time-code" maxlength="6"')}</div>
      <button type="submit">Log in</button>
      ${footer}
    </form>`;
  const bind = () => $('#login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const f = new FormData(form);
    say($('#login-msg'), '');
    const totpAsked = !$('#totp-row').hidden;
    if (showErrors(form, check(form, totpAsked ? { ...LOGIN_CHECKS, ...TOTP_CHECK } : LOGIN_CHECKS))) return;
    try {
      const email = f.get('email').trim();
      const s = await api.login(email, f.get('password'), (f.get('totp') || '').trim());
      session.save(s.token, { email });
      let me = { email, organizations: [] };
      try { me = await api.me(); session.save(s.token, me); } catch { /* the name is cosmetic */ }
      await onDone(me);
    } catch (err) {
      if (err.code === 'totp_required' || err.code === 'invalid_totp') {
        // The password was right; the code is asked for (again) in place.
        $('#totp-row').hidden = false;
        $('#login [name=totp]').value = '';
        if (err.code === 'totp_required') {
          say($('#login-msg'), 'Enter the 6-digit code from your authenticator app.', 'info');
          $('#login [name=totp]').focus();
        } else showErrors(form, { totp: 'That code is wrong or was used already. Enter the current one.' });
        return;
      }
      const text = {
        invalid_credentials: 'That email and password do not match an account. Check both and try again.',
        too_many_requests: 'Too many tries with this email: wait a few minutes, then try again.',
      }[err.code];
      say($('#login-msg'), text || err.message);
    }
  });
  return { html, bind };
}
