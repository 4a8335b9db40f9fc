// The ticketd HTTP API (docs/api.md) as small async functions. Errors become ApiError with the
// server's code and message, so pages can show them as they are.

const TOKEN_KEY = 'ticketd.token';
const USER_KEY = 'ticketd.user';

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body || {};
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  get user() {
    try { return JSON.parse(localStorage.getItem(USER_KEY) || 'null'); } catch { return null; }
  },
  save(token, user) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USER_KEY);
    localStorage.removeItem('ticketd.tickets');  // codes are credentials: not left behind on logout
  },
};

// Access tokens from the waiting room, per event, until they expire (sent as X-Access-Token on holds).
export const access = {
  key: (eventId) => `ticketd.access.${eventId}`,
  get(eventId) {
    try {
      const a = JSON.parse(sessionStorage.getItem(this.key(eventId)) || 'null');
      return a && new Date(a.expires_at).getTime() > Date.now() ? a : null;
    } catch { return null; }
  },
  save(eventId, token, expiresAt) {
    sessionStorage.setItem(this.key(eventId), JSON.stringify({ token, expires_at: expiresAt }));
  },
  drop(eventId) { sessionStorage.removeItem(this.key(eventId)); },
};

// `withHeaders`: resolve to {data, headers} (the waiting room's Retry-After) instead of data.
export async function call(method, path, body, headers = {}, withHeaders = false, signal = undefined) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (session.token) h.authorization = `Bearer ${session.token}`;
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (resp.status === 204) return null;
  // An answer cut off on its way (the network lost mid-body) is no answer: as a call that never
  // reached the server, not a success with nothing in it (which the door scanner once saved as its
  // offline bundle, and then could not open offline).
  let text;
  try { text = await resp.text(); } catch { text = null; }
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (resp.ok && (text === null || (text && data === null))) {
    throw new ApiError(0, 'network', 'The answer from the server was cut off. Check your connection and try again.');
  }
  if (!resp.ok && resp.status !== 202) {
    const err = (data && data.error) || {};
    if (resp.status === 401 && err.code === 'unauthenticated') session.clear();
    throw new ApiError(resp.status, err.code || 'http_' + resp.status, err.message || `Request failed (${resp.status})`, err);
  }
  return withHeaders ? { data, headers: resp.headers } : data;
}

const eventHint = (eventId) => (eventId ? `?event=${encodeURIComponent(eventId)}` : '');

