// The door scanner (/scan): door staff log in, pick an event and a gate, and scan tickets with the
// camera. Every scan is asked of the server when it answers; with the network gone the scanner
// decides itself from the event's scanner bundle (docs/tickets.md) and what it has heard on the door
// feed, queues the scan, and uploads the queue when the network returns (the server then judges
// each scan as of when it was made, and reports where two doors disagreed).
import { api, session, ApiError } from './api.js';
import { esc, $, say, setMain } from './ui.js';
import { loginForm } from './login_form.js';
import { followStream } from './sse.js';
import { parseCode, checkCode, importBundleKeys } from './ticket_code.js';
import { prepareZXingModule, readBarcodes } from '../vendor/zxing/es/reader/index.js';

// The decoder (ZXing-C++ as WebAssembly) comes from this server, never a CDN; loaded when the scanning
// screen opens, so the camera works even if the network is gone by the time it is started.
// One overrides object: the library keeps one module per distinct overrides. Every path here is
// relative to this module, so the app's files can be served under one versioned prefix.
const DECODER_WASM_URL = new URL('../vendor/zxing/reader/zxing_reader.wasm', import.meta.url).href;
const DECODER_OVERRIDES = {
  locateFile: (p, prefix) => (p.endsWith('.wasm') ? DECODER_WASM_URL : prefix + p) };
const loadDecoder = () => prepareZXingModule({ fireImmediately: true, overrides: DECODER_OVERRIDES });

const SETUP_KEY = 'ticketd.scan.setup';
const DEVICE_KEY = 'ticketd.scan.device';
const COUNTER_KEY = 'ticketd.scan.counter';
const bundleKey = (eventId) => `ticketd.scan.bundle.${eventId}`;
const queueKey = (eventId) => `ticketd.scan.queue.${eventId}`;
const SERVER_WAIT_MS = 2500;   // past this the scanner decides itself: people are waiting
const SAME_TICKET_QUIET_MS = 5000;  // a code held in front of the camera is one scan, not many
const FRAME_EVERY_MS = 120;
const QUEUE_MAX = 20000;       // a day's scans at a busy gate; past it the oldest unsent are dropped
const RESULT_SHOWN_MS = 2500;
const FLUSH_EVERY_MS = 5000;

const REASONS = {
  ok: 'Admitted',
  already_in: 'Already inside',
  revoked: 'Ticket no longer valid',
  wrong_event: 'Ticket for another event',
  invalid: 'Not a valid ticket',
  code_expired: 'Old code: ask for the live ticket screen',
  not_in: 'Not inside',
};

const state = {
  eventId: 0, gate: '', direction: 'in', bundle: null, keys: null, venue: null,
  inside: new Set(), revoked: new Set(), recent: new Map(),
  online: navigator.onLine, streamUp: false, conflicts: 0, gates: null,
  stop: [],  // teardown functions of the scanning screen
};

function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = 'web-' + Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function nextScanId() {
  const n = Number(localStorage.getItem(COUNTER_KEY) || '0') + 1;
  localStorage.setItem(COUNTER_KEY, String(n));
  return `${deviceId()}:${n}`;
}

const queue = {
  load: () => { try { return JSON.parse(localStorage.getItem(queueKey(state.eventId)) || '[]'); } catch { return []; } },
  save: (items) => localStorage.setItem(queueKey(state.eventId), JSON.stringify(items.slice(-QUEUE_MAX))),
  push(item) { const q = this.load(); q.push(item); this.save(q); },
};

// ---- Screens --------------------------------------------------------------------------------

function updateWho() {
  const inside = Boolean(session.token);
  $('#who').textContent = inside && session.user ? `Door: ${session.user.name || session.user.email}` : '';
  $('#logout').hidden = !inside;
}

function loginScreen() {
  const form = loginForm({
    title: 'Door scanner',
    intro: 'Log in with the door staff account the organizer gave you.',
    onDone: async () => { updateWho(); await setupScreen(); },
  });
  setMain(form.html, 'Door scanner');
  form.bind();
}

