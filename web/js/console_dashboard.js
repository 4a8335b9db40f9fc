// An event's live dashboard in the console (docs/console.md, "Dashboard"): seats sold, held and
// available from the live seat map (SSE), people inside from the door feed (SSE), revenue and sales per
// minute from the sales report (re-read when seats sell, at most every 2 s, and every 15 s), the waiting
// room, the waiting list (web/js/console_waitlist.js), resale (web/js/console_resale.js); the orders with
// refunds; door staff; the attendee list; cancelling the event with its refunds' progress.
import { call, session, money, when } from './api.js';
import { esc, $, flash, say, setMain } from './ui.js';
import { SeatMap } from './seatmap.js';
import { followStream } from './sse.js';
import { waitlistSectionHtml, followWaitlist } from './console_waitlist.js';
import { resaleSectionHtml, followResale } from './console_resale.js';

const REPORT_EVERY_MS = 15000;
const REPORT_AFTER_SALE_MS = 2000;

function countStatus(status) {
  const c = { A: 0, H: 0, S: 0 };
  for (let i = 0; i < status.length; i++) c[status[i]]++;
  return c;
}

function drawChart(canvas, perMinute) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, h = canvas.clientHeight || 120;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...perMinute);
  const bar = w / perMinute.length;
  ctx.fillStyle = '#2450c8';
  perMinute.forEach((n, i) => {
    const bh = (n / max) * (h - 18);
    ctx.fillRect(i * bar + 1, h - 14 - bh, Math.max(1, bar - 2), bh);
  });
  ctx.fillStyle = '#555';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText('60 min ago', 2, h - 2);
  ctx.textAlign = 'right';
  ctx.fillText(`now (peak ${max}/min)`, w - 2, h - 2);
  ctx.textAlign = 'start';
}

