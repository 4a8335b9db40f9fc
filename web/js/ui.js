// Small DOM helpers shared by the pages.

export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

let keepFlash = false;  // survive the next page change (a message about where we are going)

// A message in the page-wide live region (announced by screen readers).
export function flash(text, kind = 'info', { keep = false } = {}) {
  keepFlash = keep;
  const el = $('#flash');
  el.innerHTML = text ? `<div class="msg ${kind}">${esc(text)}</div>` : '';
}

// On a page change: clears the page-wide message unless it was meant for the next page.
export function clearFlash() {
  if (keepFlash) keepFlash = false; else flash('');
}

// A message inside a page element (e.g. a form's error area), also announced.
export function say(el, text, kind = 'error') {
  el.innerHTML = text ? `<div class="msg ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${esc(text)}</div>` : '';
}

export function setMain(html, title) {
  const main = $('#main');
  main.innerHTML = html;
  document.title = title ? `${title} · ticketd` : 'ticketd';
  return main;
}
