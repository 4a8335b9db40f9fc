// The waiting list of a sold-out event, as a card on the event page (docs/web.md, "Waiting list").
// When no seat is on sale (the live map shows none available), when the list already has people waiting,
// or when a hold is refused with 409 waitlist_first, a signed-in buyer can join: how many seats, side by
// side or not, and which price tier; a visitor is asked to log in first. After joining the card shows
// the state, the place in line (or that a draw fixes the order at draw_at), the estimated wait, and a
// way to leave. A seat that comes back goes to the first buyer in line it suits, as a hold of theirs
// (the offer): the card names the seats and the deadline, with Pay now (the page's own checkout of that
// hold) and Decline. A paid offer links to its booking.
//
// While the entry is active the server is asked again (GET /v1/events/{id}/waitlist): every POLL_MS_MIN
// at first, more slowly after a quiet while, soon after the live map shows a seat change (an offer is
// a seat becoming held), just after a known moment (the draw, the offer's deadline), and never while
// the page is hidden. One request counts at a time: an answer older than the latest request is dropped.
//
// The status sentence is a polite live region; every text is written only when it changes, so a poll
// that says the same is not read out again. When the card is redrawn under a keyboard user (their
// action, or a poll that changed its shape while focus was in it), focus goes to its heading.
import { api, session, money } from './api.js';
import { esc, $, say } from './ui.js';
import { clockTime, duration } from './time_text.js';

const POLL_MS_MIN = 5000;          // the slowest an offer appears when the live map says nothing
const POLL_MS_MAX = 30_000;        // after a long quiet wait: a poll costs the server a read per buyer
const POLL_BACKOFF = 1.5;          // each quiet poll past POLL_QUIET_MS waits this much longer
const POLL_QUIET_MS = 60_000;      // nothing changed for this long: start backing off
const NUDGE_MS = 1000;             // after a seat change: the server makes offers every 250 ms
const NUDGE_GAP_MS = 2000;         // at most one poll this often for seat changes, however busy the map
const MOMENT_SLACK_MS = 500;       // asked this long after draw_at or an offer's deadline: it is past by then
const QUANTITY_OPTIONS_MAX = 100;  // the API's bound on max_tickets_per_user: the select never grows past it
const TIMER_MS_MAX = 2 ** 31 - 1;  // setTimeout's limit
console.assert(NUDGE_MS <= NUDGE_GAP_MS && NUDGE_GAP_MS < POLL_MS_MIN && POLL_MS_MIN <= POLL_MS_MAX);

const ACTIVE = new Set(['WAITING', 'OFFERED']);

// The hold of the last offer this tab saw for an event ({entry, hold}), for the link to its booking once
// the entry is FULFILLED, should the answer then no longer name it. One key per event visited.
const offerKey = (eventId) => `ticketd.waitlist.offer.${eventId}`;

// How an entry ended, in the buyer's words (WAITING and OFFERED are drawn from the entry itself).
const ENDED_TEXT = {
  FULFILLED: 'You got seats from the waiting list.',
  LEFT: 'You left the waiting list.',
  LAPSED: 'Your offer ended without a purchase: the seats went to the next person in line.',
  SKIPPED: 'You were passed over: you already have as many tickets for this event as one person may buy.',
};

const seatsWord = (n) => `${n} seat${n === 1 ? '' : 's'}`;

