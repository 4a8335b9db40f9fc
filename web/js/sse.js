// Server-Sent Events over fetch, for the streams that need the Authorization header (EventSource
// cannot send one): the door feed, the console's dashboard. Reconnects with backoff (1 s doubling to
// 10 s); a block longer than 1 MiB is not one of ours and ends the connection.
import { session } from './api.js';

// onOpen(): connected; onEvent(name, data): one event with JSON data; onDown(): the connection ended.
// Returns stop().
export function followStream(path, { onOpen = () => {}, onEvent, onDown = () => {} }) {
  let stopped = false, controller = null, retryMs = 1000;
  const dispatch = (block) => {
    let name = 'message', data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!data) return;
    let parsed;
    try { parsed = JSON.parse(data); } catch { return; }
    onEvent(name, parsed);
  };
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const resp = await fetch(path, {
          headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream' }, signal: controller.signal });
        if (!resp.ok) throw new Error(`stream ${resp.status}`);
        retryMs = 1000;
        onOpen();
        const reader = resp.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
          if (buffer.length > 1 << 20) break;
        }
      } catch { /* offline, or the server went away: try again */ }
      onDown();
      if (stopped) return;
      await new Promise((r) => setTimeout(r, retryMs));
      retryMs = Math.min(retryMs * 2, 10000);
    }
  };
  run();
  return () => { stopped = true; if (controller) controller.abort(); };
}
