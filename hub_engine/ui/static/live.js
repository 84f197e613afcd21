// Live data: server-sent events read through fetch (to send the token), else polling.
import { API, api, state } from "./core.js";

export function startLive() {
  if (state.liveAbort) return;
  const ctrl = new AbortController();
  state.liveAbort = ctrl;
  (async () => {
    while (!ctrl.signal.aborted) {
      try {
        const resp = await fetch(API + "/live/stream", { headers: { Authorization: `Bearer ${state.token}` }, signal: ctrl.signal });
        if (!resp.ok) throw new Error(`stream ${resp.status}`);
        const reader = resp.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const chunk = buf.slice(0, cut); buf = buf.slice(cut + 2);
            const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("");
            if (data) onLive(JSON.parse(data));
          }
        }
      } catch {
        if (ctrl.signal.aborted) return;
        try { onLive(await api("/live")); } catch { /* signed out or down: retry */ }
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  })();
}

export function stopLive() { state.liveAbort?.abort(); state.liveAbort = null; }

function onLive(data) {
  state.live = data;
  state.onLive?.(data);
}
