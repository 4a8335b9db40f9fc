// The account pages: the account itself (email and phone verification, password change, log out
// everywhere), and the pages that links mailed by ticketd open (verify an address, set a new password),
// plus "forgot your password". Every answer from the server is shown next to the field it is about.
import { api, session } from './api.js';
import { $, esc, say, setMain, flash } from './ui.js';
import { fieldRow, showErrors, check, emailProblem, newPasswordProblem, PASSWORD_BYTES_MIN } from './field_errors.js';

const PHONE_PROBLEM = 'Write the number in international form: + and 8 to 15 digits, not starting with 0, like +4915112345678.';

// "verify-email/<token>": the link of the sign-up email. No session needed: the link proves the address.
export async function verifyEmailPage(token) {
  setMain('<h1>Confirm your email address</h1><div id="verify-msg"><p>Checking the link…</p></div>', 'Confirm email');
  try {
    await api.verifyEmail(token);
    if (session.user) session.save(session.token, { ...session.user, email_verified: true });
    $('#verify-msg').innerHTML = '';
    say($('#verify-msg'), 'Your email address is confirmed. Booking confirmations and tickets will be mailed to it.', 'ok');
    $('#main').insertAdjacentHTML('beforeend', '<p><a href="#/">Find an event</a></p>');
  } catch (err) {
    say($('#verify-msg'), err.code === 'invalid_token'
      ? 'This link was used already, has expired, or is not complete. Log in and ask for a new one under Account.'
      : err.message);
  }
  return null;
}

// "forgot-password": asks for the address; the answer is the same whether an account has it or not.
export async function forgotPasswordPage() {
  setMain(`
    <h1>Forgot your password?</h1>
    <form id="forgot" class="card" novalidate>
      <div id="forgot-msg"></div>
      ${fieldRow('forgot', 'email', 'Email', 'type="email" autocomplete="username" required')}
      <button type="submit">Mail me a link</button>
    </form>`, 'Forgot password');
  $('#forgot').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const email = new FormData(form).get('email').trim();
    say($('#forgot-msg'), '');
    if (showErrors(form, check(form, { email: emailProblem }))) return;
    try {
      await api.requestPasswordReset(email);
      say($('#forgot-msg'), `If an account has ${email}, a link to set a new password is on its way. It works for an hour.`, 'ok');
    } catch (err) {
      if (err.code === 'invalid_request') showErrors(form, { email: 'This is not an address we can send to: one plain address, like ann@example.com.' });
      else say($('#forgot-msg'), err.message);
    }
  });
  return null;
}

// "reset-password/<token>": the link of the reset email.
export async function resetPasswordPage(token) {
  setMain(`
    <h1>Set a new password</h1>
    <form id="reset" class="card" novalidate>
      <div id="reset-msg"></div>
      ${passwordField('new', `New password (${PASSWORD_BYTES_MIN} characters or more)`)}
      <button type="submit">Set password</button>
    </form>`, 'Set a new password');
  $('#reset').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const password = new FormData(form).get('new');
    if (showErrors(form, check(form, { new: newPasswordProblem }))) return;
    try {
      await api.resetPassword(token, password);
      session.clear();  // every session of the account ended, this browser's too
      flash('Your password is set, and every device was logged out. Log in with the new one.', 'ok', { keep: true });
      location.hash = '#/login';
    } catch (err) {
      if (err.code === 'invalid_request') { showErrors(form, { new: newPasswordProblem(password) || 'The server refused this password.' }); return; }
      say($('#reset-msg'), err.code === 'invalid_token'
        ? 'This link was used already or has expired. Ask for a new one.' : err.message);
      if (err.code === 'invalid_token') $('#reset').insertAdjacentHTML('beforeend', '<p><a href="#/forgot-password">Mail me a new link</a></p>');
    }
  });
  return null;
}

function passwordField(name, label, autocomplete = 'new-password') {
  return fieldRow('', name, label, `type="password" autocomplete="${autocomplete}" required`);
}