export const api = {
  register: (email, password, name) => call('POST', '/v1/users', { email, password, name }),
  login: (email, password, totpCode) =>
    call('POST', '/v1/sessions', totpCode ? { email, password, totp_code: totpCode } : { email, password }),
  logout: () => call('DELETE', '/v1/sessions/current'),
  me: () => call('GET', '/v1/me'),
  profile: () => call('GET', '/v1/users/me'),
  updateProfile: (body) => call('PATCH', '/v1/users/me', body),
  changePassword: (current, next) =>
    call('POST', '/v1/users/me/password', { current_password: current, new_password: next }),
  logoutEverywhere: () => call('DELETE', '/v1/sessions'),
  sendEmailLink: () => call('POST', '/v1/users/me/email/verification'),
  verifyEmail: (token) => call('POST', '/v1/email-verifications', { token }),
  sendPhoneCode: () => call('POST', '/v1/users/me/phone/verification'),
  verifyPhone: (code) => call('POST', '/v1/users/me/phone/verification/confirm', { code }),
  requestPasswordReset: (email) => call('POST', '/v1/password-resets', { email }),
  resetPassword: (token, password) => call('POST', '/v1/password-resets/confirm', { token, new_password: password }),
  events: (params) => call('GET', '/v1/events?' + new URLSearchParams(params)),
  event: (id) => call('GET', `/v1/events/${id}`),
  venue: (id) => call('GET', `/v1/venues/${id}`),
  hold: (eventId, body) => {
    const a = access.get(eventId);
    return call('POST', `/v1/events/${eventId}/holds`, body, a ? { 'x-access-token': a.token } : {});
  },
  queueInfo: (eventId) => call('GET', `/v1/events/${eventId}/queue`),
  joinQueue: (eventId) => call('POST', `/v1/events/${eventId}/queue`, undefined, {}, true),
  queueStatus: (eventId, token) => call('GET', `/v1/events/${eventId}/queue/${encodeURIComponent(token)}`, undefined, {}, true),
  // The waiting list of a sold-out event (docs/web.md, "Waiting list"): the list and the caller's latest
  // entry; joining again while an entry is active answers that entry (200) unchanged.
  waitlist: (eventId) => call('GET', `/v1/events/${eventId}/waitlist`),
  joinWaitlist: (eventId, body) => call('POST', `/v1/events/${eventId}/waitlist`, body),
  leaveWaitlist: (eventId) => call('DELETE', `/v1/events/${eventId}/waitlist`),
  // ?event= tells a load balancer which event a hold's call is about, so it reaches the node that decides
  // that event's seats (deploy/haproxy.cfg); the API itself does not read it.
  getHold: (id, eventId) => call('GET', `/v1/holds/${id}${eventHint(eventId)}`),
  release: (id, eventId) => call('DELETE', `/v1/holds/${id}${eventHint(eventId)}`),
  checkout: (holdId, paymentMethod, key, eventId) =>
    call('POST', `/v1/holds/${holdId}/checkout${eventHint(eventId)}`, { payment_method: paymentMethod }, { 'idempotency-key': key }),
  bookings: () => call('GET', '/v1/bookings?limit=100'),
  booking: (id) => call('GET', `/v1/bookings/${id}`),
  // What the bank asks of the buyer while a booking waits for it: {type: 'redirect_to_url', url};
  // 409 no_payment_action when it asks nothing (any more).
  paymentAction: (id) => call('GET', `/v1/bookings/${id}/payment-action`),
  cancel: (id) => call('POST', `/v1/bookings/${id}/cancel`),
  bookingTickets: (id) => call('GET', `/v1/bookings/${id}/tickets`),
  ticket: (id) => call('GET', `/v1/tickets/${encodeURIComponent(id)}`),
  myTickets: () => call('GET', '/v1/tickets'),
  transfers: () => call('GET', '/v1/transfers'),
  sendTicket: (id, email) => call('POST', `/v1/tickets/${encodeURIComponent(id)}/transfers`, { email }),
  acceptTransfer: (id) => call('POST', `/v1/transfers/${id}/accept`),
  cancelTransfer: (id) => call('POST', `/v1/transfers/${id}/cancel`),
  // Face-value resale (docs/web.md, "Resale"): a ticket's buyer lists it, and gets its face value back
  // when someone buys it; listing a listed ticket answers its listing. GET of one ticket's listing is 404
  // when it is not listed now; myListings is every listing of the caller's, newest first, every state.
  listForResale: (id) => call('PUT', `/v1/tickets/${encodeURIComponent(id)}/resale`),
  withdrawListing: (id) => call('DELETE', `/v1/tickets/${encodeURIComponent(id)}/resale`),
  listing: (id) => call('GET', `/v1/tickets/${encodeURIComponent(id)}/resale`),
  myListings: () => call('GET', '/v1/resale'),
  scannerBundle: (eventId) => call('GET', `/v1/events/${eventId}/scanner-bundle`),
  checkin: (eventId, body, signal) => call('POST', `/v1/events/${eventId}/checkins`, body, {}, false, signal),
};

export function money(minor, currency) {
  const fmt = new Intl.NumberFormat(undefined, { style: 'currency', currency });
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return fmt.format(minor / 10 ** digits);
}

export function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// Every checkout attempt has its own key; a retry of the same attempt (network error) reuses it.
export function newIdempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
