// Small DOM helpers shared by the pages.

export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// A message in the page-wide live region (announced by screen readers).
export function flash(text, kind = 'info') {
  const el = $('#flash');
  el.innerHTML = text ? `<div class="msg ${kind}">${esc(text)}</div>` : '';
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
