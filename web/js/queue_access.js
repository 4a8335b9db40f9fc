// The access window of a buyer the waiting room let in (issue 5): holds of the event need its token
// until access_expires_at. When the window ends, "It is your turn…" must not stay up: the event page
// says the window is over, stops offering to hold, and offers to join the queue again (at the end of
// the line: docs/api.md). A buyer who opens the page after the window, to pay for seats they hold, is
// told the same at once.
import { access } from './api.js';
import { esc, flash } from './ui.js';
import { clockTime } from './time_text.js';

const TIMER_MS_MAX = 2 ** 31 - 1;  // setTimeout's limit (the longest window is a day)

// Calls onEnded(endedAt) when this tab's access to the event ends (at once, with null, when it has
// none); returns the function that stops watching.
export function watchAccess(eventId, onEnded) {
  const granted = access.get(eventId);
  if (!granted) {
    onEnded(null);
    return () => {};
  }
  const leftMs = new Date(granted.expires_at).getTime() - Date.now();
  const timer = setTimeout(() => {
    flash('');  // "It is your turn: choose seats before …"
    access.drop(eventId);
    onEnded(granted.expires_at);
  }, Math.min(TIMER_MS_MAX, Math.max(0, leftMs)));
  return () => clearTimeout(timer);
}

export function accessEndedHtml(endedAt) {
  const over = endedAt ? `Your time to choose seats ended at ${clockTime(endedAt)}.`
    : 'Your time to choose seats in this sale\'s waiting room is over.';
  return `<div class="msg info" role="status">
    <p>${esc(over)} Seats you hold can still be paid for; to hold seats, join the queue again: you go to the end of the line.</p>
    <button type="button" id="rejoin">Join the queue again</button>
  </div>`;
}
