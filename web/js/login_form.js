// The log-in form of every entry page (the shop, the door scanner, the console): email and password,
// then, for an account with two-factor login, the authenticator code asked for in place. On success
// the session and the account (GET /v1/me) are saved and `onDone(me)` runs.
import { api, session } from './api.js';
import { $, esc, say } from './ui.js';

export function loginForm({ title, intro = '', footer = '', onDone }) {
  const html = `
    <h1>${esc(title)}</h1>
    <form id="login" class="card" novalidate>
      ${intro ? `<p>${esc(intro)}</p>` : ''}
      <div id="login-msg"></div>
      <p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
      <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
      <p id="totp-row" hidden><label>Code from your authenticator app <input name="totp" inputmode="numeric"
        autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"></label></p>
      <button type="submit">Log in</button>
      ${footer}
    </form>`;
  const bind = () => $('#login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const s = await api.login(f.get('email'), f.get('password'), (f.get('totp') || '').trim());
      session.save(s.token, { email: f.get('email') });
      let me = { email: f.get('email'), organizations: [] };
      try { me = await api.me(); session.save(s.token, me); } catch { /* the name is cosmetic */ }
      await onDone(me);
    } catch (err) {
      if (err.code === 'totp_required' || err.code === 'invalid_totp') {
        // The password was right; the code is asked for (again) in place.
        $('#totp-row').hidden = false;
        $('#login [name=totp]').value = '';
        $('#login [name=totp]').focus();
        say($('#login-msg'), err.code === 'totp_required' ? 'Enter the 6-digit code from your authenticator app.'
          : 'That code is wrong or was used already. Enter the current one.', err.code === 'totp_required' ? 'info' : 'error');
        return;
      }
      say($('#login-msg'), err.code === 'invalid_credentials' ? 'Wrong email or password.' : err.message);
    }
  });
  return { html, bind };
}