export class Waitlist {
  // page: {event, venue, hold, seatInfo(id), payOffer(hold), offerEnded(holdId), offerChanged(),
  // focusBuy(), tell(text, kind)}; box: the card's (empty, hidden) element.
  constructor(page, box) {
    this.page = page;
    this.eventId = page.event.id;
    this.box = box;
    this.list = null;          // L, as the server last said
    this.entry = null;         // the buyer's latest entry (E), or null
    this.known = false;        // the server has answered (signed in)
    this.missing = false;      // no waiting list on this server (404): the card stays hidden
    this.soldOut = null;       // from the live map; null until its first snapshot
    this.listFirst = false;    // a hold was refused with waitlist_first
    this.watched = new Set();  // entry ids seen active on this page: how they end is said here
    this.bookings = new Map(); // offer hold id -> booking id (or 0: not found), for FULFILLED's link
    this.asked = 0;            // the number of the latest request; older answers are dropped
    this.polling = 0;          // the number of the poll under way (0: none)
    this.nudged = false;       // the map changed while a poll was under way
    this.timer = null;
    this.nextAt = Infinity;    // when the next poll is due (Infinity: none)
    this.lastPollAt = 0;
    this.pollMs = POLL_MS_MIN;
    this.changedAt = Date.now();
    this.drawn = { shape: null };
    this.stopped = false;

    box.innerHTML = `<h2 id="wl-h">Waiting list</h2>
      <p id="wl-status" role="status" aria-live="polite" aria-atomic="true"></p>
      <div id="wl-body"></div>
      <div id="wl-msg"></div>`;
    box.addEventListener('submit', (e) => { e.preventDefault(); if (e.target.id === 'wl-join') this.join(e.target); });
    box.addEventListener('click', (e) => this.onClick(e));
    this.onVisibility = () => {
      if (document.hidden) this.stopTimer();
      else if (this.active()) this.refresh();
    };
    document.addEventListener('visibilitychange', this.onVisibility);
    if (session.token) this.refresh();
  }

