// 3-D Secure end to end (issue 16): ticketd takes payments through Stripe, played by
// tools/fake-stripe. A buyer pays with the test card that needs authentication, lands on the booking
// page, follows "Confirm with your bank" to the bank's page (the fake Stripe's test 3-D Secure page,
// another origin), completes or fails the challenge there, and is sent back to the booking page, which
// shows the outcome once the webhook has settled it (at once, or by asking again when the webhook is
// late): the tickets, or why the payment failed and a way back to the seats. Run by scripts/test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeStripe, Server, axeProblems, freePort, launchBrowser, userPage, withArtifacts, seatBox, expectSeat }
  from './support.mjs';

// Back on the booking page: the webhook reaches ticketd within a moment of the challenge, and the page
// asks every 2 s.
const SETTLED_MS = 10_000;
// A webhook held back this long lets the buyer reach the booking page before ticketd knows the outcome.
const WEBHOOK_LATE_MS = 3000;

let browser;
let stripe;
let server;
const pages = {};

before(async () => {
  const port = await freePort();  // the fake Stripe needs ticketd's webhook address before ticketd starts
  stripe = new FakeStripe('3ds-stripe', `http://127.0.0.1:${port}/v1/payments/stripe/webhook`);
  await stripe.start();
  server = new Server('3ds', { holdTtlS: 600, port, env: stripe.serverEnv() });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
  await stripe?.stop();
});

// Holds seat `number` of Floor row A, pays with the 3-D Secure card and follows the bank's link to its
// page; returns the booking's id.
async function payAndGoToTheBank(page, event, number) {
  await page.goto(`${server.url}/#/events/${event.id}`);
  await page.getByText('Live updates: on').waitFor();
  await seatBox(page, number).click();
  await page.getByRole('button', { name: 'Hold 1 seat' }).click();
  await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();
  await page.getByLabel('Test card').selectOption('pm_card_authenticationRequired');
  await page.getByRole('button', { name: /^Pay / }).click();

  await page.getByRole('heading', { name: 'Waiting for your bank', level: 1 }).waitFor();
  const bookingId = Number(new URL(page.url()).hash.match(/^#\/bookings\/(\d+)$/)[1]);
  await page.getByText('Your bank wants to confirm this payment.').waitFor();
  const confirm = page.getByRole('link', { name: 'Confirm with your bank' });
  assert.match(await confirm.getAttribute('href'), new RegExp(`^${stripe.url}/_3ds/pi_[A-Za-z0-9]+$`));
  assert.deepEqual(await axeProblems(page, 'booking waiting for the bank'), []);
  await confirm.click();

  await page.getByRole('heading', { name: '3D Secure 2 test page', level: 1 }).waitFor();
  assert.ok(page.url().startsWith(`${stripe.url}/_3ds/`), `on the bank's page: ${page.url()}`);
  await page.getByText('90.00 EUR').waitFor();
  return bookingId;
}

test('a buyer confirms a 3-D Secure payment with the bank and comes back to a confirmed booking', async () => {
  const event = await server.makeEvent('Secure Night');
  const sam = await server.newUser('Sam');
  await withArtifacts('3ds-complete', () => pages, [server, stripe], async () => {
    pages.s = await userPage(browser, server, { user: sam });
    const s = pages.s;
    const bookingId = await payAndGoToTheBank(s, event, 3);
    assert.deepEqual(await axeProblems(s, 'the bank\'s 3-D Secure page'), []);
    await s.getByRole('button', { name: 'Complete authentication' }).click();

    await s.waitForURL(`${server.url}/#/bookings/${bookingId}`);
    await s.getByRole('heading', { name: 'Booking confirmed', level: 1 }).waitFor({ timeout: SETTLED_MS });
    await s.getByRole('link', { name: 'Show ticket: Floor, row A, seat 3' }).waitFor();
    assert.equal(await s.getByText('Your bank wants to confirm this payment.').count(), 0);
    const booking = await server.call('GET', `/v1/bookings/${bookingId}`, undefined, sam.token);
    assert.equal(booking.body.status, 'CONFIRMED');
    const action = await server.call('GET', `/v1/bookings/${bookingId}/payment-action`, undefined, sam.token);
    assert.equal(action.status, 409);
    assert.equal(action.body.error.code, 'no_payment_action');
    assert.deepEqual(s.errors, []);
  });
  await pages.s.context().close();
});

test('a buyer who fails the bank\'s challenge comes back to "Payment failed", says why, and can pick seats again', async () => {
  const event = await server.makeEvent('Insecure Night');
  const fay = await server.newUser('Fay');
  await withArtifacts('3ds-fail', () => pages, [server, stripe], async () => {
    pages.f = await userPage(browser, server, { user: fay });
    const f = pages.f;
    const bookingId = await payAndGoToTheBank(f, event, 5);
    // The webhook is late this time: the buyer is back before ticketd has heard, and the page waits.
    await stripe.faults({ webhook_delay_ms: WEBHOOK_LATE_MS });
    // The bank's page by keyboard alone: Tab to its second button, Enter.
    await f.keyboard.press('Tab');
    await f.keyboard.press('Tab');
    assert.equal(await f.evaluate(() => document.activeElement.textContent), 'Fail authentication');
    await f.keyboard.press('Enter');

    await f.waitForURL(`${server.url}/#/bookings/${bookingId}`);
    await f.getByRole('heading', { name: 'Waiting for your bank', level: 1 }).waitFor();
    // The bank asks nothing more (the challenge is over): no link back to it, the page updates by itself.
    await f.getByText('Your bank asked for confirmation. This page updates by itself.').waitFor();
    assert.equal(await f.getByRole('link', { name: 'Confirm with your bank' }).count(), 0);
    await stripe.resetFaults();
    await f.getByRole('heading', { name: 'Payment failed', level: 1 }).waitFor({ timeout: WEBHOOK_LATE_MS + SETTLED_MS });
    await f.getByText('Your bank did not confirm this payment.').waitFor();
    // Drawn again under the buyer: focus is on the new heading, as after a page change.
    assert.equal(await f.evaluate(() => document.activeElement.textContent), 'Payment failed');
    assert.equal(await f.getByRole('link', { name: /^Show ticket/ }).count(), 0);
    const booking = await server.call('GET', `/v1/bookings/${bookingId}`, undefined, fay.token);
    assert.equal(booking.body.status, 'FAILED');
    assert.deepEqual(await axeProblems(f, 'booking whose payment failed'), []);

    // The way back to the event, where the seat is on sale again.
    await f.getByRole('link', { name: 'Choose seats again' }).click();
    await f.getByRole('heading', { name: 'Insecure Night', level: 1, exact: true }).waitFor();
    await expectSeat(f, 5, 'available', 5000);
    assert.deepEqual(f.errors, []);
  });
  await pages.f.context().close();
});
