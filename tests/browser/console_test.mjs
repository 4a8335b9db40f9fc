// The organizer's console end to end in Chromium (docs/console.md): a newcomer logs in at /console,
// starts an organization, designs a venue with two curved sections (one dragged into place, a seat
// marked accessible), puts an event on sale, watches a buyer in another browser context buy a seat on
// the live dashboard, refunds one order, and cancels the event, whose refunds finish. Also: the
// designer draws 50,000 seats in one frame's budget. Run by scripts/test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, PASSWORD, Server, launchBrowser, userPage, withArtifacts, clickSeatOnMap } from './support.mjs';

const LIVE_MS = 5000;  // a sale reaches the dashboard's tiles through the seat stream; revenue within ~2 s

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('console', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

async function consolePage(user) {
  const page = await userPage(browser, server);
  await page.goto(server.url + '/console');
  await page.getByRole('heading', { name: 'Organizer console' }).waitFor();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  return page;
}

async function setField(page, label, value) {
  const input = page.locator('#section-fields').getByLabel(label, { exact: true });
  await input.fill(String(value));
}

test('a newcomer designs a venue, sells, watches it live, refunds a buyer and cancels the event', async () => {
  const olga = await server.newUser('Olga');
  await withArtifacts('console', () => pages, [server], async () => {
    pages.o = await consolePage(olga);
    const o = pages.o;
    await o.getByRole('heading', { name: 'Start your organization' }).waitFor();
    await o.getByLabel('Organization name').fill('Olga Presents');
    await o.getByRole('button', { name: 'Start organization' }).click();

    // The designer: two curved sections facing the stage, the second dragged into place.
    await o.getByRole('heading', { name: 'New venue' }).waitFor();
    await o.getByLabel('Venue name').fill('Olga Arena');
    await setField(o, 'Name', 'Left');
    await setField(o, 'Price tier', 'floor');
    await setField(o, 'Rows', 4);
    await setField(o, 'Seats per row', 10);
    await setField(o, 'X', -8);
    await setField(o, 'Rotation (°)', -15);
    await setField(o, 'Curve (°)', 40);
    await o.getByRole('button', { name: 'Add section' }).click();
    await setField(o, 'Name', 'Right');
    await setField(o, 'Price tier', 'balcony');
    await setField(o, 'Rows', 4);
    await setField(o, 'Seats per row', 10);
    await setField(o, 'Rotation (°)', 15);
    await setField(o, 'Curve (°)', 40);
    await o.getByRole('button', { name: 'Fit the plan' }).click();
    const canvas = o.locator('#plan');
    const box = await canvas.boundingBox();
    const from = await o.evaluate(() => window.ticketdDesigner.seatScreen(1, 0, 5));
    const xBefore = Number(await o.locator('#section-fields').getByLabel('X', { exact: true }).inputValue());
    await o.mouse.move(box.x + from.x, box.y + from.y);
    await o.mouse.down();
    await o.mouse.move(box.x + from.x + 60, box.y + from.y, { steps: 6 });
    await o.mouse.up();
    const xAfter = Number(await o.locator('#section-fields').getByLabel('X', { exact: true }).inputValue());
    assert.ok(xAfter > xBefore + 1, `dragging moved the section: x ${xBefore} -> ${xAfter}`);
    // Seat 1 of the first row of "Left" is marked accessible by clicking it.
    await o.getByLabel('Mark accessible seats').check();
    const seat = await o.evaluate(() => window.ticketdDesigner.seatScreen(0, 0, 1));
    await canvas.click({ position: { x: seat.x, y: seat.y } });
    await o.getByText('1 accessible, 0 companion seats marked.').waitFor();
    await o.getByRole('button', { name: 'Save venue' }).click();
    await o.getByText('Olga Arena is saved: 80 seats.').waitFor();

    // The venue as stored: two curved sections where they were put, the accessible seat.
    const venues = await server.call('GET', '/v1/organizations/' + (await orgId(o)) + '/venues', undefined, olga.token);
    const venue = (await server.call('GET', `/v1/venues/${venues.body.venues[0].id}`)).body;
    assert.deepEqual(venue.sections.map((s) => [s.name, s.geometry.curve_deg, s.geometry.rotation_deg]),
      [['Left', 40, -15], ['Right', 40, 15]]);
    assert.equal(venue.sections[1].geometry.x, xAfter);
    assert.deepEqual(venue.sections[0].rows[0].accessible, [1]);
    assert.ok(venue.stage && venue.stage.label === 'Stage');

    // The event: prices per tier, on sale now.
    await o.getByRole('heading', { name: 'New event' }).waitFor();
    await o.getByLabel('Name', { exact: true }).fill('Olga Live');
    await o.getByLabel('floor').fill('60');
    await o.getByLabel('balcony').fill('40');
    await o.getByRole('button', { name: 'Put on sale' }).click();
    await o.getByRole('heading', { name: 'Olga Live' }).waitFor();
    await o.getByText('Live', { exact: true }).waitFor();
    const eventId = Number(new URL(o.url()).hash.match(/events\/(\d+)/)[1]);
    assert.equal(await o.locator('#t-sold').textContent(), '0');

    // A buyer in another context buys seat 0 ("Left", row A, seat 1) on the buyer's map.
    const bea = await server.newUser('Bea');
    pages.b = await userPage(browser, server, { user: bea });
    const b = pages.b;
    await b.goto(`${server.url}/#/events/${eventId}`);
    await b.getByText('Live updates: on').waitFor();
    await clickSeatOnMap(b, 0);
    await b.getByRole('button', { name: 'Hold 1 seat' }).click();
    await b.getByLabel('Test card').selectOption('pm_card_visa');
    await b.getByRole('button', { name: /^Pay / }).click();
    await b.getByRole('heading', { name: 'Booking confirmed' }).waitFor();

    // The dashboard shows it live: one sold, the revenue, the order.
    await o.locator('#t-sold', { hasText: /^1$/ }).waitFor({ timeout: LIVE_MS });
    await o.locator('#t-revenue', { hasText: /60/ }).waitFor({ timeout: LIVE_MS });
    // Words change; the sold tier's price does not (its seats are sold).
    await o.getByLabel('Description').fill('Doors at seven.');
    await o.getByRole('button', { name: 'Save changes' }).click();
    await o.locator('#edit-msg').getByText('Saved.').waitFor();
    assert.equal((await server.call('GET', `/v1/events/${eventId}`)).body.description, 'Doors at seven.');
    await o.locator('#edit').getByLabel('floor').fill('70');
    await o.getByRole('button', { name: 'Save changes' }).click();
    await o.locator('#edit-msg').getByText(/held or sold; its price stays/).waitFor();
    // A second buyer (through the API), for the cancellation to refund.
    const cal = await server.newUser('Cal');
    await server.buy(cal, { id: eventId }, [45, 46]);
    await o.locator('#t-sold', { hasText: /^3$/ }).waitFor({ timeout: LIVE_MS });

    // Refund Bea's order, found by her email.
    await o.getByLabel('Email, name or booking number').fill(bea.email);
    await o.getByRole('button', { name: 'Find' }).click();
    await o.getByRole('cell', { name: bea.email }).waitFor();
    // Bea's row alone: the list showed every order before the search answered.
    await o.locator('#orders tr').filter({ hasText: cal.email }).waitFor({ state: 'detached' });
    const beaRow = o.locator('#orders tr').filter({ hasText: bea.email });
    await beaRow.getByRole('button', { name: 'Refund', exact: true }).click();
    await beaRow.getByRole('button', { name: /^Confirm refund of/ }).click();
    await o.getByText(/is refunded; the buyer is told by email/).waitFor();
    await o.locator('#t-sold', { hasText: /^2$/ }).waitFor({ timeout: LIVE_MS });

    // One of Cal's two seats: a partial refund, at that seat's price.
    await o.getByLabel('Email, name or booking number').fill(cal.email);
    await o.getByRole('button', { name: 'Find' }).click();
    await o.getByRole('cell', { name: cal.email }).waitFor();
    await o.locator('#orders tr').filter({ hasText: bea.email }).waitFor({ state: 'detached' });
    const calRow = o.locator('#orders tr').filter({ hasText: cal.email });
    await calRow.getByRole('button', { name: /^Refund seat Right/ }).first().click();
    await calRow.getByRole('button', { name: /^Confirm refund of Right/ }).click();
    await o.getByText(/^Seat Right .* of booking \d+ is refunded/).waitFor();
    await o.locator('#t-sold', { hasText: /^1$/ }).waitFor({ timeout: LIVE_MS });
    await o.getByText('€40.00 refunded').waitFor();

    // The waiting room is switched on from the dashboard; the sales report is there per day too.
    await o.getByLabel('Buyers queue for the on-sale (a flash sale)').check();
    await o.getByRole('button', { name: 'Save the waiting room' }).click();
    await o.locator('#room-msg').getByText('Saved: buyers queue.').waitFor();
    assert.equal((await server.call('GET', `/v1/events/${eventId}`)).body.waiting_room.enabled, true);
    await o.getByLabel('Buyers queue for the on-sale (a flash sale)').uncheck();
    await o.getByRole('button', { name: 'Save the waiting room' }).click();
    await o.locator('#room-msg').getByText('Saved: no waiting room.').waitFor();
    await o.locator('#days td', { hasText: /^\d{4}-\d{2}-\d{2}$/ }).first().waitFor();

    // Postpone it: the new date is the event's, the bookings stand.
    await o.getByLabel('New date').fill('2031-03-01T20:00');
    await o.getByRole('button', { name: 'Postpone' }).click();
    await o.locator('#postpone-msg').getByText(/^Moved to .*every buyer is being emailed/).waitFor();
    const moved = (await server.call('GET', `/v1/events/${eventId}`)).body;
    assert.equal(new Date(moved.starts_at).getTime(), new Date(2031, 2, 1, 20, 0).getTime());
    assert.ok(moved.postponed_from);

    // Cancel the event: sales stop, Cal's booking is refunded by the job.
    await o.getByLabel('Reason, told to buyers').fill('The stage collapsed.');
    await o.getByRole('button', { name: 'Cancel event…' }).click();
    await o.getByRole('button', { name: 'Yes, cancel the event and refund every buyer' }).click();
    await o.getByText(/All bookings are refunded/).waitFor({ timeout: 20_000 });
    await o.locator('#t-sold', { hasText: /^0$/ }).waitFor({ timeout: LIVE_MS });
    const hold = await server.call('POST', `/v1/events/${eventId}/holds`, { seat_ids: [1] }, bea.token);
    assert.equal(hold.status, 409);
    assert.equal(hold.body.error.code, 'event_cancelled');
    assert.deepEqual([...o.errors, ...b.errors], []);
  });
  await pages.o?.context().close();
  await pages.b?.context().close();
});

// Where the orders table overflows its column, if it does: the column's scroll width, and any order's
// Refund button that reaches past it.
async function ordersOverflow(page) {
  return page.evaluate(() => {
    const wrap = document.querySelector('.orders-wrap');
    const edge = wrap.getBoundingClientRect();
    const out = [];
    if (wrap.scrollWidth > wrap.clientWidth) out.push(`the table is ${wrap.scrollWidth} px wide in ${wrap.clientWidth} px`);
    if (document.documentElement.scrollWidth > innerWidth) out.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    for (const b of wrap.querySelectorAll('button[data-refund]')) {
      const r = b.getBoundingClientRect();
      if (r.left < edge.left - 0.5 || r.right > edge.right + 0.5) out.push(`"${b.textContent}" spans ${r.left}..${r.right} of ${edge.left}..${edge.right}`);
    }
    return out;
  });
}

test('the orders table fits a 1280 px window and a 320 px phone, its Refund buttons whole', async () => {
  const event = await server.makeEvent('Wide Orders Night');
  // A long address with nothing to break it at, and a booking of several seats (a refund link each).
  const email = `maximilianbartholomewlongnameforthetable${Date.now()}@example.test`;
  assert.equal((await server.call('POST', '/v1/users', { email, password: PASSWORD, name: 'Maximilian Bartholomew' })).status, 201);
  await server.buy({ token: await server.login(email, PASSWORD) }, event, [11, 12, 13]);
  // The console starts with "Start your organization" for someone in none.
  await server.call('POST', '/v1/organizations', { name: 'Admin Presents' }, await server.login(ADMIN.email, ADMIN.password));
  await withArtifacts('console-orders-width', () => pages, [server], async () => {
    pages.a = await userPage(browser, server);
    const a = pages.a;
    await a.setViewportSize({ width: 1280, height: 900 });
    await a.goto(server.url + '/console');
    await a.getByLabel('Email').fill(ADMIN.email);
    await a.getByLabel('Password').fill(ADMIN.password);
    await a.getByRole('button', { name: 'Log in' }).click();
    await a.locator('#console-nav').waitFor();
    await a.goto(`${server.url}/console#/events/${event.id}`);
    await a.getByRole('heading', { name: 'Wide Orders Night', level: 1 }).waitFor();
    await a.getByRole('cell', { name: email }).waitFor();
    assert.deepEqual(await ordersOverflow(a), [], 'at 1280 px');
    // Armed, the button says the amount: still inside.
    await a.getByRole('button', { name: 'Refund', exact: true }).click();
    await a.getByRole('button', { name: /^Confirm refund of/ }).waitFor();
    assert.deepEqual(await ordersOverflow(a), [], 'at 1280 px, armed');
    await a.setViewportSize({ width: 320, height: 640 });
    await a.getByRole('button', { name: /^Confirm refund of/ }).waitFor();
    assert.deepEqual(await ordersOverflow(a), [], 'at 320 px');
    assert.deepEqual(a.errors, []);
  });
  await pages.a?.context().close();
});

async function orgId(page) {
  return Number(await page.locator('#org').inputValue());
}

test('the designer draws 50,000 seats within a frame budget', async () => {
  const pia = await server.newUser('Pia');
  await server.call('POST', '/v1/organizations', { name: 'Pia Stadiums' }, pia.token);
  await withArtifacts('designer-50k', () => pages, [server], async () => {
    pages.p = await consolePage(pia);
    const p = pages.p;
    await p.getByRole('link', { name: 'New venue' }).first().click();
    await p.getByRole('heading', { name: 'New venue' }).waitFor();
    await setField(p, 'Rows', 250);
    await setField(p, 'Seats per row', 200);
    await setField(p, 'Curve (°)', 60);
    await p.getByText('50,000 seats in 1 sections').waitFor();
    await p.getByRole('button', { name: 'Fit the plan' }).click();
    // Ten redraws (as a drag makes them), each measured by the page.
    const times = [];
    for (let i = 0; i < 10; i++) {
      const draws = await p.evaluate(() => window.__designerDraws || 0);
      await p.getByRole('button', { name: 'Zoom in' }).click();
      await p.waitForFunction((before) => (window.__designerDraws || 0) > before, draws);
      times.push(await p.evaluate(() => window.__designerDrawMs));
    }
    times.sort((a, b) => a - b);
    const median = times[5];
    console.log(`designer: 50,000 seats drawn in ${median.toFixed(1)} ms (median of 10)`);
    assert.ok(median < 100, `a redraw of 50,000 seats took ${median} ms`);
    assert.deepEqual(p.errors, []);
  });
  await pages.p?.context().close();
});
