// Decodes the QR codes of image files (PNG) with the web scanner's own decoder (zxing-wasm from
// vendor/web): prints one JSON array of texts per file, in order. Used by the API suite to check that
// the codes ticketd draws (email, PDF) read back as the ticket's code.
//   node qr_decode.mjs FILE...
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const zx = path.join(root, 'vendor/web/node_modules/zxing-wasm/dist');
const { prepareZXingModule, readBarcodes } = await import(pathToFileURL(path.join(zx, 'es/reader/index.js')).href);
// The module would fetch its .wasm by URL; handed the bytes, it needs no fetch (Node 18 has none of files).
await prepareZXingModule({ fireImmediately: true, overrides: {
  wasmBinary: fs.readFileSync(path.join(zx, 'reader/zxing_reader.wasm')) } });
const out = [];
for (const file of process.argv.slice(2)) {
  const found = await readBarcodes(new Uint8Array(fs.readFileSync(file)), { formats: ['QRCode'], maxNumberOfSymbols: 4 });
  out.push(found.filter((r) => r.isValid).map((r) => r.text));
}
console.log(JSON.stringify(out));
