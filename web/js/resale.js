// Face-value resale on the buyer's tickets page (docs/web.md, "Resale"). A valid ticket offers "Sell at
// face value"; a second press, after the amount that comes back is shown, lists it
// (PUT /v1/tickets/{id}/resale). A listed ticket says what its seller gets back and offers "Withdraw
// listing" (DELETE), refused while a buyer is paying for the seat. A ticket revoked because it was resold
// says so, with the amount and whether the refund has been paid yet (from GET /v1/resale, the caller's
// listings, newest first).
//
// The page (web/js/ticket_page.js) draws the list; this module says what each ticket's resale part is,
// does the buttons' work, and tells the page when to ask the server again: while a listing is on offer
// or a seller's refund is on its way, every POLL_MS_MIN, more slowly after a quiet while, never while the
// page is hidden. A change a poll finds (sold, refunded) is said in the page's polite live region.
import { api, money } from './api.js';
import { esc, say } from './ui.js';

const POLL_MS_MIN = 5000;       // a seat bought from a listing is seen by its seller within this
const POLL_MS_MAX = 30_000;     // after a long quiet listing: a poll costs the server a read per seller
const POLL_BACKOFF = 1.5;       // each quiet poll past POLL_QUIET_MS waits this much longer
const POLL_QUIET_MS = 60_000;   // nothing changed (on screen or by the seller) for this long: back off
console.assert(POLL_MS_MIN <= POLL_MS_MAX && POLL_BACKOFF > 1);

// Refusals in the seller's words; the server's own message for the rest.
const REFUSED = {
  resale_in_progress: 'A buyer is paying for this seat right now. If they do not finish, you can withdraw the listing then.',
  event_started: 'The event has started: its tickets can no longer be resold.',
  event_cancelled: 'This event is cancelled: your ticket is refunded with it.',
};

const sentence = (text) => {
  const s = String(text || '').trim();
  return s ? s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.') : '';
};

// A listing's amount as the app writes prices. The API leaves `currency` out when it cannot read the
// event; Intl refuses a currency style without one, so the amount is then a plain number.
const amountText = (amount, currency) => (currency ? money(amount, currency) : (amount / 100).toFixed(2));

export function isResold(t) {
  return t.status === 'REVOKED' && t.revoked_reason === 'resold';
}

export class TicketResale {
  // msg: the page's live region for messages; redraw(): draws the list again from what is known;
  // reload(): asks the server again, then draws (resolves when done); seatText(t): a ticket's seat in words.
  constructor({ msg, redraw, reload, seatText }) {
    this.msg = msg;
    this.seatText = seatText;
    this.redraw = redraw;
    this.reload = reload;
    this.on = true;              // false: this server has no resale (404): nothing is offered
    this.listings = new Map();   // ticket id -> its newest listing
    this.confirming = new Map(); // ticket id -> {amount, currency} (amount null: not known): the second press is open
    this.busy = new Set();       // ticket ids with a request under way: their buttons do nothing meanwhile
    this.seen = null;            // ticket id -> what was last shown of its listing (null: nothing shown yet)
    this.events = new Map();     // event id -> Promise of {event, venue}, for face values
    this.timer = null;
    this.pollMs = POLL_MS_MIN;
    this.changedAt = Date.now();
    this.stopped = false;
    this.onVisibility = () => {
      if (document.hidden) clearTimeout(this.timer);
      else if (this.moving) this.poll();
    };
    document.addEventListener('visibilitychange', this.onVisibility);
    this.moving = false;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  // ---- asking the server ----
  // The caller's listings; a server without resale (404) turns this off, and anything else keeps what is
  // known (the next poll asks again).
  async load() {
    try {
      const { listings } = await api.myListings();
      const newest = new Map();
      for (const l of listings) if (!newest.has(l.ticket_id)) newest.set(l.ticket_id, l);
      this.listings = newest;
      this.on = true;
    } catch (err) {
      if (err.status === 404) this.on = false;
    }
  }

  // After the page drew `tickets` from a fresh answer: says what changed since the last one (a sale, a
  // refund), and when to ask again.
  loaded(tickets) {
    const now = new Map(tickets.map((t) => [t.id, this.stateKey(t)]));
    let changed = false;
    for (const t of tickets) {
      const before = this.seen ? this.seen.get(t.id) : undefined;
      if (before === undefined || before === now.get(t.id)) continue;
      changed = true;
      const told = this.changeText(t, before);
      if (told) say(this.msg, told, 'ok');
    }
    this.seen = now;
    if (changed) this.touched();
    else if (Date.now() - this.changedAt > POLL_QUIET_MS) this.pollMs = Math.min(POLL_MS_MAX, this.pollMs * POLL_BACKOFF);
    this.moving = this.on && tickets.some((t) => {
      const l = this.listings.get(t.id);
      return l && (l.state === 'LISTED' || (l.state === 'SOLD' && !l.refunded));
    });
    this.schedule();
  }

  stateKey(t) {
    const l = this.listings.get(t.id);
    return `${t.status} ${l ? `${l.id} ${l.state} ${Boolean(l.refunded)}` : ''}`;
  }

  // What a poll found, in the seller's words; '' when there is nothing to tell.
  changeText(t, before) {
    const l = this.listings.get(t.id);
    if (!l || !isResold(t)) return '';
    const amount = amountText(l.amount, l.currency);
    const seat = this.name(t);
    if (!before.startsWith('REVOKED')) {
      return l.refunded ? `Resold: ${seat}. ${amount} is refunded to you.` : `Resold: ${seat}. ${amount} is on its way back to you.`;
    }
    return l.refunded ? `${amount} for ${seat} is refunded to you.` : '';
  }

  touched() {
    this.changedAt = Date.now();
    this.pollMs = POLL_MS_MIN;
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.stopped || !this.moving || document.hidden) return;
    this.timer = setTimeout(() => this.poll(), this.pollMs);
  }