async function setupScreen(message = '') {
  const saved = JSON.parse(localStorage.getItem(SETUP_KEY) || '{}');
  const main = setMain(`
    <h1>Door scanner</h1>
    <form id="setup" class="card" novalidate>
      <div id="setup-msg"></div>
      <p><label>Event <select name="event" id="event" required><option value="">Loading…</option></select></label></p>
      <p><label>Gate <input name="gate" id="gate" maxlength="64" required value="${esc(saved.gate || 'Main')}"></label></p>
      <button type="submit">Start scanning</button>
    </form>`, 'Door scanner');
  if (message) say($('#setup-msg'), message);
  const select = $('#event');
  try {
    const page = await api.events({ limit: 100 });
    select.innerHTML = page.events.map((e) => `<option value="${e.id}" ${e.id === saved.eventId ? 'selected' : ''}>${esc(e.name)}</option>`).join('');
  } catch (err) {
    if (saved.eventId) select.innerHTML = `<option value="${saved.eventId}">Event ${saved.eventId} (saved)</option>`;
    else say($('#setup-msg'), err.message);
  }
  main.querySelector('#setup').addEventListener('submit', async (e) => {
    e.preventDefault();
    const eventId = Number(select.value);
    const gate = $('#gate').value.trim();
    if (!eventId || !gate) return say($('#setup-msg'), 'Pick an event and name your gate.');
    localStorage.setItem(SETUP_KEY, JSON.stringify({ eventId, gate }));
    try {
      await scanScreen(eventId, gate);
    } catch (err) {
      say($('#setup-msg'), err.status === 403 ? 'This account is not door staff for that event.' : err.message);
    }
  });
}

// ---- The bundle and the feed ----------------------------------------------------------------

// Only a bundle with its keys is kept or used: a saved one that is not (an older version's) is as none.
const usableBundle = (b) => b !== null && typeof b === 'object' && Array.isArray(b.keys);

function savedBundle(eventId) {
  try {
    const saved = JSON.parse(localStorage.getItem(bundleKey(eventId)) || 'null');
    return usableBundle(saved) ? saved : null;
  } catch { return null; }
}

async function loadBundle(eventId) {
  let bundle;
  try {
    bundle = await api.scannerBundle(eventId);
    if (!usableBundle(bundle)) throw new ApiError(0, 'network', 'The scanner bundle came incomplete. Try again.');
    localStorage.setItem(bundleKey(eventId), JSON.stringify(bundle));
  } catch (err) {
    bundle = err instanceof ApiError && err.code === 'network' ? savedBundle(eventId) : null;
    if (!bundle) throw err;
  }
  state.bundle = bundle;
  state.keys = await importBundleKeys(bundle);
  state.revoked = new Set(bundle.revoked);
  state.inside = new Set(bundle.checked_in);
  for (const q of queue.load()) if (q.local_result === 'ok') (q.direction === 'in' ? state.inside.add(q.ticket_id) : state.inside.delete(q.ticket_id));
}

function applyChange(c) {
  if (c.status === 'REVOKED') { state.revoked.add(c.ticket_id); state.inside.delete(c.ticket_id); }
  else if (c.status === 'CHECKED_IN') state.inside.add(c.ticket_id);
  else state.inside.delete(c.ticket_id);
}

// The door feed (SSE over fetch: it needs the Authorization header, which EventSource cannot send).
function followFeed(eventId) {
  return followStream(`/v1/events/${eventId}/checkins/stream`, {
    onOpen: () => {
      state.streamUp = true;
      loadBundle(eventId).then(showStatus).catch(() => {});  // after the feed opened: nothing falls between
      showStatus();
    },
    onEvent: (event, d) => {
      if (event === 'ticket') applyChange(d);
      else if (event === 'gates') state.gates = d;
      else if (event === 'resync') loadBundle(eventId).catch(() => {});
      showStatus();
    },
    onDown: () => { state.streamUp = false; showStatus(); },
  });
}

// ---- Deciding a scan ------------------------------------------------------------------------

async function decideLocally(code) {
  const refusal = await checkCode(code, { eventId: state.eventId, keys: state.keys,
    staticAccepted: state.bundle.static_codes_accepted, nowMs: Date.now() });
  if (refusal) return refusal;
  const id = code.ticketId;
  if (state.revoked.has(id)) return 'revoked';
  if (state.direction === 'in') return state.inside.has(id) ? 'already_in' : 'ok';
  return state.inside.has(id) ? 'ok' : 'not_in';
}

