// The web app: a hash router over a few pages. Plain ES modules, no build step.
import { api, session, ApiError, money, when } from './api.js';
import { esc, $, flash, clearFlash, say, setMain } from './ui.js';
import { eventPage } from './event_page.js';
import { queuePage } from './queue_page.js';
import { ticketPage, ticketsPage, savedTickets, seatText } from './ticket_page.js';
import { loginForm } from './login_form.js';
import { accountPage, forgotPasswordPage, resetPasswordPage, verifyEmailPage } from './account_page.js';
import { fieldRow, showErrors, check, emailProblem, newPasswordProblem, NAME_BYTES_MAX, PASSWORD_BYTES_MIN,
  PASSWORD_BYTES_MAX } from './field_errors.js';

let cleanup = null;  // the current page's teardown (streams, timers)

const routes = [
  [/^$/, eventsPage],
  [/^login$/, loginPage],
  [/^register$/, registerPage],
  [/^events\/(\d+)$/, (m) => eventPage(Number(m[1]))],
  [/^events\/(\d+)\/queue$/, (m) => queuePage(Number(m[1]))],
  [/^bookings$/, bookingsPage],
  [/^bookings\/(\d+)$/, (m) => bookingPage(Number(m[1]))],
  [/^tickets$/, () => (requireLogin() ? ticketsPage() : null)],
  [/^tickets\/([0-9a-f]{32})$/, (m) => (requireLogin() ? ticketPage(m[1]) : null)],
  [/^account$/, () => (requireLogin() ? accountPage() : null)],
  [/^forgot-password$/, forgotPasswordPage],
  [/^verify-email\/([0-9]+\.[0-9a-f]{32})$/, (m) => verifyEmailPage(m[1])],
  [/^reset-password\/([0-9]+\.[0-9a-f]{32})$/, (m) => resetPasswordPage(m[1])],
];

let navigation = 0;  // counts page changes: a page that finishes after a newer one began is stale

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const mine = ++navigation;
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  updateNav();
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try {
      const done = (await page(m)) || null;
      // Another page replaced this one while it loaded: its teardown runs now, and nothing it
      // did late (or threw, on elements that are gone) may touch the page that is showing.
      if (mine !== navigation) { if (done) done(); return; }
      cleanup = done;
      focusHeading();
    } catch (e) {
      if (mine !== navigation) return;
      setMain(`<h1>Something went wrong</h1><div id="err"></div><p><a href="#/">Back to events</a></p>`, 'Error');
      say($('#err'), e instanceof ApiError ? e.message : String(e));
    }
    return;
  }
  setMain('<h1>Not found</h1><p><a href="#/">Back to events</a></p>', 'Not found');
}

// After a page change, focus goes to the new page's heading (a screen reader announces it; the next
// Tab starts from the top of the page), unless the page put it somewhere on purpose already.
function focusHeading() {
  const main = $('#main');
  if (main.contains(document.activeElement) && document.activeElement !== main) return;
  const h1 = main.querySelector('h1');
  if (!h1) return;
  h1.setAttribute('tabindex', '-1');
  h1.focus({ preventScroll: true });
}

function updateNav() {
  const inside = Boolean(session.token);
  for (const el of document.querySelectorAll('[data-auth]')) el.hidden = (el.dataset.auth === 'in') !== inside;
  const user = session.user;
  $('#who').textContent = inside && user ? `Signed in as ${user.name || user.email}` : '';
}

export function requireLogin() {
  if (session.token) return true;
  sessionStorage.setItem('ticketd.returnTo', location.hash || '#/');
  location.hash = '#/login';
  return false;
}

// ---- Events list ---------------------------------------------------------------------------

async function eventsPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const q = params.get('q') || '', from = params.get('from') || '', to = params.get('to') || '';
  const main = setMain(`
    <h1>Events</h1>
    <form id="search" class="card row" role="search">
      <label>Search by name <input name="q" type="search" value="${esc(q)}" maxlength="200"></label>
      <label>From <input name="from" type="date" value="${esc(from)}"></label>
      <label>Until <input name="to" type="date" value="${esc(to)}"></label>
      <button type="submit">Search</button>
    </form>
    <div id="list-msg"></div>
    <ul class="events" id="events" aria-label="Events"></ul>
    <button type="button" id="more" class="secondary" hidden>More events</button>`, 'Events');
  $('#search').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const p = new URLSearchParams();
    for (const k of ['q', 'from', 'to']) if (f.get(k)) p.set(k, f.get(k));
    location.hash = '#/?' + p;
  });
  const query = { limit: 20 };
  if (q) query.q = q;
  if (from) query.from = new Date(from + 'T00:00:00').toISOString();
  if (to) query.to = new Date(to + 'T00:00:00').toISOString();
  const load = async (after) => {
    const ul = $('#events');  // this page's list, even if another page replaces it meanwhile
    const page = await api.events(after ? { ...query, after } : query);
    for (const e of page.events) {
      const li = document.createElement('li');
      li.className = 'card';
      li.innerHTML = `<div><a href="#/events/${e.id}"><strong>${esc(e.name)}</strong></a>
        <div class="muted">${esc(e.venue_name || '')}</div></div>
        <div><time datetime="${esc(e.starts_at)}">${esc(when(e.starts_at))}</time></div>`;
      ul.append(li);
    }
    if (!ul.children.length) say($('#list-msg'), 'No events match.', 'info');
    const more = $('#more');
    more.hidden = !page.next;
    more.onclick = () => load(page.next).catch((err) => say($('#list-msg'), err.message));
  };
  try { await load(null); } catch (err) { say($('#list-msg'), err.message); }
  return null;
}

