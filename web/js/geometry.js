// Where each seat of a venue stands, in plane units (docs/console.md, "Venue geometry"). One function
// for the buyer's map and the console's designer, so the two always agree. A venue whose sections
// carry `geometry` is drawn as designed; one without is packed automatically: sections as boxes
// (widest row × rows) on shelves about 1.5 times as wide as the venue is tall.

const SECTION_GAP = 3;  // automatic layout: rows of space between sections (room for the label)

// The local position of seat n (0-based) of a row of `count` seats, row r, before rotation: x along the
// row, y away from the stage. Curved rows are arcs about a centre `radius0` in front of the front row.
export function localSeat(g, r, n, count, frontCount) {
  const sp = g.seat_spacing || 1, rs = g.row_spacing || 1;
  const curve = ((g.curve_deg || 0) * Math.PI) / 180;
  if (curve <= 0) return { x: (n - (count - 1) / 2) * sp, y: r * rs };
  const radius0 = Math.max(sp, ((frontCount - 1) * sp) / curve);
  const radius = radius0 + r * rs;
  const angle = ((n - (count - 1) / 2) * sp) / radius;
  return { x: radius * Math.sin(angle), y: radius * Math.cos(angle) - radius0 };
}

export function rotate(p, deg) {
  const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
  return { x: p.x * c - p.y * s, y: p.x * s + p.y * c };
}

// A general-admission area's places in a block about twice as wide as deep (they are never drawn one
// by one: the block is), centred on the front edge like a section's front row.
function areaColumns(count) { return Math.max(1, Math.ceil(Math.sqrt(count * 2))); }

function areaPlaces(count, g) {
  const cols = areaColumns(count);
  const sp = (g && g.seat_spacing) || 1;
  const out = [];
  for (let i = 0; i < count; i++) out.push({ x: ((i % cols) - (cols - 1) / 2) * sp, y: Math.floor(i / cols) * sp });
  return out;
}

function areaCount(section) { return section.rows.reduce((n, r) => n + r.seats, 0); }

// Positions of one placed section's seats (in seat-id order within it) and where its label goes.
export function placeSection(section) {
  const g = section.geometry;
  if (section.general_admission) {
    const seats = areaPlaces(areaCount(section), g).map((p) => {
      const q = rotate(p, g.rotation_deg || 0);
      return { x: g.x + q.x, y: g.y + q.y };
    });
    const label = rotate({ x: 0, y: -1.2 }, g.rotation_deg || 0);
    return { seats, label: { x: g.x + label.x, y: g.y + label.y } };
  }
  const front = section.rows[0] ? section.rows[0].seats : 1;
  const seats = [];
  section.rows.forEach((row, r) => {
    for (let n = 0; n < row.seats; n++) {
      const p = rotate(localSeat(g, r, n, row.seats, front), g.rotation_deg || 0);
      seats.push({ x: g.x + p.x, y: g.y + p.y });
    }
  });
  const label = rotate({ x: 0, y: -1.2 }, g.rotation_deg || 0);
  return { seats, label: { x: g.x + label.x, y: g.y + label.y } };
}

// Every seat's position: {xs, ys (Float32Array by seat id), labels [{x, y, text}], stage {x, y, w, h,
// label} in the same units, areas [{section, first, count, x0, y0, x1, y1}] (general-admission areas:
// their places' bounds), minX, minY, maxX, maxY}.
export function placeVenue(venue) {
  const total = venue.seats_total;
  const xs = new Float32Array(total), ys = new Float32Array(total);
  const labels = [];
  const placed = venue.sections.length > 0 && venue.sections.every((s) => s.geometry);
  let stage = null;
  if (placed) {
    for (const s of venue.sections) {
      const { seats, label } = placeSection(s);
      let id = s.rows[0].first_seat_id;
      for (const p of seats) { xs[id] = p.x; ys[id] = p.y; id++; }
      labels.push({ x: label.x, y: label.y, text: s.name });
    }
    if (venue.stage) {
      const st = venue.stage;
      stage = { x: st.x - st.width / 2, y: st.y - st.height / 2, w: st.width, h: st.height, label: st.label || '' };
    }
  } else {
    const blocks = venue.sections.map((s) => (s.general_admission ? areaPlaces(areaCount(s), null) : null));
    const boxes = venue.sections.map((s, si) => (blocks[si]
      ? { w: areaColumns(blocks[si].length), h: Math.ceil(blocks[si].length / areaColumns(blocks[si].length)) }
      : { w: Math.max(...s.rows.map((r) => r.seats)), h: s.rows.length }));
    const area = boxes.reduce((sum, b) => sum + (b.w + SECTION_GAP) * (b.h + SECTION_GAP), 0);
    const shelfMax = Math.max(...boxes.map((b) => b.w), Math.sqrt(area * 1.5));
    let x = 0, y = SECTION_GAP, shelfH = 0, width = 0;
    venue.sections.forEach((s, si) => {
      const box = boxes[si];
      if (x > 0 && x + box.w > shelfMax) { x = 0; y += shelfH + SECTION_GAP; shelfH = 0; }
      labels.push({ x, y: y - 0.8, text: s.name });
      if (blocks[si]) {
        const left = -(areaColumns(blocks[si].length) - 1) / 2;
        blocks[si].forEach((p, i) => { xs[s.rows[0].first_seat_id + i] = x + p.x - left; ys[s.rows[0].first_seat_id + i] = y + p.y; });
      } else s.rows.forEach((r, ri) => {
        const x0 = x + Math.floor((box.w - r.seats) / 2);
        for (let n = 0; n < r.seats; n++) { xs[r.first_seat_id + n] = x0 + n; ys[r.first_seat_id + n] = y + ri; }
      });
      x += box.w + SECTION_GAP;
      width = Math.max(width, x - SECTION_GAP);
      shelfH = Math.max(shelfH, box.h);
    });
    stage = { x: width * 0.2, y: 0.2, w: width * 0.6, h: 1.2, label: '' };
  }
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < total; i++) {
    if (xs[i] < minX) minX = xs[i];
    if (xs[i] > maxX) maxX = xs[i];
    if (ys[i] < minY) minY = ys[i];
    if (ys[i] > maxY) maxY = ys[i];
  }
  for (const l of labels) { minY = Math.min(minY, l.y - 1); minX = Math.min(minX, l.x - 1); }
  if (stage) {
    minX = Math.min(minX, stage.x); minY = Math.min(minY, stage.y);
    maxX = Math.max(maxX, stage.x + stage.w); maxY = Math.max(maxY, stage.y + stage.h);
  }
  if (!Number.isFinite(minX)) { minX = minY = 0; maxX = maxY = 1; }
  const areas = [];
  venue.sections.forEach((s, si) => {
    if (!s.general_admission) return;
    const first = s.rows[0].first_seat_id, count = areaCount(s);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = first; i < first + count; i++) {
      x0 = Math.min(x0, xs[i]); x1 = Math.max(x1, xs[i]); y0 = Math.min(y0, ys[i]); y1 = Math.max(y1, ys[i]);
    }
    areas.push({ section: si, first, count, x0, y0, x1: x1 + 1, y1: y1 + 1 });
  });
  return { xs, ys, labels, stage, placed, areas, minX, minY, maxX: maxX + 1, maxY: maxY + 1 };
}
