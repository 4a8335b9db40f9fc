// How one seat looks on the canvas maps and in their legends. Colour gives the quick read, and every
// state and flag also has a shape or a mark, so nothing is told by colour alone (WCAG 1.4.1):
//   available     filled square in its price tier's colour
//   yours         blue with a white check mark (selected, or held by you)
//   held          orange with dark diagonal hatching (held by someone else)
//   sold          grey with a white cross
//   accessible    a wheelchair glyph (on an available seat; a taken seat shows its state's mark instead)
//   companion     a round seat instead of a square one
// Colours come from the Okabe–Ito palette, chosen to stay apart under the common colour blindnesses.
// Marks need room: below MARKS_FROM_PX a seat is a plain square of its colour (the map's zoomed-out
// bitmap is one pixel per seat, so there only colour is possible; zooming in shows the marks).

export const STATE_COLORS = { mine: '#0072B2', held: '#E69F00', sold: '#7A7A82' };
// Available seats take their price tier's colour: the palette's colours the states do not use.
export const TIER_COLORS = ['#009E73', '#56B4E9', '#CC79A7', '#F0E442', '#D55E00', '#000000'];
export const MARKS_FROM_PX = 9;
export const FADED_ALPHA = 0.2;  // seats the "show only" filter leaves out: still there, clearly in the back

// A seat's look: {state: 'available'|'mine'|'held'|'sold', fill, accessible, companion, faded}.
export function drawSeat(ctx, x, y, size, look) {
  ctx.globalAlpha = look.faded ? FADED_ALPHA : 1;
  ctx.fillStyle = look.fill;
  seatPath(ctx, x, y, size, look.companion);
  ctx.fill();
  if (size >= MARKS_FROM_PX) {
    if (look.state === 'held') hatch(ctx, x, y, size, look.companion);
    else if (look.state === 'sold') cross(ctx, x, y, size);
    else if (look.state === 'mine') check(ctx, x, y, size);
    else if (look.accessible) wheelchair(ctx, x, y, size, inkOn(look.fill));
  }
  ctx.globalAlpha = 1;
}

// A legend's sample: one seat drawn large in a small canvas (sized by CSS; drawn at the screen's density).
export function drawSwatch(canvas, look) {
  const dpr = window.devicePixelRatio || 1;
  const css = canvas.clientWidth || 18;
  canvas.width = canvas.height = Math.round(css * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  drawSeat(ctx, 1, 1, css - 2, look);
}

function seatPath(ctx, x, y, size, round) {
  ctx.beginPath();
  if (round) ctx.arc(x + size / 2, y + size / 2, size / 2, 0, 2 * Math.PI);
  else ctx.rect(x, y, size, size);
}

// Black or white, whichever reads better on `fill` (relative luminance, as WCAG computes it).
export function inkOn(fill) {
  const n = parseInt(fill.slice(1), 16);
  const lin = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  const l = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return l > 0.25 ? '#000000' : '#ffffff';
}

function stroke(ctx, color, width) {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.stroke();
}

function hatch(ctx, x, y, size, round) {
  ctx.save();
  seatPath(ctx, x, y, size, round);
  ctx.clip();
  ctx.beginPath();
  const step = size / 3;
  for (let d = -size; d <= size; d += step) { ctx.moveTo(x + d, y + size); ctx.lineTo(x + d + size, y); }
  stroke(ctx, '#3b2a00', Math.max(1, size / 9));
  ctx.restore();
}

function cross(ctx, x, y, size) {
  const a = size * 0.28, b = size * 0.72;
  ctx.beginPath();
  ctx.moveTo(x + a, y + a); ctx.lineTo(x + b, y + b);
  ctx.moveTo(x + b, y + a); ctx.lineTo(x + a, y + b);
  stroke(ctx, '#ffffff', Math.max(1.5, size / 8));
}

function check(ctx, x, y, size) {
  ctx.beginPath();
  ctx.moveTo(x + size * 0.24, y + size * 0.52);
  ctx.lineTo(x + size * 0.43, y + size * 0.72);
  ctx.lineTo(x + size * 0.78, y + size * 0.3);
  stroke(ctx, '#ffffff', Math.max(1.5, size / 7));
}

// The international symbol of access, simplified: a head, a seated body and a wheel.
function wheelchair(ctx, x, y, size, ink) {
  const p = (fx, fy) => [x + size * fx, y + size * fy];
  ctx.fillStyle = ink;
  ctx.beginPath();
  ctx.arc(...p(0.46, 0.18), size * 0.09, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(...p(0.46, 0.32)); ctx.lineTo(...p(0.46, 0.56)); ctx.lineTo(...p(0.7, 0.56)); ctx.lineTo(...p(0.8, 0.8));
  stroke(ctx, ink, Math.max(1, size / 10));
  ctx.beginPath();
  ctx.arc(...p(0.44, 0.64), size * 0.22, -0.15 * Math.PI, 1.35 * Math.PI);
  stroke(ctx, ink, Math.max(1, size / 12));
}