  destroy() {
    this.stopped = true;
    this.stopTimer();
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  active() { return Boolean(this.entry && ACTIVE.has(this.entry.state)); }
  offer() { return this.entry && this.entry.state === 'OFFERED' ? this.entry.offer : null; }
  offerHoldId() { const o = this.offer(); return o ? o.hold_id : 0; }
  offerSeatIds() { const o = this.offer(); return o ? o.seats : []; }
  offersSeat(seatId) { return this.offerSeatIds().includes(seatId); }

  // ---- what the page tells the card ----
  // The live map changed: `available` seats are on sale now.
  seatsChanged(available) {
    const soldOut = available === 0;
    if (soldOut !== this.soldOut) {
      this.soldOut = soldOut;
      this.show();
    }
    if (!this.active() || document.hidden) return;
    if (this.polling) { this.nudged = true; return; }
    const inMs = Math.max(NUDGE_MS, this.lastPollAt + NUDGE_GAP_MS - Date.now());
    if (Date.now() + inMs < this.nextAt) this.wait(inMs);
  }

  // A hold was refused with 409 waitlist_first: seats that come back go to the list, so the card offers it.
  async holdRefused() {
    this.listFirst = true;
    await this.refresh();
    if (!this.box.hidden) this.focus();
  }

  // ---- asking the server ----
  async refresh() {
    this.stopTimer();
    if (this.stopped || !session.token) { this.show(); return; }
    const mine = ++this.asked;
    this.polling = mine;
    this.lastPollAt = Date.now();
    try {
      const answer = await api.waitlist(this.eventId);
      if (mine !== this.asked || this.stopped) return;
      this.apply(answer);
    } catch (err) {
      if (mine !== this.asked || this.stopped) return;
      // 404: a server without the waiting list. A network error or a 5xx tells nothing: the card stays
      // as it was and the next poll asks again.
      if (err.status === 404) this.missing = true;
    } finally {
      if (this.polling === mine) this.polling = 0;
    }
    this.show();
    this.schedule();
  }

  apply({ waitlist, entry }) {
    const before = this.entryKey(this.entry);
    const offerBefore = this.offerHoldId();
    this.list = waitlist || null;
    this.entry = entry || null;
    this.known = true;
    this.missing = false;
    if (this.active()) this.watched.add(this.entry.id);
    const o = this.offer();
    if (o && o.hold_id !== offerBefore) {
      const seen = JSON.stringify({ entry: this.entry.id, hold: o.hold_id });
      try { sessionStorage.setItem(offerKey(this.eventId), seen); } catch { /* the link is to all bookings then */ }
    }
    if (this.entryKey(this.entry) !== before) {
      this.changedAt = Date.now();
      this.pollMs = POLL_MS_MIN;
    } else if (Date.now() - this.changedAt > POLL_QUIET_MS) {
      this.pollMs = Math.min(POLL_MS_MAX, this.pollMs * POLL_BACKOFF);
    }
    if (this.offerHoldId() !== offerBefore) this.page.offerChanged();
  }

  entryKey(e) {
    return e ? `${e.id} ${e.state} ${e.position} ${e.draw_pending} ${e.offer ? e.offer.hold_id : 0}` : '';
  }

  // The next poll, while the entry is active and the page is shown.
  schedule() {
    this.stopTimer();
    if (this.stopped || document.hidden || !this.active()) return;
    let ms = this.nudged ? NUDGE_GAP_MS : this.pollMs;
    this.nudged = false;
    const moments = [];
    if (this.entry.draw_pending && this.list && this.list.draw_at) moments.push(this.list.draw_at);
    const offer = this.offer();
    if (offer) moments.push(offer.expires_at);
    for (const at of moments) {
      const untilMs = new Date(at).getTime() - Date.now() + MOMENT_SLACK_MS;
      if (untilMs > 0) ms = Math.min(ms, Math.max(NUDGE_MS, untilMs));
    }
    this.wait(ms);
  }

  wait(ms) {
    this.stopTimer();
    const capped = Math.min(TIMER_MS_MAX, ms);
    this.nextAt = Date.now() + capped;
    this.timer = setTimeout(() => this.refresh(), capped);
  }

  stopTimer() {
    clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = Infinity;
  }

  // ---- drawing ----
  // Seats that come back go to the list now: the map shows none on sale, the list has people waiting,
  // or a hold was refused for it.
  wanted() {
    return Boolean(this.soldOut || this.listFirst || (this.list && this.list.enabled && this.list.waiting > 0));
  }

  // What the card shows: null (hidden), or {shape, state, heading, status, body, texts}. `body` is drawn
  // again only when `shape` changes; `texts` ({element id: text}) are written into it each time.
  view() {
    if (this.missing) return null;
    if (!session.token) return this.soldOut ? this.visitorView() : null;
    if (!this.known) return null;
    const e = this.entry;
    if (e && e.state === 'WAITING') return this.waitingView(e);
    if (e && e.state === 'OFFERED') return this.offeredView(e);
    const ended = e && (this.wanted() || this.watched.has(e.id)) ? e : null;
    if (!ended && !this.wanted()) return null;
    return this.joinView(ended);
  }

  visitorView() {
    return { shape: 'visitor', state: 'visitor', heading: 'Waiting list',
      status: 'Sold out for now. Seats that come back go to the people on the waiting list, in order.',
      body: '<p><a href="#/login" id="wl-login">Log in to join the waiting list</a></p>', texts: {} };
  }

  waitingView(e) {
    const l = this.list || {};
    const status = e.draw_pending
      ? `You are in the draw: the order is fixed at ${l.draw_at ? clockTime(l.draw_at) : 'the end of the draw'}.`
      : `Your place in line: ${Number(e.position).toLocaleString()}${e.position === 1 ? ' (next)' : ''}.`;
    const minutes = Math.round((l.offer_ttl_s || 1800) / 60);
    const body = `<p>For ${esc(this.wantText(e))}.</p>
      <p id="wl-eta"></p>
      <p class="small muted">Seats offered to you are held for ${minutes} minute${minutes === 1 ? '' : 's'}: this page
        shows them when they come.</p>
      <button type="button" class="secondary" data-wl="leave">Leave the waiting list</button>`;
    const eta = e.draw_pending ? 'Estimated wait: known once the draw is done.'
      : e.estimate_s == null ? 'Estimated wait: not known yet (no seats came back lately).'
        : `Estimated wait: ${duration(e.estimate_s)}.`;
    return { shape: `waiting ${e.id}`, state: 'WAITING', heading: 'You are on the waiting list', status, body,
      texts: { 'wl-eta': eta } };
  }

  offeredView(e) {
    const o = e.offer || { hold_id: 0, seats: [], expires_at: null };
    const labels = [...new Set(o.seats.map((id) => this.page.seatInfo(id).label))].join('; ');
    const until = o.expires_at ? clockTime(o.expires_at) : '';
    const status = `Seats came back for you: ${labels}, held until ${until}.`;
    const body = `<p class="small muted">Pay by ${esc(until)}, or they go to the next person in line.</p>
      <div class="row"><button type="button" data-wl="pay">Pay now</button>
        <button type="button" class="secondary" data-wl="decline">Decline</button></div>`;
    return { shape: `offered ${e.id} ${o.hold_id}`, state: 'OFFERED', heading: 'Seats came back for you', status, body, texts: {} };
  }

  // No active entry: how the last one ended (if that is worth saying here), and the form when the list
  // takes new entries.
  joinView(ended) {
    const l = this.list || {};
    const takes = l.enabled !== false && l.open !== false;
    const head = ended ? ENDED_TEXT[ended.state] || `Your entry is ${ended.state.toLowerCase()}.` : '';
    let status;
    if (!this.wanted()) status = `${head} Seats are on sale now: choose them on the map.`;
    else if (!takes) status = `${head} ${this.soldOut ? 'Sold out. ' : ''}The waiting list for this event is closed.`;
    else if (this.soldOut) status = `${head} Sold out for now. Join the waiting list: seats that come back go to the people on it, in order.`;
    else status = `${head} Seats that come back go to the waiting list first: join it to be offered seats.`;
    const booking = ended && ended.state === 'FULFILLED' ? this.bookingLink(ended) : '';
    const form = takes && this.wanted() ? this.formHtml() : '';
    const shape = `join ${ended ? `${ended.id} ${ended.state}` : '-'} ${booking} ${form ? 'form' : ''}`;
    return { shape, state: ended ? ended.state : 'none', heading: ended && ended.state === 'FULFILLED'
      ? 'You got seats from the waiting list' : 'Waiting list', status: status.trim(), body: booking + form, texts: {} };
  }

  wantText(e) {
    const n = seatsWord(e.quantity);
    const together = e.quantity > 1 ? (e.together ? ' together' : ', together or not') : '';
    return `${n}${together}, ${e.tier ? `${e.tier} tier` : 'any price tier'}`;
  }

  formHtml() {
    const e = this.page.event;
    const max = Math.min(QUANTITY_OPTIONS_MAX, e.max_tickets_per_user || 1);
    const quantities = Array.from({ length: max }, (_, i) => `<option value="${i + 1}">${i + 1}</option>`).join('');
    const tiers = [...new Set(this.page.venue.sections.map((s) => s.price_tier))];
    const price = (t) => (e.prices && e.prices[t] != null ? ` · ${money(e.prices[t], e.currency)}` : '');
    const tierOptions = tiers.map((t) => `<option value="${esc(t)}">${esc(t + price(t))}</option>`).join('');
    const tierSelect = tiers.length < 2 ? '' : `<label>Price tier <select id="wl-tier" name="tier">
      <option value="">Any tier</option>${tierOptions}</select></label>`;
    return `<form id="wl-join" novalidate>
      <div class="row">
        <label>Tickets <select id="wl-quantity" name="quantity">${quantities}</select></label>
        ${tierSelect}
      </div>
      <p><label class="inline"><input type="checkbox" id="wl-together" name="together" checked aria-describedby="wl-together-hint">
        Seats together</label>
        <span class="small muted" id="wl-together-hint">Side by side in one row, when you ask for more than one.</span></p>
      <button type="submit">Join the waiting list</button>
    </form>`;
  }

  // FULFILLED: a link to the booking the offer became (found among the buyer's bookings by its hold).
  bookingLink(e) {
    const holdId = e.offer ? e.offer.hold_id : rememberedOffer(this.eventId, e.id);
    const id = e.booking_id || this.bookings.get(holdId);
    if (id) return `<p><a href="#/bookings/${Number(id)}">See your booking</a></p>`;
    if (holdId && !this.bookings.has(holdId)) this.findBooking(holdId);
    return '<p><a href="#/bookings">See your bookings</a></p>';
  }

  async findBooking(holdId) {
    this.bookings.set(holdId, 0);  // asked once
    try {
      const { bookings } = await api.bookings();
      const b = bookings.find((x) => x.hold_id === holdId);
      if (!b || this.stopped) return;
      this.bookings.set(holdId, b.id);
      this.show();
    } catch { /* the link to all bookings stays */ }
  }

  show() {
    const v = this.view();
    const hadFocus = this.box.contains(document.activeElement);
    this.box.hidden = !v;
    if (!v) {
      if (this.drawn.shape !== null) $('#wl-body', this.box).innerHTML = '';
      this.drawn = { shape: null };
      return;
    }
    this.box.dataset.state = v.state;
    setText($('#wl-h', this.box), v.heading);
    setText($('#wl-status', this.box), v.status);
    if (v.shape !== this.drawn.shape) $('#wl-body', this.box).innerHTML = v.body;
    for (const [id, text] of Object.entries(v.texts)) setText($(`#${id}`, this.box), text);
    this.drawn = v;
    if (hadFocus && !this.box.contains(document.activeElement)) this.focus();
  }

  focus() {
    const h = $('#wl-h', this.box);
    h.tabIndex = -1;
    h.focus();
  }

  // ---- the buyer's actions ----
  onClick(e) {
    if (e.target.id === 'wl-login') { sessionStorage.setItem('ticketd.returnTo', location.hash); return; }
    const b = e.target.closest('[data-wl]');
    if (!b) return;
    if (b.dataset.wl === 'pay') this.payNow(b);
    else this.leave(b, b.dataset.wl === 'decline');
  }

  async join(form) {
    const f = new FormData(form);
    const body = { quantity: Number(f.get('quantity')), together: f.get('together') === 'on' };
    if (f.get('tier')) body.tier = String(f.get('tier'));
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    say($('#wl-msg', this.box), '');
    const mine = ++this.asked;  // a poll under way answers for before the join
    try {
      const answer = await api.joinWaitlist(this.eventId, body);
      if (this.stopped || mine !== this.asked) return;
      this.apply(answer);
    } catch (err) {
      if (this.stopped) return;
      btn.disabled = false;
      this.joinFailed(err);
      return;
    }
    this.show();
    this.focus();
    this.schedule();
  }

  joinFailed(err) {
    const text = {
      waitlist_closed: 'The organizer has closed the waiting list for this event.',
      seats_available: 'Seats are on sale right now: choose them on the map instead.',
      unauthenticated: 'Your session has ended: log in again to join the waiting list.',
    }[err.code] || err.message;
    if (err.code === 'seats_available') {
      this.listFirst = false;
      this.page.tell(text, 'info');  // the card may go: the page's own message area says it
    } else {
      say($('#wl-msg', this.box), text);
    }
    if (err.code === 'waitlist_closed' || err.code === 'seats_available' || err.status === 401) this.refresh();
  }

  // Leave while waiting, or decline an offer (the same request: it releases the offer's hold).
  async leave(button, declining) {
    button.disabled = true;
    say($('#wl-msg', this.box), '');
    const offerHold = declining ? this.offerHoldId() : 0;
    const mine = ++this.asked;
    try {
      const answer = await api.leaveWaitlist(this.eventId);
      if (this.stopped || mine !== this.asked) return;
      if (offerHold) this.page.offerEnded(offerHold);
      this.apply(answer);
    } catch (err) {
      if (this.stopped) return;
      if (err.status === 404) {  // it ended meanwhile (paid, lapsed, left in another tab): say how
        await this.refresh();
        this.focus();
        return;
      }
      button.disabled = false;
      say($('#wl-msg', this.box), err.message);
      this.schedule();  // a poll answered meanwhile was dropped, with its next poll
      return;
    }
    this.show();
    this.focus();
    this.schedule();
  }

  // Pay now: the page's checkout of the offer's hold (the same as for any hold).
  async payNow(button) {
    const holdId = this.offerHoldId();
    if (!holdId) return;
    if (this.page.hold && this.page.hold.id === holdId) { this.page.focusBuy(); return; }
    button.disabled = true;
    say($('#wl-msg', this.box), '');
    try {
      const hold = await api.getHold(holdId, this.eventId);
      if (this.stopped) return;
      button.disabled = false;
      if (hold.status !== 'ACTIVE') {
        say($('#wl-msg', this.box), 'This offer is over: the seats are no longer held for you.');
        this.refresh();
        return;
      }
      this.page.payOffer(hold);
    } catch (err) {
      if (this.stopped) return;
      button.disabled = false;
      say($('#wl-msg', this.box), err.message);
    }
  }
}

function rememberedOffer(eventId, entryId) {
  try {
    const seen = JSON.parse(sessionStorage.getItem(offerKey(eventId)) || 'null');
    return seen && seen.entry === entryId && Number.isInteger(seen.hold) ? seen.hold : 0;
  } catch { return 0; }
}

// Writes only a change: the status is a live region, and the same words should not be read out again.
function setText(el, text) {
  if (el && el.textContent !== String(text)) el.textContent = text;
}
