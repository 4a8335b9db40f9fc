// The seat map on a canvas: the venue drawn as designed (web/js/geometry.js), one square per seat,
// coloured and marked by status and flags (web/js/seat_glyphs.js; available seats by price tier).
// Zoom (wheel, buttons, +/-, pinch) and pan (drag, two fingers, arrow keys; web/js/map_gestures.js).
// Zoomed out, the map is one bitmap with a pixel per seat, scaled up in one drawImage (a status change
// repaints one pixel); zoomed in, only the visible seats are drawn as squares. So 50,000 seats stay
// smooth either way. Seat ids are the layout's (docs/api.md).

import { placeVenue } from './geometry.js';
import { bindGestures } from './map_gestures.js';
import { STATE_COLORS, TIER_COLORS, MARKS_FROM_PX, FADED_ALPHA, drawSeat } from './seat_glyphs.js';

// A seat's flags (bits of SeatMap.flags), from the layout's per-row lists of seat numbers.
export const ACCESSIBLE = 1, COMPANION = 2, RESTRICTED_VIEW = 4;
const FLAG_LISTS = [['accessible', ACCESSIBLE], ['companion', COMPANION], ['restricted_view', RESTRICTED_VIEW]];
const FADED_MIX = 0.8;      // zoomed out, a seat the filter leaves out is its colour this far towards white
const SEAT_FILL = 0.8;      // of the seat pitch
const SCALE_MIN = 0.2, SCALE_MAX = 60;
const SQUARES_FROM_SCALE = 4;  // pixels per seat from which seats are drawn one by one (with gaps)

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export class SeatMap {
  // venue: GET /v1/venues/{id}; onPick(seatId): a click on a seat.
  constructor(canvas, venue, onPick) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onPick = onPick;
    this.status = '';
    this.selected = new Set();  // the page's selection (it owns the Set)
    this.mine = new Set();      // seats held by this buyer (setMine)
    this.filter = 0;            // flags a seat needs to stand out (setFilter); 0: every seat
    this.focusId = null;        // the seat the keyboard picker is on, ringed (setFocus)
    this.tierColor = new Map();
    this.build(venue);
    this.bind();
    this.resize();
    this.fit();
  }

  // Seat positions come from web/js/geometry.js (the venue as designed, or packed automatically),
  // shifted so the venue's corner is (0, 0); a seat is a square of SEAT_FILL from its position.
  build(venue) {
    const plan = placeVenue(venue);
    const total = venue.seats_total;
    this.xs = plan.xs;
    this.ys = plan.ys;
    for (let i = 0; i < total; i++) { this.xs[i] -= plan.minX; this.ys[i] -= plan.minY; }
    this.sectionOf = new Uint16Array(total);
    venue.sections.forEach((s, si) => {
      if (!this.tierColor.has(s.price_tier)) {
        this.tierColor.set(s.price_tier, TIER_COLORS[this.tierColor.size % TIER_COLORS.length]);
      }
      for (const r of s.rows) this.sectionOf.fill(si, r.first_seat_id, r.first_seat_id + r.seats);
    });
    this.flags = new Uint8Array(total);
    for (const s of venue.sections) for (const r of s.rows) {
      for (const [key, bit] of FLAG_LISTS) for (const n of r[key] || []) this.flags[r.first_seat_id + n - 1] |= bit;
    }
    this.labels = plan.labels.map((l) => ({ x: l.x - plan.minX, y: l.y - plan.minY, text: l.text }));
    // General-admission areas: drawn as one block saying how many places are left, never place by place.
    this.areas = plan.areas.map((a) => ({ ...a, x0: a.x0 - plan.minX, x1: a.x1 - plan.minX, y0: a.y0 - plan.minY,
      y1: a.y1 - plan.minY }));
    this.inArea = new Uint8Array(total);
    for (const a of this.areas) this.inArea.fill(1, a.first, a.first + a.count);
    this.stage = plan.stage && { ...plan.stage, x: plan.stage.x - plan.minX, y: plan.stage.y - plan.minY };
    this.sections = venue.sections;
    this.width = plan.maxX - plan.minX;
    this.height = plan.maxY - plan.minY;
    this.bitmap = document.createElement('canvas');
    this.bitmap.width = Math.max(1, Math.ceil(this.width) + 1);
    this.bitmap.height = Math.max(1, Math.ceil(this.height) + 1);
    this.bitmapCtx = this.bitmap.getContext('2d');
    this.pixels = this.bitmapCtx.createImageData(this.bitmap.width, this.bitmap.height);
  }

  // One seat's pixel in the zoomed-out bitmap. REQUIRES: the caller puts the pixels back afterwards.
  paintPixel(id) {
    if (this.inArea[id]) return;  // areas are drawn as blocks
    let [r, g, b] = rgb(this.colorOf(id));
    if (this.isFaded(id)) [r, g, b] = [r, g, b].map((c) => Math.round(c + (255 - c) * FADED_MIX));
    const i = (Math.floor(this.ys[id]) * this.bitmap.width + Math.floor(this.xs[id])) * 4;
    const d = this.pixels.data;
    d[i] = r; d[i + 1] = g; d[i + 2] = b; d[i + 3] = 255;
  }

  repaint(ids) {
    if (ids) for (const id of ids) this.paintPixel(id);
    else for (let id = 0; id < this.xs.length; id++) this.paintPixel(id);
    this.bitmapCtx.putImageData(this.pixels, 0, 0);
    this.redraw();
  }

  setStatus(status) { this.status = status; this.repaint(null); }

  applyChange(seatIds, ch) {
    const chars = this.status.split('');
    for (const id of seatIds) if (id < chars.length) chars[id] = ch;
    this.status = chars.join('');
    this.repaint(seatIds.filter((id) => id < chars.length));
  }

  // The selection (a Set the page owns) changed for these seats.
  selectionChanged(ids) { this.repaint(ids); }

  // This buyer's held seats (the hold's seat ids, or none): drawn as theirs, not as someone else's.
  setMine(ids) {
    const was = [...this.mine];
    this.mine = new Set(ids);
    this.repaint([...was, ...ids]);
  }

  // Only seats with one of these flags stand out (the others fade); 0 shows every seat alike.
  setFilter(flags) { this.filter = flags; this.repaint(null); }

  // The seat the keyboard picker is on (null: none): ringed, and brought into view when zoomed in.
  setFocus(id) {
    this.focusId = id;
    if (id !== null && this.scale >= SQUARES_FROM_SCALE) this.reveal(id);
    this.redraw();
  }

  statusOf(id) { return this.status[id] || 'A'; }

  isFaded(id) { return this.filter !== 0 && (this.flags[id] & this.filter) === 0; }

  stateOf(id) {
    if (this.selected.has(id)) return 'mine';
    const st = this.status[id];
    if (st === 'H') return this.mine.has(id) ? 'mine' : 'held';
    if (st === 'S') return 'sold';
    return 'available';
  }

  colorOf(id) {
    const state = this.stateOf(id);
    if (state !== 'available') return STATE_COLORS[state];
    return this.tierColor.get(this.sections[this.sectionOf[id]].price_tier);
  }

  lookOf(id) {
    const f = this.flags[id];
    return { state: this.stateOf(id), fill: this.colorOf(id), accessible: (f & ACCESSIBLE) !== 0,
      companion: (f & COMPANION) !== 0, faded: this.isFaded(id) };
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth || 300, h = this.canvas.clientHeight || 300;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.dpr = dpr;
    this.redraw();
  }

  fit() {
    const w = this.canvas.width / this.dpr, h = this.canvas.height / this.dpr;
    this.scale = Math.max(SCALE_MIN, Math.min(w / (this.width + 2), h / (this.height + 2)));
    this.fitScale = this.scale;
    this.ox = -(w / this.scale - this.width) / 2;
    this.oy = -(h / this.scale - this.height) / 2;
    this.redraw();
  }

  zoom(factor, cx, cy) {
    const w = this.canvas.width / this.dpr, h = this.canvas.height / this.dpr;
    if (cx === undefined) { cx = w / 2; cy = h / 2; }
    const wx = this.ox + cx / this.scale, wy = this.oy + cy / this.scale;
    this.scale = Math.min(SCALE_MAX, Math.max(SCALE_MIN, this.scale * factor));
    this.ox = wx - cx / this.scale;
    this.oy = wy - cy / this.scale;
    this.redraw();
  }

  // Closer than the whole map: touches then move the map rather than the page (web/js/map_gestures.js).
  zoomedIn() { return this.scale > this.fitScale * 1.02; }

  pan(dx, dy) { this.ox -= dx / this.scale; this.oy -= dy / this.scale; this.redraw(); }

  // Centres the map on a seat that is out of view.
  reveal(id) {
    const w = this.canvas.width / this.dpr, h = this.canvas.height / this.dpr;
    const c = this.centerOf(id);
    if (c.x >= 0 && c.x <= w && c.y >= 0 && c.y <= h) return;
    this.pan(w / 2 - c.x, h / 2 - c.y);
  }

  redraw() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => { this.pending = 0; this.draw(); });
  }

  draw() {
    const { ctx, scale, dpr } = this;
    const w = this.canvas.width / dpr, h = this.canvas.height / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    this.canvas.classList.toggle('fitted', !this.zoomedIn());
    if (this.stage) {
      const st = this.stage;
      ctx.fillStyle = '#14172b';
      ctx.fillRect((st.x - this.ox) * scale, (st.y - this.oy) * scale, Math.max(2, st.w * scale), Math.max(2, st.h * scale));
      if (st.label && st.h * scale >= 12) {
        ctx.fillStyle = '#ffffff';
        ctx.font = `${Math.min(16, st.h * scale * 0.6)}px system-ui, sans-serif`;
        ctx.textAlign = 'center';
        ctx.fillText(st.label, (st.x + st.w / 2 - this.ox) * scale, (st.y + st.h / 2 - this.oy) * scale + 5);
        ctx.textAlign = 'start';
      }
    }
    if (scale < SQUARES_FROM_SCALE) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.bitmap, -this.ox * scale, -this.oy * scale, this.bitmap.width * scale, this.bitmap.height * scale);
    } else {
      this.drawSeats(w, h);
    }
    for (const a of this.areas) {
      let left = 0;
      for (let id = a.first; id < a.first + a.count; id++) if (this.statusOf(id) === 'A') left++;
      const sx = (a.x0 - this.ox) * scale, sy = (a.y0 - this.oy) * scale;
      const w = (a.x1 - a.x0) * scale, h = (a.y1 - a.y0) * scale;
      ctx.fillStyle = left ? this.tierColor.get(this.sections[a.section].price_tier) : STATE_COLORS.sold;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(sx, sy, w, h);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = ctx.fillStyle;
      ctx.strokeRect(sx, sy, w, h);
      ctx.fillStyle = '#1b1b1f';
      ctx.font = `${Math.max(11, Math.min(16, h / 4))}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.fillText(left ? `${left.toLocaleString()} of ${a.count.toLocaleString()} left` : 'Sold out', sx + w / 2, sy + h / 2 + 5);
      ctx.textAlign = 'start';
    }
    // Section names at every zoom level: where the section is, in a size that stays readable.
    ctx.fillStyle = '#1b1b1f';
    ctx.font = `${Math.max(10, Math.min(16, scale * 1.2))}px system-ui, sans-serif`;
    for (const l of this.labels) ctx.fillText(l.text, (l.x - this.ox) * scale, (l.y - this.oy) * scale);
    this.drawFocus();
  }

  // Zoomed in: the seats in view one by one. Too small for marks, a seat is a plain square (one
  // fillRect, the fill style only set when it changes: fast for tens of thousands in view).
  drawSeats(w, h) {
    const { ctx, scale, xs, ys } = this;
    const size = Math.max(1, scale * SEAT_FILL);
    const x0 = this.ox - 1, x1 = this.ox + w / scale, y0 = this.oy - 1, y1 = this.oy + h / scale;
    const marks = size >= MARKS_FROM_PX;
    let style = '';
    for (let id = 0; id < xs.length; id++) {
      const x = xs[id], y = ys[id];
      if (x < x0 || x > x1 || y < y0 || y > y1 || this.inArea[id]) continue;
      const sx = (x - this.ox) * scale, sy = (y - this.oy) * scale;
      if (marks) { drawSeat(ctx, sx, sy, size, this.lookOf(id)); style = ''; continue; }
      const faded = this.isFaded(id);
      const color = this.colorOf(id);
      if (color !== style || faded) { ctx.fillStyle = color; style = faded ? '' : color; }
      ctx.globalAlpha = faded ? FADED_ALPHA : 1;
      ctx.fillRect(sx, sy, size, size);
    }
    ctx.globalAlpha = 1;
  }

  // A ring around the keyboard picker's seat, at least 12 px across so it shows at every zoom.
  drawFocus() {
    if (this.focusId === null || this.focusId >= this.xs.length) return;
    const { ctx, scale } = this;
    const size = Math.max(12, scale * SEAT_FILL + 6);
    const c = this.centerOf(this.focusId);
    ctx.strokeStyle = '#000000';
    ctx.lineWidth = 3;
    ctx.strokeRect(c.x - size / 2, c.y - size / 2, size, size);
    ctx.strokeStyle = '#ffb300';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(c.x - size / 2, c.y - size / 2, size, size);
  }

  // The seat under a point: the one whose square holds it, or zoomed out, whose bitmap pixel does.
  seatAt(cx, cy) {
    const wx = this.ox + cx / this.scale, wy = this.oy + cy / this.scale;
    if (this.areaAt(wx, wy) !== null) return null;
    const coarse = this.scale < SQUARES_FROM_SCALE;
    const { xs, ys } = this;
    for (let id = 0; id < xs.length; id++) {
      const dx = wx - xs[id], dy = wy - ys[id];
      if (coarse ? Math.floor(wx) === Math.floor(xs[id]) && Math.floor(wy) === Math.floor(ys[id])
                 : dx >= 0 && dx <= SEAT_FILL && dy >= 0 && dy <= SEAT_FILL) return id;
    }
    return null;
  }

  // The general-admission area (section index) under a plane point, or null.
  areaAt(wx, wy) {
    for (const a of this.areas) if (wx >= a.x0 && wx <= a.x1 && wy >= a.y0 && wy <= a.y1) return a.section;
    return null;
  }

  // Screen position (CSS pixels) of a seat's centre: for tests and for scrolling a seat into view.
  centerOf(id) {
    return { x: (this.xs[id] + SEAT_FILL / 2 - this.ox) * this.scale, y: (this.ys[id] + SEAT_FILL / 2 - this.oy) * this.scale };
  }

  bind() {
    const c = this.canvas;
    bindGestures(this);
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.offsetX, e.offsetY);
    }, { passive: false });
    c.addEventListener('keydown', (e) => {
      const step = 60;
      const keys = {
        ArrowLeft: () => this.pan(step, 0), ArrowRight: () => this.pan(-step, 0),
        ArrowUp: () => this.pan(0, step), ArrowDown: () => this.pan(0, -step),
        '+': () => this.zoom(1.25), '=': () => this.zoom(1.25), '-': () => this.zoom(0.8), '0': () => this.fit(),
      };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(c);
  }

  destroy() { this.observer.disconnect(); }
}
