// A ticket at the door: the rotating QR code full screen (docs/tickets.md, "The rotating code"). The
// digits are computed here from the ticket's own key, every 15 s, so the page keeps working offline
// once it has been opened (the ticket is kept on this device until logout; sw.js keeps the page).
import { api, ApiError, when } from './api.js';
import { esc, $, say, setMain } from './ui.js';
import { drawQr } from './qr.js';
import { rotatingCode, stepAt, STEP_S } from './ticket_code.js';
import { TicketResale, isResold } from './resale.js';

const STORE_KEY = 'ticketd.tickets';
const STORED_MAX = 50;

export const savedTickets = {
  all() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY) || '{}'); } catch { return {}; }
  },
  get(id) { return this.all()[id] || null; },
  put(ticket) {
    const all = this.all();
    all[ticket.id] = ticket;
    const ids = Object.keys(all);
    for (const old of ids.slice(0, Math.max(0, ids.length - STORED_MAX))) delete all[old];
    localStorage.setItem(STORE_KEY, JSON.stringify(all));
  },
  clear() { localStorage.removeItem(STORE_KEY); },
};

export function seatText(t) {
  if (t.general_admission) return `${t.section} (general admission)`;
  return t.row ? `${t.section}, row ${t.row}, seat ${t.seat_number}` : `${t.section || 'Seat'} ${t.seat_number || t.seat_id}`;
}

async function load(id) {
  try {
    const t = await api.ticket(id);
    savedTickets.put(t);
    return { ticket: t, offline: false };
  } catch (e) {
    const saved = savedTickets.get(id);
    if (e instanceof ApiError && e.code === 'network' && saved) return { ticket: saved, offline: true };
    if (e instanceof ApiError && e.status === 404) savedTickets.put({ ...(saved || { id }), status: 'REVOKED', code: undefined });
    throw e;
  }
}

// Whether ticket `id` is listed for resale now (its page then offers no transfer: the server refuses one).
// Not known (offline, no resale on this server, not listed) reads as not listed.
async function listedForResale(id) {
  try {
    const { listing } = await api.listing(id);
    return listing.state === 'LISTED';
  } catch {
    return false;
  }
}

export async function ticketPage(id) {
  const [{ ticket: t, offline }, listed] = await Promise.all([load(id), listedForResale(id)]);
  const revoked = t.status === 'REVOKED' || !t.code;
  setMain(`
    <h1>${esc(t.event_name || 'Ticket')}</h1>
    <section class="ticket card" aria-labelledby="ticket-seat">
      <p class="muted">${t.starts_at ? esc(when(t.starts_at)) : ''}</p>
      <p id="ticket-seat" class="ticket-seat">${esc(seatText(t))}</p>
      ${revoked ? `<div class="msg error" role="alert">This ticket is no longer valid${t.revoked_reason ? ` (${esc(t.revoked_reason.replace(/_/g, ' '))})` : ''}.</div>` : `
      <canvas id="ticket-qr" class="ticket-qr" role="img" aria-label="Entry code for ${esc(seatText(t))}"></canvas>
      <p class="muted" id="ticket-ticks" aria-live="off"></p>
      <p>Show this screen at the door. The code changes every ${STEP_S} seconds, so a screenshot or a
        photo of it stops working.</p>`}
      <p class="muted">Ticket ${esc(t.id.slice(0, 8))} · ${esc(t.status === 'CHECKED_IN' ? 'Checked in' : t.status === 'VALID' ? 'Valid' : 'Revoked')}</p>
    </section>
    <div id="ticket-msg"></div>
    ${listed ? `<p class="msg info">Listed for resale, so it cannot be sent to anyone: withdraw the listing on
      <a href="#/tickets">My tickets</a> first.</p>` : ''}
    ${!revoked && t.status === 'VALID' && !offline && !listed ? `
    <details class="card" id="send">
      <summary>Send this ticket to someone</summary>
      <form id="send-form" novalidate>
        <p>They get a new ticket when they accept, with an account under this address. This ticket stops
          working at once; you can take it back until they accept.</p>
        <div id="send-msg"></div>
        <p><label>Their email <input name="email" type="email" autocomplete="off" required maxlength="254"
          aria-describedby="send-msg"></label></p>
        <button type="submit">Send ticket</button>
      </form>
    </details>` : ''}
    <p><a href="#/tickets">All my tickets</a></p>`, 'Ticket');
  if (offline) say($('#ticket-msg'), 'You are offline: this is the copy kept on this device, and its code still works.', 'info');
  $('#send-form')?.addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = new FormData(e.target).get('email').trim();
    if (!email) return say($('#send-msg'), 'Enter the email address of the person you are sending it to.');
    try {
      await api.sendTicket(t.id, email);
      savedTickets.put({ ...t, status: 'REVOKED', code: undefined, revoked_reason: 'transferred' });
      location.hash = '#/tickets';
    } catch (err) {
      say($('#send-msg'), err.code === 'invalid_request' ? `That is not an email address we can send to (${err.message}).` : err.message);
    }
  });
  if (revoked) return null;
  if (!(window.crypto && crypto.subtle)) {
    say($('#ticket-msg'), 'This browser cannot compute the live code on this connection (it needs https).');
    return null;
  }
  const canvas = $('#ticket-qr');
  let shownStep = -1;
  const tick = async () => {
    const now = Date.now();
    const step = stepAt(now);
    if (step !== shownStep) {
      shownStep = step;
      const code = await rotatingCode(t.code, t.rotation.key, now);
      const size = Math.min(window.innerWidth - 40, window.innerHeight - 160, 480);
      drawQr(canvas, code, Math.max(size, 200));
      canvas.dataset.step = String(step);
    }
    const left = STEP_S - Math.floor((now / 1000) % STEP_S);
    $('#ticket-ticks').textContent = `New code in ${left} s`;
  };
  await tick();
  const timer = setInterval(() => { tick().catch(() => {}); }, 1000);
  return () => clearInterval(timer);
}

