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

// Positions of one placed section's seats (in seat-id order within it) and where its label goes.
export function placeSection(section) {
  const g = section.geometry;
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
// label} in the same units, minX, minY, maxX, maxY}.
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
    const boxes = venue.sections.map((s) => ({ w: Math.max(...s.rows.map((r) => r.seats)), h: s.rows.length }));
    const area = boxes.reduce((sum, b) => sum + (b.w + SECTION_GAP) * (b.h + SECTION_GAP), 0);
    const shelfMax = Math.max(...boxes.map((b) => b.w), Math.sqrt(area * 1.5));
    let x = 0, y = SECTION_GAP, shelfH = 0, width = 0;
    venue.sections.forEach((s, si) => {
      const box = boxes[si];
      if (x > 0 && x + box.w > shelfMax) { x = 0; y += shelfH + SECTION_GAP; shelfH = 0; }
      labels.push({ x, y: y - 0.8, text: s.name });
      s.rows.forEach((r, ri) => {
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
  return { xs, ys, labels, stage, placed, minX, minY, maxX: maxX + 1, maxY: maxY + 1 };
}