  poll() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    // A failed poll (network, 5xx) tells nothing: the list stays as it was and the next one asks again.
    this.reload().catch(() => this.schedule());
  }

  // ---- drawing ----
  name(t) { return `${t.event_name || 'Ticket'}, ${this.seatText(t)}`; }

  // A button of ticket t: its name says the ticket after the visible words, so the buttons of several
  // tickets stay apart (in a screen reader's list of buttons, say).
  button(t, words, data, kind = 'secondary') {
    return `<button type="button"${kind ? ` class="${kind}"` : ''} ${data}="${esc(t.id)}" aria-label="${esc(`${words}: ${this.name(t)}`)}">${esc(words)}</button>`;
  }

  // The resale part of ticket t's item in the list ('' for none).
  html(t) {
    if (!this.on) return '';
    const l = this.listings.get(t.id);
    if (isResold(t)) {
      if (!l || l.state !== 'SOLD') return '<p class="resale-state">Resold — its face value is refunded to you</p>';
      const amount = esc(amountText(l.amount, l.currency));
      return `<p class="resale-state">Resold — ${amount} ${l.refunded ? 'refunded' : 'refund on its way'}</p>`;
    }
    if (t.status !== 'VALID') return '';
    if (l && l.state === 'LISTED') {
      return `<p class="resale-state">Listed for resale — you get ${esc(amountText(l.amount, l.currency))} back if it sells</p>
        ${this.button(t, 'Withdraw listing', 'data-withdraw')}`;
    }
    const c = this.confirming.get(t.id);
    if (c) {
      const back = c.amount === null ? 'its face value' : `<strong>${esc(amountText(c.amount, c.currency))}</strong>`;
      return `<div class="resale-confirm" role="group" aria-labelledby="rs-q-${esc(t.id)}" data-ticket-confirm="${esc(t.id)}">
        <p id="rs-q-${esc(t.id)}">Sell this ticket at face value? If someone buys the seat you get ${back} back, and this
          ticket stops working. Until then it still works, and you can withdraw the listing.</p>
        <p class="row">${this.button(t, 'List for resale', 'data-list', '')} ${this.button(t, 'Keep my ticket', 'data-keep')}</p>
      </div>`;
    }
    return this.button(t, 'Sell at face value', 'data-sell');
  }

  // ---- the buttons ----
  // A click (or Escape in a confirm step) in the list; `tickets`: what is drawn. True when it was ours.
  handle(e, tickets) {
    if (e.type === 'keydown') {
      const box = e.key === 'Escape' && e.target.closest('[data-ticket-confirm]');
      if (!box) return false;
      this.keep(box.dataset.ticketConfirm);
      return true;
    }
    const b = e.target.closest('button');
    if (!b) return false;
    const id = b.dataset.sell || b.dataset.list || b.dataset.keep || b.dataset.withdraw;
    const t = id && tickets.find((x) => x.id === id);
    if (!t) return false;
    if (this.busy.has(id)) return true;
    this.touched();
    if (b.dataset.sell) this.act(id, () => this.sell(t));
    else if (b.dataset.list) this.act(id, () => this.list(t));
    else if (b.dataset.keep) this.keep(id);
    else this.act(id, () => this.withdraw(t));
    return true;
  }

  async act(id, work) {
    this.busy.add(id);
    try { await work(); } finally { this.busy.delete(id); }
  }

  // The first press: the amount that would come back, then the confirm step.
  async sell(t) {
    say(this.msg, '');
    // Not known now (the network): the confirm step says "its face value", and the listing the amount.
    const value = await this.faceValue(t).catch(() => ({ amount: null, currency: '' }));
    if (this.stopped) return;
    if (value.notBuyer) {
      say(this.msg, 'This ticket was sent to you: only the person who bought it can resell it.');
      return;
    }
    this.confirming.clear();  // one confirm step at a time
    this.confirming.set(t.id, value);
    this.redraw();
    this.focus(`[data-list="${t.id}"]`);
  }

  keep(id) {
    this.confirming.delete(id);
    this.redraw();
    this.focus(`[data-sell="${id}"]`);
  }

  async list(t) {
    try {
      const { listing } = await api.listForResale(t.id);
      if (this.stopped) return;
      this.confirming.delete(t.id);
      this.listings.set(t.id, listing);
      this.remember(t);
      this.redraw();
      say(this.msg, `Listed for resale: ${this.name(t)}. You get ${amountText(listing.amount, listing.currency)} back if it sells; until then your ticket still works.`, 'ok');
      this.focus(`[data-withdraw="${t.id}"]`);
      this.moving = true;
      this.schedule();
    } catch (err) {
      if (this.stopped) return;
      this.confirming.delete(t.id);
      say(this.msg, REFUSED[err.code] || sentence(err.message));
      await this.reload().catch(() => {});
      this.focus(`[data-sell="${t.id}"]`);
    }
  }

  async withdraw(t) {
    try {
      const { listing } = await api.withdrawListing(t.id);
      if (this.stopped) return;
      this.listings.set(t.id, listing);
      this.remember(t);
      this.redraw();
      say(this.msg, `Listing withdrawn: ${this.name(t)} is yours to use or send.`, 'ok');
      this.focus(`[data-sell="${t.id}"]`);
    } catch (err) {
      if (this.stopped) return;
      if (err.code === 'resale_in_progress') {
        say(this.msg, REFUSED.resale_in_progress);
        return;  // still listed: focus stays on the button
      }
      // Not listed any more (sold meanwhile, or withdrawn in another tab): the list says what it is now.
      say(this.msg, err.status === 404 ? 'This ticket is no longer listed for resale.' : REFUSED[err.code] || sentence(err.message));
      await this.reload().catch(() => {});
      this.focus(`li[data-key="${t.id}"] button`, `li[data-key="${t.id}"] a`);
    }
  }

  // What the seller did is not news to them: the next poll does not announce it again.
  remember(t) {
    if (this.seen) this.seen.set(t.id, this.stateKey(t));
  }

  // Focus on the first of `selectors` found in the page.
  focus(...selectors) {
    for (const selector of selectors) {
      const el = document.querySelector(`#main ${selector}`);
      if (el) { el.focus(); return; }
    }
  }

  // What listing ticket t would bring back, {amount, currency}: its price tier's price (the seat's face
  // value), never more than its booking's total, as the server decides it (amount null: not found). A
  // ticket listed before says it itself. {notBuyer: true} when its booking is not the caller's (404).
  async faceValue(t) {
    const known = this.listings.get(t.id);
    if (known) return { amount: known.amount, currency: known.currency };
    if (!this.events.has(t.event_id)) {
      const p = api.event(t.event_id).then(async (event) => ({ event, venue: await api.venue(event.venue_id) }));
      p.catch(() => this.events.delete(t.event_id));
      this.events.set(t.event_id, p);
    }
    const notBuyer = {};
    const booking = api.booking(t.booking_id).catch((err) => { if (err.status === 404) return notBuyer; throw err; });
    const [{ event, venue }, b] = await Promise.all([this.events.get(t.event_id), booking]);
    if (b === notBuyer) return { notBuyer: true };
    const section = venue.sections.find((s) => s.rows.some((r) => t.seat_id >= r.first_seat_id && t.seat_id < r.first_seat_id + r.seats));
    const price = section ? event.prices[section.price_tier] : undefined;
    if (price === undefined) return { amount: null, currency: event.currency };
    return { amount: Math.min(price, b.total_amount), currency: event.currency };
  }
}
