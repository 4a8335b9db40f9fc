// The waiting list of a sold-out event, in the browser (docs/web.md, "Waiting list"): a buyer who finds
// the event sold out joins the list from the event page; when another buyer cancels, the returned seat
// is offered to them and shows on the page without a reload; they pay for it there and see the booking.
// With the keyboard alone: a hold refused because seats go to the list first leads to its form; a buyer
// joins, leaves, joins again for one price tier and declines the offer; the organizer sees the list's
// figures on the console's dashboard, keeps seats listed for resale for the list (off open sale), which a
// reload of the dashboard still shows, and closes it to new entries. axe checks every state of the card.
// Each event's list has no draw window (draw_window_s 0), so offers are not held back by a draw.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, Server, launchBrowser, userPage, withArtifacts, axeProblems, expectSeat, newOrganizer,
  organizerEvent } from './support.mjs';

// A returned seat becomes an offer within the server's 250 ms pass; the page asks again about a second
// after the map shows the seat held, and every 5 s regardless.
const OFFER_MS = 10_000;
const SETTLED_MS = 5000;  // a booking confirmed or a setting saved is seen by the next read

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('waitlist', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

// A tiny event of the organizer's, on sale now, whose waiting list has no draw window.
async function tinyEvent(organizer, name, sections, prices) {
  const event = await organizerEvent(server, organizer, name, sections, prices);
  const settings = await server.call('PUT', `/v1/events/${event.id}/waitlist/settings`, { draw_window_s: 0 },
    organizer.token);
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  assert.equal(settings.body.waitlist.draw_window_s, 0);
  return event;
}

async function entryOf(user, event) {
  const r = await server.call('GET', `/v1/events/${event.id}/waitlist`, undefined, user.token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

// Asks the server until the user's entry is in `state` (an answer may lag the page by a moment).
async function untilState(user, event, state, timeoutMs = SETTLED_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { entry } = await entryOf(user, event);
    if (entry && entry.state === state) return entry;
    if (Date.now() > deadline) assert.fail(`entry is ${entry && entry.state}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openEvent(page, event) {
  await page.goto(`${server.url}/#/events/${event.id}`);
  await page.getByRole('heading', { name: event.name, level: 1, exact: true }).waitFor();
  await page.getByText('Live updates: on').waitFor();
}

async function cancelBooking(user, booking) {
  const r = await server.call('POST', `/v1/bookings/${booking.id}/cancel`, undefined, user.token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

// "HH:MM" of `iso` on the page's clock, as the page writes times.
async function clockOf(page, iso) {
  return page.evaluate((t) => {
    const d = new Date(t);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }, iso);
}

// Presses Tab until `isThere` (run in the page) is true; fails after `max` presses.
async function tabTo(page, isThere, what, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(isThere)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what}`);
}

test('a buyer finds the event sold out, joins the waiting list, is offered a returned seat without a reload and pays for it', async () => {
  const olga = await newOrganizer(server, 'Olga');
  const event = await tinyEvent(olga, 'Second Chance Night', [{ name: 'Floor', price_tier: 'floor', rows: [{ label: 'A', seats: 2 }] }],
    { floor: 9000 });
  const [ann, bea] = await Promise.all([server.newUser('Ann'), server.newUser('Bea')]);
  const first = await server.buy(bea, event, [0]);
  await server.buy(bea, event, [1]);
  const problems = [];
  await withArtifacts('waitlist-offer', () => pages, [server], async () => {
    pages.a = await userPage(browser, server, { user: ann });
    const a = pages.a;
    await openEvent(a, event);
    await a.getByText('0 available · 0 held · 2 sold').waitFor();
    await a.getByText('Sold out for now. Join the waiting list: seats that come back go to the people on it, in order.').waitFor();
    assert.equal(await a.getByLabel('Price tier').count(), 0, 'one price tier: nothing to choose');
    assert.equal(await a.getByLabel('Seats together').isChecked(), true);
    problems.push(...await axeProblems(a, 'sold out: the waiting list form'));

    await a.getByLabel('Tickets').selectOption('1');
    await a.getByRole('button', { name: 'Join the waiting list' }).click();
    await a.getByRole('heading', { name: 'You are on the waiting list' }).waitFor();
    await a.getByText('Your place in line: 1 (next).').waitFor();
    await a.getByText('For 1 seat, any price tier.').waitFor();
    await a.getByText(/^Estimated wait: /).waitFor();
    await a.getByRole('button', { name: 'Leave the waiting list' }).waitFor();
    assert.equal(await a.evaluate(() => document.activeElement.id), 'wl-h', 'focus on the card\'s new heading');
    const { entry: joined } = await entryOf(ann, event);
    assert.equal(joined.state, 'WAITING');
    assert.deepEqual([joined.quantity, joined.together, joined.tier, joined.position, joined.draw_pending], [1, true, null, 1, false]);
    problems.push(...await axeProblems(a, 'on the waiting list'));

    // Bea cancels a booking: its seat is offered to Ann, whose page shows it without a reload.
    await a.evaluate(() => { window.ticketdSamePage = true; });
    await cancelBooking(bea, first);
    await a.getByText(/^Seats came back for you: Floor, row A, seat 1, held until \d\d:\d\d\.$/).waitFor({ timeout: OFFER_MS });
    assert.equal(await a.evaluate(() => window.ticketdSamePage), true, 'the page was not reloaded');
    const offered = await untilState(ann, event, 'OFFERED');
    assert.deepEqual(offered.offer.seats, [0]);
    await a.getByText(`Seats came back for you: Floor, row A, seat 1, held until ${await clockOf(a, offered.offer.expires_at)}.`,
      { exact: true }).waitFor();
    await a.getByRole('heading', { name: 'Seats came back for you' }).waitFor();
    await expectSeat(a, 1, 'held by you', OFFER_MS);
    assert.equal(await a.getByText(/^You are holding/).count(), 0, 'the offer is not listed again as a live hold');
    problems.push(...await axeProblems(a, 'an offer'));

    // Pay now: the offer's hold in the page's own checkout.
    await a.getByRole('button', { name: 'Pay now' }).click();
    await a.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(await a.locator('#buy li').allTextContents(), ['Floor, row A, seat 1']);
    await a.getByLabel('Test card').selectOption('pm_card_visa');
    await a.locator('#pay-btn').click();
    await a.getByRole('heading', { name: 'Booking confirmed', level: 1 }).waitFor();
    await a.getByRole('listitem').filter({ hasText: /^Floor, row A, seat 1$/ }).waitFor();
    const bookingId = Number(new URL(a.url()).hash.match(/^#\/bookings\/(\d+)$/)[1]);
    await untilState(ann, event, 'FULFILLED');

    // Back on the event page (still sold out), the card says so and links to the booking.
    await openEvent(a, event);
    await a.getByRole('heading', { name: 'You got seats from the waiting list' }).waitFor();
    await a.locator('#waitlist').getByRole('link', { name: 'See your booking' }).waitFor();
    assert.equal(await a.locator('#waitlist').getByRole('link', { name: 'See your booking' }).getAttribute('href'),
      `#/bookings/${bookingId}`);
    problems.push(...await axeProblems(a, 'a fulfilled entry'));
    assert.deepEqual(a.errors, []);
  });
  await pages.a.context().close();
  delete pages.a;
  assert.deepEqual(problems, []);
});

test('keyboard only: a hold refused for the list leads to it; join, leave, join for a tier, decline; the organizer sees the figures, keeps resale seats for the list and closes it', async () => {
  const olga = await newOrganizer(server, 'Oona');
  const event = await tinyEvent(olga, 'Two Tiers Night', [
    { name: 'Floor', price_tier: 'floor', rows: [{ label: 'A', seats: 1 }] },
    { name: 'Balcony', price_tier: 'balcony', rows: [{ label: 'A', seats: 1 }] }], { floor: 9000, balcony: 4500 });
  const [kim, bea, dan] = await Promise.all([server.newUser('Kim'), server.newUser('Bea'), server.newUser('Dan')]);
  const floorBooking = await server.buy(bea, event, [0]);
  const balconyBooking = await server.buy(bea, event, [1]);
  // Dan waits for two seats side by side, which this venue never has: he keeps the list in force, so seats
  // that come back stay with it, and he is passed over for every seat.
  const dans = await server.call('POST', `/v1/events/${event.id}/waitlist`, { quantity: 2, together: true }, dan.token);
  assert.equal(dans.status, 201, JSON.stringify(dans.body));
  await cancelBooking(bea, balconyBooking);
  const problems = [];
  await withArtifacts('waitlist-keyboard', () => pages, [server], async () => {
    pages.k = await userPage(browser, server, { user: kim });
    const k = pages.k;
    await openEvent(k, event);
    await k.getByText('1 available · 0 held · 1 sold').waitFor();

    // Kim picks the balcony seat (the next row of the picker) and tries to hold it: it goes to the list first.
    await tabTo(k, () => Boolean(document.activeElement.closest('#seat-list')), 'the seats');
    await k.keyboard.press('ArrowDown');
    await k.keyboard.press('Space');
    await expectSeat(k, 1, 'selected');
    await tabTo(k, () => document.activeElement.id === 'hold-btn', 'Hold 1 seat');
    await k.keyboard.press('Enter');
    await k.locator('#buy-msg').getByText('Not on open sale: seats that come back go to the waiting list first.').waitFor();
    await k.locator('#wl-status').getByText('Seats that come back go to the waiting list first: join it to be offered seats.').waitFor();
    await k.waitForFunction(() => document.activeElement.id === 'wl-h');
    await k.getByLabel('Price tier').waitFor();
    problems.push(...await axeProblems(k, 'a hold refused for the list: the form with tiers'));

    // Joins for two seats together: second in line, behind Dan.
    await tabTo(k, () => document.activeElement.id === 'wl-quantity', 'Tickets');
    await k.keyboard.press('ArrowDown');
    assert.equal(await k.locator('#wl-quantity').inputValue(), '2');
    await tabTo(k, () => document.activeElement.textContent === 'Join the waiting list', 'Join the waiting list');
    await k.keyboard.press('Enter');
    await k.getByText('Your place in line: 2.').waitFor();
    await k.getByText('For 2 seats together, any price tier.').waitFor();
    assert.equal(await k.evaluate(() => document.activeElement.id), 'wl-h');

    // Leaves.
    await tabTo(k, () => document.activeElement.textContent === 'Leave the waiting list', 'Leave the waiting list');
    await k.keyboard.press('Enter');
    await k.getByText(/^You left the waiting list\. /).waitFor();
    assert.equal((await entryOf(kim, event)).entry.state, 'LEFT');

    // Joins again, for one floor seat; none is free, so Kim waits.
    await tabTo(k, () => document.activeElement.id === 'wl-quantity', 'Tickets');
    assert.equal(await k.locator('#wl-quantity').inputValue(), '1');
    await k.keyboard.press('Tab');
    assert.equal(await k.evaluate(() => document.activeElement.id), 'wl-tier');
    await k.keyboard.press('ArrowDown');
    assert.equal(await k.locator('#wl-tier').inputValue(), 'floor');
    await tabTo(k, () => document.activeElement.textContent === 'Join the waiting list', 'Join the waiting list');
    await k.keyboard.press('Enter');
    await k.getByText('For 1 seat, floor tier.').waitFor();
    await k.getByText('Your place in line: 2.').waitFor();

    // The floor seat comes back: Dan cannot use one seat, so Kim is offered it; Kim declines.
    await cancelBooking(bea, floorBooking);
    await k.getByText(/^Seats came back for you: Floor, row A, seat 1, held until \d\d:\d\d\.$/).waitFor({ timeout: OFFER_MS });
    await tabTo(k, () => document.activeElement.textContent === 'Decline', 'Decline');
    await k.keyboard.press('Enter');
    await k.getByText(/^You left the waiting list\. /).waitFor();
    assert.equal((await entryOf(kim, event)).entry.state, 'LEFT');
    // Nobody else it suits (Dan wants two together): the floor seat is free again, and stays with the list.
    await k.getByText('2 available · 0 held · 0 sold').waitFor({ timeout: SETTLED_MS });
    problems.push(...await axeProblems(k, 'after declining'));
    assert.deepEqual(k.errors, []);

    // The organizer's dashboard: Dan waiting, the offer of the last hour; closed to new entries.
    pages.o = await userPage(browser, server);
    const o = pages.o;
    await o.goto(`${server.url}/console`);
    await o.getByRole('heading', { name: 'Organizer console' }).waitFor();
    await o.getByLabel('Email').fill(olga.email);
    await o.getByLabel('Password').fill(PASSWORD);
    await o.getByRole('button', { name: 'Log in' }).click();
    await o.getByRole('navigation', { name: 'Console' }).waitFor();
    await o.goto(`${server.url}/console#/events/${event.id}`);
    await o.getByRole('heading', { name: 'Two Tiers Night', level: 1 }).waitFor();
    const figures = o.locator('#wls-counts li');
    await figures.filter({ hasText: /^\s*1\s+waiting\s*$/ }).waitFor();
    await figures.filter({ hasText: /^\s*0\s+offered now\s*$/ }).waitFor();
    await figures.filter({ hasText: /^\s*1\s+offers in the last hour\s*$/ }).waitFor();
    await o.getByText('No draw: first come, first served.').waitFor();
    assert.equal(await o.getByLabel(/Take new entries/).isChecked(), true);
    assert.equal(await o.getByLabel('Minutes to pay an offer').inputValue(), '30');
    const resaleOpen = o.getByLabel('Resale seats go on open sale when nobody waits');
    assert.equal(await resaleOpen.isChecked(), true);
    assert.equal(await o.evaluate(() => {
      const box = document.querySelector('#wls-form [name=resale_open_sale]');
      return document.getElementById(box.getAttribute('aria-describedby')).textContent.replace(/\s+/g, ' ').trim();
    }), 'Off: tickets listed for resale are only offered to the waiting list.');
    problems.push(...await axeProblems(o, 'console dashboard with the waiting list'));

    // Seats listed for resale are kept for the list's offers: off open sale even when nobody waits.
    await resaleOpen.uncheck();
    await o.getByRole('button', { name: 'Save the waiting list' }).click();
    await o.locator('#wls-msg').getByText('Saved: the waiting list is on.').waitFor();
    const stats = await server.call('GET', `/v1/events/${event.id}/waitlist/stats`, undefined, olga.token);
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.equal(stats.body.waitlist.resale_open_sale, false);
    assert.equal(stats.body.waitlist.open, true);
    assert.equal(stats.body.waitlist.enabled, true);

    await o.getByLabel(/Take new entries/).uncheck();
    await o.getByRole('button', { name: 'Save the waiting list' }).click();
    await o.locator('#wls-msg').getByText('Saved: the waiting list is closed to new entries.').waitFor();
    assert.equal((await entryOf(kim, event)).waitlist.open, false);
    const refused = await server.call('POST', `/v1/events/${event.id}/waitlist`, { quantity: 1 }, bea.token);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'waitlist_closed');

    // The dashboard, reloaded, is filled from the server: both settings saved.
    await o.reload();
    await o.getByRole('heading', { name: 'Two Tiers Night', level: 1 }).waitFor();
    await resaleOpen.waitFor();
    assert.equal(await resaleOpen.isChecked(), false);
    assert.equal(await o.getByLabel(/Take new entries/).isChecked(), false);
    assert.equal(await o.getByLabel(/Offer seats that come back/).isChecked(), true);
    problems.push(...await axeProblems(o, 'console dashboard reloaded: resale seats kept for the list'));

    // Kim, reloaded, is told the list is closed, with no form.
    await k.reload();
    await k.getByText('Live updates: on').waitFor();
    await k.getByText(/The waiting list for this event is closed\.$/).waitFor();
    assert.equal(await k.getByRole('button', { name: 'Join the waiting list' }).count(), 0);
    assert.deepEqual([...k.errors, ...o.errors], []);
  });
  await pages.k.context().close();
  await pages.o.context().close();
  assert.deepEqual(problems, []);
});