// "account": who the account is and what it has proven.
export async function accountPage() {
  const [me, profile] = await Promise.all([api.me(), api.profile()]);
  setMain(`
    <h1>Account</h1>
    <section class="card" aria-labelledby="email-h">
      <h2 id="email-h">Email</h2>
      <p>${esc(me.email)} · <strong id="email-state">${me.email_verified ? 'confirmed' : 'not confirmed yet'}</strong></p>
      <div id="email-msg"></div>
      ${me.email_verified ? '' : `<p>We mailed you a link when you registered. Until you open it, booking emails are not sent to this address.</p>
        <button type="button" id="resend-link">Mail me the link again</button>`}
    </section>
    <section class="card" aria-labelledby="phone-h">
      <h2 id="phone-h">Phone for text messages</h2>
      <div id="phone-msg"></div>
      <form id="phone-form" novalidate>
        ${fieldRow('', 'phone', 'Phone number (international, e.g. +4915112345678)',
          `type="tel" autocomplete="tel" value="${esc(profile.phone || '')}"`)}
        <p><label><input name="sms" type="checkbox" ${profile.notifications.sms ? 'checked' : ''}> Text me about my bookings</label></p>
        <button type="submit">Save phone</button>
      </form>
      <p id="phone-state">${profile.phone ? (profile.phone_verified ? 'This number is verified.' : 'This number is not verified yet: nothing is sent to it until it is.') : ''}</p>
      <form id="code-form" novalidate ${profile.phone && !profile.phone_verified ? '' : 'hidden'}>
        <button type="button" id="send-code">Text me a code</button>
        ${fieldRow('', 'code', 'Code', 'inputmode="numeric" autocomplete="one-time-code" maxlength="6"')}
        <button type="submit">Verify number</button>
      </form>
    </section>
    <section class="card" aria-labelledby="password-h">
      <h2 id="password-h">Change password</h2>
      <form id="password-form" novalidate>
        <div id="password-msg"></div>
        ${passwordField('current', 'Current password', 'current-password')}
        ${passwordField('next', `New password (${PASSWORD_BYTES_MIN} characters or more)`)}
        <button type="submit">Change password</button>
      </form>
    </section>
    <section class="card" aria-labelledby="sessions-h">
      <h2 id="sessions-h">Devices</h2>
      <p>Lost a phone, or logged in somewhere else? End every session of this account, this one too.</p>
      <button type="button" id="logout-all" class="danger">Log out everywhere</button>
    </section>`, 'Account');
  bindEmail();
  bindPhone(profile);
  bindPassword();
  $('#logout-all').addEventListener('click', async () => {
    try { await api.logoutEverywhere(); } catch { /* the session is dropped either way */ }
    session.clear();
    flash('Every session of your account has ended.', 'info', { keep: true });
    location.hash = '#/login';
  });
  return null;
}

function bindEmail() {
  const button = $('#resend-link');
  if (!button) return;
  button.addEventListener('click', async () => {
    try {
      await api.sendEmailLink();
      say($('#email-msg'), 'A new link is on its way. It works for a day.', 'ok');
    } catch (err) {
      say($('#email-msg'), err.code === 'limit_reached' ? 'We sent three links this hour already: check your inbox (and spam folder), or try again later.' : err.message);
    }
  });
}

function bindPhone(profile) {
  let saved = profile.phone || '';
  $('#phone-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const f = new FormData(form);
    const phone = f.get('phone').trim();
    say($('#phone-msg'), '');
    if (showErrors(form, check(form, { phone: (v) => (v.trim() === '' || /^\+[1-9][0-9]{7,14}$/.test(v.trim()) ? '' : PHONE_PROBLEM) }))) return;
    try {
      const p = await api.updateProfile({ phone: phone || null, notifications: { sms: Boolean(f.get('sms')) && Boolean(phone) } });
      saved = p.phone || '';
      $('#phone-state').textContent = saved ? (p.phone_verified ? 'This number is verified.' : 'This number is not verified yet: nothing is sent to it until it is.') : '';
      $('#code-form').hidden = !saved || p.phone_verified;
      say($('#phone-msg'), 'Saved.', 'ok');
    } catch (err) {
      if (err.code === 'invalid_request' && err.message.startsWith('phone')) showErrors(form, { phone: PHONE_PROBLEM });
      else say($('#phone-msg'), err.message);
    }
  });
  $('#send-code').addEventListener('click', async () => {
    try {
      await api.sendPhoneCode();
      say($('#phone-msg'), `A code is on its way to ${saved}. It works for 10 minutes.`, 'ok');
      $('#code-form [name=code]').focus();
    } catch (err) {
      say($('#phone-msg'), err.code === 'limit_reached' ? 'We sent three codes this hour already; try again later.' : err.message);
    }
  });
  $('#code-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const code = new FormData(form).get('code').trim();
    if (showErrors(form, check(form, { code: (v) => (/^[0-9]{6}$/.test(v.trim()) ? '' : 'Enter the 6 digits of the text message.') }))) return;
    try {
      await api.verifyPhone(code);
      $('#phone-state').textContent = 'This number is verified.';
      $('#code-form').hidden = true;
      say($('#phone-msg'), 'Your number is verified.', 'ok');
    } catch (err) {
      if (err.code === 'invalid_token') showErrors(form, { code: 'That code is wrong or has expired. After 5 wrong tries, ask for a new one.' });
      else say($('#phone-msg'), err.message);
    }
  });
}

function bindPassword() {
  $('#password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const f = new FormData(form);
    say($('#password-msg'), '');
    const checks = { current: (v) => (v === '' ? 'Enter your current password.' : ''), next: newPasswordProblem };
    if (showErrors(form, check(form, checks))) return;
    try {
      await api.changePassword(f.get('current'), f.get('next'));
      e.target.reset();
      say($('#password-msg'), 'Your password is changed. Every other device was logged out.', 'ok');
    } catch (err) {
      if (err.code === 'invalid_credentials') showErrors(form, { current: 'That is not your current password.' });
      else if (err.code === 'invalid_request') showErrors(form, { next: newPasswordProblem(f.get('next')) || 'The server refused this password.' });
      else say($('#password-msg'), err.message);
    }
  });
}
