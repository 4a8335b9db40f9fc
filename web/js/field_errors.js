// Form fields that say what is wrong with them: each error is written next to its field, tied to it
// with aria-describedby (a screen reader reads it with the field) and the field marked aria-invalid;
// every problem is shown at once, and focus goes to the first field that has one. The checks here
// mirror the server's rules (docs/api.md, Accounts) to spare a round trip; the server stays the judge.
import { esc } from './ui.js';

export const PASSWORD_BYTES_MIN = 8, PASSWORD_BYTES_MAX = 128;  // POST /v1/users, password changes and resets
export const NAME_BYTES_MAX = 200;
export const EMAIL_BYTES_MAX = 254;

const bytes = (v) => new TextEncoder().encode(v).length;

// One mailbox, roughly: the server knows the exact rules and its refusal is shown next to the field too.
export function emailProblem(v) {
  const email = v.trim();
  if (email === '') return 'Enter your email address.';
  if (bytes(email) > EMAIL_BYTES_MAX) return `That is too long for an email address (at most ${EMAIL_BYTES_MAX} characters).`;
  if (!/^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/.test(email)) return 'Enter an email address, like ann@example.com.';
  return '';
}

export function newPasswordProblem(v) {
  if (bytes(v) < PASSWORD_BYTES_MIN) return `At least ${PASSWORD_BYTES_MIN} characters.`;
  if (bytes(v) > PASSWORD_BYTES_MAX) return `At most ${PASSWORD_BYTES_MAX} characters.`;
  return '';
}

// The id of the element that holds `name`'s error: "<prefix>-<name>-err", or "<name>-err".
export const errorId = (prefix, name) => (prefix ? `${prefix}-${name}-err` : `${name}-err`);

// A labelled input with its (empty) error line.
export function fieldRow(prefix, name, label, attrs) {
  const id = errorId(prefix, name);
  return `<p><label>${esc(label)} <input name="${name}" ${attrs} aria-describedby="${id}"></label>
    <span id="${id}" class="field-error"></span></p>`;
}

// Shows `errors` ({fieldName: text}) on the form's fields and clears the others'. Returns whether any.
export function showErrors(form, errors, { focus = true } = {}) {
  let first = null;
  for (const input of form.querySelectorAll('input[aria-describedby]')) {
    const line = document.getElementById(input.getAttribute('aria-describedby'));
    if (!line || !line.classList.contains('field-error')) continue;
    const text = errors[input.name] || '';
    line.textContent = text;
    if (text) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    if (text && !first) first = input;
  }
  if (first && focus) first.focus();
  return first !== null;
}

// Runs each field's check on the form's values; returns {fieldName: text} for those that fail.
export function check(form, checks) {
  const values = new FormData(form);
  const errors = {};
  for (const [name, problem] of Object.entries(checks)) {
    const text = problem(String(values.get(name) || ''));
    if (text) errors[name] = text;
  }
  return errors;
}