// ---- Accounts ------------------------------------------------------------------------------

function afterLogin() {
  const back = sessionStorage.getItem('ticketd.returnTo') || '#/';
  sessionStorage.removeItem('ticketd.returnTo');
  if (location.hash === back) route(); else location.hash = back;  // hashchange routes
}

async function loginPage() {
  const form = loginForm({
    title: 'Log in',
    footer: '<p class="muted">No account? <a href="#/register">Register</a> · <a href="#/forgot-password">Forgot your password?</a></p>',
    onDone: () => { flash(''); afterLogin(); },
  });
  setMain(form.html, 'Log in');
  form.bind();
  return null;
}

// Each problem is said next to its field, all at once (web/js/field_errors.js). The page's own checks
// spare a round trip; the server's answer (it knows the exact rules) is put next to the field it names,
// in plain words.
const REGISTER_CHECKS = {
  name: (v) => (v.trim() === '' ? 'Enter your name.' : new TextEncoder().encode(v).length > NAME_BYTES_MAX
    ? `At most ${NAME_BYTES_MAX} characters.` : ''),
  email: emailProblem,
  password: newPasswordProblem,
};
const REGISTER_REFUSALS = {
  name: `Enter your name (up to ${NAME_BYTES_MAX} characters).`,
  email: 'This is not an address we can send to: one plain address, like ann@example.com.',
  password: `Between ${PASSWORD_BYTES_MIN} and ${PASSWORD_BYTES_MAX} characters.`,
};

async function registerPage() {
  setMain(`
    <h1>Register</h1>
    <form id="register" class="card" novalidate>
      <div id="reg-msg"></div>
      ${fieldRow('reg', 'name', 'Name', 'autocomplete="name" required')}
      ${fieldRow('reg', 'email', 'Email', 'type="email" autocomplete="username" required')}
      ${fieldRow('reg', 'password', `Password (${PASSWORD_BYTES_MIN} characters or more)`, 'type="password" autocomplete="new-password" required')}
      <button type="submit">Create account</button>
    </form>`, 'Register');
  $('#register').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const f = new FormData(form);
    say($('#reg-msg'), '');
    if (showErrors(form, check(form, REGISTER_CHECKS))) return;
    try {
      await api.register(f.get('email').trim(), f.get('password'), f.get('name').trim());
      const s = await api.login(f.get('email').trim(), f.get('password'));
      session.save(s.token, { email: f.get('email').trim(), name: f.get('name').trim() });
      flash(`Welcome! We mailed a link to ${f.get('email').trim()}: open it to get your booking emails there.`, 'info', { keep: true });
      afterLogin();
    } catch (err) {
      const field = err.code === 'invalid_request' ? Object.keys(REGISTER_REFUSALS).find((n) => err.message.startsWith(n)) : null;
      if (err.code === 'email_taken') showErrors(form, { email: 'An account with this email exists already: log in instead.' });
      else if (field) showErrors(form, { [field]: REGISTER_REFUSALS[field] });
      else say($('#reg-msg'), err.message);
    }
  });
  return null;
}

// ---- Bookings ------------------------------------------------------------------------------

const eventCache = new Map();
async function eventOf(id) {
  if (!eventCache.has(id)) eventCache.set(id, api.event(id).catch(() => ({ id, name: `Event ${id}` })));
  return eventCache.get(id);
}

