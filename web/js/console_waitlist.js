// The waiting list on an event's dashboard in the console (docs/web.md, "Waiting list"): its figures
// from GET /v1/events/{id}/waitlist/stats (asked again every STATS_EVERY_MS), the draw's commitment and,
// once drawn, its seed, and the organizer's settings (PUT /v1/events/{id}/waitlist/settings): whether
// returned seats are offered to the list, whether it takes new entries, whether tickets listed for resale
// go on open sale when nobody waits (off: only the list's offers take them), the time to pay an offer and
// the draw window. The form is filled from the server once, and again after a save, never under the
// organizer's hands.
import { call } from './api.js';
import { esc, $, say } from './ui.js';
import { clockTime } from './time_text.js';

const STATS_EVERY_MS = 5000;
// The bounds on what the form sets, checked here first so the answer is next to the form. The form
// speaks whole minutes, so its least is one (the API itself takes shorter offers, for tests).
const OFFER_TTL_S_MIN = 60, OFFER_TTL_S_MAX = 86_400;
const DRAW_WINDOW_S_MAX = 3600;

const COUNTS = [['waiting', 'waiting'], ['offered', 'offered now'], ['fulfilled', 'bought'], ['lapsed', 'lapsed'],
  ['left', 'left'], ['skipped', 'passed over']];

export function waitlistSectionHtml() {
  return `<section aria-labelledby="wls-h" id="wls">
      <h2 id="wls-h">Waiting list</h2>
      <p id="wls-state">Loading…</p>
      <ul class="tiles" id="wls-counts" aria-label="Waiting list figures"></ul>
      <p id="wls-draw" class="small"></p>
      <form id="wls-form" class="card" novalidate hidden>
        <p><label class="inline"><input type="checkbox" name="enabled"> Offer seats that come back to the waiting list
          (off: they go on open sale)</label></p>
        <p><label class="inline"><input type="checkbox" name="open"> Take new entries (closed: the people on the list
          are still served)</label></p>
        <p><label class="inline"><input type="checkbox" name="resale_open_sale" aria-describedby="wls-resale-hint">
          Resale seats go on open sale when nobody waits</label>
          <span class="small muted" id="wls-resale-hint">Off: tickets listed for resale are only offered to the
            waiting list.</span></p>
        <div class="row">
          <label>Minutes to pay an offer <input name="offer_minutes" type="number" min="${OFFER_TTL_S_MIN / 60}"
            max="${OFFER_TTL_S_MAX / 60}" step="1" required></label>
          <label>Draw window (seconds after the first join) <input name="draw_window_s" type="number" min="0"
            max="${DRAW_WINDOW_S_MAX}" step="1" required></label>
        </div>
        <p><button type="submit" class="secondary">Save the waiting list</button></p>
        <div id="wls-msg" aria-live="polite"></div>
      </form>
    </section>`;
}

// Starts following the list of `eventId` (the section is on the page); returns the function that stops.
export function followWaitlist(eventId) {
  let filled = false;
  let list = null;     // L as last read
  let stopped = false;
  const form = $('#wls-form');

  const fill = (l) => {
    form.elements.enabled.checked = l.enabled;
    form.elements.open.checked = l.open;
    form.elements.resale_open_sale.checked = l.resale_open_sale !== false;  // on unless the server says off
    form.elements.offer_minutes.value = Math.round(l.offer_ttl_s / 60);
    form.elements.draw_window_s.value = l.draw_window_s;
    form.hidden = false;
    filled = true;
  };

  const showList = (l) => {
    list = l;
    const state = !l.enabled ? 'Off: seats that come back go on open sale; the people on the list wait.'
      : l.open ? 'On: seats that come back are offered to the people on the list, in order.'
        : 'Closed to new entries: the people on the list are still offered seats.';
    setText($('#wls-state'), state);
    const draw = drawText(l);
    if ($('#wls-draw').innerHTML !== draw) $('#wls-draw').innerHTML = draw;
    if (!filled) fill(l);
  };

  const load = async () => {
    try {
      const s = await call('GET', `/v1/events/${eventId}/waitlist/stats`);
      if (stopped) return;
      showList(s.waitlist);
      const tiles = [...COUNTS.map(([k, word]) => [s.counts[k], word]),
        [s.offers_last_hour, 'offers in the last hour'], [s.seats_offered_last_hour, 'seats offered in the last hour']];
      const html = tiles.map(([n, word]) => `<li><span class="tile-n">${Number(n || 0).toLocaleString()}</span> ${esc(word)}</li>`).join('');
      if ($('#wls-counts').innerHTML !== html) $('#wls-counts').innerHTML = html;
    } catch (err) {
      if (stopped) return;
      if (err.status === 404) {  // a server without the waiting list
        clearInterval(timer);
        setText($('#wls-state'), 'This server has no waiting list.');
        form.hidden = true;
      }
      // Otherwise the next round tries again.
    }
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    const minutes = Number(f.offer_minutes.value), drawS = Number(f.draw_window_s.value);
    // Only what changed besides the three switches: an offer time that is not whole minutes (the API takes
    // seconds) stays as it is unless the organizer changes it.
    const body = { enabled: f.enabled.checked, open: f.open.checked, resale_open_sale: f.resale_open_sale.checked };
    if (!list || minutes !== Math.round(list.offer_ttl_s / 60)) {
      if (!Number.isInteger(minutes) || minutes * 60 < OFFER_TTL_S_MIN || minutes * 60 > OFFER_TTL_S_MAX) {
        return say($('#wls-msg'), `Minutes to pay an offer: a whole number from ${OFFER_TTL_S_MIN / 60} to ${OFFER_TTL_S_MAX / 60}.`);
      }
      body.offer_ttl_s = minutes * 60;
    }
    if (!list || drawS !== list.draw_window_s) {
      if (!Number.isInteger(drawS) || drawS < 0 || drawS > DRAW_WINDOW_S_MAX) {
        return say($('#wls-msg'), `Draw window: a whole number of seconds from 0 to ${DRAW_WINDOW_S_MAX}.`);
      }
      body.draw_window_s = drawS;
    }
    try {
      const r = await call('PUT', `/v1/events/${eventId}/waitlist/settings`, body);
      if (stopped) return;
      showList(r.waitlist);
      fill(r.waitlist);
      say($('#wls-msg'), `Saved: ${!r.waitlist.enabled ? 'the waiting list is off' : r.waitlist.open
        ? 'the waiting list is on' : 'the waiting list is closed to new entries'}.`, 'ok');
      load();
    } catch (err) { if (!stopped) say($('#wls-msg'), err.message); }
    return null;
  });

  const timer = setInterval(load, STATS_EVERY_MS);
  load();
  return () => { stopped = true; clearInterval(timer); };
}

// The draw: who joined within draw_window_s of the first join is ordered by a seed committed to at that
// first join and published once the window ends, so anyone can check the order was not chosen.
function drawText(l) {
  if (!l.draw_window_s) return 'No draw: first come, first served.';
  const early = `Joins within ${l.draw_window_s} s of the first join are ordered by a draw`;
  if (!l.commitment) return `${early}.`;
  const at = l.draw_at ? clockTime(l.draw_at) : 'the end of the window';
  if (!l.seed) return `${early} at ${esc(at)}; its commitment is <code class="hex">${esc(l.commitment)}</code>.`;
  return `Drawn at ${esc(at)} (anyone can check the order): seed <code class="hex">${esc(l.seed)}</code>, commitment
    <code class="hex">${esc(l.commitment)}</code>.`;
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}
