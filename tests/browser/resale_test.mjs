// Face-value resale in the browser (docs/web.md, "Resale"): a seller buys a seat of a tiny event (which
// sells it out) on the event page and lists the ticket from My tickets, after a confirm step that says
// what comes back; the ticket's page then offers no transfer. Another buyer, watching the sold-out
// event, sees the seat come back on the live map, holds it (the seller's "Withdraw listing" is refused
// meanwhile: a buyer is paying) and pays for it through the normal page; the seller's My tickets page,
// without a reload, shows the ticket resold and the face value refunded; the organizer's dashboard has
// the figures. With the keyboard alone: a ticket listed, the confirm step left with Escape, then listed
// and withdrawn. axe checks every state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, Server, launchBrowser, userPage, withArtifacts, axeProblems, seatBox, expectSeat, newOrganizer,
  organizerEvent } from './support.mjs';

const LIVE_MS = 1000;      // issue 6: another buyer's map shows a change within a second
// The seller's page asks again every 5 s while a listing is on offer or its refund is on its way; the
// refund is paid just after the sale (the in-process test provider).
const RESOLD_MS = 15_000;
const SETTLED_MS = 5000;   // figures asked for every 5 s

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('resale', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

// A tiny event of the organizer's, on sale now: one row of `seats` floor seats at 90.00 EUR.
function tinyEvent(organizer, name, seats) {
  return organizerEvent(server, organizer, name, [{ name: 'Floor', price_tier: 'floor', rows: [{ label: 'A', seats }] }],
    { floor: 9000 });
}

async function openEvent(page, event) {
  await page.goto(`${server.url}/#/events/${event.id}`);
  await page.getByRole('heading', { name: event.name, level: 1, exact: true }).waitFor();
  await page.getByText('Live updates: on').waitFor();
}

async function openTickets(page) {
  await page.getByRole('navigation').getByRole('link', { name: 'My tickets' }).click();
  await page.getByRole('heading', { name: 'My tickets', level: 1 }).waitFor();
}

// Seat `number` of the picker's row: picked, held, paid with the test card; waits for the confirmation.
async function buyOnPage(page, number) {
  await seatBox(page, number).click();
  await expectSeat(page, number, 'selected');
  await page.getByRole('button', { name: 'Hold 1 seat' }).click();
  await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  await page.getByLabel('Test card').selectOption('pm_card_visa');
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.getByRole('heading', { name: 'Booking confirmed', level: 1 }).waitFor();
  return Number(new URL(page.url()).hash.match(/^#\/bookings\/(\d+)$/)[1]);
}

async function ticketsOf(user, bookingId) {
  const r = await server.call('GET', `/v1/bookings/${bookingId}/tickets`, undefined, user.token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.tickets;
}

// Presses Tab until `isThere` (run in the page) is true; fails after `max` presses.
async function tabTo(page, isThere, what, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(isThere)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what}`);
}

test('a seller lists a ticket at face value; another buyer sees the seat, holds and pays for it; the seller sees it resold and refunded', async () => {
  const olga = await newOrganizer(server, 'Olga');
  const event = await tinyEvent(olga, 'Resale Night', 2);
  const [sam, bea, cal] = await Promise.all([server.newUser('Sam'), server.newUser('Bea'), server.newUser('Cal')]);
  await server.buy(cal, event, [1]);
  const problems = [];
  await withArtifacts('resale-sold', () => pages, [server], async () => {
    // Sam buys the last seat on the event page: sold out.
    pages.s = await userPage(browser, server, { user: sam });
    const s = pages.s;
    await openEvent(s, event);
    const samsBooking = await buyOnPage(s, 1);
    const [ticket] = await ticketsOf(sam, samsBooking);
    const seat = 'Resale Night, Floor, row A, seat 1';

    // Bea watches the sold-out event.
    pages.b = await userPage(browser, server, { user: bea });
    const b = pages.b;
    await openEvent(b, event);
    await b.getByText('0 available · 0 held · 2 sold').waitFor();
    await expectSeat(b, 1, 'sold');

    // Sam sells it from My tickets: the confirm step says what comes back, and the listing says it again.
    await openTickets(s);
    assert.equal(await s.getByRole('button', { name: /^Send/ }).count(), 0);
    await s.getByRole('button', { name: `Sell at face value: ${seat}` }).click();
    const confirm = s.getByRole('group', { name: /^Sell this ticket at face value\?/ });
    await confirm.getByText('If someone buys the seat you get €90.00 back, and this ticket stops working.', { exact: false }).waitFor();
    assert.equal(await s.evaluate(() => document.activeElement.getAttribute('aria-label')), `List for resale: ${seat}`,
      'focus on the second press');
    problems.push(...await axeProblems(s, 'my tickets: the confirm step'));
    await confirm.getByRole('button', { name: `List for resale: ${seat}` }).click();
    await s.getByText('Listed for resale — you get €90.00 back if it sells', { exact: true }).waitFor();
    await s.locator('#tk-msg').getByText(`Listed for resale: ${seat}. You get €90.00 back if it sells; until then your ticket still works.`).waitFor();
    assert.equal(await s.evaluate(() => document.activeElement.getAttribute('aria-label')), `Withdraw listing: ${seat}`);
    assert.equal(await s.getByRole('button', { name: /^Sell at face value/ }).count(), 0);
    const listing = await server.call('GET', `/v1/tickets/${ticket.id}/resale`, undefined, sam.token);
    assert.equal(listing.status, 200, JSON.stringify(listing.body));
    assert.deepEqual([listing.body.listing.state, listing.body.listing.amount], ['LISTED', 9000]);
    problems.push(...await axeProblems(s, 'my tickets: listed'));

    // Listed, the ticket's page offers no transfer (the server would refuse it).
    await s.getByRole('link', { name: 'Resale Night: Floor, row A, seat 1' }).click();
    await s.getByText('Listed for resale, so it cannot be sent to anyone', { exact: false }).waitFor();
    assert.equal(await s.getByText('Send this ticket to someone').count(), 0);
    problems.push(...await axeProblems(s, 'a listed ticket\'s page'));
    await openTickets(s);
    await s.getByText('Listed for resale — you get €90.00 back if it sells').waitFor();
    await s.evaluate(() => { window.ticketdSamePage = true; });

    // Bea's map shows the seat on sale again; she holds it.
    await expectSeat(b, 1, 'available', LIVE_MS);
    await seatBox(b, 1).click();
    await expectSeat(b, 1, 'selected');
    await b.getByRole('button', { name: 'Hold 1 seat' }).click();
    await b.getByRole('heading', { name: 'Your seats are held' }).waitFor();

    // While she pays, Sam cannot withdraw it.
    await s.getByRole('button', { name: `Withdraw listing: ${seat}` }).click();
    await s.getByRole('alert').filter({ hasText: 'A buyer is paying for this seat right now.' }).waitFor();
    await s.getByText('Listed for resale — you get €90.00 back if it sells').waitFor();
    problems.push(...await axeProblems(s, 'my tickets: withdrawing refused'));

    await b.getByLabel('Test card').selectOption('pm_card_visa');
    await b.getByRole('button', { name: /^Pay / }).click();
    await b.getByRole('heading', { name: 'Booking confirmed', level: 1 }).waitFor();
    await b.getByRole('region', { name: 'Tickets' }).getByRole('link', { name: 'Show ticket: Floor, row A, seat 1' }).waitFor();

    // Sam's page, not reloaded, says it was resold, then refunded.
    await s.getByText('Resold — €90.00 refunded', { exact: true }).waitFor({ timeout: RESOLD_MS });
    assert.equal(await s.evaluate(() => window.ticketdSamePage), true, 'the page was not reloaded');
    await s.locator('#tk-msg').getByText(/^(Resold: Resale Night, Floor, row A, seat 1\. )?€90\.00 is refunded to you\.$|€90\.00 for Resale Night, Floor, row A, seat 1 is refunded to you\./).waitFor();
    assert.equal(await s.getByRole('button', { name: /^(Withdraw listing|Sell at face value)/ }).count(), 0);
    problems.push(...await axeProblems(s, 'my tickets: resold and refunded'));
    const old = await server.call('GET', `/v1/tickets/${ticket.id}`, undefined, sam.token);
    assert.deepEqual([old.body.status, old.body.revoked_reason], ['REVOKED', 'resold']);
    const { body: { listings } } = await server.call('GET', '/v1/resale', undefined, sam.token);
    assert.deepEqual([listings[0].ticket_id, listings[0].state, listings[0].refunded], [ticket.id, 'SOLD', true]);
    await openEvent(b, event);
    await expectSeat(b, 1, 'sold');

    // Reloaded, it says the same.
    await s.reload();
    await s.getByText('Resold — €90.00 refunded', { exact: true }).waitFor();

    // The organizer's dashboard: one sold, its face value, no refund pending.
    pages.o = await userPage(browser, server);
    const o = pages.o;
    await o.goto(`${server.url}/console`);
    await o.getByRole('heading', { name: 'Organizer console' }).waitFor();
    await o.getByLabel('Email').fill(olga.email);
    await o.getByLabel('Password').fill(PASSWORD);
    await o.getByRole('button', { name: 'Log in' }).click();
    await o.getByRole('navigation', { name: 'Console' }).waitFor();
    await o.goto(`${server.url}/console#/events/${event.id}`);
    await o.getByRole('heading', { name: 'Resale Night', level: 1 }).waitFor();
    await o.getByRole('heading', { name: 'Resale at face value', level: 2 }).waitFor();
    const figures = o.getByRole('list', { name: 'Resale figures' }).getByRole('listitem');
    for (const figure of [/^\s*0\s+listed now\s*$/, /^\s*1\s+sold\s*$/, /^\s*0\s+withdrawn\s*$/,
      /^\s*€90\.00\s+sold, face value\s*$/, /^\s*0\s+refunds pending\s*$/]) {
      await figures.filter({ hasText: figure }).waitFor({ timeout: SETTLED_MS });
    }
    problems.push(...await axeProblems(o, 'console dashboard with resale figures'));
    assert.deepEqual([...s.errors, ...b.errors, ...o.errors], []);
  });
  for (const k of ['s', 'b', 'o']) { await pages[k]?.context().close(); delete pages[k]; }
  assert.deepEqual(problems, []);
});

