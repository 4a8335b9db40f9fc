// Face-value resale on an event's dashboard in the console (docs/web.md, "Resale"): the figures from
// GET /v1/events/{id}/resale/stats, asked again every STATS_EVERY_MS: tickets listed now, sold, withdrawn,
// the face value of those sold (what their sellers get back) and the sellers' refunds not yet paid.
import { call, money } from './api.js';
import { esc, $ } from './ui.js';

const STATS_EVERY_MS = 5000;  // as the waiting list's figures beside them

export function resaleSectionHtml() {
  return `<section aria-labelledby="rs-h" id="rs">
      <h2 id="rs-h">Resale at face value</h2>
      <p id="rs-state" class="small">Loading…</p>
      <ul class="tiles" id="rs-counts" aria-label="Resale figures"></ul>
    </section>`;
}

// Starts following the resale figures of `eventId` (the section is on the page); returns the function
// that stops.
export function followResale(eventId) {
  let stopped = false;
  const load = async () => {
    try {
      const s = await call('GET', `/v1/events/${eventId}/resale/stats`);
      if (stopped) return;
      setText($('#rs-state'), 'Buyers can list their tickets at the price they paid; a seat listed goes to the waiting '
        + 'list first, then on open sale unless the waiting list keeps it, and its seller is refunded when it sells.');
      const count = (n) => Number(n || 0).toLocaleString();
      const tiles = [[count(s.listed), 'listed now'], [count(s.sold), 'sold'], [count(s.withdrawn), 'withdrawn'],
        [s.currency ? money(s.sold_amount || 0, s.currency) : count(s.sold_amount), 'sold, face value'],
        [count(s.refunds_pending), 'refunds pending']];
      const html = tiles.map(([n, word]) => `<li><span class="tile-n">${esc(n)}</span> ${esc(word)}</li>`).join('');
      if ($('#rs-counts').innerHTML !== html) $('#rs-counts').innerHTML = html;
    } catch (err) {
      if (stopped) return;
      if (err.status === 404) {  // a server without resale
        clearInterval(timer);
        setText($('#rs-state'), 'This server has no resale.');
      }
      // Otherwise the next round tries again.
    }
  };
  const timer = setInterval(load, STATS_EVERY_MS);
  load();
  return () => { stopped = true; clearInterval(timer); };
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}
