// Draws a QR code (qrcode-generator, from vendor/web) into a canvas: black modules on white with the
// standard 4-module quiet zone, sharp at any size. Ticket codes are upper-case base32, ':' and digits,
// all in the QR alphanumeric set, so the symbol stays small (version 8 at level M for 177 characters).
import qrcode from '../vendor/qrcode.mjs';

const QUIET_MODULES = 4;

export function drawQr(canvas, text, sizePx) {
  const qr = qrcode(0, 'M');
  qr.addData(text, /^[0-9A-Z $%*+\-./:]*$/.test(text) ? 'Alphanumeric' : 'Byte');
  qr.make();
  const modules = qr.getModuleCount();
  const total = modules + 2 * QUIET_MODULES;
  const scale = Math.max(1, Math.floor(sizePx / total));
  canvas.width = canvas.height = total * scale;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000';
  for (let r = 0; r < modules; r++) {
    for (let c = 0; c < modules; c++) {
      if (qr.isDark(r, c)) ctx.fillRect((c + QUIET_MODULES) * scale, (r + QUIET_MODULES) * scale, scale, scale);
    }
  }
  return modules;
}