test('keyboard only: a ticket listed for resale (after leaving the confirm step once with Escape), then withdrawn', async () => {
  const event = await server.makeEvent('Keyboard Resale Night');
  const kim = await server.newUser('Kim');
  const booking = await server.buy(kim, event, [20]);  // Balcony, row A, seat 1: 45.00 EUR
  const [ticket] = await ticketsOf(kim, booking.id);
  const seat = 'Keyboard Resale Night, Balcony, row A, seat 1';
  const problems = [];
  await withArtifacts('resale-keyboard', () => pages, [server], async () => {
    pages.k = await userPage(browser, server, { user: kim });
    const k = pages.k;
    await k.goto(`${server.url}/#/tickets`);
    await k.getByRole('heading', { name: 'My tickets', level: 1 }).waitFor();
    await k.getByRole('button', { name: `Sell at face value: ${seat}` }).waitFor();
    problems.push(...await axeProblems(k, 'my tickets: a ticket to sell'));

    // Sell at face value, then Escape: back to the ticket as it was, focus on the same button.
    await tabTo(k, () => document.activeElement.dataset.sell !== undefined, 'Sell at face value');
    await k.keyboard.press('Enter');
    await k.waitForFunction(() => document.activeElement.dataset.list !== undefined);
    await k.getByRole('group', { name: /^Sell this ticket at face value\?/ })
      .getByText('If someone buys the seat you get €45.00 back', { exact: false }).waitFor();
    await k.keyboard.press('Escape');
    await k.waitForFunction(() => document.activeElement.dataset.sell !== undefined);
    assert.equal(await k.getByRole('group', { name: /^Sell this ticket/ }).count(), 0);

    // Again, and confirmed.
    await k.keyboard.press('Enter');
    await k.waitForFunction(() => document.activeElement.dataset.list !== undefined);
    await k.keyboard.press('Enter');
    await k.getByText('Listed for resale — you get €45.00 back if it sells', { exact: true }).waitFor();
    await k.locator('#tk-msg').getByText(`Listed for resale: ${seat}. You get €45.00 back if it sells; until then your ticket still works.`).waitFor();
    assert.equal(await k.evaluate(() => document.activeElement.getAttribute('aria-label')), `Withdraw listing: ${seat}`);
    const listed = await server.call('GET', `/v1/tickets/${ticket.id}/resale`, undefined, kim.token);
    assert.deepEqual([listed.status, listed.body.listing.state, listed.body.listing.amount], [200, 'LISTED', 4500]);
    const refused = await server.call('POST', `/v1/tickets/${ticket.id}/transfers`, { email: 'someone@example.test' }, kim.token);
    assert.equal(refused.body.error.code, 'ticket_not_transferable');
    problems.push(...await axeProblems(k, 'my tickets: listed (keyboard)'));

    // Withdraw listing: the ticket is Kim's again, and can be sold again.
    await k.keyboard.press('Enter');
    await k.locator('#tk-msg').getByText(`Listing withdrawn: ${seat} is yours to use or send.`).waitFor();
    await k.waitForFunction(() => document.activeElement.dataset.sell !== undefined);
    assert.equal(await k.getByText(/^Listed for resale —/).count(), 0);
    const gone = await server.call('GET', `/v1/tickets/${ticket.id}/resale`, undefined, kim.token);
    assert.equal(gone.status, 404);
    const mine = await server.call('GET', `/v1/tickets/${ticket.id}`, undefined, kim.token);
    assert.equal(mine.body.status, 'VALID');
    problems.push(...await axeProblems(k, 'my tickets: withdrawn'));
    assert.deepEqual(k.errors, []);
  });
  await pages.k?.context().close();
  delete pages.k;
  assert.deepEqual(problems, []);
});
