// The venue designer (docs/console.md, "Venue designer"): sections placed on a plane, dragged with the
// pointer, turned, curved, sized in rows and seats; seats marked accessible or companion by clicking
// them; a stage; saved as one POST /v1/venues with the geometry the buyer's map draws
// (web/js/geometry.js places the seats for both). Every field is also a form input, so the whole
// designer works from the keyboard.
import { call } from './api.js';
import { esc, $, $$, flash, say, setMain } from './ui.js';
import { placeSection } from './geometry.js';

const SEATS_MAX = 200000;  // core::limits::seats_per_venue_max
const SEAT_FILL = 0.8;
const COLORS = { seat: '#1b9e77', selected: '#2450c8', accessible: '#6a3d9a', companion: '#d95f02', stage: '#14172b' };

export function rowLabel(index) {
  let label = '';
  let n = index;
  do { label = String.fromCharCode(65 + (n % 26)) + label; n = Math.floor(n / 26) - 1; } while (n >= 0);
  return label;
}

function newSection(index, below) {
  return {
    name: `Section ${index + 1}`, price_tier: 'standard', rows: 8, seats: 16, x: below ? below.x : 0,
    y: below ? below.y + below.rows * below.row_spacing + 4 : 6, rotation_deg: 0, curve_deg: 0, seat_spacing: 1,
    row_spacing: 1.2, accessible: new Set(), companion: new Set(), general_admission: false,
  };
}

function geometryOf(s) {
  return { x: s.x, y: s.y, rotation_deg: s.rotation_deg, curve_deg: s.curve_deg, seat_spacing: s.seat_spacing,
    row_spacing: s.row_spacing };
}

// Seat positions of every section: {section, row, number, x, y}, recomputed when a section changes.
function placeAll(sections) {
  const out = [];
  sections.forEach((s, si) => {
    const rows = Array.from({ length: s.rows }, () => ({ seats: s.seats }));
    const { seats } = placeSection({ geometry: geometryOf(s), rows, general_admission: s.general_admission });
    seats.forEach((p, i) => out.push({ section: si, row: Math.floor(i / s.seats), number: (i % s.seats) + 1, x: p.x, y: p.y }));
  });
  return out;
}

