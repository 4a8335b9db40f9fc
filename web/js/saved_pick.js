// Seats a visitor picked before being sent to log in, kept for this tab (sessionStorage, per event)
// until the event page opens again, so logging in (or signing up) does not lose them. Read once:
// taking them clears them. The event page drops the ones taken meanwhile.
const key = (eventId) => `ticketd.pick.${eventId}`;
const SEATS_MAX = 100;  // the API's largest hold

export const savedPick = {
  save(eventId, seatIds) {
    sessionStorage.setItem(key(eventId), JSON.stringify(seatIds.slice(0, SEATS_MAX)));
  },

  take(eventId) {
    const raw = sessionStorage.getItem(key(eventId));
    sessionStorage.removeItem(key(eventId));
    try {
      const ids = JSON.parse(raw || '[]');
      return Array.isArray(ids) ? ids.filter((id) => Number.isInteger(id) && id >= 0).slice(0, SEATS_MAX) : [];
    } catch { return []; }
  },
};
