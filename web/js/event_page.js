// The event page: live seat map, seat picking (map, keyboard picker or best available), the hold
// with its countdown, and checkout with a test card. The buyer's other live holds on the event (made
// in another tab, or before a reload) are listed above the map (web/js/live_holds.js). A sold-out
// event offers its waiting list (web/js/waitlist.js), whose offers are paid here like any hold.
import { api, session, access, ApiError, money, when, newIdempotencyKey } from './api.js';
import { esc, $, $$, say, setMain } from './ui.js';
import { SeatMap, ACCESSIBLE, COMPANION } from './seatmap.js';
import { STATE_COLORS, drawSwatch } from './seat_glyphs.js';
import { SeatPicker } from './seat_picker.js';
import { requireLogin } from './app.js';
import { LiveHolds, holdsSeatsOf } from './live_holds.js';
import { savedPick } from './saved_pick.js';
import { watchAccess, accessEndedHtml } from './queue_access.js';
import { clockTime } from './time_text.js';
import { Waitlist } from './waitlist.js';

const TEST_CARDS = [
  ['pm_card_visa', 'Visa 4242 (succeeds)'],
  ['pm_card_mastercard', 'Mastercard (succeeds)'],
  ['pm_card_chargeDeclined', 'Declined card'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Declined: insufficient funds'],
  ['pm_card_authenticationRequired', 'Needs 3-D Secure (Stripe only)'],
];
const STATUS_WORD = { A: 'available', H: 'held', S: 'sold' };

const queued = (event) => Boolean(event.waiting_room && event.waiting_room.enabled);

export async function eventPage(eventId) {
  const event = await api.event(eventId);
  // An event behind a waiting room (issue 5): everyone sees the line first, visitors too, unless the
  // buyer was let in, or comes back to pay for seats they hold (paying needs no access token).
  if (queued(event) && !(session.token && access.get(eventId)) && !(await holdsSeatsOf(eventId))) {
    location.replace(`#/events/${eventId}/queue`);  // not a page of its own: Back goes where the buyer came from
    return null;
  }
  const venue = await api.venue(event.venue_id);
  const page = new EventPage(event, venue);
  return () => page.destroy();
}

class EventPage {
  constructor(event, venue) {
    this.event = event;
    this.venue = venue;
    this.selected = new Set();
    this.hold = null;            // the hold this page is paying for (one of live.holds)
    this.accessEnded = false;    // a waiting room's window is over: no more holds from this page
    this.pendingPick = savedPick.take(event.id);  // picked before logging in; applied on the first snapshot
    this.rowIndex = [];  // rows by first seat id, for labels
    venue.sections.forEach((s, si) => s.rows.forEach((r, ri) => this.rowIndex.push({ s, si, r, ri })));
    this.render();
    this.waitlist = new Waitlist(this, $('#waitlist'));
    this.live = new LiveHolds(this);
    this.map = new SeatMap($('#map'), venue, (id) => this.toggle(id));
    // A click on a general-admission area picks it under Best available.
    this.map.onArea = (si) => {
      $('#best [name=section]').value = venue.sections[si].name;
      $('#best-n').focus();
    };
    this.map.selected = this.selected;
    window.ticketdSeatMap = this.map;  // for the browser tests: where a seat is drawn
    this.renderLegend();
    this.picker = new SeatPicker(this);
    $('#picker').innerHTML = this.picker.html();
    this.picker.bind();
    this.connect();
    this.live.sync();
    this.stopAccess = queued(event) ? watchAccess(event.id, (endedAt) => this.endAccess(endedAt)) : () => {};
  }

  destroy() {
    if (this.stream) this.stream.close();
    clearInterval(this.tick);
    this.live.destroy();
    this.waitlist.destroy();
    this.stopAccess();
    this.map.destroy();
  }

  price(sectionIndex) { return this.event.prices[this.venue.sections[sectionIndex].price_tier]; }

  seatInfo(id) {
    let lo = 0, hi = this.rowIndex.length - 1;
    while (lo < hi) {  // last row whose first seat <= id
      const mid = (lo + hi + 1) >> 1;
      if (this.rowIndex[mid].r.first_seat_id <= id) lo = mid; else hi = mid - 1;
    }
    const { s, si, r } = this.rowIndex[lo];
    const number = id - r.first_seat_id + 1;
    return { section: s.name, row: r.label, number, price: this.price(si),
      label: s.general_admission ? `${s.name} (general admission)` : `${s.name}, row ${r.label}, seat ${number}` };
  }

  // What the list and the messages call a seat's state.
  seatWord(id) {
    if (this.selected.has(id)) return 'selected';
    const st = this.map.statusOf(id);
    if (st === 'H' && (this.live.holdsSeat(id) || this.waitlist.offersSeat(id))) return 'held by you';
    return STATUS_WORD[st];
  }

  render() {
    const e = this.event;
    setMain(`
      <h1>${esc(e.name)}</h1>
      <p class="muted"><time datetime="${esc(e.starts_at)}">${esc(when(e.starts_at))}</time> · ${esc(e.venue_name || this.venue.name)}
        · on sale from ${esc(when(e.on_sale_at))} · at most ${e.max_tickets_per_user} tickets per person</p>
      <div id="access-note"></div>
      <div id="live-holds" class="live-holds" aria-live="polite"></div>
      <div class="event-layout">
        <section aria-labelledby="map-h">
          <h2 id="map-h">Seat map</h2>
          <p class="live muted" id="live">Live updates: connecting…</p>
          <ul class="legend" id="legend" aria-label="Legend"></ul>
          <div class="map-wrap">
            <canvas id="map" class="seatmap" tabindex="0" role="img"
              aria-label="Seat map of ${esc(this.venue.name)}, ${this.venue.seats_total} seats. Arrow keys pan, plus and minus zoom, 0 fits. To choose seats with a keyboard or screen reader, use Choose seats below."></canvas>
            <div class="map-tools">
              <button type="button" id="zin" aria-label="Zoom in">+</button>
              <button type="button" id="zout" aria-label="Zoom out">−</button>
              <button type="button" id="zfit" aria-label="Fit the whole map">Fit</button>
            </div>
          </div>
          <p id="counts" class="muted"></p>
          <div id="picker"></div>
        </section>
        <aside aria-label="Your seats">
          <section class="card waitlist" id="waitlist" aria-labelledby="wl-h" hidden></section>
          <div class="card" id="buy" aria-live="polite"></div>
          <form class="card" id="best">
            <h2>Best available</h2>
            <div class="row">
              <label>Seats <input id="best-n" name="quantity" type="number" min="1" max="${e.max_tickets_per_user}" value="2" required></label>
              <label>Section <select name="section"><option value="">Any</option>${this.venue.sections.map((s) =>
                `<option>${esc(s.name)}</option>`).join('')}</select></label>
              <button type="submit">Find and hold</button>
            </div>
          </form>
          <div id="buy-msg"></div>
        </aside>
      </div>
      <div class="buy-bar" id="buy-bar" role="region" aria-label="Selection summary" hidden></div>`, e.name);
    $('#zin').onclick = () => this.map.zoom(1.4);
    $('#zout').onclick = () => this.map.zoom(1 / 1.4);
    $('#zfit').onclick = () => this.map.fit();
    $('#best').addEventListener('submit', (ev) => { ev.preventDefault(); this.holdBest(new FormData(ev.target)); });
    this.renderBuy();
  }

  // Each entry shows the seat as the map draws it (shape and mark, not only colour). The samples are
  // drawn on small canvases: inline styles are refused by the page's CSP.
  renderLegend() {
    const e = this.event, map = this.map;
    const tiers = [...new Set(this.venue.sections.map((s) => s.price_tier))];
    const neutral = map.tierColor.get(tiers[0]);  // flags are shown on an available seat
    const entries = [
      ...tiers.map((t) => [`${t}: ${money(e.prices[t], e.currency)}`, { state: 'available', fill: map.tierColor.get(t) }]),
      ['Yours (check mark)', { state: 'mine', fill: STATE_COLORS.mine }],
      ['Held by someone else (striped)', { state: 'held', fill: STATE_COLORS.held }],
      ['Sold (cross)', { state: 'sold', fill: STATE_COLORS.sold }],
    ];
    if (map.flags.some((f) => f & ACCESSIBLE)) entries.push(['Accessible seat (wheelchair)', { state: 'available', fill: neutral, accessible: true }]);
    if (map.flags.some((f) => f & COMPANION)) entries.push(['Companion seat (round)', { state: 'available', fill: neutral, companion: true }]);
    $('#legend').innerHTML = entries.map(([text]) => `<li><canvas class="swatch" aria-hidden="true"></canvas>${esc(text)}</li>`).join('');
    $$('#legend canvas').forEach((c, i) => drawSwatch(c, entries[i][1]));
  }

  // ---- live status ----
  connect() {
    this.stream = new EventSource(`/v1/events/${this.event.id}/seats/stream`);
    this.stream.addEventListener('open', () => { $('#live').textContent = 'Live updates: on'; });
    this.stream.addEventListener('error', () => { $('#live').textContent = 'Live updates: reconnecting…'; });
    this.stream.addEventListener('snapshot', (m) => {
      const d = JSON.parse(m.data);
      this.map.setStatus(d.status);
      if (this.pendingPick) this.restorePick();
      this.statusChanged(null);
    });
    this.stream.addEventListener('seats', (m) => {
      const d = JSON.parse(m.data);
      this.map.applyChange(d.seat_ids, d.status[0]);
      this.statusChanged(d.seat_ids);
    });
  }

  statusChanged(seatIds) {
    const st = this.map.status;
    let a = 0, h = 0, s = 0;
    for (let i = 0; i < st.length; i++) { const c = st.charCodeAt(i); if (c === 65) a++; else if (c === 72) h++; else s++; }
    $('#counts').textContent = `${a.toLocaleString()} available · ${h.toLocaleString()} held · ${s.toLocaleString()} sold`;
    this.waitlist.seatsChanged(a);
    const lost = [...this.selected].filter((id) => this.map.statusOf(id) !== 'A');
    if (lost.length) {
      for (const id of lost) this.selected.delete(id);
      this.map.selectionChanged(lost);
      say($('#buy-msg'), `Just taken by someone else: ${lost.map((id) => this.seatInfo(id).label).join('; ')}.`);
      this.renderBuy();
    }
    this.picker.seatsChanged(seatIds);
  }

  // ---- selection ----
  toggle(id) {
    if (this.hold) { say($('#buy-msg'), 'You are holding seats already: pay for them or release them first.', 'info'); return; }
    if (this.selected.has(id)) this.selected.delete(id);
    else if (this.map.statusOf(id) !== 'A') { say($('#buy-msg'), `${this.seatInfo(id).label} is ${this.seatWord(id)}.`, 'info'); return; }
    else if (this.selected.size >= this.event.max_tickets_per_user) {
      say($('#buy-msg'), `At most ${this.event.max_tickets_per_user} tickets per person for this event.`, 'info'); return;
    } else this.selected.add(id);
    say($('#buy-msg'), '');
    this.map.selectionChanged([id]);
    this.picker.refresh();
    this.renderBuy();
  }

  // The seats picked before logging in (web/js/saved_pick.js), less those taken meanwhile.
  restorePick() {
    const ids = this.pendingPick.filter((id) => id < this.map.status.length);
    this.pendingPick = null;
    const kept = ids.filter((id) => this.map.statusOf(id) === 'A').slice(0, this.event.max_tickets_per_user);
    const lost = ids.filter((id) => !kept.includes(id));
    for (const id of kept) this.selected.add(id);
    this.map.selectionChanged(kept);
    this.picker.refresh();
    this.renderBuy();
    if (lost.length) {
      say($('#buy-msg'), `Taken while you were away: ${lost.map((id) => this.seatInfo(id).label).join('; ')}.`
        + (kept.length ? ' The other seats you picked are still selected.' : ' Pick other seats.'), 'info');
    }
  }

  // The card is redrawn whole; when focus was in it or the bar (on Hold, Pay, Release), it goes to the
  // new card's heading, so a keyboard user is not thrown back to the top of the page.
  renderBuy() {
    const hadFocus = $('#buy').contains(document.activeElement) || $('#buy-bar').contains(document.activeElement);
    this.drawBuy();
    this.drawBar();
    if (hadFocus) this.focusBuy();
  }

  focusBuy() {
    const h = $('#buy h2');
    h.tabIndex = -1;
    h.focus();
  }

  // Live holds other than the one paid for here (none while the page is drawn the first time).
  otherHolds() { return this.live ? this.live.others() : []; }

  holdLabel(n) {
    return `Hold ${n ? `${n} ` : ''}${this.otherHolds().length ? 'more ' : ''}seat${n === 1 ? '' : 's'}`;
  }

  drawBuy() {
    const buy = $('#buy');
    const e = this.event;
    if (this.hold) {
      const h = this.hold;
      buy.innerHTML = `
        <h2>Your seats are held</h2>
        <ul>${h.seat_ids.map((id) => `<li>${esc(this.seatInfo(id).label)}</li>`).join('')}</ul>
        <p>Total <strong>${esc(money(h.total_amount, h.currency))}</strong></p>
        <p>Time left to pay: <span class="countdown" id="countdown" role="timer" aria-live="off"></span></p>
        <form id="pay">
          <p><label>Test card <select name="pm" id="pm">${TEST_CARDS.map(([v, t]) => `<option value="${v}">${esc(t)}</option>`).join('')}</select></label></p>
          <div class="row"><button type="submit" id="pay-btn">Pay ${esc(money(h.total_amount, h.currency))}</button>
          <button type="button" class="secondary" id="release">Release seats</button></div>
        </form>`;
      $('#pay').addEventListener('submit', (ev) => { ev.preventDefault(); this.pay($('#pm').value); });
      $('#release').onclick = () => this.release();
      this.startCountdown();
      return;
    }
    clearInterval(this.tick);
    const seats = [...this.selected].sort((a, b) => a - b);
    const total = seats.reduce((sum, id) => sum + this.seatInfo(id).price, 0);
    // Another live hold is never forgotten silently: it is listed above, and holding more says so.
    const another = this.otherHolds().length
      ? '<p class="msg info">You already hold seats on this event (see above): holding these makes another hold.</p>' : '';
    buy.innerHTML = `
      <h2>Your selection</h2>
      ${seats.length ? `<ul>${seats.map((id) => `<li>${esc(this.seatInfo(id).label)} · ${esc(money(this.seatInfo(id).price, e.currency))}</li>`).join('')}</ul>
        <p>Total <strong>${esc(money(total, e.currency))}</strong></p>`
        : '<p class="muted">Pick seats on the map or in Choose seats.</p>'}
      ${another}
      ${session.token ? `<button type="button" id="hold-btn" ${seats.length && !this.accessEnded ? '' : 'disabled'}>${this.holdLabel(seats.length)}</button>`
        : '<p><a href="#/login" id="login-to-buy">Log in to buy</a></p>'}`;
    const btn = $('#hold-btn');
    if (btn) btn.onclick = () => this.holdSelected();
    const login = $('#login-to-buy');
    if (login) login.onclick = () => this.keepPick();  // the link itself goes to #/login
  }

  // Back here after logging in, with the same seats picked (web/js/saved_pick.js).
  keepPick() {
    sessionStorage.setItem('ticketd.returnTo', location.hash);
    savedPick.save(this.event.id, [...this.selected]);
  }

  // On a narrow screen the buying card is far below the map: a bar fixed to the bottom of the screen
  // (web/app.css shows it only there) carries the selection, its total and the Hold button; while seats
  // are held it leads to the payment. The card's own Hold button is hidden there, so there is one. A
  // visitor sees the bar too: its button leads to logging in, and back here with the seats still picked.
  drawBar() {
    const bar = $('#buy-bar');
    const seats = [...this.selected].sort((a, b) => a - b);
    if (this.hold) {
      bar.hidden = false;
      bar.innerHTML = `<p><strong>${this.hold.seat_ids.length} held</strong> · ${esc(money(this.hold.total_amount, this.hold.currency))}</p>
        <button type="button" id="bar-pay">Go to payment</button>`;
      $('#bar-pay').onclick = () => { $('#pay-btn').scrollIntoView({ block: 'center' }); $('#pm').focus(); };
      return;
    }
    const others = this.otherHolds();
    if (seats.length === 0 && others.length && session.token) {  // a hold made elsewhere: on a phone too
      const n = others.reduce((sum, h) => sum + h.seat_ids.length, 0);
      bar.hidden = false;
      bar.innerHTML = `<p><strong>${n} held</strong> until ${esc(clockTime(others[0].expires_at))}</p>
        <button type="button" id="bar-resume">Resume</button>`;
      $('#bar-resume').onclick = () => this.resume(others[0]);
      return;
    }
    bar.hidden = seats.length === 0;
    if (bar.hidden) { bar.innerHTML = ''; return; }
    const total = seats.reduce((sum, id) => sum + this.seatInfo(id).price, 0);
    const names = seats.map((id) => { const i = this.seatInfo(id); return `${i.row}${i.number}`; }).join(', ');
    bar.innerHTML = `<p><strong>${seats.length} seat${seats.length === 1 ? '' : 's'}</strong> <span class="muted">${esc(names)}</span>
      · ${esc(money(total, this.event.currency))}</p>
      <button type="button" id="bar-hold">${session.token ? this.holdLabel(seats.length) : `Log in to hold ${seats.length === 1 ? 'this seat' : 'these seats'}`}</button>`;
    $('#bar-hold').onclick = () => this.holdSelected();
  }

  // ---- hold, release, pay ----
  // The live holds changed (here, in another tab, or by lapsing): the map, the list and the card follow.
  liveHoldsChanged() {
    this.map.setMine([...this.live.seatIds(), ...this.waitlist.offerSeatIds()]);
    this.picker.refresh();
    this.renderBuy();
  }

  // Pays for `hold` here (null: none). It is one of this.live's holds.
  setHold(hold) {
    this.hold = hold;
    this.payKey = null;
    if (!hold) clearInterval(this.tick);
    this.live.changed();
  }

  // The hold paid for here ended (bought, released, declined, lapsed): every tab forgets it.
  endHold() {
    const id = this.hold.id;
    clearInterval(this.tick);
    this.hold = null;
    this.payKey = null;
    this.live.forget(id);
  }

  // The hold paid for here ended in another tab (or lapsed there first); the caller redraws.
  holdEnded(status) {
    clearInterval(this.tick);
    this.hold = null;
    this.payKey = null;
    const text = {
      RELEASED: 'You released these seats in another tab: they are available to others again.',
      CONVERTED: 'These seats were bought in another tab: see My bookings.',
      EXPIRED: 'Your hold expired and the seats were released. Pick seats again to buy.',
    }[status] || 'This hold is no longer yours to pay for.';
    say($('#buy-msg'), text, 'info');
  }

  // Resume: pay for a hold listed above the map (made in another tab or before a reload).
  resume(hold) {
    const was = [...this.selected];
    this.selected.clear();
    this.map.selectionChanged(was);
    say($('#buy-msg'), '');
    this.setHold(hold);
    $('#buy').scrollIntoView({ block: 'nearest' });
    this.focusBuy();
  }

  // ---- the waiting list's offers (web/js/waitlist.js) ----
  // Pay now: the offer is an ordinary hold of the buyer's, paid in the buying card like any other.
  payOffer(hold) {
    const was = [...this.selected];
    this.selected.clear();
    this.map.selectionChanged(was);
    say($('#buy-msg'), '');
    this.hold = hold;
    this.payKey = null;
    this.live.add(hold);  // remembered for the other tabs and a reload; redraws
    $('#buy').scrollIntoView({ block: 'nearest' });
    this.focusBuy();
  }

  // The offer's hold was given up (declined): the buying card lets it go without calling it released.
  offerEnded(holdId) {
    if (this.hold && this.hold.id === holdId) this.endHold();
    else this.live.forget(holdId);
  }

  // An offer came or went: its seats are drawn as the buyer's, and the live holds are asked again
  // (one being paid here may have lapsed, or been paid in another tab).
  offerChanged() {
    this.live.changed();
    this.live.sync();
  }

  // A message in the buying card's message area.
  tell(text, kind = 'error') { say($('#buy-msg'), text, kind); }

  async holdSelected() {
    if (!session.token) this.keepPick();  // requireLogin goes to log in
    if (!requireLogin() || !this.mayHold()) return;
    this.placeHold({ seat_ids: [...this.selected] });
  }

  async holdBest(form) {
    if (!requireLogin() || !this.mayHold()) return;
    if (this.hold) { say($('#buy-msg'), 'You are holding seats already: pay for them or release them first.', 'info'); return; }
    const body = { quantity: Number(form.get('quantity')) };
    if (form.get('section')) body.section = form.get('section');
    this.placeHold(body);
  }

  mayHold() {
    if (!this.accessEnded) return true;
    say($('#buy-msg'), 'Your time to choose seats is over: join the queue again to hold seats.', 'info');
    return false;
  }

  async placeHold(body) {
    try {
      const h = await api.hold(this.event.id, body);
      const was = [...this.selected];
      this.selected.clear();
      say($('#buy-msg'), '');
      this.hold = h;
      this.payKey = null;
      this.live.add(h);  // remembered for the other tabs; redraws
      this.map.selectionChanged(was);
    } catch (err) { this.holdFailed(err); }
  }

  // The waiting room's window is over (endedAt; null: over before this page opened).
  endAccess(endedAt) {
    this.accessEnded = true;
    $('#access-note').innerHTML = accessEndedHtml(endedAt);
    $('#rejoin').onclick = () => { location.hash = `#/events/${this.event.id}/queue`; };
    $('#best button[type=submit]').disabled = true;
    this.renderBuy();
  }

  holdFailed(err) {
    if (err.code && err.code.startsWith('access_token_')) {  // the waiting room decides who may hold
      access.drop(this.event.id);
      say($('#buy-msg'), 'This sale has a waiting room: taking you to the line…', 'info');
      location.hash = `#/events/${this.event.id}/queue`;
      return;
    }
    const text = {
      seat_unavailable: () => `Sorry, just taken: ${(err.body.seat_ids || []).map((id) => this.seatInfo(id).label).join('; ')}. Pick other seats.`,
      insufficient_seats: () => 'Not enough seats are left together for that request.',
      ticket_limit_exceeded: () => err.message,
      active_holds_limit_exceeded: () => err.message,
      sale_not_open: () => 'This event is not on sale right now.',
    }[err.code];
    if (err.code === 'waitlist_first') {  // the waiting list's card says why and takes the focus
      say($('#buy-msg'), 'Not on open sale: seats that come back go to the waiting list first.', 'info');
      this.waitlist.holdRefused();
      return;
    }
    say($('#buy-msg'), text ? text() : err.message);
    if (err.code === 'seat_unavailable') {
      for (const id of err.body.seat_ids || []) this.selected.delete(id);
      this.renderBuy();
      this.map.selectionChanged(err.body.seat_ids || []);
      this.picker.refresh();
    }
  }

  startCountdown() {
    clearInterval(this.tick);
    const hold = this.hold;
    const deadline = new Date(hold.expires_at).getTime();
    let warned = false;
    const update = async () => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      const el = $('#countdown');
      if (el) el.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
      if (left <= 60 && !warned && left > 0) { warned = true; say($('#buy-msg'), 'Less than a minute left to pay.', 'info'); }
      if (left === 0) {
        clearInterval(this.tick);
        let state = 'EXPIRED';
        try { state = (await api.getHold(hold.id, this.event.id)).status; } catch { /* shown as expired */ }
        if (this.hold !== hold) return;  // resumed another, or ended in another tab meanwhile
        if (state === 'ACTIVE') { this.tick = setInterval(update, 1000); return; }  // our clock runs fast
        this.endHold();
        say($('#buy-msg'), 'Your hold expired and the seats were released. Pick seats again to buy.');
      }
    };
    update();
    this.tick = setInterval(update, 1000);
  }

  async release() {
    try {
      await api.release(this.hold.id, this.event.id);
      this.endHold();
      say($('#buy-msg'), 'Released: the seats are available to others again.', 'info');
    } catch (err) { say($('#buy-msg'), err.message); }
  }

  async pay(paymentMethod) {
    const btn = $('#pay-btn');
    btn.disabled = true;
    this.payKey = this.payKey || newIdempotencyKey();  // a retry after a network error reuses it
    try {
      const booking = await api.checkout(this.hold.id, paymentMethod, this.payKey, this.event.id);
      this.endHold();
      location.hash = `#/bookings/${booking.id}`;
    } catch (err) {
      btn.disabled = false;
      if (err.code === 'payment_failed') {
        this.endHold();
        const reason = err.message.replace(/[.\s]+$/, '');
        say($('#buy-msg'), `Payment declined${err.body.decline_code ? ` (${err.body.decline_code.replace(/_/g, ' ')})` : ''}: ${reason}. Nothing was charged and the seats were released.`);
      } else if (err.code === 'hold_expired') {
        this.endHold();
        say($('#buy-msg'), 'Your hold expired before the payment: nothing was charged. Pick seats again.');
      } else if (err.code === 'invalid_payment_method') {
        this.payKey = null;
        say($('#buy-msg'), 'That card cannot be used here. Choose another card; your seats are still held.');
      } else if (err.code === 'unavailable' || err.code === 'network') {
        say($('#buy-msg'), 'The payment service did not answer. Press Pay again: you will not be charged twice.');
      } else {
        this.payKey = null;
        say($('#buy-msg'), err instanceof ApiError ? err.message : String(err));
      }
    }
  }
}
