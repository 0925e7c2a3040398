// MemScope dashboard: polls the JSON API and draws SVG charts. No libraries, no CDN, works offline.
'use strict';
(function () {
  const SVGNS = 'http://www.w3.org/2000/svg';
  const MAX_POINTS = 360;
  const COLORS = { anon: '#e5534b', cache: '#5aa0e6', shmem: '#c678dd', slab: '#e0a83a', kernel: '#d19a66', hugetlb: '#56b6c2', other: '#7f8c98', free: '#2f3d4a' };
  const hist = { t: [], comp: {}, compMeta: [], swapUsed: [], swapCached: [], si: [], so: [] };
  let lastTime = null, intervalMs = 5000;

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function sv(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function bytes(v) {
    if (v === null || v === undefined) return '?';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0, x = v;
    while (Math.abs(x) >= 1024 && i < u.length - 1) { x /= 1024; i++; }
    return (i === 0 ? x.toFixed(0) : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)) + ' ' + u[i];
  }
  function pct(a, b) { return a === null || a === undefined || !b ? '' : (100 * a / b).toFixed(1) + '%'; }

  // ---- charts -------------------------------------------------------------------------------------------------
  function frame(svg) {
    const W = Math.max(200, Math.round(svg.clientWidth || 800)), H = Math.max(100, Math.round(svg.clientHeight || 220));
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    return { W, H, L: 64, R: 8, T: 8, B: 20 };
  }
  function axes(svg, f, yMax, fmt, t0, t1) {
    for (let i = 0; i <= 4; i++) {
      const y = f.T + (f.H - f.T - f.B) * (1 - i / 4);
      svg.appendChild(sv('line', { x1: f.L, x2: f.W - f.R, y1: y, y2: y, class: 'grid-line' }));
      const lab = sv('text', { x: f.L - 6, y: y + 4, 'text-anchor': 'end', class: 'axis-label' });
      lab.textContent = fmt(yMax * i / 4);
      svg.appendChild(lab);
    }
    const span = Math.max(0, (t1 - t0) / 1000);
    const lab = sv('text', { x: f.W - f.R, y: f.H - 4, 'text-anchor': 'end', class: 'axis-label' });
    lab.textContent = span > 0 ? 'last ' + (span >= 120 ? (span / 60).toFixed(0) + ' min' : span.toFixed(0) + ' s') : 'now';
    svg.appendChild(lab);
  }
  function xs(f, times) {
    const n = times.length, t0 = times[0], t1 = times[n - 1];
    if (n === 1 || t1 === t0) return n === 1 ? [f.L, f.W - f.R] : times.map((_, i) => f.L + (f.W - f.L - f.R) * i / (n - 1));
    return times.map(t => f.L + (f.W - f.L - f.R) * (t - t0) / (t1 - t0));
  }
  function yOf(f, v, yMax) { return f.T + (f.H - f.T - f.B) * (1 - (yMax > 0 ? Math.min(v, yMax) / yMax : 0)); }

  function stacked(svg, times, series, yMax) {
    const f = frame(svg);
    axes(svg, f, yMax, bytes, times[0], times[times.length - 1]);
    const x = xs(f, times);
    const single = times.length === 1;
    const base = new Array(x.length).fill(0);
    for (const s of series) {
      const vals = single ? [s.values[0], s.values[0]] : s.values;
      const top = vals.map((v, i) => base[i] + (v || 0));
      let d = 'M' + x[0] + ',' + yOf(f, top[0], yMax);
      for (let i = 1; i < x.length; i++) d += 'L' + x[i] + ',' + yOf(f, top[i], yMax);
      for (let i = x.length - 1; i >= 0; i--) d += 'L' + x[i] + ',' + yOf(f, base[i], yMax);
      d += 'Z';
      const p = sv('path', { d, fill: s.color, 'fill-opacity': s.id === 'free' ? 0.55 : 0.85, 'data-series': s.id });
      const title = sv('title', {}); title.textContent = s.label + ': ' + bytes(s.values[s.values.length - 1]);
      p.appendChild(title);
      svg.appendChild(p);
      for (let i = 0; i < base.length; i++) base[i] = top[i];
    }
    svg.setAttribute('data-points', String(times.length));
  }
  function lines(svg, times, series, fmt, minMax) {
    const f = frame(svg);
    let yMax = minMax || 1;
    for (const s of series) for (const v of s.values) if (v !== null && v > yMax) yMax = v;
    yMax *= 1.1;
    axes(svg, f, yMax, fmt, times[0], times[times.length - 1]);
    const x = xs(f, times);
    const single = times.length === 1;
    for (const s of series) {
      const vals = single ? [s.values[0], s.values[0]] : s.values;
      let d = '', pen = false;
      for (let i = 0; i < x.length; i++) {
        if (vals[i] === null || vals[i] === undefined) { pen = false; continue; }
        d += (pen ? 'L' : 'M') + x[i] + ',' + yOf(f, vals[i], yMax);
        pen = true;
      }
      if (s.fill && d) {
        const area = d + 'L' + x[x.length - 1] + ',' + yOf(f, 0, yMax) + 'L' + x[0] + ',' + yOf(f, 0, yMax) + 'Z';
        svg.appendChild(sv('path', { d: area, fill: s.color, 'fill-opacity': 0.25 }));
      }
      if (d) svg.appendChild(sv('path', { d, class: 'line', stroke: s.color, 'data-series': s.id }));
    }
    if (!series.some(s => s.values.some(v => v !== null && v !== undefined))) {
      const note = sv('text', { x: (f.L + f.W) / 2, y: f.H / 2, 'text-anchor': 'middle', class: 'axis-label', 'data-state': 'waiting' });
      note.textContent = 'rates need two snapshots: waiting for the next one';
      svg.appendChild(note);
    }
    svg.setAttribute('data-points', String(times.length));
  }

  // ---- data ---------------------------------------------------------------------------------------------------
  async function getJson(path) {
    const r = await fetch(path, { cache: 'no-store' });
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return r.json();
  }

  function onSnapshot(s) {
    intervalMs = Math.max(1000, (s.interval_seconds || 5) * 1000);
    $('host').textContent = (s.hostname || '') + (s.uptime_seconds ? ' · up ' + (s.uptime_seconds / 3600).toFixed(1) + ' h' : '');
    $('clock').textContent = new Date(s.time).toLocaleTimeString();
    const m = s.memory, total = m.total_bytes;
    $('s-total').textContent = bytes(total);
    $('s-avail').textContent = m.available_bytes === null ? 'unknown' : bytes(m.available_bytes);
    $('s-avail-pct').textContent = m.available_bytes === null ? 'no MemAvailable on this kernel' : pct(m.available_bytes, total) + ' of total';
    $('s-swap').textContent = s.swap.total_bytes ? bytes(s.swap.used_bytes) : 'no swap';
    $('s-swap-of').textContent = s.swap.total_bytes ? 'of ' + bytes(s.swap.total_bytes) + (s.rates && s.rates.swap_out_bytes_per_sec ? ' · out ' + bytes(s.rates.swap_out_bytes_per_sec) + '/s' : '') : '';
    $('s-psi').textContent = s.pressure && s.pressure.some_avg10 !== null ? s.pressure.some_avg10.toFixed(2) + '%' : 'n/a';
    $('s-psi-full').textContent = s.pressure && s.pressure.full_avg10 !== null ? 'full ' + s.pressure.full_avg10.toFixed(2) + '%' : '';

    const t = Date.parse(s.time);
    if (t !== lastTime) {
      lastTime = t;
      hist.t.push(t);
      hist.compMeta = s.composition.map(c => ({ id: c.id, label: c.label }));
      for (const c of s.composition) {
        if (!hist.comp[c.id]) hist.comp[c.id] = new Array(hist.t.length - 1).fill(0);
        hist.comp[c.id].push(c.bytes);
      }
      hist.swapUsed.push(s.swap.used_bytes);
      hist.swapCached.push(s.swap.cached_bytes);
      hist.si.push(s.rates ? s.rates.swap_in_bytes_per_sec : null);
      hist.so.push(s.rates ? s.rates.swap_out_bytes_per_sec : null);
      if (hist.t.length > MAX_POINTS) {
        hist.t.shift(); hist.swapUsed.shift(); hist.swapCached.shift(); hist.si.shift(); hist.so.shift();
        for (const k in hist.comp) hist.comp[k].shift();
      }
    }
    draw(total, s);
  }

  function draw(total, s) {
    const series = hist.compMeta.map(c => ({ id: c.id, label: c.label, color: COLORS[c.id] || '#888', values: hist.comp[c.id] }));
    stacked($('chart-composition'), hist.t, series, total || 1);
    const bar = $('bar-composition'), legend = $('legend-composition');
    bar.replaceChildren(); legend.replaceChildren();
    for (const c of s.composition) {
      const seg = el('span', { title: c.label + ': ' + bytes(c.bytes) });
      seg.style.flex = String(Math.max(0, c.bytes));
      seg.style.background = COLORS[c.id] || '#888';
      bar.appendChild(seg);
      const li = el('li');
      const sw = el('i', { class: 'sw' }); sw.style.background = COLORS[c.id] || '#888';
      li.append(sw, c.label + ' ', el('b', null, bytes(c.bytes)), ' (' + pct(c.bytes, total) + ')');
      legend.appendChild(li);
    }
    lines($('chart-swap'), hist.t, [
      { id: 'swap-used', color: '#c678dd', values: hist.swapUsed, fill: true },
      { id: 'swap-cached', color: '#7d5a91', values: hist.swapCached },
    ], bytes, s.swap.total_bytes ? Math.min(s.swap.total_bytes, Math.max(1024 * 1024, ...hist.swapUsed.filter(v => v !== null)) ) : 1024 * 1024);
    lines($('chart-swapio'), hist.t, [
      { id: 'swap-in', color: '#5aa0e6', values: hist.si },
      { id: 'swap-out', color: '#e5534b', values: hist.so },
    ], v => bytes(v) + '/s', 4096);
  }

  function onProcesses(p) {
    $('top-by').textContent = '(top ' + p.processes.length + ' of ' + p.process_count + ' by ' + p.top_by + (p.cmdline_hidden ? ', command lines hidden' : '') + ')';
    const body = $('processes').tBodies[0];
    body.replaceChildren();
    if (p.processes.length === 0) body.appendChild(el('tr')).appendChild(el('td', { colspan: '7', class: 'muted' }, 'no processes'));
    for (const x of p.processes) {
      const tr = el('tr', { 'data-pid': String(x.pid) });
      tr.append(el('td', { class: 'num' }, String(x.pid)));
      const cmd = el('td', { class: 'cmd' });
      cmd.append(el('b', null, x.comm));
      if (x.cmdline) cmd.append(' ', el('span', { class: 'muted' }, x.cmdline));
      tr.append(cmd);
      const unknown = x.smaps_denied ? 'denied' : '?';
      tr.append(el('td', { class: 'num' }, bytes(x.rss_bytes)),
        el('td', { class: 'num' }, x.pss_bytes === null ? unknown : bytes(x.pss_bytes)),
        el('td', { class: 'num' }, x.uss_bytes === null ? unknown : bytes(x.uss_bytes)),
        el('td', { class: 'num' }, x.swap_bytes === null ? '?' : bytes(x.swap_bytes)),
        el('td', { class: 'num' }, x.oom_score === null ? '?' : String(x.oom_score)));
      body.appendChild(tr);
    }
  }

  function onFindings(f) {
    const ul = $('findings');
    ul.replaceChildren();
    ul.setAttribute('data-loaded', 'true');
    ul.setAttribute('data-count', String(f.findings.length));
    $('s-findings').textContent = f.available ? String(f.findings.length) : 'n/a';
    if (!f.available) { ul.appendChild(el('li', { class: 'muted' }, 'The doctor is not available in this build.')); return; }
    if (f.findings.length === 0) { ul.appendChild(el('li', { class: 'healthy' }, 'No findings: memory looks healthy.')); return; }
    const order = { critical: 0, warning: 1, info: 2 };
    for (const x of f.findings.slice().sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3))) {
      const li = el('li', { class: 'finding ' + x.severity, 'data-id': x.id });
      li.append(el('span', { class: 'sev' }, x.severity), el('b', null, x.title), ' ', el('code', null, x.id));
      if (x.evidence && x.evidence.length) {
        const ev = el('ul');
        for (const e of x.evidence) ev.appendChild(el('li', null, e));
        li.appendChild(ev);
      }
      if (x.explanation) li.appendChild(el('div', { class: 'next muted' }, x.explanation));
      if (x.cause) li.appendChild(el('div', { class: 'next' }, 'Cause: ' + x.cause));
      if (x.next_step) li.appendChild(el('div', { class: 'next' }, 'Next: ' + x.next_step));
      ul.appendChild(li);
    }
  }

  async function poll() {
    try {
      const [s, p, f] = await Promise.all([getJson('/api/snapshot'), getJson('/api/processes'), getJson('/api/findings')]);
      onSnapshot(s); onProcesses(p); onFindings(f);
      $('status').textContent = 'live'; $('status').className = 'status ok';
    } catch (e) {
      $('status').textContent = 'offline: ' + e.message; $('status').className = 'status err';
    }
    setTimeout(poll, intervalMs);
  }
  poll();
})();