async function onCode(text) {
  const code = parseCode(text);
  const key = code ? code.ticketId : text;
  const now = Date.now();
  for (const [k, at] of state.recent) if (now - at > SAME_TICKET_QUIET_MS) state.recent.delete(k);
  if (state.recent.has(key)) return;
  state.recent.set(key, now);
  const scan = { scan_id: nextScanId(), code: text.slice(0, 4096), gate: state.gate, device_id: deviceId(),
    direction: state.direction, scanned_at: new Date(now).toISOString() };
  let result = null, previous = null, offline = false;
  if (navigator.onLine) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SERVER_WAIT_MS);
    try {
      const r = await api.checkin(state.eventId, scan, controller.signal);
      result = r.result;
      previous = r.previous || null;
      if (r.ticket) applyChange({ ticket_id: r.ticket.id, status: r.ticket.status });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'network')) { show('invalid', code, null, err.message); return; }
    } finally {
      clearTimeout(timer);
    }
  }
  if (result === null) {  // no answer: decide here, upload later
    offline = true;
    result = await decideLocally(code);
    if (result === 'ok' && code) applyChange({ ticket_id: code.ticketId, status: state.direction === 'in' ? 'CHECKED_IN' : 'VALID' });
    queue.push({ ...scan, local_result: result, ticket_id: code ? code.ticketId : '' });
  }
  show(result, code, previous, offline ? 'Decided on this device; uploads when the network is back.' : '');
  showStatus();
}

// Uploads queued scans in the order they were made; stops at the first that cannot be sent.
let flushing = false;
async function flush() {
  if (flushing || !navigator.onLine) return;
  flushing = true;
  try {
    let q = queue.load();
    while (q.length) {
      const { local_result: local, ticket_id: _t, ...scan } = q[0];
      try {
        // offline_result: the server lists the scans it finds inside already as two doors disagreeing.
        const r = await api.checkin(state.eventId, { ...scan, offline_result: local });
        if (local === 'ok' && r.result !== 'ok') state.conflicts++;  // two doors let the same ticket in
        if (r.ticket) applyChange({ ticket_id: r.ticket.id, status: r.ticket.status });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'network') break;
        // Refused as a request (e.g. older than a day): it can never be recorded; drop it.
      }
      q = queue.load();
      q.shift();
      queue.save(q);
    }
  } finally {
    flushing = false;
    showStatus();
  }
}

// ---- The scanning screen --------------------------------------------------------------------

function seatLabel(code) {
  if (!code) return '';
  const v = state.venue;
  if (v) {
    for (const s of v.sections) for (const r of s.rows) {
      if (code.seatId >= r.first_seat_id && code.seatId < r.first_seat_id + r.seats)
        return s.general_admission ? `${s.name} (general admission)`
          : `${s.name}, row ${r.label}, seat ${code.seatId - r.first_seat_id + 1}`;
    }
  }
  return `Seat ${code.seatId}`;
}

function show(result, code, previous, note) {
  const box = $('#result');
  const good = result === 'ok';
  box.className = `scan-result ${good ? 'good' : 'bad'}`;
  box.dataset.result = result;
  const since = previous ? ` since ${new Date(previous.scanned_at).toLocaleTimeString()} at ${previous.gate}` : '';
  box.innerHTML = `<p class="scan-verdict">${esc(good && state.direction === 'out' ? 'Let out' : REASONS[result] || result)}${esc(since)}</p>
    <p class="scan-seat">${esc(seatLabel(code))}</p>${note ? `<p class="scan-note">${esc(note)}</p>` : ''}`;
  box.hidden = false;
  clearTimeout(show.timer);
  show.timer = setTimeout(() => { box.hidden = true; }, RESULT_SHOWN_MS);
}

function showStatus() {
  const el = $('#scan-status');
  if (!el) return;
  const waiting = queue.load().length;
  const net = navigator.onLine ? (state.streamUp ? 'Online' : 'Online, reconnecting') : 'Offline';
  const g = state.gates;
  const inside = g ? `${g.inside} inside${g.gates.length ? ' (' + g.gates.map((x) => `${x.gate} ${x.inside}`).join(', ') + ')' : ''}` : '';
  el.innerHTML = `<span id="net" data-online="${navigator.onLine}">${esc(net)}</span>
    · <span id="queued">${waiting} waiting to upload</span>${inside ? ` · <span id="inside">${esc(inside)}</span>` : ''}
    ${state.conflicts ? ` · <span class="conflicts">${state.conflicts} admitted here and elsewhere</span>` : ''}`;
}

