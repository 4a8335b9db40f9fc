// A ticket at the door: the rotating QR code full screen (docs/tickets.md, "The rotating code"). The
// digits are computed here from the ticket's own key, every 15 s, so the page keeps working offline
// once it has been opened (the ticket is kept on this device until logout; sw.js keeps the page).
import { api, ApiError, when } from './api.js';
import { esc, $, say, setMain } from './ui.js';
import { drawQr } from './qr.js';
import { rotatingCode, stepAt, STEP_S } from './ticket_code.js';

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

export async function ticketPage(id) {
  const { ticket: t, offline } = await load(id);
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
    <p><a href="#/bookings/${t.booking_id}">Back to the booking</a></p>`, 'Ticket');
  if (offline) say($('#ticket-msg'), 'You are offline: this is the copy kept on this device, and its code still works.', 'info');
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
