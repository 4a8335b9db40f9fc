// The holds this browser made, remembered per user and event in localStorage, so that every tab of an
// event page, and the page after a reload, can show them: the API has no route that lists a user's
// holds. Only ids and expiry times are kept. They are hints, never the truth: a page asks
// GET /v1/holds/{id} before showing one and forgets it once it is not ACTIVE (web/js/live_holds.js).
// Other tabs hear of every change through the `storage` event (onChange).
//
// Stored under one key: {"<email>|<event id>": {at: <ms>, holds: [{id, expires_at}]}}.
import { session } from './api.js';

const KEY = 'ticketd.holds';
// The API's default --holds-per-user-max: no user has more live holds at once, on all events together.
const HOLDS_PER_EVENT_MAX = 10;
// (user, event) pairs kept; past it the pair changed longest ago goes (its holds lapsed long since).
const ENTRIES_MAX = 50;
// A hold this long past its expires_at is forgotten without asking the server: none outlives its
// expiry, and the margin covers a browser clock that runs ahead of the server's.
const STALE_MS = 10 * 60_000;

// Whose holds: the email of the signed-in account (the same in every tab of the browser).
function entryKey(eventId) {
  const user = session.user;
  if (!session.token || !user || !user.email) return null;
  return `${String(user.email).toLowerCase()}|${eventId}`;
}

function readAll() {
  try {
    const all = JSON.parse(localStorage.getItem(KEY) || '{}');
    return all && typeof all === 'object' && !Array.isArray(all) ? all : {};
  } catch { return {}; }
}

function writeAll(all) {
  const keys = Object.keys(all).sort((a, b) => (all[b].at || 0) - (all[a].at || 0));
  for (const k of keys.slice(ENTRIES_MAX)) delete all[k];
  try { localStorage.setItem(KEY, JSON.stringify(all)); } catch { /* storage full or off: tabs just do not share */ }
}

function fresh(h) {
  return Number.isInteger(h.id) && h.id > 0 && !(new Date(h.expires_at).getTime() + STALE_MS < Date.now());
}

export const holdMemory = {
  // [{id, expires_at}] remembered for this user and event (none when logged out).
  list(eventId) {
    const k = entryKey(eventId);
    if (!k) return [];
    const entry = readAll()[k];
    return entry && Array.isArray(entry.holds) ? entry.holds.filter(fresh) : [];
  },

  remember(eventId, hold) {
    const k = entryKey(eventId);
    if (!k) return;
    const all = readAll();
    const holds = (all[k] && Array.isArray(all[k].holds) ? all[k].holds : []).filter((h) => fresh(h) && h.id !== hold.id);
    holds.push({ id: hold.id, expires_at: hold.expires_at });
    all[k] = { at: Date.now(), holds: holds.slice(-HOLDS_PER_EVENT_MAX) };  // the oldest go first
    writeAll(all);
  },

  // No write (and so no storage event in other tabs) when the hold was not remembered.
  forget(eventId, holdId) {
    const k = entryKey(eventId);
    if (!k) return;
    const all = readAll();
    if (!all[k] || !Array.isArray(all[k].holds) || !all[k].holds.some((h) => h.id === holdId)) return;
    all[k] = { at: Date.now(), holds: all[k].holds.filter((h) => h.id !== holdId) };
    if (!all[k].holds.length) delete all[k];
    writeAll(all);
  },

  // Calls fn when another tab changed the remembered holds; returns the function that stops it.
  onChange(fn) {
    const listener = (e) => { if (e.key === KEY || e.key === null) fn(); };
    window.addEventListener('storage', listener);
    return () => window.removeEventListener('storage', listener);
  },
};