export function designerPage(org) {
  const state = {
    name: '', stage: { x: 0, y: -3, width: 24, height: 4, label: 'Stage' },
    sections: [newSection(0, null)], selected: 0, mode: 'move', seats: [],
    view: { scale: 10, ox: -20, oy: -10 },
  };
  setMain(`
    <h1>New venue</h1>
    <div class="designer">
      <div class="designer-canvas">
        <canvas id="plan" tabindex="0" aria-label="Venue plan: drag a section to move it; the form beside it has every setting"></canvas>
        <div class="map-tools">
          <button type="button" id="fit" class="secondary" aria-label="Fit the plan">Fit</button>
          <button type="button" id="zoom-in" class="secondary" aria-label="Zoom in">+</button>
          <button type="button" id="zoom-out" class="secondary" aria-label="Zoom out">−</button>
        </div>
        <fieldset class="row mode" aria-label="What a click on the plan does">
          <label class="inline"><input type="radio" name="mode" value="move" checked> Move sections</label>
          <label class="inline"><input type="radio" name="mode" value="accessible"> Mark accessible seats</label>
          <label class="inline"><input type="radio" name="mode" value="companion"> Mark companion seats</label>
        </fieldset>
      </div>
      <form id="designer" class="card" novalidate>
        <div id="designer-msg"></div>
        <p><label>Venue name <input name="venue_name" required maxlength="200"></label></p>
        <p id="seat-total" class="muted" aria-live="polite"></p>
        <h2>Sections</h2>
        <ul id="section-tabs" class="row bare" aria-label="Sections"></ul>
        <p class="row"><button type="button" id="add-section" class="secondary">Add section</button>
          <button type="button" id="remove-section" class="secondary">Remove this section</button></p>
        <fieldset id="section-fields"></fieldset>
        <h2>Stage</h2>
        <div class="row" id="stage-fields">
          <label>Stage label <input name="stage_label" value="Stage" maxlength="200"></label>
          <label>Stage width <input name="stage_width" type="number" min="1" max="20000" step="0.5" value="24"></label>
          <label>Stage depth <input name="stage_height" type="number" min="1" max="20000" step="0.5" value="4"></label>
          <label>Stage Y <input name="stage_y" type="number" step="0.5" value="-3"></label>
        </div>
        <p><button type="submit">Save venue</button></p>
      </form>
    </div>`, 'New venue');

  const canvas = $('#plan');
  const ctx = canvas.getContext('2d');
  let frame = 0;

  const totalSeats = () => state.sections.reduce((n, s) => n + s.rows * s.seats, 0);
  const replace = () => { state.seats = placeAll(state.sections); };
  const redraw = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); };

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round((canvas.clientWidth || 600) * dpr);
    canvas.height = Math.round((canvas.clientHeight || 400) * dpr);
    redraw();
  }

  function fit() {
    let minX = state.stage.x - state.stage.width / 2, maxX = state.stage.x + state.stage.width / 2;
    let minY = state.stage.y - state.stage.height / 2, maxY = state.stage.y + state.stage.height / 2;
    for (const p of state.seats) {
      minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x); minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
    }
    const w = canvas.clientWidth || 600, h = canvas.clientHeight || 400;
    const scale = Math.min(w / (maxX - minX + 6), h / (maxY - minY + 6));
    state.view = { scale, ox: (minX + maxX) / 2 - w / scale / 2, oy: (minY + maxY) / 2 - h / scale / 2 };
    redraw();
  }

  function draw() {
    const started = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const { scale, ox, oy } = state.view;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const st = state.stage;
    ctx.fillStyle = COLORS.stage;
    ctx.fillRect((st.x - st.width / 2 - ox) * scale, (st.y - st.height / 2 - oy) * scale, st.width * scale, st.height * scale);
    ctx.fillStyle = '#fff';
    ctx.font = '13px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(st.label, (st.x - ox) * scale, (st.y - oy) * scale + 4);
    const size = Math.max(1, SEAT_FILL * scale);
    let style = '';
    for (const p of state.seats) {
      const s = state.sections[p.section];
      const key = `${p.row}:${p.number}`;
      const color = s.accessible.has(key) ? COLORS.accessible : s.companion.has(key) ? COLORS.companion
        : p.section === state.selected ? COLORS.selected : COLORS.seat;
      if (color !== style) { ctx.fillStyle = color; style = color; }
      ctx.fillRect((p.x - ox) * scale - size / 2, (p.y - oy) * scale - size / 2, size, size);
    }
    ctx.fillStyle = '#1b1b1f';
    for (const s of state.sections) ctx.fillText(s.name, (s.x - ox) * scale, (s.y - 1.6 - oy) * scale);
    ctx.textAlign = 'start';
    // Read by the browser test (50,000 seats): how long the last draw took, and how many there were.
    window.__designerDrawMs = performance.now() - started;
    window.__designerDraws = (window.__designerDraws || 0) + 1;
  }

  const world = (e) => ({ x: state.view.ox + e.offsetX / state.view.scale, y: state.view.oy + e.offsetY / state.view.scale });
  function seatAt(w) {
    let best = null, bestD = 0.6 * 0.6;
    for (const p of state.seats) {
      const d = (p.x - w.x) ** 2 + (p.y - w.y) ** 2;
      if (d < bestD) { best = p; bestD = d; }
    }
    return best;
  }

  function sectionFields() {
    const s = state.sections[state.selected];
    const field = (name, label, attrs) => `<label>${label} <input name="${name}" value="${esc(s[name])}" ${attrs}></label>`;
    $('#section-fields').innerHTML = `<legend>${esc(s.name)}</legend><div class="row">
      ${field('name', 'Name', 'maxlength="200" required')}
      ${field('price_tier', 'Price tier', 'maxlength="32" required')}
      ${field('rows', 'Rows', 'type="number" min="1" max="1000"')}
      ${field('seats', 'Seats per row', 'type="number" min="1" max="1000"')}
      ${field('x', 'X', 'type="number" step="0.1"')}
      ${field('y', 'Y', 'type="number" step="0.1"')}
      ${field('rotation_deg', 'Rotation (°)', 'type="number" min="-360" max="360" step="1"')}
      ${field('curve_deg', 'Curve (°)', 'type="number" min="0" max="180" step="1"')}
      ${field('seat_spacing', 'Seat spacing', 'type="number" min="0.5" max="10" step="0.1"')}
      ${field('row_spacing', 'Row spacing', 'type="number" min="0.5" max="10" step="0.1"')}
      </div>
      <p><label class="inline"><input type="checkbox" name="general_admission" ${s.general_admission ? 'checked' : ''}>
        General admission (a standing area: rows × seats places, sold by quantity)</label></p>
      <p class="muted">${s.general_admission ? `${(s.rows * s.seats).toLocaleString()} places, unnumbered.`
        : `${s.accessible.size} accessible, ${s.companion.size} companion seats marked.`}</p>`;
    // Real list items holding buttons: a button cannot itself be a list item (it would lose aria-pressed).
    $('#section-tabs').innerHTML = state.sections.map((sec, i) => `<li><button type="button"
      class="${i === state.selected ? '' : 'secondary'}" data-section="${i}" aria-pressed="${i === state.selected}">${esc(sec.name)}</button></li>`).join('');
    $('#seat-total').textContent = `${totalSeats().toLocaleString()} seats in ${state.sections.length} sections (at most ${SEATS_MAX.toLocaleString()}).`;
  }

  function select(index) { state.selected = index; sectionFields(); redraw(); }

  $('#section-fields').addEventListener('input', (e) => {
    const s = state.sections[state.selected];
    const name = e.target.name;
    if (name === 'general_admission') {
      s.general_admission = e.target.checked;
      s.accessible.clear();
      s.companion.clear();
      replace();
      sectionFields();
      redraw();
      return;
    }
    if (name === 'name' || name === 'price_tier') { s[name] = e.target.value; }
    else {
      const v = Number(e.target.value);
      if (!Number.isFinite(v) || e.target.value === '') return;
      s[name] = name === 'rows' || name === 'seats' ? Math.max(1, Math.min(1000, Math.round(v))) : v;
      if (name === 'rows' || name === 'seats') { s.accessible.clear(); s.companion.clear(); }
    }
    replace();
    $('#seat-total').textContent = `${totalSeats().toLocaleString()} seats in ${state.sections.length} sections (at most ${SEATS_MAX.toLocaleString()}).`;
    if (name === 'name') $$('#section-tabs button')[state.selected].textContent = s.name;
    redraw();
  });
  $('#section-tabs').addEventListener('click', (e) => { const b = e.target.closest('[data-section]'); if (b) select(Number(b.dataset.section)); });
  $('#add-section').addEventListener('click', () => {
    state.sections.push(newSection(state.sections.length, state.sections[state.sections.length - 1]));
    replace();
    select(state.sections.length - 1);
    fit();
  });
  $('#remove-section').addEventListener('click', () => {
    if (state.sections.length === 1) return say($('#designer-msg'), 'A venue has at least one section.');
    state.sections.splice(state.selected, 1);
    replace();
    select(Math.max(0, state.selected - 1));
  });
  $('#stage-fields').addEventListener('input', (e) => {
    const map = { stage_label: 'label', stage_width: 'width', stage_height: 'height', stage_y: 'y' };
    const key = map[e.target.name];
    if (!key) return;
    if (key === 'label') state.stage.label = e.target.value;
    else if (Number.isFinite(Number(e.target.value)) && e.target.value !== '') state.stage[key] = Number(e.target.value);
    redraw();
  });
  for (const r of $$('[name=mode]')) r.addEventListener('change', () => { state.mode = r.value; });

  // Pointer: in "move" mode a press on a seat picks its section up; elsewhere it pans. In a marking
  // mode a click toggles that seat's flag.
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    const w = world(e);
    const hit = seatAt(w);
    canvas.setPointerCapture(e.pointerId);
    if (hit && state.mode !== 'move' && !state.sections[hit.section].general_admission) {
      const s = state.sections[hit.section];
      const key = `${hit.row}:${hit.number}`;
      const set = s[state.mode];
      if (set.has(key)) set.delete(key); else set.add(key);
      (state.mode === 'accessible' ? s.companion : s.accessible).delete(key);
      select(hit.section);
      return;
    }
    if (hit) {
      if (hit.section !== state.selected) select(hit.section);
      const s = state.sections[hit.section];
      drag = { section: hit.section, dx: w.x - s.x, dy: w.y - s.y };
    } else {
      drag = { pan: true, x: e.offsetX, y: e.offsetY };
    }
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (drag.pan) {
      state.view.ox -= (e.offsetX - drag.x) / state.view.scale;
      state.view.oy -= (e.offsetY - drag.y) / state.view.scale;
      drag.x = e.offsetX; drag.y = e.offsetY;
      redraw();
      return;
    }
    const w = world(e);
    const s = state.sections[drag.section];
    s.x = Math.round((w.x - drag.dx) * 10) / 10;
    s.y = Math.round((w.y - drag.dy) * 10) / 10;
    replace();
    const form = $('#section-fields');
    form.querySelector('[name=x]').value = s.x;
    form.querySelector('[name=y]').value = s.y;
    redraw();
  });
  const drop = () => { drag = null; };
  canvas.addEventListener('pointerup', drop);
  canvas.addEventListener('pointercancel', drop);
  const zoom = (f, cx, cy) => {
    const v = state.view;
    const px = cx ?? (canvas.clientWidth / 2), py = cy ?? (canvas.clientHeight / 2);
    const wx = v.ox + px / v.scale, wy = v.oy + py / v.scale;
    v.scale = Math.min(80, Math.max(0.05, v.scale * f));
    v.ox = wx - px / v.scale;
    v.oy = wy - py / v.scale;
    redraw();
  };
  canvas.addEventListener('wheel', (e) => { e.preventDefault(); zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.offsetX, e.offsetY); }, { passive: false });
  $('#fit').addEventListener('click', fit);
  $('#zoom-in').addEventListener('click', () => zoom(1.25));
  $('#zoom-out').addEventListener('click', () => zoom(0.8));
  const observer = new ResizeObserver(resize);
  observer.observe(canvas);

  $('#designer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('#designer [name=venue_name]').value.trim();
    if (!name) return say($('#designer-msg'), 'Name the venue.');
    if (totalSeats() > SEATS_MAX) return say($('#designer-msg'), `A venue has at most ${SEATS_MAX.toLocaleString()} seats.`);
    const list = (set, row) => [...set].filter((k) => Number(k.split(':')[0]) === row).map((k) => Number(k.split(':')[1])).sort((a, b) => a - b);
    const body = {
      name, organization_id: org.id,
      stage: { x: state.stage.x, y: state.stage.y, width: state.stage.width, height: state.stage.height, label: state.stage.label },
      sections: state.sections.map((s) => (s.general_admission ? {
        name: s.name, price_tier: s.price_tier, geometry: geometryOf(s), general_admission: true, capacity: s.rows * s.seats,
      } : {
        name: s.name, price_tier: s.price_tier, geometry: geometryOf(s),
        rows: Array.from({ length: s.rows }, (_, r) => ({
          label: rowLabel(r), seats: s.seats, accessible: list(s.accessible, r), companion: list(s.companion, r),
        })),
      })),
    };
    try {
      const venue = await call('POST', '/v1/venues', body);
      flash(`${venue.name} is saved: ${venue.seats_total} seats. Now put an event on sale there.`, 'ok', { keep: true });
      location.hash = '#/events/new';
    } catch (err) { say($('#designer-msg'), err.message); }
  });

  // For the browser tests (as window.ticketdSeatMap is for the buyer's map): where a seat is drawn.
  window.ticketdDesigner = {
    seatScreen(section, row, number) {
      const p = state.seats.find((q) => q.section === section && q.row === row && q.number === number);
      return p && { x: (p.x - state.view.ox) * state.view.scale, y: (p.y - state.view.oy) * state.view.scale };
    },
  };

  replace();
  sectionFields();
  resize();
  fit();
  return () => { observer.disconnect(); delete window.ticketdDesigner; };
}
