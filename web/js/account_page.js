// The account pages: the account itself (email and phone verification, password change, log out
// everywhere), and the pages that links mailed by ticketd open (verify an address, set a new password),
// plus "forgot your password". Every answer from the server is shown next to the field it is about.
import { api, session } from './api.js';
import { $, esc, say, setMain, flash } from './ui.js';

const PASSWORD_MIN = 8;

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
      <p><label>Email <input name="email" type="email" autocomplete="username" required maxlength="254"
        aria-describedby="forgot-email-err"></label><span id="forgot-email-err" class="field-error"></span></p>
      <button type="submit">Mail me a link</button>
    </form>`, 'Forgot password');
  $('#forgot').addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = new FormData(e.target).get('email').trim();
    $('#forgot-email-err').textContent = '';
    if (!email) { $('#forgot-email-err').textContent = 'Enter the email address of your account.'; return; }
    try {
      await api.requestPasswordReset(email);
      say($('#forgot-msg'), `If an account has ${email}, a link to set a new password is on its way. It works for an hour.`, 'ok');
    } catch (err) {
      if (err.code === 'invalid_request') $('#forgot-email-err').textContent = 'That is not an email address.';
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
      ${passwordField('new', 'New password (8 characters or more)')}
      <button type="submit">Set password</button>
    </form>`, 'Set a new password');
  $('#reset').addEventListener('submit', async (e) => {
    e.preventDefault();
    const password = new FormData(e.target).get('new');
    if (!checkPassword('new', password)) return;
    try {
      await api.resetPassword(token, password);
      session.clear();  // every session of the account ended, this browser's too
      flash('Your password is set, and every device was logged out. Log in with the new one.', 'ok', { keep: true });
      location.hash = '#/login';
    } catch (err) {
      say($('#reset-msg'), err.code === 'invalid_token'
        ? 'This link was used already or has expired. Ask for a new one.' : err.message);
      if (err.code === 'invalid_token') $('#reset').insertAdjacentHTML('beforeend', '<p><a href="#/forgot-password">Mail me a new link</a></p>');
    }
  });
  return null;
}

function passwordField(name, label, autocomplete = 'new-password') {
  return `<p><label>${esc(label)} <input name="${name}" type="password" autocomplete="${autocomplete}" required
    minlength="${PASSWORD_MIN}" maxlength="128" aria-describedby="${name}-err"></label>
    <span id="${name}-err" class="field-error"></span></p>`;
}

function checkPassword(name, value) {
  const ok = value.length >= PASSWORD_MIN;
  $(`#${name}-err`).textContent = ok ? '' : `At least ${PASSWORD_MIN} characters.`;
  if (!ok) $(`[name=${name}]`).focus();
  return ok;
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
        <p><label>Phone number (international, e.g. +4915112345678)
          <input name="phone" type="tel" autocomplete="tel" maxlength="16" value="${esc(profile.phone || '')}"
            aria-describedby="phone-err"></label>
          <span id="phone-err" class="field-error"></span></p>
        <p><label><input name="sms" type="checkbox" ${profile.notifications.sms ? 'checked' : ''}> Text me about my bookings</label></p>
        <button type="submit">Save phone</button>
      </form>
      <p id="phone-state">${profile.phone ? (profile.phone_verified ? 'This number is verified.' : 'This number is not verified yet: nothing is sent to it until it is.') : ''}</p>
      <form id="code-form" novalidate ${profile.phone && !profile.phone_verified ? '' : 'hidden'}>
        <button type="button" id="send-code">Text me a code</button>
        <p><label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
          pattern="[0-9]{6}" aria-describedby="code-err"></label><span id="code-err" class="field-error"></span></p>
        <button type="submit">Verify number</button>
      </form>
    </section>
    <section class="card" aria-labelledby="password-h">
      <h2 id="password-h">Change password</h2>
      <form id="password-form" novalidate>
        <div id="password-msg"></div>
        ${passwordField('current', 'Current password', 'current-password')}
        ${passwordField('next', 'New password (8 characters or more)')}
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
    const f = new FormData(e.target);
    const phone = f.get('phone').trim();
    $('#phone-err').textContent = '';
    try {
      const p = await api.updateProfile({ phone: phone || null, notifications: { sms: Boolean(f.get('sms')) && Boolean(phone) } });
      saved = p.phone || '';
      $('#phone-state').textContent = saved ? (p.phone_verified ? 'This number is verified.' : 'This number is not verified yet: nothing is sent to it until it is.') : '';
      $('#code-form').hidden = !saved || p.phone_verified;
      say($('#phone-msg'), 'Saved.', 'ok');
    } catch (err) {
      if (err.code === 'invalid_request' && err.message.startsWith('phone')) {
        $('#phone-err').textContent = 'A number in international form: + and 8 to 15 digits.';
        $('#phone-form [name=phone]').focus();
      } else say($('#phone-msg'), err.message);
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
    const code = new FormData(e.target).get('code').trim();
    $('#code-err').textContent = '';
    if (!/^[0-9]{6}$/.test(code)) { $('#code-err').textContent = 'The 6 digits of the text message.'; return; }
    try {
      await api.verifyPhone(code);
      $('#phone-state').textContent = 'This number is verified.';
      $('#code-form').hidden = true;
      say($('#phone-msg'), 'Your number is verified.', 'ok');
    } catch (err) {
      if (err.code === 'invalid_token') $('#code-err').textContent = 'That code is wrong or has expired. After 5 wrong tries, ask for a new one.';
      else say($('#phone-msg'), err.message);
    }
  });
}

function bindPassword() {
  $('#password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    $('#current-err').textContent = '';
    if (!checkPassword('next', f.get('next'))) return;
    try {
      await api.changePassword(f.get('current'), f.get('next'));
      e.target.reset();
      say($('#password-msg'), 'Your password is changed. Every other device was logged out.', 'ok');
    } catch (err) {
      if (err.code === 'invalid_credentials') {
        $('#current-err').textContent = 'That is not your current password.';
        $('[name=current]').focus();
      } else say($('#password-msg'), err.message);
    }
  });
}