async function bookingsPage() {
  if (!requireLogin()) return null;
  setMain(`<h1>My bookings</h1><div id="bk-msg"></div><div id="bk"></div>`, 'My bookings');
  const render = async () => {
    const { bookings } = await api.bookings();
    if (!bookings.length) {
      $('#bk').innerHTML = '<p>No bookings yet. <a href="#/">Find an event</a>.</p>';
      return;
    }
    const rows = await Promise.all(bookings.map(async (b) => {
      const e = await eventOf(b.event_id);
      const action = b.status === 'CONFIRMED'
        ? `<button type="button" class="danger" data-cancel="${b.id}">Cancel booking ${b.id}</button>` : '';
      return `<tr><td data-label="Booking"><a href="#/bookings/${b.id}">#${b.id}</a></td><td data-label="Event">${esc(e.name)}</td>
        <td data-label="Seats">${b.seat_ids.length}</td><td data-label="Total">${esc(money(b.total_amount, b.currency))}</td>
        <td data-label="Status">${esc(statusText(b.status))}</td><td>${action}</td></tr>`;
    }));
    // On a phone the table becomes one card per booking (web/app.css, "table.stack"); data-label names each cell there.
    $('#bk').innerHTML = `<table class="stack"><caption class="visually-hidden">Your bookings</caption>
      <thead><tr><th scope="col">Booking</th><th scope="col">Event</th><th scope="col">Seats</th>
      <th scope="col">Total</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${rows.join('')}</tbody></table>`;
  };
  $('#bk').addEventListener('click', async (e) => {
    const id = e.target.dataset.cancel || e.target.dataset.confirm;
    if (!id) return;
    if (e.target.dataset.cancel) {  // ask once more, in place
      e.target.outerHTML = `<button type="button" class="danger" data-confirm="${id}">Confirm cancellation of booking ${id}</button>`;
      document.querySelector(`[data-confirm="${id}"]`).focus();
      return;
    }
    try {
      await api.cancel(id);
      say($('#bk-msg'), `Booking ${id} is cancelled and refunded; its seats are on sale again.`, 'ok');
      await render();
    } catch (err) { say($('#bk-msg'), err.message); }
  });
  await render();
  return null;
}

function statusText(s) {
  return { CONFIRMED: 'Confirmed', PENDING_PAYMENT: 'Awaiting payment', FAILED: 'Payment failed', CANCELLED: 'Cancelled' }[s] || s;
}

// "Floor, row A, seat 6" for each seat id, from the venue's layout (cached by the browser: ETag).
async function seatLabels(event, seatIds) {
  try {
    const venue = await api.venue(event.venue_id);
    const rows = [];
    for (const s of venue.sections) for (const r of s.rows) rows.push([s, r]);
    return seatIds.map((id) => {
      const hit = rows.find(([, r]) => id >= r.first_seat_id && id < r.first_seat_id + r.seats);
      if (!hit) return `seat ${id}`;
      if (hit[0].general_admission) return `${hit[0].name} (general admission)`;
      return `${hit[0].name}, row ${hit[1].label}, seat ${id - hit[1].first_seat_id + 1}`;
    });
  } catch {
    return seatIds.map((id) => `seat ${id}`);
  }
}

// A booking's page. While it waits for the bank (PENDING_PAYMENT, a card that needs 3-D Secure) it asks
// the server every POLL_MS until the status changes, and once what the bank asks of the buyer
// (GET /v1/bookings/{id}/payment-action): when that is a page to go to, a link takes the buyer there,
// and the bank sends them back here. The page is drawn again only when what it shows changed.
const BOOKING_POLL_MS = 2000;

async function bookingPage(id) {
  if (!requireLogin()) return null;
  let timer = null;     // the next poll, while the booking waits for the bank
  let action;          // the bank's request: undefined while not known, null for none, or {type, url}
  let drawn = null;    // what is on screen: status and action
  let left = false;    // the buyer left the page: a poll still under way draws nothing
  // One poll at a time: the next is set once this one is done.
  const poll = () => render().catch(() => { if (!left) timer = setTimeout(poll, BOOKING_POLL_MS); });
  const render = async () => {
    const b = await api.booking(id);
    if (b.status === 'PENDING_PAYMENT' && action === undefined) action = await paymentActionOf(id);
    if (left) return;
    const shown = `${b.status} ${action ? action.url : action}`;
    if (shown !== drawn) {
      // Drawn again under the buyer (a poll): focus that was on the page goes to its new heading,
      // which a screen reader announces, as on a page change.
      const again = drawn !== null;
      const hadFocus = again && (document.activeElement === document.body || $('#main').contains(document.activeElement));
      drawn = shown;
      if (!(await drawBooking(b, action, () => !left))) return;
      if (hadFocus) { const h1 = $('#main h1'); h1.tabIndex = -1; h1.focus(); }
    }
    if (b.status === 'PENDING_PAYMENT') timer = setTimeout(poll, BOOKING_POLL_MS);
  };
  await render();
  return () => { left = true; clearTimeout(timer); };
}

