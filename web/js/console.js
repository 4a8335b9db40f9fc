// The organizer's console (docs/console.md): a hash router over the organization's events, the venue
// designer, the event form, the live dashboard and the organization's members and audit log. Plain ES
// modules like the rest of web/; every action is an API call a curl user could make.
import { api, call, session, ApiError, money, when } from './api.js';
import { esc, $, flash, clearFlash, say, setMain } from './ui.js';
import { loginForm } from './login_form.js';
import { designerPage } from './console_designer.js';
import { dashboardPage, download } from './console_dashboard.js';

const ORG_KEY = 'ticketd.console.org';
let cleanup = null;
let orgs = [];  // the organizations the caller manages (all of them for an administrator)

export const consoleApi = {
  organizations: () => call('GET', '/v1/organizations'),
  startOrganization: (name) => call('POST', '/v1/organizations', { name }),
  organization: (id) => call('GET', `/v1/organizations/${id}`),
  patchOrganization: (id, body) => call('PATCH', `/v1/organizations/${id}`, body),
  members: (id) => call('GET', `/v1/organizations/${id}/members`),
  addMember: (id, email) => call('POST', `/v1/organizations/${id}/members`, { email }),
  removeMember: (id, userId) => call('DELETE', `/v1/organizations/${id}/members/${userId}`),
  venues: (id) => call('GET', `/v1/organizations/${id}/venues`),
  events: (id) => call('GET', `/v1/organizations/${id}/events?limit=100`),
  audit: (id) => call('GET', `/v1/organizations/${id}/audit?limit=500`),
  createVenue: (body) => call('POST', '/v1/venues', body),
  createEvent: (body) => call('POST', '/v1/events', body),
};

export function currentOrg() {
  const id = Number(sessionStorage.getItem(ORG_KEY));
  return orgs.find((o) => o.id === id) || orgs[0] || null;
}

const routes = [
  [/^$/, eventsPage],
  [/^venues\/new$/, () => designerPage(currentOrg())],
  [/^events\/new$/, newEventPage],
  [/^events\/(\d+)$/, (m) => dashboardPage(Number(m[1]))],
  [/^organization$/, organizationPage],
];

// One page change at a time, each for the address at the moment it runs: a click during a slow load
// (or a log-in landing while the address changes) ends on the page of the last address.
let routing = Promise.resolve();
function route() {
  routing = routing.then(routeNow, routeNow);
  return routing;
}

async function routeNow() {
  if (cleanup) { cleanup(); cleanup = null; }
  clearFlash();
  if (!session.token) return loginPage();
  if (!orgs.length) {
    try { orgs = (await consoleApi.organizations()).organizations; } catch (e) { if (e.status === 401) return loginPage(); throw e; }
  }
  if (!orgs.length) return startPage();
  showNav();
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try {
      cleanup = (await page(m)) || null;
    } catch (e) {
      setMain('<h1>Something went wrong</h1><div id="err"></div><p><a href="#/">Back to events</a></p>', 'Error');
      say($('#err'), e instanceof ApiError ? e.message : String(e));
    }
    $('#main').focus();
    return;
  }
  setMain('<h1>Not found</h1><p><a href="#/">Back to events</a></p>', 'Not found');
}

// To a page: by the hash (hashchange routes), or at once when the hash is already there.
function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function showNav() {
  $('#console-nav').hidden = false;
  const user = session.user || {};
  $('#who').textContent = `Signed in as ${user.name || user.email || ''}`;
  const current = currentOrg();
  $('#org').innerHTML = orgs.map((o) => `<option value="${o.id}" ${current && o.id === current.id ? 'selected' : ''}>${esc(o.name)}</option>`).join('');
}

function loginPage() {
  $('#console-nav').hidden = true;
  const form = loginForm({
    title: 'Organizer console',
    footer: '<p class="muted">No account? <a href="/#/register">Register</a>, then come back here.</p>',
    onDone: () => { orgs = []; route(); },  // the same address, now signed in
  });
  setMain(form.html, 'Console');
  form.bind();
}

