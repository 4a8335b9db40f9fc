// "Choose seats": the keyboard and screen-reader way to pick seats, kept live like the map. One row at a
// time, as a listbox that is a single tab stop (roving tabindex: the seat with focus has tabindex 0, the
// others -1). Left/Right move along the row, Up/Down to the row before/after (across sections), Home/End
// to the row's ends; Enter or Space picks or drops the seat and focus stays where it is. Each seat's
// name says seat, row, section, price, flags and status, so nothing depends on seeing the map. Seats that
// cannot be picked stay focusable (aria-disabled), so they are heard too. "Show only" filters both the
// list (its sections, rows and seats) and the map (the other seats fade).
import { esc, $, $$ } from './ui.js';
import { money } from './api.js';
import { ACCESSIBLE, COMPANION, RESTRICTED_VIEW } from './seatmap.js';

const FLAG_WORDS = [[ACCESSIBLE, 'accessible'], [COMPANION, 'companion'], [RESTRICTED_VIEW, 'restricted view']];

export class SeatPicker {
  // page: {venue, event, map, price(sectionIndex), seatWord(id), toggle(id)}.
  constructor(page) {
    this.page = page;
    this.venue = page.venue;
    this.filter = 0;        // ACCESSIBLE | COMPANION: seats with either flag; 0: all
    this.shown = null;      // {si, ri} of the row in the list
    this.tabSeat = null;    // the seat id that is the list's tab stop
    const flags = page.map.flags;
    this.hasFlag = (bit) => flags.some((f) => f & bit);
  }

  html() {
    const filters = [[ACCESSIBLE, 'accessible', 'Accessible seats'], [COMPANION, 'companion', 'Companion seats']]
      .filter(([bit]) => this.hasFlag(bit));
    return `
      <h2 id="pick-h">Choose seats</h2>
      ${filters.length ? `<fieldset class="filters" id="seat-filter"><legend>Show only</legend>
        ${filters.map(([bit, name, label]) => `<label class="inline"><input type="checkbox" name="${name}" value="${bit}"> ${label}</label>`).join('')}
      </fieldset>` : ''}
      <div class="row">
        <label>Section <select id="pick-section"></select></label>
        <label>Row <select id="pick-row"></select></label>
      </div>
      <div class="card seats-card">
        <p class="seats-title" id="seats-legend">Seats</p>
        <p class="muted small" id="seat-help">Arrow keys move between seats, up and down to the next row; Enter or Space picks a seat.</p>
        <ul class="seat-list" id="seat-list" role="listbox" aria-multiselectable="true" aria-orientation="horizontal"
          aria-labelledby="seats-legend" aria-describedby="seat-help"></ul>
      </div>`;
  }

  bind() {
    for (const box of $$('#seat-filter input')) box.addEventListener('change', () => this.setFilter());
    $('#pick-section').onchange = () => this.fillRows();
    $('#pick-row').onchange = () => this.show(Number($('#pick-section').value), Number($('#pick-row').value));
    const list = $('#seat-list');
    list.addEventListener('keydown', (e) => this.onKey(e));
    list.addEventListener('click', (e) => {
      const option = e.target.closest('[role=option]');
      if (!option) return;
      option.focus();
      this.page.toggle(Number(option.dataset.seat));
    });
    list.addEventListener('focusin', (e) => {
      const id = Number(e.target.dataset.seat);
      if (Number.isNaN(id)) return;
      this.setTabSeat(id);
      this.page.map.setFocus(id);
    });
    list.addEventListener('focusout', () => this.page.map.setFocus(null));
    this.fillSections();
  }

  // ---- what the filter lets through ----
  matches(id) { return this.filter === 0 || (this.page.map.flags[id] & this.filter) !== 0; }

  rowMatches(r) {
    for (let id = r.first_seat_id; id < r.first_seat_id + r.seats; id++) if (this.matches(id)) return true;
    return false;
  }

  // Every row the list can show, in venue order: [{si, ri}].
  rows() {
    const out = [];
    this.venue.sections.forEach((s, si) => {
      if (s.general_admission) return;
      s.rows.forEach((r, ri) => { if (this.rowMatches(r)) out.push({ si, ri }); });
    });
    return out;
  }

  setFilter() {
    this.filter = $$('#seat-filter input:checked').reduce((bits, box) => bits | Number(box.value), 0);
    this.page.map.setFilter(this.filter);
    this.fillSections();
  }

  fillSections() {
    const rows = this.rows();
    const sections = [...new Set(rows.map((r) => r.si))];
    const e = this.page.event;
    $('#pick-section').innerHTML = sections.map((si) =>
      `<option value="${si}">${esc(this.venue.sections[si].name)} (${esc(money(this.page.price(si), e.currency))})</option>`).join('');
    this.fillRows();
  }

  fillRows() {
    if (!$('#pick-section').options.length) {
      this.shown = null;
      $('#pick-row').innerHTML = '';
      $('#seats-legend').textContent = 'Seats';
      $('#seat-list').innerHTML = `<li class="muted">${this.filter ? 'No seats of that kind here.'
        : 'No numbered seats here: choose how many places under Best available.'}</li>`;
      return;
    }
    const si = Number($('#pick-section').value);
    this.show(si, this.fillRowOptions(si)[0].ri);
  }