async function startCamera(video) {
  await loadDecoder();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  await video.play();
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let stopped = false;
  const frame = async () => {
    if (stopped) return;
    try {
      if (video.readyState >= 2 && video.videoWidth) {
        const scale = Math.min(1, 960 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        const found = await readBarcodes(ctx.getImageData(0, 0, canvas.width, canvas.height),
          { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 });
        if (found.length && found[0].isValid && found[0].text) await onCode(found[0].text);
      }
    } catch (err) {
      $('#camera-msg').textContent = `Camera: ${err.message || err}`;
    }
    setTimeout(frame, FRAME_EVERY_MS);
  };
  frame();
  return () => { stopped = true; for (const t of stream.getTracks()) t.stop(); };
}

async function scanScreen(eventId, gate) {
  state.eventId = eventId;
  state.gate = gate;
  await loadBundle(eventId);
  try { state.venue = await api.venue((await api.event(eventId)).venue_id); } catch { state.venue = null; }
  setMain(`
    <h1 class="scan-title">${esc(state.bundle.event_name)} · <span id="gate-name">${esc(gate)}</span></h1>
    <p id="scan-status" class="scan-status" role="status"></p>
    <div class="scan-controls">
      <label>Direction <select id="direction"><option value="in">Entry</option><option value="out">Exit</option></select></label>
      <button type="button" class="secondary" id="change">Change event or gate</button>
    </div>
    <p><button type="button" id="camera-btn">Start camera</button></p>
    <div class="scan-view">
      <video id="camera" playsinline muted aria-label="Camera"></video>
      <div id="result" class="scan-result" role="alert" hidden></div>
    </div>
    <p id="camera-msg" class="muted"></p>
    <form id="manual" class="row" novalidate>
      <label>Code, if the camera cannot read it <input id="manual-code" autocomplete="off" spellcheck="false" maxlength="256"></label>
      <button type="submit">Check</button>
    </form>`, `Scanning · ${state.bundle.event_name}`);
  $('#direction').addEventListener('change', (e) => { state.direction = e.target.value; });
  $('#change').addEventListener('click', () => { teardown(); setupScreen(); });
  $('#manual').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('#manual-code').value.trim();
    $('#manual-code').value = '';
    if (text) { state.recent.delete(parseCode(text)?.ticketId ?? text); onCode(text); }
  });
  const onOnline = () => { showStatus(); flush(); };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', showStatus);
  const flushTimer = setInterval(flush, FLUSH_EVERY_MS);
  state.stop = [followFeed(eventId), () => clearInterval(flushTimer),
    () => { window.removeEventListener('online', onOnline); window.removeEventListener('offline', showStatus); }];
  showStatus();
  flush();
  loadDecoder().catch((err) => { $('#camera-msg').textContent = `The code reader did not load (${err.message || err}).`; });
  let stopCamera = null;
  $('#camera-btn').addEventListener('click', async (e) => {
    const button = e.currentTarget;
    if (stopCamera) {
      stopCamera();
      stopCamera = null;
      button.textContent = 'Start camera';
      return;
    }
    button.disabled = true;
    try {
      stopCamera = await startCamera($('#camera'));
      state.stop.push(() => stopCamera && stopCamera());
      button.textContent = 'Stop camera';
      $('#camera-msg').textContent = 'Hold the ticket’s code in front of the camera.';
    } catch (err) {
      $('#camera-msg').textContent = `No camera (${err.message || err}): type codes in below.`;
    } finally {
      button.disabled = false;
    }
  });
}

function teardown() {
  for (const f of state.stop) f();
  state.stop = [];
}

// ---- Start ----------------------------------------------------------------------------------

$('#logout').addEventListener('click', async () => {
  teardown();
  try { await api.logout(); } catch { /* dropped either way */ }
  for (const k of Object.keys(localStorage)) if (k.startsWith('ticketd.scan.bundle.')) localStorage.removeItem(k);
  session.clear();
  updateWho();
  loginScreen();
});
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
updateWho();
if (session.token) setupScreen(); else loginScreen();