// A newcomer organizes nothing yet: they start an organization (and become its first member).
function startPage() {
  $('#console-nav').hidden = true;
  setMain(`
    <h1>Start your organization</h1>
    <form id="start" class="card" novalidate>
      <p>Your venues and events belong to an organization. Name yours; you can add colleagues later.</p>
      <div id="start-msg"></div>
      <p><label>Organization name <input name="name" required maxlength="200" autocomplete="organization"></label></p>
      <button type="submit">Start organization</button>
    </form>`, 'Start');
  $('#start').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const org = await consoleApi.startOrganization(new FormData(e.target).get('name').trim());
      sessionStorage.setItem(ORG_KEY, String(org.id));
      orgs = [];
      flash(`${org.name} is ready. Design its first venue.`, 'ok', { keep: true });
      go('#/venues/new');
    } catch (err) { say($('#start-msg'), err.message); }
  });
}

async function eventsPage() {
  const org = currentOrg();
  const [events, venues] = await Promise.all([consoleApi.events(org.id), consoleApi.venues(org.id)]);
  const rows = events.events.map((e) => `
    <tr>
      <td><a href="#/events/${e.id}">${esc(e.name)}</a></td>
      <td>${esc(when(e.starts_at))}</td>
      <td>${esc(e.venue_name)}</td>
      <td>${e.cancelled_at ? '<strong>Cancelled</strong>' : !e.published ? 'Unpublished'
        : new Date(e.on_sale_at) <= new Date() ? 'On sale' : `On sale ${esc(when(e.on_sale_at))}`}</td>
      <td>${e.counts ? `${e.counts.sold} / ${e.seats_total}` : ''}</td>
    </tr>`).join('');
  setMain(`
    <h1>${esc(org.name)}: events</h1>
    <p class="row"><a class="button" href="#/events/new">New event</a> <a class="button secondary" href="#/venues/new">New venue</a></p>
    ${events.events.length ? `<table><thead><tr><th>Event</th><th>Starts</th><th>Venue</th><th>Sale</th><th>Sold</th></tr></thead>
      <tbody>${rows}</tbody></table>` : '<p class="muted">No events yet.</p>'}
    <h2>Venues</h2>
    ${venues.venues.length ? `<ul>${venues.venues.map((v) => `<li>${esc(v.name)} (${v.seats_total} seats)</li>`).join('')}</ul>`
      : '<p class="muted">No venues yet: <a href="#/venues/new">design one</a>.</p>'}`, 'Events');
  return null;
}

function localInput(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

async function newEventPage() {
  const org = currentOrg();
  const venues = (await consoleApi.venues(org.id)).venues;
  if (!venues.length) {
    setMain('<h1>New event</h1><p>An event takes place in a venue: <a href="#/venues/new">design one first</a>.</p>', 'New event');
    return null;
  }
  const now = new Date();
  setMain(`
    <h1>New event</h1>
    <form id="event" class="card" novalidate>
      <div id="event-msg"></div>
      <p><label>Name <input name="name" required maxlength="200"></label></p>
      <p><label>Venue <select name="venue_id">${venues.map((v) => `<option value="${v.id}">${esc(v.name)} (${v.seats_total} seats)</option>`).join('')}</select></label></p>
      <div class="row">
        <label>Starts <input name="starts_at" type="datetime-local" required value="${localInput(new Date(now.getTime() + 30 * 86400000))}"></label>
        <label>On sale from <input name="on_sale_at" type="datetime-local" required value="${localInput(now)}"></label>
        <label>Currency <input name="currency" value="EUR" maxlength="3" size="4" required></label>
        <label>Tickets per buyer <input name="max" type="number" min="1" max="100" value="8"></label>
      </div>
      <fieldset id="prices"><legend>Prices per tier</legend></fieldset>
      <p><label class="inline"><input type="checkbox" name="waiting_room"> Waiting room for the on-sale (a flash sale)</label></p>
      <button type="submit">Put on sale</button>
    </form>`, 'New event');
  const showTiers = async () => {
    const venue = await api.venue($('#event [name=venue_id]').value);
    const tiers = [...new Set(venue.sections.map((s) => s.price_tier))];
    $('#prices').innerHTML = '<legend>Prices per tier (in the currency\'s main unit)</legend>' + tiers.map((t) => `
      <label>${esc(t)} <input name="price:${esc(t)}" type="number" min="0" step="0.01" value="50" required></label>`).join('');
  };
  $('#event [name=venue_id]').addEventListener('change', showTiers);
  await showTiers();
  $('#event').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const prices = {};
    for (const [k, v] of f.entries()) if (k.startsWith('price:')) prices[k.slice(6)] = Math.round(Number(v) * 100);
    const body = {
      name: f.get('name').trim(), venue_id: Number(f.get('venue_id')), currency: f.get('currency').trim().toUpperCase(),
      starts_at: new Date(f.get('starts_at')).toISOString(), on_sale_at: new Date(f.get('on_sale_at')).toISOString(),
      max_tickets_per_user: Number(f.get('max')), prices,
    };
    if (f.get('waiting_room')) body.waiting_room = { enabled: true };
    try {
      const created = await consoleApi.createEvent(body);
      flash(`${created.name} is on sale.`, 'ok', { keep: true });
      location.hash = `#/events/${created.id}`;
    } catch (err) { say($('#event-msg'), err.message); }
  });
  return null;
}

