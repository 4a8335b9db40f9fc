// Mouse, pen and touch on a seat map (web/js/seatmap.js), through Pointer Events:
//   a tap or click     picks the seat (or general-admission area) under it
//   one pointer drags  pans; for a finger only once the map is zoomed in
//   two pointers       pinch to zoom about their midpoint, and pan as the midpoint moves
// A page must stay scrollable past a map nobody is exploring: at the fitted scale the canvas says
// `touch-action: pan-x pan-y` (class "fitted"), so one finger scrolls the page; zoomed in it says
// `touch-action: none` and the map takes every finger. The browser never pinch-zooms the page over the
// map, so two fingers always reach us; a non-passive touchmove keeps it from scrolling the page with
// them too when they land on a fitted map (Pointer Events cannot cancel that scroll).

const TAP_SLOP_PX = 4;   // a pointer that moves less than this is a tap, not a drag
const POINTERS_MAX = 2;  // a third finger is ignored

export function bindGestures(map) {
  const c = map.canvas;
  const pointers = new Map();  // pointerId -> {x, y} in canvas CSS pixels
  let tap = null;              // the only pointer down, until it moves: {x, y, moved}
  let pinch = null;            // the last two-pointer frame: {dist, mx, my}

  c.addEventListener('pointerdown', (e) => {
    if (pointers.size >= POINTERS_MAX) return;
    pointers.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
    c.setPointerCapture(e.pointerId);
    tap = pointers.size === 1 ? { x: e.offsetX, y: e.offsetY, moved: false } : null;
    pinch = pointers.size === 2 ? twoPointers(pointers) : null;
  });
  c.addEventListener('pointermove', (e) => {
    const p = pointers.get(e.pointerId);
    if (!p) return;
    const dx = e.offsetX - p.x, dy = e.offsetY - p.y;
    p.x = e.offsetX; p.y = e.offsetY;
    if (pinch) {
      const now = twoPointers(pointers);
      map.zoom(now.dist / pinch.dist, now.mx, now.my);
      map.pan(now.mx - pinch.mx, now.my - pinch.my);
      pinch = now;
      return;
    }
    if (!tap) return;  // the finger left over from a pinch does nothing until it lifts
    if (!tap.moved && Math.hypot(p.x - tap.x, p.y - tap.y) < TAP_SLOP_PX) return;
    tap.moved = true;
    if (e.pointerType === 'touch' && !map.zoomedIn()) return;  // the page scrolls instead
    map.pan(dx, dy);
  });
  const lift = (e) => {
    if (!pointers.delete(e.pointerId)) return;
    if (e.type === 'pointerup' && tap && !tap.moved) pickAt(map, e.offsetX, e.offsetY);
    tap = null;
    pinch = null;
  };
  c.addEventListener('pointerup', lift);
  c.addEventListener('pointercancel', lift);  // the browser took the gesture (a page scroll)
  c.addEventListener('touchmove', (e) => { if (e.touches.length > 1) e.preventDefault(); }, { passive: false });
}

function twoPointers(pointers) {
  const [a, b] = [...pointers.values()];
  return { dist: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)), mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2 };
}

function pickAt(map, x, y) {
  const area = map.areaAt(map.ox + x / map.scale, map.oy + y / map.scale);
  if (area !== null) { if (map.onArea) map.onArea(area); return; }
  const id = map.seatAt(x, y);
  if (id !== null) map.onPick(id);
}
