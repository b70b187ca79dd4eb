// cgscope's live page: the cgroup tree, sorted by CPU, kept live from /events.
//
// Data: one tree snapshot from /api/top (taken after the event stream is open, so every change
// after the snapshot's last_event_id arrives on the stream), then the stream's creates and deletes,
// and every two seconds the rates of the cgroups that did anything (/api/top?active=true).
// Rendering: only the rows of expanded levels exist in the DOM (at most PAGE children per level
// until asked for more), rebuilt at most once per animation frame and reused by id.
// Every name from the kernel goes in with textContent, never as HTML; the page has no inline
// script or style (the Content-Security-Policy forbids both).
// One file in sections (model, data, header, formatting, rendering, details, input) rather than
// modules: about 900 lines that share the page's state, served as they are, with no bundler.
'use strict';

(() => {
  const REFRESH_MS = 2000;
  const PAGE = 200;
  const FILTER_MAX = 500;
  const MAX_DEAD = 2000;
  const MAX_PENDING = 200000;
  const INDENT_PX = 14;

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const nodes = new Map();      // id -> node
  const rowEls = new Map();     // key -> row element (reused between renders)
  const expanded = new Set();
  const shownPerLevel = new Map();
  let rootId = null;
  let selected = null;
  let info = {features: [], cpus: 1, retention_seconds: 900};
  let windowParam = stored('ws') || '5s';
  let filter = '';
  let syncing = true;           // a tree snapshot is being fetched: events wait in `pending`
  let pending = [];
  let totalsDirty = true;
  let renderQueued = false;
  let source = null;
  let needTree = true;
  let loads = 0;                // tree loads started; only the latest one's snapshot is applied
  let overflowed = false;
  let skewMs = 0;               // server clock - local clock, from the snapshots' time
  let refreshTimer = null;
  let started = null;           // the agent's start time, from the tree snapshot: a new one means a restart
  let visibleIds = [];
  const deadQueue = [];         // ids in the order they died, to drop the longest dead first
  let deadHead = 0;
  let deadCount = 0;

  /** localStorage may be refused (privacy settings): the page works without it. */
  function stored(key) {
    try {
      return localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function store(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch (e) { /* not kept */ }
  }

  // ---------------------------------------------------------------- model

  const ZERO = {cpu: 0, samples: 0, switches: 0, p99: null};

  function nameOf(path, id) {
    if (path === null || path === undefined) return '#' + id;
    if (path === '/') return '/';
    const i = path.lastIndexOf('/');
    return i < 0 ? path : path.slice(i + 1);
  }

  function ms(t) {
    return t ? Date.parse(t) : null;
  }

  function upsert(c) {
    let n = nodes.get(c.id);
    if (!n) {
      n = {id: c.id, children: new Set(), own: ZERO, tot: ZERO, fresh: 0};
      nodes.set(c.id, n);
    }
    if (n.parent !== undefined && n.parent !== c.parent_id) {
      const old = nodes.get(n.parent);
      if (old) old.children.delete(n.id);
    }
    n.parent = c.parent_id;
    n.placeholder = false;
    n.path = c.path;
    n.name = nameOf(c.path, c.id);
    if (c.state === 'dead' && n.state !== 'dead') {
      deadCount++;
      deadQueue.push(n.id);
    } else if (c.state !== 'dead' && n.state === 'dead') {
      deadCount--;
    }
    n.state = c.state;
    n.created = ms(c.created_at);
    n.deleted = ms(c.deleted_at);
    n.source = c.source;
    n.workload = c.workload || null;
    n.wtext = workloadText(n.workload);
    if (c.parent_id === null) {
      rootId = c.id;
    } else {
      let p = nodes.get(c.parent_id);
      if (!p) {
        // A parent not seen yet (e.g. beyond the snapshot's limit): a placeholder until it arrives.
        p = {id: c.parent_id, parent: undefined, children: new Set(), own: ZERO, tot: ZERO, name: '#' + c.parent_id,
          path: null, state: 'live', placeholder: true};
        nodes.set(p.id, p);
      }
      p.children.add(n.id);
    }
    if ('cpu' in c) n.own = metricsOf(c);
    totalsDirty = true;
    return n;
  }

  function metricsOf(c) {
    return {cpu: c.cpu, samples: c.samples, switches: c.switches, p99: c.runq_p99};
  }

  function remove(id) {
    const n = nodes.get(id);
    if (!n) return;
    const p = nodes.get(n.parent);
    if (p) p.children.delete(id);
    if (n.state === 'dead') deadCount--;
    nodes.delete(id);
    rowEls.delete(id);
    expanded.delete(id);
    if (selected === id) select(null);
    totalsDirty = true;
  }

  /** The workload object of the cgroup JSON, as one short line (empty when it says nothing useful). */
  function workloadText(w) {
    if (!w || typeof w !== 'object') return '';
    const pod = w.pod ? (w.namespace ? w.namespace + '/' : '') + w.pod : null;
    switch (w.kind) {
      case 'container':
        if (pod) return pod + ' › ' + (w.container || shortId(w.container_id));
        return [w.runtime, w.container || shortId(w.container_id)].filter(Boolean).join(' ');
      case 'sandbox':
        return (pod || 'pod') + ' › sandbox';
      case 'pod':
        return pod ? 'pod ' + pod : ['pod', w.pod_uid, w.qos_class].filter(Boolean).join(' ');
      case 'systemd-unit':
      case 'user-session':
      case 'machine':
        return w.unit || w.kind;
      default:
        return '';
    }
  }

  function shortId(id) {
    return id ? String(id).slice(0, 12) : '';
  }

  function computeTotals() {
    if (!totalsDirty) return;
    totalsDirty = false;
    const visit = (n) => {
      const t = {cpu: n.own.cpu, samples: n.own.samples, switches: n.own.switches};
      for (const cid of n.children) {
        const c = nodes.get(cid);
        if (!c) continue;
        const ct = visit(c);
        if (ct.cpu !== null && ct.cpu !== undefined) t.cpu = (t.cpu || 0) + ct.cpu;
        if (ct.samples !== null && ct.samples !== undefined) t.samples = (t.samples || 0) + ct.samples;
        if (ct.switches !== null && ct.switches !== undefined) t.switches = (t.switches || 0) + ct.switches;
      }
      n.tot = t;
      return t;
    };
    // Iterative depth would be safer for absurd depths; cgroup trees are a few levels deep.
    for (const n of nodes.values()) {
      if (n.parent === null || !nodes.has(n.parent)) visit(n);
    }
  }

  function sortedChildren(n) {
    const kids = [];
    for (const cid of n.children) {
      const c = nodes.get(cid);
      if (c) kids.push(c);
    }
    kids.sort(byCpu);
    return kids;
  }

  /** Busiest first; the idle by name; the dead after the live, the last removed first. */
  function byCpu(a, b) {
    const ca = a.tot.cpu || 0;
    const cb = b.tot.cpu || 0;
    if (ca !== cb) return cb - ca;
    const da = a.state === 'dead';
    if (da !== (b.state === 'dead')) return da ? 1 : -1;
    if (da && a.deleted !== b.deleted) return (b.deleted || 0) - (a.deleted || 0);
    return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id;
  }

  // ---------------------------------------------------------------- data

  /**
   * An endpoint's URL relative to the page, without the user name and password a page URL may
   * carry (fetch refuses such URLs; the browser sends the credentials it keeps for the origin).
   */
  function api(path) {
    const u = new URL(path, location.href);
    u.username = '';
    u.password = '';
    return u.href;
  }

  async function getJson(path) {
    const r = await fetch(api(path), {cache: 'no-store', headers: {Accept: 'application/json'}});
    if (!r.ok) {
      let why = r.status + ' ' + r.statusText;
      try {
        why = (await r.json()).error || why;
      } catch (e) { /* not JSON */ }
      throw new Error(why);
    }
    return r.json();
  }

  /** The whole tree, then the events that arrived meanwhile. */
  async function loadTree() {
    const gen = ++loads;
    syncing = true;
    needTree = false;
    overflowed = false;
    let snap;
    try {
      snap = await getJson('api/top?window=' + encodeURIComponent(windowParam));
      if (gen !== loads) return; // a later load is under way: its snapshot is the one to use
    } catch (e) {
      if (gen !== loads) return;
      notice('Could not load the cgroups: ' + e.message + '. Retrying.');
      needTree = true;
      setTimeout(() => { if (needTree) loadTree(); }, 3000);
      return;
    }
    nodes.clear();
    rowEls.clear();
    rootId = null;
    deadQueue.length = 0;
    deadHead = 0;
    deadCount = 0;
    for (const c of snap.cgroups) upsert(c);
    deadQueue.sort((a, b) => (nodes.get(a).deleted || 0) - (nodes.get(b).deleted || 0));
    if (rootId !== null && expanded.size === 0) expanded.add(rootId);
    started = snap.started_at;
    header(snap);
    const after = snap.last_event_id;
    const queued = pending;
    pending = [];
    if (overflowed) {
      loadTree(); // events were dropped while this snapshot was read: read another
      return;
    }
    syncing = false;
    for (const ev of queued) {
      if (ev.seq > after) apply(ev.type, ev.data, false);
    }
    notice(snap.truncated ? 'Showing the first ' + snap.cgroups.length + ' live cgroups by path (of ' + snap.live + ').' : '');
    if (selected !== null && !nodes.has(selected)) select(null);
    if (selected === null && location.hash) fromHash();
    schedule();
    scheduleRefresh(REFRESH_MS);
  }

  /** Rates of the cgroups that did anything in the window; everything else did nothing. */
  async function refresh() {
    refreshTimer = null;
    if (syncing || needTree) {
      scheduleRefresh(REFRESH_MS);
      return;
    }
    try {
      const snap = await getJson('api/top?active=true&window=' + encodeURIComponent(windowParam));
      if (!syncing && snap.started_at !== started) {
        // cgscope restarted: its event ids began again, a resumed stream cannot say what we missed.
        loadTree();
      } else if (!syncing) {
        const idle = snap.window_seconds === null ? {cpu: null, samples: null, switches: null, p99: null} : ZERO;
        for (const n of nodes.values()) n.own = idle;
        for (const c of snap.cgroups) {
          // Only the rates: the tree itself comes from the snapshot and the event stream.
          const n = nodes.get(c.id);
          if (n) n.own = metricsOf(c);
        }
        totalsDirty = true;
        header(snap);
        pruneDead(Date.parse(snap.time));
        if (!needTree) notice('');
        schedule();
      }
    } catch (e) {
      notice('Refresh failed: ' + e.message + '. Retrying.');
    }
    scheduleRefresh(REFRESH_MS);
  }

  function scheduleRefresh(delay) {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, delay);
  }

  /**
   * Dead cgroups leave when their retention ends, and beyond MAX_DEAD the longest dead go first
   * (under churn thousands die every second). A dead one with children stays until they go.
   */
  function pruneDead(nowMs) {
    const until = nowMs - info.retention_seconds * 1000;
    let passes = deadQueue.length - deadHead;
    while (deadHead < deadQueue.length && passes-- > 0) {
      const n = nodes.get(deadQueue[deadHead]);
      if (n && n.state === 'dead' && deadCount <= MAX_DEAD && (n.deleted === null || n.deleted >= until)) break;
      deadHead++;
      if (!n || n.state !== 'dead') continue;
      if (n.children.size === 0) remove(n.id);
      else deadQueue.push(n.id); // later, once its children are gone
    }
    if (deadHead > 4096 && deadHead * 2 > deadQueue.length) {
      deadQueue.splice(0, deadHead);
      deadHead = 0;
    }
  }

  function connect() {
    if (source) source.close();
    setConn('', 'connecting');
    needTree = true;
    syncing = true;
    source = new EventSource(api('events'));
    source.onopen = () => {
      setConn('live', 'live');
      if (needTree) loadTree();
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (auth, too many streams): a new stream does not resume, so the tree is re-read.
        setConn('down', 'disconnected');
        setTimeout(connect, 5000);
      } else {
        setConn('', 'reconnecting');
      }
    };
    source.addEventListener('create', (e) => onEvent('create', e));
    source.addEventListener('delete', (e) => onEvent('delete', e));
    source.addEventListener('reset', () => {
      // The stream lost events (we were away too long): re-read the tree, keep the stream.
      syncing = true;
      pending = [];
      loadTree();
    });
  }

  function onEvent(type, e) {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    const seq = Number(e.lastEventId);
    if (syncing) {
      if (pending.length < MAX_PENDING) pending.push({type, seq, data});
      else overflowed = true; // the snapshot is read again once this one is in
      return;
    }
    apply(type, data, true);
  }

  function apply(type, c, live) {
    const existing = nodes.get(c.id);
    const n = upsert(c);
    if (type === 'create' && !existing && live) n.fresh = performance.now() + 1500;
    if (deadCount > MAX_DEAD + MAX_DEAD / 4) pruneDead(Date.now() + skewMs);
    schedule();
  }

  // ---------------------------------------------------------------- header

  function header(snap) {
    info = snap;
    skewMs = Date.parse(snap.time) - Date.now();
    const cpu = snap.total.cpu;
    $('cpu-total').textContent = cpu === null ? '–' : cpu.toFixed(2) + ' / ' + snap.cpus + ' cores';
    $('cpu-meter').style.width = cpu === null ? '0' : Math.min(100, 100 * cpu / Math.max(1, snap.cpus)) + '%';
    $('live').textContent = snap.live.toLocaleString();
    $('dead').textContent = snap.dead.toLocaleString();
    $('short-lived').textContent = (snap.short_lived_complete ? '' : '≥ ') + snap.short_lived_last_minute.toLocaleString();
    $('build').textContent = snap.build;
    $('mode').textContent = 'index: ' + snap.index_mode + (snap.following ? '' : ' (not following the kernel)')
      + (snap.window_seconds === null ? '' : ' · window ' + snap.window_seconds.toFixed(1) + ' s')
      + (snap.features.length ? '' : ' · BPF off: no rates');
    const m = $('metrics-link');
    if (snap.telemetry_path && m.textContent !== snap.telemetry_path) {
      m.href = api(snap.telemetry_path.replace(/^\//, ''));
      m.textContent = snap.telemetry_path;
    }
  }

  function setConn(cls, text) {
    const c = $('conn');
    c.className = 'conn' + (cls ? ' ' + cls : '');
    c.textContent = text;
  }

  function notice(text) {
    const n = $('notice');
    n.textContent = text;
    n.hidden = !text;
  }

  // ---------------------------------------------------------------- formatting

  function pct(v) {
    if (v === null || v === undefined) return '–';
    const p = v * 100;
    if (p < 0.05) return '0%';
    return (p >= 100 ? p.toFixed(0) : p.toFixed(1)) + '%';
  }

  function count(v) {
    if (v === null || v === undefined) return '–';
    return v >= 100000 ? (v / 1000).toFixed(0) + 'k' : Math.round(v).toLocaleString();
  }

  function rate(v) {
    if (v === null || v === undefined) return '–';
    if (v === 0) return '0';
    if (v < 10) return v.toFixed(1);
    if (v < 100000) return Math.round(v).toLocaleString();
    return (v / 1000).toFixed(0) + 'k';
  }

  function latency(s) {
    if (s === null || s === undefined) return '–';
    if (s < 1e-3) return (s * 1e6).toFixed(s < 1e-5 ? 1 : 0) + ' µs';
    if (s < 1) return (s * 1e3).toFixed(s < 1e-2 ? 2 : 1) + ' ms';
    return s.toFixed(2) + ' s';
  }

  function clock(t) {
    if (t === null || t === undefined) return '';
    const d = new Date(t);
    const now = new Date(Date.now() + skewMs);
    const hms = d.toLocaleTimeString([], {hour12: false});
    if (d.toDateString() === now.toDateString()) return hms;
    return d.toLocaleDateString([], {month: 'short', day: 'numeric'}) + ' ' + hms.slice(0, 5);
  }

  function duration(msec) {
    if (msec === null || msec === undefined || msec < 0) return '';
    if (msec < 1000) return msec + ' ms';
    const s = msec / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + Math.floor(s % 60) + 's';
    const h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  function life(n) {
    if (n.state === 'dead') return (n.created ? clock(n.created) : '?') + ' – ' + clock(n.deleted);
    return n.created ? clock(n.created) : '';
  }

  // ---------------------------------------------------------------- rendering

  function schedule() {
    if (!renderQueued) {
      renderQueued = true;
      requestAnimationFrame(render);
    }
  }

  function matches(n, q) {
    const path = n.path === null || n.path === undefined ? '' : n.path;
    if (q.startsWith('/')) {
      const full = path === '/' ? '/' : '/' + path;
      return full.toLowerCase().startsWith(q);
    }
    return path.toLowerCase().includes(q) || (n.wtext && n.wtext.toLowerCase().includes(q));
  }

  /** The rows to show, in order: {node, depth} or {more: parent node, depth, left}. */
  function layout() {
    const out = [];
    const root = nodes.get(rootId);
    if (!root) return out;
    if (filter) {
      const q = filter.toLowerCase();
      const hits = [];
      for (const n of nodes.values()) {
        if (!n.placeholder && matches(n, q)) hits.push(n);
      }
      hits.sort(byCpu);
      const shown = new Set();
      const isHit = new Set();
      for (const n of hits.slice(0, FILTER_MAX)) {
        isHit.add(n.id);
        for (let a = n; a && !shown.has(a.id); a = nodes.get(a.parent)) shown.add(a.id);
      }
      const walk = (n, depth) => {
        out.push({node: n, depth, hit: isHit.has(n.id), context: !isHit.has(n.id)});
        for (const c of sortedChildren(n)) if (shown.has(c.id)) walk(c, depth + 1);
      };
      if (shown.has(root.id)) walk(root, 0);
      notice(hits.length === 0 ? 'No cgroup matches “' + filter + '”.'
        : hits.length > FILTER_MAX ? hits.length.toLocaleString() + ' matches; showing the ' + FILTER_MAX + ' busiest.' : '');
      return out;
    }
    const walk = (n, depth) => {
      out.push({node: n, depth});
      if (!expanded.has(n.id) || n.children.size === 0) return;
      const kids = sortedChildren(n);
      const limit = shownPerLevel.get(n.id) || PAGE;
      for (let i = 0; i < kids.length && i < limit; i++) walk(kids[i], depth + 1);
      if (kids.length > limit) out.push({more: n, depth: depth + 1, left: kids.length - limit});
    };
    walk(root, 0);
    return out;
  }

  function render() {
    renderQueued = false;
    computeTotals();
    const rows = layout();
    const container = $('rows');
    const now = performance.now();
    visibleIds = [];
    let at = container.firstChild;
    for (const r of rows) {
      const e = r.more ? moreRow(r) : row(r, now);
      if (r.node) visibleIds.push(r.node.id);
      if (e === at) {
        at = at.nextSibling;
      } else {
        container.insertBefore(e, at);
      }
    }
    while (at) {
      const next = at.nextSibling;
      container.removeChild(at);
      at = next;
    }
    if (selected !== null) details();
  }

  function cell(cls, text) {
    return el('span', cls, text);
  }

  function newRow(id) {
    const e = el('div', 'row');
    e.setAttribute('role', 'treeitem');
    const name = cell('c-name');
    const twisty = el('button', 'twisty');
    twisty.type = 'button';
    twisty.tabIndex = -1;
    twisty.setAttribute('aria-label', 'expand');
    twisty.addEventListener('click', (ev) => {
      ev.stopPropagation();
      toggle(id);
    });
    const label = cell('name');
    const kids = cell('count');
    const chip = cell('chip');
    name.append(twisty, label, kids, chip);
    const cpu = cell('c-cpu num cpu');
    const track = cell('bar-track');
    const fill = cell('bar-fill');
    track.append(fill);
    const cpuText = cell('pct');
    cpu.append(track, cpuText);
    const samples = cell('c-samples num');
    const switches = cell('c-switches num');
    const runq = cell('c-runq num');
    const lifeCell = cell('c-life num');
    e.append(name, cpu, samples, switches, runq, lifeCell);
    e.addEventListener('click', () => select(id));
    e.addEventListener('dblclick', () => toggle(id));
    e.parts = {name, twisty, label, kids, chip, fill, cpuText, samples, switches, runq, life: lifeCell, last: {}};
    return e;
  }

  /** Sets a text only when it changed (most rows stay the same between renders). */
  function put(parts, key, target, text) {
    if (parts.last[key] !== text) {
      parts.last[key] = text;
      target.textContent = text;
    }
  }

  function row(r, now) {
    const n = r.node;
    let e = rowEls.get(n.id);
    if (!e) {
      e = newRow(n.id);
      rowEls.set(n.id, e);
    }
    const p = e.parts;
    const open = filter ? true : expanded.has(n.id);
    const leaf = n.children.size === 0;
    const cls = 'row' + (n.state === 'dead' ? ' dead' : '') + (selected === n.id ? ' selected' : '')
      + (r.hit ? ' match' : '') + (r.context ? ' context' : '') + (n.fresh > now ? ' fresh' : '');
    if (e.className !== cls) e.className = cls;
    e.setAttribute('aria-level', String(r.depth + 1));
    if (!leaf) e.setAttribute('aria-expanded', String(open));
    else e.removeAttribute('aria-expanded');
    e.dataset.id = String(n.id);
    const twisty = 'twisty' + (leaf ? ' leaf' : open ? ' open' : '');
    if (p.twisty.className !== twisty) p.twisty.className = twisty;
    const indent = r.depth * INDENT_PX + 'px';
    if (p.last.indent !== indent) {
      p.last.indent = indent;
      p.name.style.paddingLeft = indent;
    }
    put(p, 'label', p.label, n.name);
    put(p, 'kids', p.kids, leaf ? '' : String(n.children.size));
    put(p, 'chip', p.chip, n.wtext && n.wtext !== n.name ? n.wtext : ''); // a unit's own row says it already
    const title = (n.path === null || n.path === undefined ? '(path not known yet)' : n.path)
      + (n.state === 'dead' ? ' (removed)' : '');
    if (p.last.title !== title) {
      p.last.title = title;
      p.label.title = title;
    }
    const cpu = n.tot.cpu;
    const width = cpu === null || cpu === undefined ? '0' : Math.min(100, cpu * 100).toFixed(1) + '%';
    if (p.last.width !== width) {
      p.last.width = width;
      p.fill.style.width = width;
    }
    const hot = 'bar-fill' + (cpu >= 0.8 ? ' hot' : '');
    if (p.fill.className !== hot) p.fill.className = hot;
    put(p, 'cpu', p.cpuText, pct(cpu));
    p.cpuText.classList.toggle('zero', !cpu);
    put(p, 'samples', p.samples, count(n.tot.samples));
    p.samples.classList.toggle('zero', !n.tot.samples);
    put(p, 'switches', p.switches, rate(n.tot.switches));
    p.switches.classList.toggle('zero', !n.tot.switches);
    put(p, 'runq', p.runq, latency(n.own.p99));
    p.runq.classList.toggle('zero', n.own.p99 === null || n.own.p99 === undefined);
    put(p, 'life', p.life, life(n));
    const lived = n.state === 'dead' && n.created && n.deleted ? 'lived ' + duration(n.deleted - n.created) : '';
    if (p.last.lived !== lived) {
      p.last.lived = lived;
      p.life.title = lived;
    }
    return e;
  }

  function moreRow(r) {
    const key = 'more:' + r.more.id;
    let e = rowEls.get(key);
    if (!e) {
      e = el('div', 'row more');
      const c = cell('c-name');
      const t = cell('name');
      c.append(t);
      e.append(c);
      e.parts = {c, t};
      e.addEventListener('click', () => {
        shownPerLevel.set(r.more.id, (shownPerLevel.get(r.more.id) || PAGE) + PAGE);
        schedule();
      });
      rowEls.set(key, e);
    }
    e.parts.c.style.paddingLeft = (r.depth * INDENT_PX + 18) + 'px';
    e.parts.t.textContent = '… ' + r.left.toLocaleString() + ' more (show ' + Math.min(PAGE, r.left) + ')';
    return e;
  }

  function toggle(id) {
    const n = nodes.get(id);
    if (!n || n.children.size === 0 || filter) return;
    if (expanded.has(id)) expanded.delete(id);
    else expanded.add(id);
    schedule();
  }

  // ---------------------------------------------------------------- details

  function select(id) {
    selected = id;
    if (id === null) {
      $('details').hidden = true;
      if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    } else {
      const n = nodes.get(id);
      if (n && !filter) {
        for (let a = nodes.get(n.parent); a; a = nodes.get(a.parent)) expanded.add(a.id);
      }
      const hash = '#id=' + id;
      if (location.hash !== hash) history.replaceState(null, '', hash);
      detailsFor = null;
    }
    schedule();
  }

  function fromHash() {
    const m = /^#id=(\d+)$/.exec(location.hash);
    if (m && nodes.has(Number(m[1]))) select(Number(m[1]));
  }

  let detailsFor = null;   // the id whose panel is built; its numbers are refreshed in place
  let detailsParts = null;

  function dl(rows) {
    const d = el('dl', 'kv');
    for (const [k, v, mono] of rows) {
      if (v === null || v === undefined || v === '') continue;
      d.append(el('dt', null, k));
      const dd = el('dd', mono ? 'mono' : null);
      if (v instanceof Node) dd.append(v);
      else dd.textContent = String(v);
      d.append(dd);
    }
    return d;
  }

  function link(text, onClick) {
    const a = el('a', null, text);
    a.href = '#';
    a.addEventListener('click', (e) => {
      e.preventDefault();
      onClick();
    });
    return a;
  }

  function details() {
    const n = nodes.get(selected);
    const panel = $('details');
    if (!n) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    if (detailsFor !== n.id) {
      detailsFor = n.id;
      build(panel, n);
    }
    refreshDetails(n);
  }

  function build(panel, n) {
    panel.replaceChildren();
    const close = el('button', 'close', '×');
    close.type = 'button';
    close.title = 'Close';
    close.addEventListener('click', () => select(null));
    panel.append(close, el('h2', null, n.name), el('div', 'path', n.path === null ? '(path not known yet)' : n.path));
    const stateBadge = el('span', 'badge ' + n.state, n.state);
    const parent = nodes.get(n.parent);
    panel.append(dl([
      ['state', stateBadge],
      ['id', n.id + '  (0x' + n.id.toString(16) + ')', true],
      ['parent', parent ? link(parent.name, () => select(parent.id)) : null],
      ['created', n.created ? new Date(n.created).toLocaleString() : 'before cgscope saw it'],
      ['removed', n.deleted ? new Date(n.deleted).toLocaleString() : null],
      ['lived', n.deleted && n.created ? duration(n.deleted - n.created) : null],
      ['learned by', n.source],
    ]));
    if (n.workload) {
      panel.append(el('h3', null, 'Workload'));
      const rows = [];
      for (const [k, v] of Object.entries(n.workload)) {
        if (v !== null && v !== undefined && v !== '') rows.push([k.replace(/_/g, ' '), String(v), k.endsWith('id') || k.endsWith('cgroup')]);
      }
      panel.append(dl(rows));
    }
    panel.append(el('h3', null, 'Over the window'));
    const metrics = el('div');
    panel.append(metrics);
    const kidsHead = el('h3');
    const kids = el('ul', 'children');
    panel.append(kidsHead, kids);
    let grafana = null;
    if (info.grafana_url && n.path) {
      panel.append(el('h3', null, 'Grafana'));
      grafana = el('div', 'links');
      const base = info.grafana_url;
      const a1 = el('a', null, 'Cgroup dashboard');
      a1.href = base + '/d/cgscope-cgroup/cgscope-cgroup?var-cgroup=' + encodeURIComponent(n.path);
      a1.target = '_blank';
      a1.rel = 'noopener noreferrer';
      const a2 = el('a', null, 'Overview');
      a2.href = base + '/d/cgscope-overview/cgscope-overview';
      a2.target = '_blank';
      a2.rel = 'noopener noreferrer';
      grafana.append(a1, a2);
      panel.append(grafana);
    }
    panel.append(el('h3', null, 'API'));
    const api = el('a', null, 'cgroup/' + n.id);
    api.href = 'cgroup/' + n.id;
    const pre = el('pre', 'json', '…');
    panel.append(el('div', 'links'), pre);
    panel.lastChild.previousSibling.append(api);
    const id = n.id;
    getJson('cgroup/' + id).then((o) => {
      if (detailsFor === id) pre.textContent = JSON.stringify(o, null, 2);
    }).catch((e) => {
      if (detailsFor === id) pre.textContent = e.message;
    });
    detailsParts = {metrics, kidsHead, kids, state: stateBadge};
  }

  function refreshDetails(n) {
    const p = detailsParts;
    p.state.textContent = n.state;
    p.state.className = 'badge ' + n.state;
    const m = dl([
      ['CPU', pct(n.tot.cpu) + (n.children.size ? '  (own ' + pct(n.own.cpu) + ')' : '')],
      ['samples', count(n.tot.samples) + (n.children.size ? '  (own ' + count(n.own.samples) + ')' : '')],
      ['switches/s', rate(n.tot.switches) + (n.children.size ? '  (own ' + rate(n.own.switches) + ')' : '')],
      ['runq p99', latency(n.own.p99) + '  (own tasks)'],
    ]);
    p.metrics.replaceChildren(m);
    const kids = sortedChildren(n);
    p.kidsHead.textContent = 'Children (' + kids.length + ')';
    p.kidsHead.hidden = kids.length === 0;
    const items = [];
    for (const c of kids.slice(0, 40)) {
      const li = el('li', c.state === 'dead' ? 'dead' : null);
      li.append(link(c.name, () => select(c.id)), el('span', 'muted', pct(c.tot.cpu)));
      items.push(li);
    }
    if (kids.length > 40) items.push(el('li', 'muted', '… ' + (kids.length - 40) + ' more'));
    p.kids.replaceChildren(...items);
  }

  // ---------------------------------------------------------------- input

  function onKey(e) {
    if (e.target === $('filter')) {
      if (e.key === 'Escape') {
        $('filter').value = '';
        setFilter('');
        $('filter').blur();
      }
      return;
    }
    if (e.key === '/') {
      e.preventDefault();
      $('filter').focus();
      return;
    }
    if (e.key === 'Escape') {
      select(null);
      return;
    }
    const i = visibleIds.indexOf(selected);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = visibleIds[Math.max(0, Math.min(visibleIds.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next !== undefined) {
        select(next);
        requestAnimationFrame(() => {
          const r = rowEls.get(next);
          if (r) r.scrollIntoView({block: 'nearest'});
        });
      }
    } else if (e.key === 'ArrowRight' && selected !== null) {
      e.preventDefault();
      if (!expanded.has(selected)) toggle(selected);
    } else if (e.key === 'ArrowLeft' && selected !== null) {
      e.preventDefault();
      const n = nodes.get(selected);
      if (expanded.has(selected) && n.children.size) toggle(selected);
      else if (n && nodes.has(n.parent)) select(n.parent);
    } else if (e.key === 'Enter' && selected !== null) {
      toggle(selected);
    }
  }

  function setFilter(v) {
    filter = v.trim();
    if (!filter) notice('');
    schedule();
  }

  function start() {
    $('host').textContent = location.host;
    document.title = 'cgscope · ' + location.hostname;
    const w = $('window');
    if ([...w.options].some((o) => o.value === windowParam)) w.value = windowParam;
    else windowParam = w.value;
    w.addEventListener('change', () => {
      windowParam = w.value;
      store('ws', windowParam);
      scheduleRefresh(0);
    });
    const f = $('filter');
    f.addEventListener('input', () => setFilter(f.value));
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', fromHash);
    setInterval(schedule, 1000); // times shown relative to now, the fade of new rows
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
