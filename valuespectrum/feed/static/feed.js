// The local feed's page: one item at a time, the next on ArrowDown / PageDown / wheel / swipe
// up. The page measures each item's dwell itself (performance.now(), minus paused time) and
// posts it as an impression before asking for the next item.
//
// window.vsFeed, for drivers: pause() / resume() stop and restart the dwell clock (a driver
// pauses while its model thinks, so the dwell is the stay it chose, not the model's latency;
// a clock paused when an item changes stays paused for the next one), position() and itemId()
// of the item on screen (they change only once the next item is displayed and its clock runs;
// the id is a decimal string: ids are 60-bit, past JavaScript's exact integers),
// dwellMs(), lastImpression() (the last event the server accepted), sessionId(), done()
// (nothing left to serve) and error() (the last refusal).
(() => {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const wantDebug = params.get("debug") === "1";
  const $ = (id) => document.getElementById(id);
  const clock = () => performance.now();
  const st = {
    sid: params.get("session"), position: null, itemId: null, shownAt: null,
    pausedMs: 0, pausedAt: null, paused: false, busy: false, done: false,
    error: null, lastEvent: null, lastWheel: -Infinity, touchY: null,
  };

  function dwellMs() {
    if (st.shownAt === null) return 0;
    const end = st.pausedAt !== null ? st.pausedAt : clock();
    return Math.max(0, Math.round(end - st.shownAt - st.pausedMs));
  }

  async function api(method, path, body) {
    const init = { method, cache: "no-store", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (!res.ok) {
      const detail = data && data.detail !== undefined ? data.detail : res.statusText;
      const err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function status(text) { $("vs-status").textContent = text; }

  function compact(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + "M";
    if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + "K";
    return String(n);
  }

  function sessionPath(tail) { return "/api/sessions/" + encodeURIComponent(st.sid) + tail; }

  async function show(data) {
    const item = data.item;
    const img = $("vs-media");
    const loaded = new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; });
    img.src = item.media + "?p=" + data.position;  // a new URL per position: load always fires
    img.alt = item.caption;
    await loaded;
    if (img.decode) await img.decode().catch(() => undefined);
    $("vs-author").textContent = item.author ? "@" + item.author.replace(/^@/, "") : "";
    $("vs-caption").textContent = item.caption;
    $("vs-hashtags").textContent = item.hashtags.map((t) => "#" + t.replace(/^#/, "")).join(" ");
    $("vs-likes").textContent = compact(item.likes);
    $("vs-comments").textContent = compact(item.comments);
    $("vs-comments-label").textContent = item.comments === 1 ? "comment" : "comments";
    showDebug(data);
    st.shownAt = clock();
    st.pausedMs = 0;
    st.pausedAt = st.paused ? st.shownAt : null;
    st.itemId = item.item_id;
    st.position = data.position;  // last: a driver waiting on position() sees a ready item
    status("");
  }

  function showDebug(data) {
    const panel = $("vs-debug");
    if (!data.debug) { panel.hidden = true; return; }
    const d = data.debug;
    const lines = [
      "position " + data.position + " \u00b7 item " + data.item.item_id,
      "score " + (d.score === null ? "\u2013" : d.score.toFixed(4)) +
        " \u00b7 explored " + (d.explored ? "yes" : "no"),
      "reason: " + d.reason,
      "values: " + (d.values.length ? d.values.join(", ") : "\u2013"),
      "", "recommender state:",
    ];
    for (const [key, value] of Object.entries(d.state)) {
      lines.push("  " + key + ": " + (typeof value === "object" ? JSON.stringify(value) : value));
    }
    $("vs-debug-body").textContent = lines.join("\n");
    panel.hidden = false;
  }

  function fail(err) {
    st.error = (err.status ? err.status + ": " : "") + err.message;
    if (err.status === 410) {
      st.done = true;
      status("You have seen every item.");
    } else {
      status("feed error " + st.error);
    }
  }

  async function loadNext() {
    await show(await api("GET", sessionPath("/next" + (wantDebug ? "?debug=1" : ""))));
  }

  async function advance() {
    if (st.busy || st.done || st.position === null) return;
    st.busy = true;
    try {
      const event = { position: st.position, item_id: st.itemId, dwell_ms: dwellMs() };
      await api("POST", sessionPath("/impressions"), event);
      st.lastEvent = event;
      await loadNext();
    } catch (err) {
      fail(err);
    } finally {
      st.busy = false;
    }
  }

  async function start() {
    try {
      if (!st.sid) {
        const random = crypto.getRandomValues(new Uint32Array(2));
        const seed = params.has("seed") ? Number(params.get("seed")) : random[1];
        const sid = "page-" + random[0].toString(36) + Date.now().toString(36);
        await api("POST", "/api/sessions", { session_id: sid, seed });
        st.sid = sid;
        const query = new URLSearchParams({ session: sid });
        if (wantDebug) query.set("debug", "1");
        window.history.replaceState(null, "", "?" + query.toString());
      }
      await loadNext();
    } catch (err) {
      fail(err);
    }
  }

  window.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "PageDown") {
      ev.preventDefault();
      advance();
    }
  });
  window.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const now = clock();
    if (ev.deltaY > 0 && now - st.lastWheel > 600) {  // one gesture, one item
      st.lastWheel = now;
      advance();
    }
  }, { passive: false });
  window.addEventListener("touchstart", (ev) => { st.touchY = ev.touches[0].clientY; },
    { passive: true });
  window.addEventListener("touchend", (ev) => {
    if (st.touchY === null) return;
    const dy = st.touchY - ev.changedTouches[0].clientY;
    st.touchY = null;
    if (dy > 50) advance();  // swipe up
  }, { passive: true });

  window.vsFeed = {
    pause() {
      if (st.paused) return;
      st.paused = true;
      if (st.shownAt !== null) st.pausedAt = clock();
    },
    resume() {
      if (!st.paused) return;
      st.paused = false;
      if (st.pausedAt !== null) st.pausedMs += clock() - st.pausedAt;
      st.pausedAt = null;
    },
    position: () => st.position,
    itemId: () => st.itemId,
    dwellMs,
    lastImpression: () => st.lastEvent,
    sessionId: () => st.sid,
    done: () => st.done,
    error: () => st.error,
  };
  start();
})();
