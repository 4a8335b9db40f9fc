// Times as the pages say them: a time of day on the 24-hour clock ("14:05", the browser's own time
// zone), a time left ("4:59", "1:02:03", "2 d 03:04:05") and an estimated wait ("about 5 minutes").

const pad = (n) => String(n).padStart(2, '0');

export function clockTime(iso) {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function timeLeft(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, sec = s % 60;
  if (days > 0) return `${days} d ${pad(h)}:${pad(m)}:${pad(sec)}`;
  if (h > 0) return `${h}:${pad(m)}:${pad(sec)}`;
  return `${m}:${pad(sec)}`;
}

// An estimate, rounded as an estimate should be: "less than a minute", "about 5 minutes", "about 1.5 hours".
export function duration(s) {
  if (s < 60) return 'less than a minute';
  const m = Math.round(s / 60);
  return m < 60 ? `about ${m} minute${m === 1 ? '' : 's'}` : `about ${Math.round(m / 6) / 10} hours`;
}
