// The waiting room (issue 5's queue): join, watch position and estimated wait, enter automatically
// when admitted. The access token it receives is sent with holds of that event (X-Access-Token).
// SOLD_OUT is not final: the page keeps the place and goes on asking, since seats that come back go
// to the people waiting. A turn that ended can be joined again, at the end of the line.
// Visitors who are not logged in see the room too (the event page sends everyone here): that a queue
// is in force, the time left until the sale opens, and a button to log in and join.
import { api, access, session, when } from './api.js';
import { esc, $, say, setMain, flash } from './ui.js';
import { requireLogin } from './app.js';
import { clockTime, timeLeft, duration } from './time_text.js';

const POLL_S_MIN = 1, POLL_S_MAX = 30;  // whatever Retry-After says, stay within these
const POLL_S_DEFAULT = 5;               // an answer that says nothing about when to ask again

const SOLD_OUT_TEXT = 'Sold out for now. You keep your place in line: seats that come back (unpaid holds, '
  + 'cancellations) go to the people waiting, in order.';

const queueKey = (eventId) => `ticketd.queue.${eventId}`;

export async function queuePage(eventId) {
  const event = await api.event(eventId);
  if (!session.token) return visitorPage(event);
  setMain(`
    <h1>Waiting room: ${esc(event.name)}</h1>
    <div class="card" aria-live="polite" aria-atomic="true">
      <p id="q-status">Joining the line…</p>
      <p>Your place in line: <strong id="q-pos">—</strong></p>
      <p>Estimated wait: <strong id="q-eta">—</strong></p>
    </div>
    <p id="q-opens"></p>
    <p class="muted">Keep this page open: you go to the seat map by yourself when it is your turn.
      Leaving and coming back keeps your place.</p>
    <div id="q-msg"></div>
    <p><a href="#/">Back to events</a></p>`, `Waiting room: ${event.name}`);
  let timer = null;
  let stopped = false;
  const stopCountdown = saleCountdown(event);

  let placeShown = null;  // the last place an answer gave (WAITING, or SOLD_OUT from a server that sends it)

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
    if (v.status === 'EXPIRED') {
      // The place is gone; joining again gives a new one at the end of the line (docs/api.md). No more
      // polls: this token can only ever answer EXPIRED.
      sessionStorage.removeItem(queueKey(eventId));
      setText(pos, '—');
      setText(eta, '—');
      const ended = v.access_expires_at ? `Your turn ended at ${clockTime(v.access_expires_at)}.` : 'Your turn ended.';
      setText(status, `${ended} Join the line again: you go to the end.`);
      $('#q-msg').innerHTML = '<button type="button" id="rejoin">Join the line again</button>';
      $('#rejoin').onclick = () => { $('#q-msg').innerHTML = ''; join(); };
      return;
    }
    if (v.status === 'SOLD_OUT') {
      // Not final (docs/api.md): when holds lapse or are released the status goes back to WAITING and
      // admission resumes, in line order. So the token stays and the polls go on.
      setText(status, SOLD_OUT_TEXT);
      if (v.position != null) placeShown = Number(v.position).toLocaleString();
      setText(pos, placeShown ?? 'kept');
      setText(eta, 'not until seats come back');
      timer = setTimeout(poll, pollWaitS(v, retryAfterS) * 1000);
      return;
    }
    setText(status, v.draw_pending
      ? `The sale opens at ${when(event.on_sale_at)}. Everyone in line by then gets a random place, so there is no need to rush.`
      : 'You are in line.');
    if (v.position != null) placeShown = Number(v.position).toLocaleString();
    setText(pos, v.position == null ? 'drawn when the sale opens' : placeShown);
    setText(eta, v.estimated_wait_s == null ? 'not known yet' : duration(v.estimated_wait_s));
    let wait = pollWaitS(v, retryAfterS);
    // Before the draw, ask again just after the sale opens rather than later.
    const untilSale = (new Date(event.on_sale_at).getTime() - Date.now()) / 1000;
    if (v.draw_pending && untilSale > 0) wait = Math.min(wait, Math.max(POLL_S_MIN, untilSale + 0.5));
    timer = setTimeout(poll, wait * 1000);
  };

  // Seconds until the next poll: what the server says (Retry-After, else the answer's retry_after_s),
  // else the room's release interval (nobody is let in between two releases), within POLL_S_MIN..MAX.
  const pollWaitS = (v, retryAfterS) => {
    const said = [retryAfterS, v.retry_after_s, event.waiting_room && event.waiting_room.release_interval_s]
      .map(Number).find((s) => s > 0);
    return Math.min(POLL_S_MAX, Math.max(POLL_S_MIN, said || POLL_S_DEFAULT));
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
  return () => { stopped = true; clearTimeout(timer); stopCountdown(); };
}

// A visitor who is not logged in: what the room is, when the sale opens, and a way in. No seat map,
// so nothing offers to hold seats that the API would refuse without a place in line.
async function visitorPage(event) {
  let room = null;
  try { room = await api.queueInfo(event.id); } catch { /* the page says enough without it */ }
  const opensLater = room && room.opens_at && new Date(room.opens_at).getTime() > Date.now();
  const beforeSale = new Date(event.on_sale_at).getTime() > Date.now();
  setMain(`
    <h1>Waiting room: ${esc(event.name)}</h1>
    <div class="card">
      <p><strong>A queue is in force for this sale.</strong> Everyone who wants tickets gets in line, and people
        are let in to choose seats a few at a time.</p>
      ${beforeSale ? `<p>The sale opens at ${esc(when(event.on_sale_at))}. Everyone in line by then gets a random place,
        so there is no need to rush.</p>` : ''}
      <p id="q-opens"></p>
      ${opensLater ? `<p>The line opens at ${esc(when(room.opens_at))}.</p>` : ''}
      <button type="button" id="q-login">Log in to join the queue</button>
    </div>
    <p class="muted">No account? <a href="#/register" id="q-register">Register</a>, then join.</p>
    <p><a href="#/">Back to events</a></p>`, `Waiting room: ${event.name}`);
  $('#q-login').onclick = () => requireLogin();  // back here once logged in
  $('#q-register').onclick = () => sessionStorage.setItem('ticketd.returnTo', location.hash);
  return saleCountdown(event);
}

// "Time until the sale opens: 1:02:03", every second, until it has opened; returns the function that
// stops it.
function saleCountdown(event) {
  const el = $('#q-opens');
  const onSale = new Date(event.on_sale_at).getTime();
  el.innerHTML = 'Time until the sale opens: <strong class="countdown" role="timer" id="q-countdown"></strong>';
  const update = () => {
    const leftS = Math.ceil((onSale - Date.now()) / 1000);
    if (leftS <= 0) {
      clearInterval(timer);
      el.textContent = 'The sale is open.';
      return;
    }
    $('#q-countdown', el).textContent = timeLeft(leftS);
  };
  const timer = setInterval(update, 1000);
  update();
  return () => clearInterval(timer);
}

// Writes only a change: the card is a live region, and a poll that repeats the same words should not
// have them read out again.
function setText(el, text) {
  if (el.textContent !== String(text)) el.textContent = text;
}

