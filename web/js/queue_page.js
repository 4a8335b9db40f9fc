// The waiting room (issue 5's queue): join, watch position and estimated wait, enter automatically
// when admitted. The access token it receives is sent with holds of that event (X-Access-Token).
import { api, access, when } from './api.js';
import { esc, $, say, setMain, flash } from './ui.js';
import { requireLogin } from './app.js';

const POLL_S_MIN = 1, POLL_S_MAX = 30;  // whatever Retry-After says, stay within these

const queueKey = (eventId) => `ticketd.queue.${eventId}`;

export async function queuePage(eventId) {
  if (!requireLogin()) return null;
  const event = await api.event(eventId);
  setMain(`
    <h1>Waiting room: ${esc(event.name)}</h1>
    <div class="card" aria-live="polite" aria-atomic="true">
      <p id="q-status">Joining the line…</p>
      <p>Your place in line: <strong id="q-pos">—</strong></p>
      <p>Estimated wait: <strong id="q-eta">—</strong></p>
    </div>
    <p class="muted">Keep this page open: you go to the seat map by yourself when it is your turn.
      Leaving and coming back keeps your place.</p>
    <div id="q-msg"></div>
    <p><a href="#/">Back to events</a></p>`, `Waiting room: ${event.name}`);
  let timer = null;
  let stopped = false;

  const show = (v, retryAfterS) => {
    const pos = $('#q-pos'), eta = $('#q-eta'), status = $('#q-status');
    if (!pos) return;  // the page was left
    if (v.status === 'ADMITTED') {
      access.save(eventId, v.access_token, v.access_expires_at);
      sessionStorage.removeItem(queueKey(eventId));
      flash(`It is your turn: choose seats before ${when(v.access_expires_at)}.`, 'ok', { keep: true });
      location.hash = `#/events/${eventId}`;
      return;
    }
    if (v.status === 'EXPIRED' || v.status === 'SOLD_OUT') {
      sessionStorage.removeItem(queueKey(eventId));
      status.textContent = v.status === 'SOLD_OUT' ? 'Sold out: there are no seats left for this event.'
        : 'Your turn came and went without a purchase, so your place was given up.';
      pos.textContent = eta.textContent = '—';
      if (v.status === 'EXPIRED') {
        $('#q-msg').innerHTML = '<button type="button" id="rejoin">Join the line again</button>';
        $('#rejoin').onclick = () => { $('#q-msg').innerHTML = ''; join(); };
      }
      return;
    }
    status.textContent = v.draw_pending
      ? `The sale opens at ${when(event.on_sale_at)}. Everyone in line by then gets a random place, so there is no need to rush.`
      : 'You are in line.';
    pos.textContent = v.position == null ? 'drawn when the sale opens' : Number(v.position).toLocaleString();
    eta.textContent = v.estimated_wait_s == null ? 'not known yet' : duration(v.estimated_wait_s);
    let wait = Math.min(POLL_S_MAX, Math.max(POLL_S_MIN, Number(retryAfterS) || 5));
    // Before the draw, ask again just after the sale opens rather than later.
    const untilSale = (new Date(event.on_sale_at).getTime() - Date.now()) / 1000;
    if (v.draw_pending && untilSale > 0) wait = Math.min(wait, Math.max(POLL_S_MIN, untilSale + 0.5));
    timer = setTimeout(poll, wait * 1000);
  };

  const poll = async () => {
    if (stopped) return;
    const token = sessionStorage.getItem(queueKey(eventId));
    if (!token) return join();
    try {
      const { data, headers } = await api.queueStatus(eventId, token);
      show(data, headers.get('retry-after'));
    } catch (err) {
      if (err.code && err.code.startsWith('queue_token')) { sessionStorage.removeItem(queueKey(eventId)); return join(); }
      say($('#q-msg'), `${err.message} Retrying…`);
      timer = setTimeout(poll, POLL_S_MAX * 1000);
    }
  };

  const join = async () => {
    try {
      const { data, headers } = await api.joinQueue(eventId);
      sessionStorage.setItem(queueKey(eventId), data.queue_token);
      say($('#q-msg'), '');
      show(data, headers.get('retry-after'));
    } catch (err) {
      if (err.code === 'waiting_room_off') { location.hash = `#/events/${eventId}`; return; }
      const text = {
        queue_not_open: 'The waiting room is not open yet. Come back closer to the sale.',
        queue_full: 'The line is full right now. Try again in a little while.',
      }[err.code] || err.message;
      $('#q-status').textContent = text;
      $('#q-msg').innerHTML = '<button type="button" id="retry">Try again</button>';
      $('#retry').onclick = () => { $('#q-msg').innerHTML = ''; join(); };
    }
  };

  if (sessionStorage.getItem(queueKey(eventId))) await poll(); else await join();
  return () => { stopped = true; clearTimeout(timer); };
}

function duration(s) {
  if (s < 60) return 'less than a minute';
  const m = Math.round(s / 60);
  return m < 60 ? `about ${m} minute${m === 1 ? '' : 's'}` : `about ${Math.round(m / 6) / 10} hours`;
}