// The bank's request for a booking: {type, url} of a page to send the buyer to, null when it asks
// nothing (409 no_payment_action; also any other refusal, such as a server without the route), or
// undefined when the server could not say now (asked again on the next poll).
async function paymentActionOf(id) {
  try {
    const a = await api.paymentAction(id);
    return a && a.type === 'redirect_to_url' && /^https?:\/\//i.test(a.url || '') ? a : null;
  } catch (err) {
    return err instanceof ApiError && err.status >= 400 && err.status < 500 ? null : undefined;
  }
}

// Why a payment failed, in the buyer's words: the gateway's own message is written for developers
// (Stripe's for failed 3-D Secure speaks of payment_method_data).
const FAILED_TEXT = {
  payment_intent_authentication_failure: 'Your bank did not confirm this payment.',
  generic_decline: 'Your card was declined.',
  card_declined: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
};

// Draws booking b; false (and nothing drawn) when the page was left meanwhile (shown() turned false).
async function drawBooking(b, action, shown) {
  const e = await eventOf(b.event_id);
  const labels = await seatLabels(e, b.seat_ids);
  if (!shown()) return false;
  const heading = { CONFIRMED: 'Booking confirmed', PENDING_PAYMENT: 'Waiting for your bank',
    FAILED: 'Payment failed', CANCELLED: 'Booking cancelled' }[b.status] || 'Booking';
  const failed = b.status === 'FAILED' ? `<div class="msg error">
      <p>${esc(FAILED_TEXT[b.decline_code] || b.message || 'The payment did not go through.')}</p>
      <p><a href="#/events/${b.event_id}">Choose seats again</a></p></div>` : '';
  const pending = b.status !== 'PENDING_PAYMENT' ? ''
    : action ? `<div class="msg info"><p>Your bank wants to confirm this payment.</p>
      <p><a class="button" id="bank-confirm" href="${esc(action.url)}">Confirm with your bank</a></p>
      <p class="small">Your bank brings you back to this page afterwards.</p></div>`
      : '<p class="msg info">Your bank asked for confirmation. This page updates by itself.</p>';
  setMain(`
    <h1>${esc(heading)}</h1>
    <div class="card">
      <p><strong>${esc(e.name)}</strong>${e.starts_at ? ' · ' + esc(when(e.starts_at)) : ''}</p>
      <p>Booking <strong>#${b.id}</strong> · ${esc(statusText(b.status))}</p>
      <p>${b.seat_ids.length === 1 ? 'Seat' : `${b.seat_ids.length} seats`}:</p>
      <ul>${labels.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
      <p>Total: <strong>${esc(money(b.total_amount, b.currency))}</strong></p>
      ${b.payment_ref ? `<p class="muted">Payment reference ${esc(b.payment_ref)}</p>` : ''}
      ${failed}${pending}
    </div>
    ${b.status === 'CONFIRMED' ? '<section aria-labelledby="tickets-h"><h2 id="tickets-h">Tickets</h2><ul id="tickets" class="tickets"><li>Loading…</li></ul></section>' : ''}
    <p><a href="#/bookings">All my bookings</a> · <a href="#/events/${b.event_id}">Back to the event</a></p>`, heading);
  if (b.status === 'CONFIRMED') await listTickets(b.id);
  return true;
}

// The booking's tickets, each a link to its page (and kept on this device for the door, offline).
async function listTickets(bookingId) {
  const ul = $('#tickets');
  try {
    const { tickets } = await api.bookingTickets(bookingId);
    for (const t of tickets) if (t.code) savedTickets.put(t);
    ul.innerHTML = tickets.map((t) => `<li>${t.code
      ? `<a href="#/tickets/${esc(t.id)}">Show ticket: ${esc(seatText(t))}</a>`
      : `${esc(seatText(t))}: ${t.revoked_reason === 'resold' ? 'resold, see <a href="#/tickets">My tickets</a>' : 'no longer valid'}`}</li>`).join('')
      || '<li>No tickets.</li>';
  } catch (e) {
    ul.innerHTML = `<li>${esc(e.message)}</li>`;
  }
}

// ---- Start ---------------------------------------------------------------------------------

$('#logout').addEventListener('click', async () => {
  try { await api.logout(); } catch { /* the token is dropped either way */ }
  session.clear();
  flash('You are logged out.', 'info', { keep: location.hash.replace(/^#\/?/, '') !== '' });
  location.hash = '#/';
  updateNav();
});
window.addEventListener('hashchange', () => { clearFlash(); route(); });
// Keeps the app (and a ticket once opened) usable offline; the API itself is never cached.
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
route();
