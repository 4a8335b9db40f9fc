// The buyer's live holds on one event, wherever they were made: in this tab, in another tab of the
// browser, or before a reload (web/js/hold_memory.js remembers their ids). Each is checked with
// GET /v1/holds/{id}; only ACTIVE ones are kept. The event page pays for one of them at a time
// (`page.hold`); the others are listed above the map, "You are holding N seats until HH:MM", each with
// Resume (pay for it here) and Release. A hold made, paid or released in another tab appears here or
// goes away through the storage event, without a reload, and each is looked at again when it is due
// to lapse.
import { api, session, money } from './api.js';
import { esc, $, say } from './ui.js';
import { holdMemory } from './hold_memory.js';
import { clockTime } from './time_text.js';

const TIMER_MS_MAX = 2 ** 31 - 1;  // setTimeout's limit
const LAPSE_SLACK_MS = 1000;       // ask this long after a hold's expires_at: the server has lapsed it by then

export class LiveHolds {
  // page: {event, hold, waitlist?, seatInfo(id), resume(hold), holdEnded(status), focusBuy(), liveHoldsChanged()}.
  constructor(page) {
    this.page = page;
    this.eventId = page.event.id;
    this.holds = new Map();  // id -> the ACTIVE hold, as the server last said
    this.gone = new Set();   // ids this page saw end: an answer given before must not bring one back
    this.syncs = 0;          // the number of the latest sync: an older one's answers are dropped
    this.timer = null;
    this.stopped = false;    // the page was left: late answers touch nothing
    this.stopListening = holdMemory.onChange(() => this.sync());
    $('#live-holds').addEventListener('click', (e) => this.onClick(e));
  }

  destroy() {
    this.stopped = true;
    this.stopListening();
    clearTimeout(this.timer);
  }

  // The holds of the notice: every live one but the one the page is paying for, and a waiting-list
  // offer (its own card shows it, with Pay now and Decline), oldest first.
  others() {
    const paying = this.page.hold && this.page.hold.id;
    const offer = this.page.waitlist ? this.page.waitlist.offerHoldId() : 0;
    return [...this.holds.values()].filter((h) => h.id !== paying && h.id !== offer).sort((a, b) => a.id - b.id);
  }

  holdsSeat(seatId) { return [...this.holds.values()].some((h) => h.seat_ids.includes(seatId)); }
  seatIds() { return [...this.holds.values()].flatMap((h) => h.seat_ids); }

  // A hold made in this tab.
  add(hold) {
    this.holds.set(hold.id, hold);
    holdMemory.remember(this.eventId, hold);
    this.changed();
  }

  // A hold that ended in this tab (paid, released, declined, lapsed): other tabs drop it too.
  forget(holdId) {
    this.gone.add(holdId);
    this.holds.delete(holdId);
    holdMemory.forget(this.eventId, holdId);
    this.changed();
  }

  // Asks the server about every hold remembered or shown, and shows the ACTIVE ones.
  async sync() {
    if (!session.token) return;
    const mine = ++this.syncs;
    const ids = new Set([...holdMemory.list(this.eventId).map((h) => h.id), ...this.holds.keys()]);
    const answers = await Promise.all([...ids].map((id) => api.getHold(id, this.eventId)
      .then((hold) => ({ id, hold }), (err) => ({ id, err }))));
    if (mine !== this.syncs || this.stopped) return;  // a newer sync asked later, or the page was left
    for (const { id, hold, err } of answers) this.apply(id, hold, err);
    this.changed();
  }

  // One answer of GET /v1/holds/{id}. A network error or a 5xx tells nothing: the hold stays as it was.
  apply(id, hold, err) {
    if (hold && hold.status === 'ACTIVE' && hold.event_id === this.eventId && !this.gone.has(id)) {
      this.holds.set(id, hold);
      return;
    }
    if (!hold && !(err && err.status === 404)) return;
    this.holds.delete(id);
    holdMemory.forget(this.eventId, id);
    if (this.page.hold && this.page.hold.id === id) this.page.holdEnded(hold ? hold.status : 'GONE');
  }

  changed() {
    if (this.stopped) return;
    this.render();
    this.page.liveHoldsChanged();
    this.schedule();
  }

  // The next look: when the first hold of the notice is due to lapse (the page's own has its countdown).
  schedule() {
    clearTimeout(this.timer);
    const next = Math.min(...this.others().map((h) => new Date(h.expires_at).getTime()));
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => this.sync(), Math.min(TIMER_MS_MAX, Math.max(0, next - Date.now()) + LAPSE_SLACK_MS));
  }

  render() {
    const box = $('#live-holds');
    if (!box) return;
    const hadFocus = box.contains(document.activeElement);
    box.innerHTML = this.others().map((h) => this.noticeHtml(h)).join('');
    if (hadFocus && !box.contains(document.activeElement)) this.page.focusBuy();  // its hold went away
  }

  noticeHtml(h) {
    const n = h.seat_ids.length;
    const seats = [...new Set(h.seat_ids.map((id) => this.page.seatInfo(id).label))].join('; ');
    const text = `live-hold-${h.id}`;
    return `<div class="card notice">
      <p id="${text}"><strong>You are holding ${n} seat${n === 1 ? '' : 's'} until ${esc(clockTime(h.expires_at))}</strong>
        <span class="muted small">${esc(seats)} · ${esc(money(h.total_amount, h.currency))}</span></p>
      <div class="row">
        <button type="button" data-resume="${h.id}" aria-describedby="${text}">Resume</button>
        <button type="button" class="secondary" data-release="${h.id}" aria-describedby="${text}">Release</button>
      </div>
    </div>`;
  }

  async onClick(e) {
    const resume = e.target.closest('[data-resume]');
    const release = e.target.closest('[data-release]');
    if (resume) {
      const hold = this.holds.get(Number(resume.dataset.resume));
      if (hold) this.page.resume(hold);
      return;
    }
    if (!release) return;
    const id = Number(release.dataset.release);
    release.disabled = true;
    try {
      await api.release(id, this.eventId);
      this.forget(id);
      say($('#buy-msg'), 'Released: the seats are available to others again.', 'info');
    } catch (err) {
      release.disabled = false;
      say($('#buy-msg'), err.message);
      this.sync();  // paid meanwhile, or being paid: the server knows which
    }
  }
}

// Whether the signed-in buyer holds seats of this event now (a hold remembered by this browser that
// the server says is ACTIVE).
export async function holdsSeatsOf(eventId) {
  if (!session.token) return false;
  const answers = await Promise.all(holdMemory.list(eventId).map((h) => api.getHold(h.id, eventId).catch(() => null)));
  return answers.some((h) => h && h.status === 'ACTIVE' && h.event_id === eventId);
}