  // The Row choices of section si (those the filter lets through); returns them.
  fillRowOptions(si) {
    const rows = this.rows().filter((r) => r.si === si);
    $('#pick-row').innerHTML = rows.map(({ ri }) =>
      `<option value="${ri}">Row ${esc(this.venue.sections[si].rows[ri].label)}</option>`).join('');
    return rows;
  }

  // ---- the row in the list ----
  ids() {
    if (!this.shown) return [];
    const r = this.venue.sections[this.shown.si].rows[this.shown.ri];
    const out = [];
    for (let id = r.first_seat_id; id < r.first_seat_id + r.seats; id++) if (this.matches(id)) out.push(id);
    return out;
  }

  // Shows row ri of section si; the tab stop goes to `tabSeat` if it is in it, else to the first seat.
  show(si, ri, tabSeat = null) {
    this.shown = { si, ri };
    const s = this.venue.sections[si], r = s.rows[ri];
    $('#pick-section').value = String(si);
    $('#pick-row').value = String(ri);
    $('#seats-legend').textContent = `${s.name}, row ${r.label}`;
    const ids = this.ids();
    $('#seat-list').innerHTML = ids.map((id) => `<li role="option" data-seat="${id}" tabindex="-1"><span aria-hidden="true">${id - r.first_seat_id + 1}</span>${
      this.flagWords(id).map((w) => ` <span class="seat-flag" aria-hidden="true">${w}</span>`).join('')}</li>`).join('');
    this.tabSeat = ids.includes(tabSeat) ? tabSeat : ids[0];
    this.refresh();
  }

  flagWords(id) {
    const f = this.page.map.flags[id];
    return FLAG_WORDS.filter(([bit]) => f & bit).map(([, word]) => word);
  }

  label(id) {
    const s = this.venue.sections[this.shown.si], r = s.rows[this.shown.ri];
    const price = money(this.page.price(this.shown.si), this.page.event.currency);
    const flags = this.flagWords(id).map((w) => `, ${w}`).join('');
    return `Seat ${id - r.first_seat_id + 1}, row ${r.label}, ${s.name}, ${price}${flags}, ${this.page.seatWord(id)}`;
  }

  // Statuses or the selection changed: each seat shown is updated in place, so focus never moves.
  refresh() {
    for (const li of $$('#seat-list [role=option]')) {
      const id = Number(li.dataset.seat);
      const word = this.page.seatWord(id);
      const mine = word === 'selected' || word === 'held by you';
      li.className = `seat ${word.replace(/ /g, '-')}`;
      li.setAttribute('aria-label', this.label(id));
      li.setAttribute('aria-selected', String(word === 'selected'));
      if (word === 'available' || mine) li.removeAttribute('aria-disabled'); else li.setAttribute('aria-disabled', 'true');
      li.tabIndex = id === this.tabSeat ? 0 : -1;
    }
  }

  // Repaints when any of these seats is in the list (null: any may be).
  seatsChanged(seatIds) {
    if (!this.shown) return;
    const ids = this.ids();
    if (!seatIds || seatIds.some((id) => ids.includes(id))) this.refresh();
  }

  setTabSeat(id) {
    this.tabSeat = id;
    for (const li of $$('#seat-list [role=option]')) li.tabIndex = Number(li.dataset.seat) === id ? 0 : -1;
  }

  focusSeat(id) {
    const li = $(`#seat-list [data-seat="${id}"]`);
    if (li) li.focus();
  }

  // ---- keyboard ----
  onKey(e) {
    const ids = this.ids();
    const at = ids.indexOf(Number(e.target.dataset.seat));
    if (at < 0) return;
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: ids.length - 1 }[e.key];
    if (to !== undefined) {
      if (to >= 0 && to < ids.length) this.focusSeat(ids[to]);
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      this.moveRow(e.key === 'ArrowUp' ? -1 : 1, ids[at]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.page.toggle(ids[at]);
    } else return;
    e.preventDefault();
  }

  // To the row before or after (across sections), onto the seat nearest the same number.
  moveRow(delta, fromId) {
    const rows = this.rows();
    const at = rows.findIndex((r) => r.si === this.shown.si && r.ri === this.shown.ri);
    const next = rows[at + delta];
    if (!next) return;
    const number = fromId - this.venue.sections[this.shown.si].rows[this.shown.ri].first_seat_id;
    if (next.si !== this.shown.si) this.fillRowOptions(next.si);
    const first = this.venue.sections[next.si].rows[next.ri].first_seat_id;
    this.shown = next;
    const ids = this.ids();
    const nearest = ids.reduce((best, id) => (Math.abs(id - first - number) < Math.abs(best - first - number) ? id : best), ids[0]);
    this.show(next.si, next.ri, nearest);
    this.focusSeat(nearest);
  }
}