// A file from an authorized GET (an <a href> cannot send the token), saved under `name`.
export async function download(path, name, msgEl) {
  const resp = await fetch(path, { headers: { authorization: `Bearer ${session.token}` } });
  if (!resp.ok) return say(msgEl, `The file could not be read (${resp.status}).`);
  const url = URL.createObjectURL(await resp.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return null;
}

export async function dashboardPage(eventId) {
  const event = await call('GET', `/v1/events/${eventId}`);
  const venue = await call('GET', `/v1/venues/${event.venue_id}`);
  setMain(`
    <h1>${esc(event.name)}</h1>
    <p class="muted">${esc(when(event.starts_at))} · ${esc(event.venue_name)} ·
      <a href="/#/events/${event.id}">the buyer's page</a></p>
    <div id="state-msg"></div>
    <ul class="tiles" aria-label="Figures">
      <li><span class="tile-n" id="t-sold">–</span> sold</li>
      <li><span class="tile-n" id="t-held">–</span> held</li>
      <li><span class="tile-n" id="t-available">–</span> available</li>
      <li><span class="tile-n" id="t-revenue">–</span> revenue</li>
      <li><span class="tile-n" id="t-inside">–</span> inside</li>
      <li><span class="tile-n" id="t-queue">–</span> waiting room</li>
    </ul>
    <p class="live muted" id="live" aria-live="polite">Connecting…</p>
    <h2>Seats sold per minute</h2>
    <canvas id="chart" class="chart" role="img" aria-label="Seats sold per minute, last hour"></canvas>
    <div class="dash-grid">
      <section>
        <h2>Seat map</h2>
        <div class="map-wrap"><canvas class="seatmap" id="dash-map" tabindex="0" aria-label="Live seat map"></canvas></div>
        <h2>Sales by tier</h2>
        <table><thead><tr><th>Tier</th><th>Seats</th><th>Amount</th></tr></thead><tbody id="tiers"></tbody></table>
        <h2>Sales by day</h2>
        <table><thead><tr><th>Day (UTC)</th><th>Seats</th><th>Amount</th></tr></thead><tbody id="days"></tbody></table>
        <p><button type="button" class="secondary" id="report-csv">Download the sales report (CSV)</button></p>
        <h2>Waiting room</h2>
        <form id="room" class="card" novalidate>
          <p><label class="inline"><input type="checkbox" name="enabled" ${event.waiting_room && event.waiting_room.enabled ? 'checked' : ''}>
            Buyers queue for the on-sale (a flash sale)</label></p>
          <div class="row">
            <label>Admitted per batch <input name="batch_size" type="number" min="1" value="${(event.waiting_room && event.waiting_room.batch_size) || 100}"></label>
            <label>Seconds between batches <input name="release_interval_s" type="number" min="1" value="${(event.waiting_room && event.waiting_room.release_interval_s) || 10}"></label>
            <label>Minutes to buy once admitted <input name="active_minutes" type="number" min="1" value="${Math.round(((event.waiting_room && event.waiting_room.active_window_s) || 600) / 60)}"></label>
          </div>
          <p><button type="submit" class="secondary">Save the waiting room</button></p>
          <div id="room-msg" aria-live="polite"></div>
        </form>
        ${waitlistSectionHtml()}
        ${resaleSectionHtml()}
      </section>
      <section>
        <h2>Orders</h2>
        <form id="order-search" class="row" role="search">
          <label>Email, name or booking number <input name="q" type="search" maxlength="200"></label>
          <button type="submit">Find</button>
        </form>
        <div id="orders-msg"></div>
        <div class="orders-wrap">
          <table class="orders"><thead><tr><th scope="col">#</th><th scope="col">Buyer</th><th scope="col">Seats</th>
            <th scope="col">Amount</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody id="orders"></tbody></table>
        </div>
        <p><button type="button" class="secondary" id="attendees">Download the attendee list (CSV)</button></p>
        <h2>Event</h2>
        <form id="edit" class="card" novalidate>
          <p><label>Name <input name="name" maxlength="200" value="${esc(event.name)}"></label></p>
          <p><label>Description <textarea name="description" maxlength="2000" rows="3">${esc(event.description || '')}</textarea></label></p>
          <p><label>Image address (https://) <input name="image_url" type="url" maxlength="500" value="${esc(event.image_url || '')}"></label></p>
          <fieldset><legend>Prices (a tier's price is fixed once any of its seats is held or sold)</legend>
            <div class="row">${Object.entries(event.prices).map(([tier, minor]) => `<label>${esc(tier)}
              <input name="price:${esc(tier)}" type="number" min="0" step="0.01" value="${minor / 100}"></label>`).join('')}</div>
          </fieldset>
          <p><label class="inline"><input type="checkbox" name="published" ${event.published ? 'checked' : ''}> Published (in the catalogue, on sale)</label></p>
          <p class="row"><button type="submit">Save changes</button>
            <button type="button" class="secondary" id="duplicate">Duplicate for a new date…</button></p>
          <div id="edit-msg"></div>
        </form>
        <form id="postpone" class="card" novalidate>
          <p>Postponing keeps every booking; buyers are emailed the new date with their tickets, and can
            cancel for a refund until the event starts.</p>
          <div class="row">
            <label>New date <input name="starts_at" type="datetime-local" required></label>
            <button type="submit" class="secondary">Postpone</button>
          </div>
          <div id="postpone-msg" aria-live="polite"></div>
        </form>
        <form id="dup" class="card" hidden novalidate>
          <div class="row">
            <label>New start <input name="starts_at" type="datetime-local" required></label>
            <label>On sale from <input name="on_sale_at" type="datetime-local" required></label>
          </div>
          <p><button type="submit">Create the copy (unpublished)</button></p>
          <div id="dup-msg"></div>
        </form>
        <h2>Door staff</h2>
        <form id="staff" class="row" novalidate>
          <label>Email of a door staff account <input name="email" type="email" required></label>
          <button type="submit">Add</button>
        </form>
        <div id="staff-msg"></div>
        <h2>Cancel the event</h2>
        <form id="cancel" class="card" novalidate>
          <p>Cancelling stops sales at once and refunds every booking through the payment provider.</p>
          <label>Reason, told to buyers <input name="reason" maxlength="500"></label>
          <p><button type="submit" class="danger" id="cancel-btn">Cancel event…</button></p>
          <div id="cancel-msg" aria-live="polite"></div>
        </form>
      </section>
    </div>`, event.name);

  const timers = [];
  const stops = [];
  let status = '';
  const map = new SeatMap($('#dash-map'), venue, () => {});

  const showCounts = () => {
    const c = countStatus(status);
    $('#t-sold').textContent = c.S.toLocaleString();
    $('#t-held').textContent = c.H.toLocaleString();
    $('#t-available').textContent = c.A.toLocaleString();
  };

  let reportTimer = 0;
  const loadReport = async () => {
    reportTimer = 0;
    try {
      const r = await call('GET', `/v1/events/${eventId}/sales-report`);
      $('#t-revenue').textContent = money(r.revenue, r.currency);
      $('#tiers').innerHTML = r.per_tier.map((t) => `<tr><td>${esc(t.tier)}</td><td>${t.seats}</td>
        <td>${esc(money(t.amount, r.currency))}</td></tr>`).join('');
      $('#days').innerHTML = r.per_day.map((d) => `<tr><td>${esc(d.day)}</td><td>${d.seats}</td>
        <td>${esc(money(d.amount, r.currency))}</td></tr>`).join('') || '<tr><td colspan="3" class="muted">No sales yet.</td></tr>';
      drawChart($('#chart'), r.seats_per_minute);
    } catch { /* the next round tries again */ }
  };
  const reportSoon = () => { if (!reportTimer) reportTimer = setTimeout(loadReport, REPORT_AFTER_SALE_MS); };
  timers.push(setInterval(loadReport, REPORT_EVERY_MS));
  loadReport();

  // The live seat map: anonymous, so EventSource does.
  const seats = new EventSource(`/v1/events/${eventId}/seats/stream`);
  seats.addEventListener('open', () => { $('#live').textContent = 'Live'; });
  seats.addEventListener('error', () => { $('#live').textContent = 'Reconnecting…'; });
  seats.addEventListener('snapshot', (m) => { status = JSON.parse(m.data).status; map.setStatus(status); showCounts(); });
  seats.addEventListener('seats', (m) => {
    const d = JSON.parse(m.data);
    const chars = status.split('');
    for (const id of d.seat_ids) if (id < chars.length) chars[id] = d.status[0];
    status = chars.join('');
    map.applyChange(d.seat_ids, d.status[0]);
    showCounts();
    if (d.status[0] === 'S' || d.status[0] === 'A') { reportSoon(); if (ordersShown) reloadOrders(); }
  });
  stops.push(() => seats.close());
  stops.push(followWaitlist(eventId));
  stops.push(followResale(eventId));
  stops.push(followStream(`/v1/events/${eventId}/checkins/stream`, {
    onEvent: (name, d) => { if (name === 'gates') $('#t-inside').textContent = d.inside.toLocaleString(); },
  }));
  if (event.waiting_room && event.waiting_room.enabled) {
    const room = async () => {
      try {
        const q = await call('GET', `/v1/events/${eventId}/queue`);
        $('#t-queue').textContent = `${q.length.toLocaleString()} waiting, ${q.admitted.toLocaleString()} admitted`;
      } catch { /* next round */ }
    };
    timers.push(setInterval(room, 5000));
    room();
  } else {
    $('#t-queue').textContent = 'off';
  }

  // Orders: found by email, name or number; refunded in two presses (the second confirms the amount).
  let ordersShown = false, query = '';
  let ordersAsked = 0;  // an answer to an older request (another search, a reload on a sale) is dropped
  const reloadOrders = async () => {
    const asked = ++ordersAsked;
    try {
      const page = await call('GET', `/v1/events/${eventId}/orders?` + new URLSearchParams({ q: query, limit: 50 }));
      if (asked !== ordersAsked) return;
      ordersShown = true;
      // Long addresses wrap and the actions stack in their own column, so the table fits its half of the
      // dashboard; where that is narrow (a phone) each order becomes a card (web/app.css, .orders-wrap).
      $('#orders').innerHTML = page.orders.map((o) => `<tr>
        <td data-label="#">${o.id}</td>
        <td data-label="Buyer"><span>${esc(o.buyer.name)}<br><span class="muted email">${esc(o.buyer.email)}</span></span></td>
        <td data-label="Seats"><ul class="bare">${o.seats.map((s) => `<li><span class="nowrap">${esc(`${s.section} ${s.row}${s.number}`)}</span>${o.status === 'CONFIRMED' && o.seats.length > 1
          ? ` <button type="button" class="link" data-refund="${o.id}" data-seat="${s.id}"
              data-amount="${esc(`${s.section} ${s.row}${s.number}`)}" aria-label="Refund seat ${esc(`${s.section} ${s.row}${s.number}`)}">refund</button>` : ''}</li>`).join('')}</ul></td>
        <td data-label="Amount"><span><span class="nowrap">${esc(money(o.total_amount, o.currency))}</span>${o.refunded_amount ? `<br><span class="muted">${esc(money(o.refunded_amount, o.currency))} refunded</span>` : ''}</span></td>
        <td data-label="Status">${esc(o.status)}</td>
        <td>${o.status === 'CONFIRMED' ? `<div class="order-actions"><button type="button" class="secondary" data-refund="${o.id}"
          data-amount="${esc(money(o.total_amount - o.refunded_amount, o.currency))}">Refund</button>
          <button type="button" class="link" data-resend="${o.id}">Resend confirmation</button></div>` : ''}</td></tr>`).join('')
        || '<tr><td colspan="6" class="muted">No orders found.</td></tr>';
    } catch (err) { say($('#orders-msg'), err.message); }
  };
  $('#order-search').addEventListener('submit', (e) => { e.preventDefault(); query = new FormData(e.target).get('q').trim(); reloadOrders(); });
  $('#orders').addEventListener('click', async (e) => {
    const again = e.target.closest('[data-resend]');
    if (again) {
      try {
        await call('POST', `/v1/bookings/${again.dataset.resend}/resend-confirmation`, {});
        say($('#orders-msg'), `The confirmation of booking ${again.dataset.resend} is on its way again.`, 'ok');
      } catch (err) { say($('#orders-msg'), err.message); }
      return;
    }
    const b = e.target.closest('[data-refund]');
    if (!b) return;
    if (!b.dataset.armed) {
      b.dataset.armed = '1';
      b.textContent = `Confirm refund of ${b.dataset.amount}`;
      if (b.hasAttribute('aria-label')) b.setAttribute('aria-label', b.textContent);
      b.classList.add('danger');
      return;
    }
    b.disabled = true;
    const seat = b.dataset.seat;  // one seat of the booking, or (absent) all of it
    try {
      await call('POST', `/v1/bookings/${b.dataset.refund}/refund`, seat ? { seat_ids: [Number(seat)] } : {});
      say($('#orders-msg'), seat ? `Seat ${b.dataset.amount} of booking ${b.dataset.refund} is refunded; the buyer is told by email.`
        : `Booking ${b.dataset.refund} is refunded; the buyer is told by email.`, 'ok');
      reloadOrders();
      reportSoon();
    } catch (err) { b.disabled = false; say($('#orders-msg'), err.message); }
  });
  reloadOrders();

  $('#attendees').addEventListener('click', () => download(`/v1/events/${eventId}/attendees.csv`, `attendees-${eventId}.csv`,
    $('#orders-msg')));
  $('#report-csv').addEventListener('click', () => download(`/v1/events/${eventId}/sales-report.csv`, `sales-${eventId}.csv`,
    $('#orders-msg')));
  $('#room').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const updated = await call('PUT', `/v1/events/${eventId}/waiting-room`, {
        enabled: f.get('enabled') === 'on', batch_size: Number(f.get('batch_size')),
        release_interval_s: Number(f.get('release_interval_s')), active_window_s: Number(f.get('active_minutes')) * 60 });
      event.waiting_room = updated;  // the answer is the room's settings
      say($('#room-msg'), updated.enabled ? 'Saved: buyers queue.' : 'Saved: no waiting room.', 'ok');
    } catch (err) { say($('#room-msg'), err.message); }
  });

  $('#edit').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const prices = {};
    for (const [k, v] of f.entries()) {
      if (!k.startsWith('price:')) continue;
      const minor = Math.round(Number(v) * 100);
      if (minor !== event.prices[k.slice(6)]) prices[k.slice(6)] = minor;  // only what changed is sent
    }
    const body = { name: f.get('name').trim(), description: f.get('description'), image_url: f.get('image_url').trim(),
      published: f.get('published') === 'on' };
    if (Object.keys(prices).length) body.prices = prices;
    try {
      Object.assign(event, await call('PATCH', `/v1/events/${eventId}`, body));
      say($('#edit-msg'), event.published ? 'Saved.' : 'Saved. The event is unpublished: buyers cannot see or buy it.', 'ok');
    } catch (err) { say($('#edit-msg'), err.message); }
  });
  $('#postpone').addEventListener('submit', async (e) => {
    e.preventDefault();
    const when_ = new FormData(e.target).get('starts_at');
    if (!when_) return say($('#postpone-msg'), 'Pick the new date.');
    try {
      const moved = await call('POST', `/v1/events/${eventId}/postpone`, { starts_at: new Date(when_).toISOString() });
      Object.assign(event, moved);
      say($('#postpone-msg'), `Moved to ${when(moved.starts_at)}; every buyer is being emailed.`, 'ok');
    } catch (err) { say($('#postpone-msg'), err.message); }
  });
  $('#duplicate').addEventListener('click', () => { $('#dup').hidden = false; $('#dup [name=starts_at]').focus(); });
  $('#dup').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const copy = await call('POST', `/v1/events/${eventId}/duplicate`, {
        starts_at: new Date(f.get('starts_at')).toISOString(), on_sale_at: new Date(f.get('on_sale_at')).toISOString() });
      flash(`${copy.name} is created, unpublished: check it and publish it.`, 'ok', { keep: true });
      location.hash = `#/events/${copy.id}`;
    } catch (err) { say($('#dup-msg'), err.message); }
  });

  $('#staff').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const s = await call('POST', `/v1/events/${eventId}/door-staff`, { email: new FormData(e.target).get('email').trim() });
      say($('#staff-msg'), `${s.email} can now scan tickets for this event at /scan.`, 'ok');
    } catch (err) { say($('#staff-msg'), err.message); }
  });

  // Cancellation: armed by the first press, done by the second; then its refunds' progress.
  const showCancellation = (c) => {
    $('#cancel-btn').hidden = true;
    say($('#state-msg'), `Cancelled ${when(c.cancelled_at)}${c.reason ? `: ${c.reason}` : ''}. Sales are stopped.`, 'info');
    say($('#cancel-msg'), c.status === 'REFUNDED'
      ? `All bookings are refunded (${c.bookings_cancelled}).`
      : `Refunding: ${c.bookings_cancelled} done, ${c.bookings_to_refund} to go.`, c.status === 'REFUNDED' ? 'ok' : 'info');
  };
  const followCancellation = () => {
    const poll = async () => {
      try {
        const c = await call('GET', `/v1/events/${eventId}/cancellation`);
        showCancellation(c);
        if (c.status === 'REFUNDED') { clearInterval(t); reloadOrders(); reportSoon(); }
      } catch { /* next round */ }
    };
    const t = setInterval(poll, 1500);
    timers.push(t);
    poll();
  };
  $('#cancel').addEventListener('submit', async (e) => {
    e.preventDefault();
    const b = $('#cancel-btn');
    if (!b.dataset.armed) {
      b.dataset.armed = '1';
      b.textContent = 'Yes, cancel the event and refund every buyer';
      return;
    }
    b.disabled = true;
    try {
      await call('POST', `/v1/events/${eventId}/cancel`, { reason: new FormData(e.target).get('reason').trim() });
      flash('The event is cancelled; refunds are under way.', 'ok');
      followCancellation();
    } catch (err) { b.disabled = false; say($('#cancel-msg'), err.message); }
  });
  if (event.cancelled_at) followCancellation();

  return () => {
    for (const t of timers) clearInterval(t);
    if (reportTimer) clearTimeout(reportTimer);
    for (const stop of stops) stop();
    map.destroy();
  };
}