// Every ticket the user holds (bought or received), the transfers waiting on them, and each ticket's
// resale (web/js/resale.js): a resold ticket stays in the list, saying what came back.
export async function ticketsPage() {
  const main = setMain(`
    <h1>My tickets</h1>
    <div id="tk-msg" aria-live="polite"></div>
    <section aria-labelledby="in-h" id="incoming" hidden><h2 id="in-h">Sent to you</h2><ul id="in-list"></ul></section>
    <section aria-labelledby="out-h" id="outgoing" hidden><h2 id="out-h">Waiting for the other person</h2><ul id="out-list"></ul></section>
    <section aria-labelledby="mine-h"><h2 id="mine-h">Tickets</h2><ul id="mine" class="tickets"><li>Loading…</li></ul></section>`, 'My tickets');
  let shown = [];     // the tickets drawn in #mine
  const drawn = new Map();  // ticket id -> the html of its item, as drawn
  let asked = 0;      // the latest request: an older answer (a poll overtaken by a press) is dropped
  const item = (t) => `<a href="#/tickets/${esc(t.id)}">${esc(t.event_name)}: ${esc(seatText(t))}</a>
      ${t.status === 'CHECKED_IN' ? '(inside)' : ''}${resale.html(t)}`;
  const drawMine = () => drawItems($('#mine'), shown.map((t) => [t.id, item(t)]), drawn, '<li>No tickets yet.</li>');
  const render = async () => {
    const mine = ++asked;
    const [{ tickets }, { transfers }] = await Promise.all([api.myTickets(), api.transfers(), resale.load()]);
    if (mine !== asked || !main.isConnected) return;
    for (const t of tickets) if (t.code) savedTickets.put(t);
    const pendingIn = transfers.filter((x) => x.status === 'PENDING' && x.direction === 'received');
    const pendingOut = transfers.filter((x) => x.status === 'PENDING' && x.direction === 'sent');
    $('#incoming').hidden = !pendingIn.length;
    setHtml($('#in-list'), pendingIn.map((x) => `<li>A ticket for ${esc(x.event_name || `event ${x.event_id}`)}
      <button type="button" data-accept="${x.id}">Accept ticket ${x.id}</button></li>`).join(''));
    $('#outgoing').hidden = !pendingOut.length;
    setHtml($('#out-list'), pendingOut.map((x) => `<li>${esc(x.event_name || '')}: sent to ${esc(x.to_email)}
      <button type="button" class="secondary" data-cancel="${x.id}">Take back ticket ${x.id}</button></li>`).join(''));
    shown = tickets.filter((t) => t.status !== 'REVOKED' || isResold(t));
    drawMine();
    resale.loaded(shown);
  };
  const resale = new TicketResale({ msg: $('#tk-msg'), redraw: drawMine, reload: render, seatText });
  main.addEventListener('keydown', (e) => resale.handle(e, shown));
  main.addEventListener('click', async (e) => {
    if (resale.handle(e, shown)) return;
    const accept = e.target.dataset.accept, cancel = e.target.dataset.cancel;
    if (!accept && !cancel) return;
    try {
      const x = accept ? await api.acceptTransfer(accept) : await api.cancelTransfer(cancel);
      say($('#tk-msg'), accept ? 'The ticket is yours: it is in your list below.' : 'The ticket is back with you, with a new code.', 'ok');
      await render();
      $(`a[href="#/tickets/${x.ticket_id}"]`)?.focus();
    } catch (err) { say($('#tk-msg'), err.message); }
  });
  await render();
  return () => resale.stop();
}

function setHtml(el, html) {
  if (el.innerHTML !== html) el.innerHTML = html;
}

// Draws `items` ([key, html]) as the list's items, touching only those whose html changed, so a poll
// that changes one ticket leaves focus on another where it is. Focus inside an item drawn again goes to
// the item's first control.
function drawItems(ul, items, drawn, empty) {
  const focused = ul.contains(document.activeElement) ? document.activeElement.closest('li[data-key]') : null;
  const focusedKey = focused ? focused.dataset.key : null;
  const same = ul.children.length === items.length && items.every(([key], i) => ul.children[i].dataset.key === key);
  let lost = false;
  if (!same) {
    drawn.clear();
    ul.innerHTML = items.map(([key, html]) => `<li data-key="${esc(key)}">${html}</li>`).join('') || empty;
    for (const [key, html] of items) drawn.set(key, html);
    lost = focusedKey !== null;
  } else {
    items.forEach(([key, html], i) => {
      if (drawn.get(key) === html) return;
      ul.children[i].innerHTML = html;
      drawn.set(key, html);
      if (key === focusedKey) lost = true;
    });
  }
  if (!lost) return;
  const li = [...ul.children].find((el) => el.dataset.key === focusedKey);
  const target = li && (li.querySelector('button') || li.querySelector('a'));
  if (target) target.focus();
}