async function organizationPage() {
  const org = currentOrg();
  const [members, audit] = await Promise.all([consoleApi.members(org.id), consoleApi.audit(org.id)]);
  const fresh = await consoleApi.organization(org.id);
  setMain(`
    <h1>${esc(fresh.name)}</h1>
    <section class="card">
      <h2>Members</h2>
      <ul id="members">${members.members.map((m) => `<li>${esc(m.name)} &lt;${esc(m.email)}&gt;
        <button type="button" class="link" data-remove="${m.user_id}">Remove</button></li>`).join('')}</ul>
      <form id="add-member" class="row" novalidate>
        <label>Add a member by email <input name="email" type="email" required></label>
        <button type="submit">Add</button>
      </form>
      <div id="members-msg"></div>
    </section>
    <section class="card">
      <h2>Security</h2>
      <p><label class="inline"><input type="checkbox" id="require-totp" ${fresh.require_totp ? 'checked' : ''}>
        Members must use two-factor login</label></p>
      <div id="security-msg"></div>
    </section>
    <section class="card">
      <h2>Audit log</h2>
      <p><button type="button" class="secondary" id="audit-csv">Download the audit log (CSV)</button></p>
      <table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Status</th></tr></thead><tbody>
      ${audit.entries.slice().reverse().map((a) => `<tr><td>${esc(when(a.at))}</td><td>${esc(a.actor.email)}</td>
        <td><code>${esc(a.action)}</code> ${esc(a.target)}</td><td>${a.status}</td></tr>`).join('')}
      </tbody></table>
    </section>`, 'Organization');
  $('#add-member').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await consoleApi.addMember(org.id, new FormData(e.target).get('email').trim());
      route();
    } catch (err) { say($('#members-msg'), err.message); }
  });
  for (const b of document.querySelectorAll('[data-remove]')) {
    b.addEventListener('click', async () => {
      try { await consoleApi.removeMember(org.id, b.dataset.remove); route(); } catch (err) { say($('#members-msg'), err.message); }
    });
  }
  $('#audit-csv').addEventListener('click', () => download(`/v1/organizations/${org.id}/audit.csv`, 'audit.csv', $('#security-msg')));
  $('#require-totp').addEventListener('change', async (e) => {
    try {
      await consoleApi.patchOrganization(org.id, { require_totp: e.target.checked });
      say($('#security-msg'), 'Saved.', 'ok');
    } catch (err) { e.target.checked = !e.target.checked; say($('#security-msg'), err.message); }
  });
  return null;
}

$('#logout').addEventListener('click', async () => {
  try { await api.logout(); } catch { /* the session ends here either way */ }
  session.clear();
  orgs = [];
  go('#/');
});
$('#org').addEventListener('change', (e) => { sessionStorage.setItem(ORG_KEY, e.target.value); go('#/'); });
window.addEventListener('hashchange', route);
route();
