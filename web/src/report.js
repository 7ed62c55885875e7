// headroom HTML report: draws a run's data (written by headroom into #headroom-data as JSON,
// schema headroom.report-data/1, src/report/html.h) with uPlot. Everything shown from the data is
// set as text (textContent), never parsed as markup, so names and statements stay text.
(function () {
  'use strict';

  // What the page drew, for readers and for the browser tests: one entry per chart.
  const state = { charts: [], ready: false };
  window.headroomReport = state;

  // ---------------------------------------------------------------------------------------------
  // Helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return node;
  }
  const isNum = (v) => typeof v === 'number' && isFinite(v);
  function fmtUs(us) {
    if (!isNum(us)) return '—';
    if (us < 1000) return Math.round(us) + 'us';
    if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + 'ms';
    return (us / 1e6).toFixed(2) + 's';
  }
  function fmtNum(v, digits) {
    if (!isNum(v)) return '—';
    return v.toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  const fmtRate = (v) => (isNum(v) ? fmtNum(v, v < 10 ? 2 : 0) + ' req/s' : '—');
  function fmtPct(f, digits) {
    if (!isNum(f)) return '—';
    if (f > 0 && f < 0.0001) return '<0.01%';
    return (f * 100).toFixed(digits === undefined ? 2 : digits) + '%';
  }
  function fmtBytes(b) {
    if (!isNum(b)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(b) >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return b.toFixed(i ? 1 : 0) + ' ' + units[i];
  }
  function fmtClock(s) {
    if (!isNum(s)) return '';
    const neg = s < 0; s = Math.abs(Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(sec).padStart(2, '0');
    return (neg ? '-' : '') + (h ? h + ':' : '') + mm + ':' + ss;
  }
  function fmtMoney(v, currency) {
    if (!isNum(v)) return '—';
    return fmtNum(v, v < 100 ? 2 : 0) + (currency ? ' ' + currency : '');
  }
  function metricFmt(name) {
    if (/_ratio$/.test(name)) return (v) => fmtPct(v, 1);
    if (/_bytes$/.test(name)) return fmtBytes;
    if (/_ms$/.test(name)) return (v) => (isNum(v) ? fmtNum(v, 2) + ' ms' : '—');
    return (v) => fmtNum(v, 2);
  }
  const table = (headers, rows, numeric) =>
    el('table', {},
      el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { class: numeric && numeric[i] ? 'num' : null, text: h })))),
      el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c, i) =>
        c instanceof Node ? el('td', {}, c) : el('td', { class: numeric && numeric[i] ? 'num' : null, text: c === undefined || c === null ? '—' : c }))))));
  const noData = (why) => el('p', { class: 'nodata', 'data-nodata': '1', text: 'No data: ' + why });

  const PALETTE = ['#2f5fd0', '#e8710a', '#1a7f37', '#c62828', '#7b3fbf', '#00838f', '#8d6e63', '#d81b60', '#546e7a', '#9e9d24'];
  const color = (i) => PALETTE[i % PALETTE.length];

  // A latency SLO's threshold in us ("p95 < 300ms" -> {pct: 'p95', us: 300000}), or null.
  function latencyThreshold(expr) {
    const m = /^\s*(?:[\w.-]+\.)?(p\d+(?:\.\d+)?|mean|max)\s*(<=|<)\s*([\d.]+)\s*(us|ms|s)\s*$/.exec(expr || '');
    if (!m) return null;
    const mult = { us: 1, ms: 1000, s: 1e6 }[m[4]];
    return { pct: m[1], us: parseFloat(m[3]) * mult };
  }

  // Draws a uPlot chart into `host`, or a "no data" note when no series has a finite point.
  function chart(host, id, opts, data, why) {
    let points = 0;
    for (let i = 1; i < data.length; i++) for (const v of data[i]) if (isNum(v)) points++;
    const box = el('div', { class: 'chart', 'data-chart': id, 'data-points': points });
    host.appendChild(box);
    if (!points || !data[0].length) {
      box.appendChild(noData(why || 'nothing was measured for this chart'));
      state.charts.push({ id, points: 0, drawn: false });
      return null;
    }
    const width = Math.max(320, Math.min(1300, box.clientWidth || 1000));
    const plot = new uPlot(Object.assign({ width, height: opts.height || 260 }, opts), data, box);
    state.charts.push({ id, points, drawn: true });
    return plot;
  }

  // Shaded phase bands and horizontal threshold lines, drawn under the series.
  function bandsPlugin(bands, lines) {
    return {
      hooks: {
        drawClear: [(u) => {
          const { ctx } = u;
          const top = u.bbox.top, height = u.bbox.height;
          ctx.save();
          bands.forEach((b, i) => {
            const x0 = u.valToPos(b.from, 'x', true), x1 = u.valToPos(b.to, 'x', true);
            ctx.fillStyle = i % 2 ? 'rgba(47,95,208,0.05)' : 'rgba(47,95,208,0.11)';
            ctx.fillRect(Math.min(x0, x1), top, Math.abs(x1 - x0), height);
            ctx.fillStyle = '#5b6474';
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText(b.label, Math.min(x0, x1) + 4 * devicePixelRatio, top + 12 * devicePixelRatio);
          });
          ctx.restore();
        }],
        draw: [(u) => {
          const { ctx } = u;
          ctx.save();
          for (const l of lines || []) {
            const scale = u.scales[l.scale];
            if (!scale || !isNum(scale.min) || l.value < scale.min || l.value > scale.max) continue;
            const y = u.valToPos(l.value, l.scale, true);
            ctx.strokeStyle = l.color || '#c62828';
            ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
            ctx.lineWidth = devicePixelRatio;
            ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
            ctx.fillStyle = l.color || '#c62828';
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText(l.label, u.bbox.left + u.bbox.width - ctx.measureText(l.label).width - 4, y - 3 * devicePixelRatio);
          }
          ctx.restore();
        }],
      },
    };
  }

  // Vertical markers at x values (knee, capacity).
  function markersPlugin(marks) {
    return {
      hooks: {
        draw: [(u) => {
          const { ctx } = u;
          ctx.save();
          marks.forEach((m, i) => {
            if (!isNum(m.x)) return;
            const x = u.valToPos(m.x, 'x', true);
            ctx.strokeStyle = m.color; ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash(m.dash ? [5 * devicePixelRatio, 4 * devicePixelRatio] : []);
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
            ctx.fillStyle = m.color; ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText(m.label, x + 4 * devicePixelRatio, u.bbox.top + (24 + 14 * i) * devicePixelRatio);
          });
          ctx.restore();
        }],
      },
    };
  }

  // A legend value: a dash until the cursor is over a point.
  const shown = (f) => (u, v) => (v === null || v === undefined ? '—' : f(v));
  const timeAxis = { values: (u, vals) => vals.map(fmtClock) };

  // ---------------------------------------------------------------------------------------------
  // The data
  let data;
  try {
    data = JSON.parse(document.getElementById('headroom-data').textContent);
  } catch (e) {
    document.getElementById('main').replaceChildren(noData('the report holds no readable data (' + e.message + ')'));
    return;
  }
  const R = data.results || {};
  const phases = Array.isArray(R.phases) ? R.phases : [];
  const plan = data.plan && typeof data.plan === 'object' ? data.plan : null;
  const explain = data.explain && typeof data.explain === 'object' ? data.explain : null;
  const tierSeries = Array.isArray(data.tiers) ? data.tiers : [];
  const main = document.getElementById('main');
  main.replaceChildren();
  const nav = document.getElementById('nav');
  const sections = {};
  function section(id, title) {
    const s = el('section', { id }, el('h2', { text: title }));
    main.appendChild(s);
    nav.appendChild(el('a', { href: '#' + id, text: title }));
    sections[id] = s;
    return s;
  }

  const name = R.scenario || R.target || 'run';
  document.getElementById('title').textContent = name;
  document.title = 'headroom report: ' + name;
  const started = isNum(R.started_at_us) && R.started_at_us > 0 ? new Date(R.started_at_us / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : null;
  document.getElementById('subtitle').replaceChildren(
    el('span', { class: 'verdict ' + (R.verdict || ''), id: 'verdict', text: R.verdict || '?' }), ' ',
    [R.target ? 'target ' + R.target : null, started ? 'started ' + started : null,
     R.model ? (R.model === 'open' ? 'open model (' + (R.arrival || 'uniform') + ' arrivals)' : 'closed model (' + fmtNum(R.connections) + ' connections)') : null,
     isNum(R.elapsed_s) ? 'ran ' + fmtClock(R.elapsed_s) : null, R.complete === false ? 'INCOMPLETE (checkpoint)' : null]
      .filter(Boolean).join(' · '));
  const tool = R.tool || {};
  document.getElementById('tool').textContent = (tool.name || 'headroom') + ' ' + (tool.version || '');

  // ---------------------------------------------------------------------------------------------
  // Summary: verdict, SLO tiles, capacity and headroom, growth and cost, status per layer
  const summary = section('summary', 'Summary');
  for (const n of R.notices || []) summary.appendChild(el('p', { class: 'notice', text: n }));
  if (R.interrupted) summary.appendChild(el('p', { class: 'notice', text: 'The run was interrupted (SIGINT/SIGTERM): every figure covers the part that ran, and the verdict is never a pass.' }));
  const tiles = el('div', { class: 'tiles', id: 'tiles' });
  summary.appendChild(tiles);
  function tile(label, value, detail, cls, attrs) {
    const t = el('div', Object.assign({ class: 'tile ' + (cls || '') }, attrs || {}),
      el('div', { class: 'label', text: label }), el('div', { class: 'value', text: value }),
      detail ? el('div', { class: 'detail', text: detail }) : null);
    tiles.appendChild(t);
    return t;
  }
  tile('Verdict', R.verdict || '?', R.verdict === 'PASS' ? 'every SLO held' : R.verdict === 'INTERRUPTED' ? 'stopped before its end: not a pass' : 'an SLO broke or nothing succeeded',
    R.verdict === 'PASS' ? 'pass' : R.verdict === 'FAIL' ? 'fail' : 'warn', { 'data-tile': 'verdict' });
  // SLO tiles: the run's own (single phase) or each phase's.
  const slos = [];
  if (Array.isArray(R.slo) && R.slo.length) for (const s of R.slo) slos.push({ phase: null, s });
  else for (const p of phases) for (const s of p.slo || []) slos.push({ phase: p.name, s });
  for (const { phase, s } of slos) {
    tile((phase && phases.length > 1 ? phase + ': ' : '') + 'SLO', s.observed_text || fmtNum(s.observed, 2),
      'target ' + s.expr + ' · ' + (s.pass ? 'met' : 'broken'), s.pass ? 'pass' : 'fail',
      { 'data-tile': 'slo', 'data-expr': s.expr, 'data-phase': phase || '', 'data-observed': s.observed_text || '' });
  }
  const req = R.requests || {};
  tile('Requests', fmtNum(req.total), fmtNum(req.ok) + ' ok · ' + fmtNum(req.errors) + ' errors', null, { 'data-tile': 'requests' });
  tile('Error rate', fmtPct(R.error_rate), 'availability ' + (req.total ? fmtPct(1 - R.error_rate, 3) : '—'),
    R.error_rate > 0 ? 'warn' : 'pass', { 'data-tile': 'error_rate' });
  const lat = (R.latency || {}).response_time_us || {};
  tile(phases.length > 1 ? 'Response time p95 (all phases)' : 'Response time p95', lat.count ? fmtUs(lat.p95) : 'no data', lat.count ? 'p50 ' + fmtUs(lat.p50) + ' · p99 ' + fmtUs(lat.p99) : 'no response arrived', null, { 'data-tile': 'p95' });
  const thr = R.throughput || {};
  tile('Achieved rate', fmtRate(thr.achieved_rps), isNum(thr.requested_rps) ? 'requested ' + fmtRate(thr.requested_rps) : 'closed model', null, { 'data-tile': 'rate' });
  const stressPhases = phases.filter((p) => p.stress);
  let capacity = null;
  for (const p of stressPhases) if (isNum(p.stress.capacity_rps)) capacity = p.stress.capacity_rps;
  // Today's load: the plan's peak when there is a plan, else the highest rate a non-stress phase achieved.
  let today = plan && plan.traffic && isNum(plan.traffic.peak_rps) ? plan.traffic.peak_rps : null;
  let todaySource = today !== null ? "the plan's peak" : null;
  if (today === null) {
    for (const p of phases) if (!p.stress && p.throughput && isNum(p.throughput.achieved_rps) && p.throughput.achieved_rps > (today || 0)) today = p.throughput.achieved_rps;
    if (today !== null) todaySource = 'the highest rate of the other phases';
  }
  if (stressPhases.length) {
    tile('Measured capacity', capacity !== null ? fmtRate(capacity) : 'not found',
      capacity !== null ? 'highest rate at which every SLO held' : 'the first rate tried already broke an SLO', capacity !== null ? 'pass' : 'fail', { 'data-tile': 'capacity' });
    if (capacity !== null && today) tile('Headroom today', (capacity / today).toFixed(1) + 'x', 'capacity over ' + todaySource + ' (' + fmtRate(today) + ')', capacity / today >= 2 ? 'pass' : 'warn', { 'data-tile': 'headroom' });
  }
  if (plan && Array.isArray(plan.phases)) {
    const two = plan.phases.find((p) => p.multiplier === 2) || plan.phases.find((p) => p.multiplier > 1);
    if (two) {
      tile(two.multiplier + 'x traffic arrives', isNum(two.month_reached) ? 'month ' + fmtNum(two.month_reached, 1) : 'never (no growth)',
        'costs ' + fmtMoney(two.monthly_cost, plan.currency) + '/month' + (two.within_budget === false ? ' · over budget' : ''), two.within_budget === false ? 'fail' : 'pass', { 'data-tile': 'growth' });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Load graph: rates and latency over one time axis, phases as bands, SLO lines, errors by class
  const load = section('load', 'Load over time');
  const S = data.series || {};
  const t = S.t || [];
  const bands = phases.filter((p) => isNum(p.offset_s) && isNum(p.elapsed_s) && p.status !== 'skipped')
    .map((p) => ({ from: p.offset_s, to: p.offset_s + p.elapsed_s, label: p.name }));
  if (S.bucket_s > 1) load.appendChild(el('p', { class: 'hint', text: `Each point covers ${S.bucket_s} s (a long run): rates are the bucket's mean, response times its worst second.` }));
  load.appendChild(el('p', { class: 'hint', text: 'Drag across a chart to zoom (both charts follow), double-click to zoom out; hover for values.' }));
  const cursor = () => ({ sync: { key: 'load', setSeries: false }, drag: { x: true, y: false } });
  chart(load, 'rate', {
    title: 'Requested vs achieved rate',
    cursor: cursor(), plugins: [bandsPlugin(bands, [])],
    scales: { x: { time: false } },
    axes: [timeAxis, { label: 'req/s', values: (u, v) => v.map((x) => fmtNum(x)) }],
    series: [{ label: 'time', value: shown((v) => fmtClock(v)) },
      { label: 'requested', stroke: '#8d98aa', dash: [5, 4], width: 1.5, value: shown((v) => fmtRate(v)) },
      { label: 'achieved', stroke: color(0), width: 1.5, value: shown((v) => fmtRate(v)) },
      { label: 'errors/s', stroke: '#c62828', width: 1.5, value: shown((v) => fmtRate(v)) }],
  }, [t, S.intended_rps || [], S.rps || [], S.errors_rps || []], 'no request was scheduled');
  const lines = [];
  const seenLines = new Set();
  for (const { s } of slos) {
    const th = latencyThreshold(s.expr);
    if (th && !seenLines.has(s.expr)) { seenLines.add(s.expr); lines.push({ scale: 'ms', value: th.us / 1000, label: 'SLO ' + s.expr }); }
  }
  const ms = (col) => (col || []).map((v) => (isNum(v) ? v / 1000 : null));
  chart(load, 'latency', {
    title: 'Response time (from intended start)',
    cursor: cursor(), plugins: [bandsPlugin(bands, lines)],
    scales: { x: { time: false }, ms: { range: (u, min, max) => [0, Math.max(max, ...lines.map((l) => l.value * 1.1), 0.001)] } },
    axes: [timeAxis, { scale: 'ms', label: 'ms', values: (u, v) => v.map((x) => fmtNum(x, 2)) }],
    series: [{ label: 'time', value: shown((v) => fmtClock(v)) },
      { label: 'p50', scale: 'ms', stroke: color(2), width: 1.5, value: shown((v) => fmtUs(v * 1000)) },
      { label: 'p95', scale: 'ms', stroke: color(1), width: 1.5, value: shown((v) => fmtUs(v * 1000)) },
      { label: 'p99', scale: 'ms', stroke: color(3), width: 1.5, value: shown((v) => fmtUs(v * 1000)) }],
  }, [t, ms(S.p50_us), ms(S.p95_us), ms(S.p99_us)], 'no response arrived, so there is no response time to draw');
  const byClass = (R.errors || {}).by_class || {};
  const classes = Object.entries(byClass).sort((a, b) => b[1] - a[1]);
  load.appendChild(el('h3', { text: 'Errors by class' }));
  if (!classes.length) load.appendChild(el('p', { 'data-errors': '0', text: req.total ? 'No request failed.' : 'No request ended.' }));
  else load.appendChild(table(['class', 'requests', 'share of all'], classes.map(([k, v]) => [k, fmtNum(v), fmtPct(req.total ? v / req.total : 0)]), [false, true, true]));
  if (phases.length) {
    load.appendChild(el('h3', { text: 'Phases' }));
    load.appendChild(table(['phase', 'kind', 'model', 'requested', 'achieved', 'p50', 'p95', 'p99', 'errors', 'status'],
      phases.map((p) => {
        const l = (p.latency || {}).response_time_us || {};
        const th = p.throughput || {};
        return [p.name, p.kind, p.model, isNum(th.requested_rps) ? fmtRate(th.requested_rps) : '—', fmtRate(th.achieved_rps),
          l.count ? fmtUs(l.p50) : '—', l.count ? fmtUs(l.p95) : '—', l.count ? fmtUs(l.p99) : '—', fmtPct(p.error_rate),
          el('span', { class: p.status === 'passed' ? 'pass-text' : p.status === 'skipped' ? '' : 'fail-text', text: p.status })];
      }), [false, false, false, true, true, true, true, true, true, false]));
  }

  // ---------------------------------------------------------------------------------------------
  // Stress: rate -> latency with the knee and the capacity
  if (stressPhases.length) {
    const st = section('stress', 'Capacity (stress)');
    for (const p of stressPhases) {
      const curve = (p.stress.curve || []).filter((c) => !c.interrupted && !c.confirmation).slice().sort((a, b) => a.rate_rps - b.rate_rps);
      st.appendChild(el('h3', { text: p.name + (isNum(p.stress.capacity_rps) ? ': capacity ' + fmtRate(p.stress.capacity_rps) : ': no capacity found') +
        (p.stress.confirmed ? ' (confirmed)' : '') + (p.stress.reached_ceiling ? ' (no SLO broke up to the ceiling)' : '') }));
      const knee = curve.find((c) => !c.pass);
      const marks = [{ x: p.stress.capacity_rps, label: 'capacity', color: '#1a7f37' }];
      if (knee) marks.push({ x: knee.rate_rps, label: 'knee: ' + (knee.broken || 'SLO broke'), color: '#c62828', dash: true });
      const sl = [];
      for (const s of p.slo || []) { const th = latencyThreshold(s.expr); if (th) sl.push({ scale: 'ms', value: th.us / 1000, label: 'SLO ' + s.expr }); }
      const pts = { show: true, size: 7 };
      chart(st, 'stress-' + p.name, {
        title: 'Response time by rate',
        plugins: [markersPlugin(marks), bandsPlugin([], sl)],
        scales: { x: { time: false }, ms: { range: (u, min, max) => [0, Math.max(max, ...sl.map((l) => l.value * 1.1), 0.001)] } },
        axes: [{ label: 'requested rate (req/s)' }, { scale: 'ms', label: 'ms' }],
        series: [{ label: 'rate', value: shown((v) => fmtRate(v)) },
          { label: 'p50', scale: 'ms', stroke: color(2), points: pts, value: shown((v) => fmtUs(v * 1000)) },
          { label: 'p95', scale: 'ms', stroke: color(1), points: pts, value: shown((v) => fmtUs(v * 1000)) },
          { label: 'p99', scale: 'ms', stroke: color(3), points: pts, value: shown((v) => fmtUs(v * 1000)) }],
      }, [curve.map((c) => c.rate_rps), curve.map((c) => c.p50_us / 1000), curve.map((c) => c.p95_us / 1000), curve.map((c) => c.p99_us / 1000)],
      'no step of the search completed');
      st.appendChild(table(['requested', 'achieved', 'p50', 'p95', 'p99', 'errors', 'verdict'],
        (p.stress.curve || []).map((c) => [fmtRate(c.rate_rps) + (c.confirmation ? ' (repeat)' : ''), fmtRate(c.achieved_rps), fmtUs(c.p50_us), fmtUs(c.p95_us), fmtUs(c.p99_us), fmtPct(c.error_rate),
          c.interrupted ? 'interrupted (not judged)' : c.pass ? 'held' : 'broke: ' + (c.broken || '')]), [true, true, true, true, true, true, false]));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Latency distribution: HDR percentile plot per phase and per request name
  const dist = section('latency', 'Latency distribution');
  const curves = Array.isArray(data.percentiles) ? data.percentiles : [];
  if (!curves.length) {
    dist.appendChild(noData('no response arrived, so there is no response-time distribution'));
    state.charts.push({ id: 'percentiles', points: 0, drawn: false });
  } else {
    dist.appendChild(el('p', { class: 'hint', text: 'Response time at each percentile (HDR histograms, 3 significant digits); the x axis counts nines: 90%, 99%, 99.9%, 99.99%.' }));
    const xs = curves[0].points.map((p) => p[0]);
    const nines = (x) => (x <= 0 ? 'p0' : 'p' + String(+(100 * (1 - Math.pow(10, -x))).toFixed(Math.max(0, Math.ceil(x) - 2))));
    chart(dist, 'percentiles', {
      title: 'Response time by percentile',
      scales: { x: { time: false, range: [0, 4] }, y: { distr: 3 } },
      axes: [{ splits: () => [0, 1, 2, 3, 4], values: (u, v) => v.map(nines) }, { label: 'ms', values: (u, v) => v.map((x) => fmtNum(x, x < 1 ? 3 : 1)) }],
      series: [{ label: 'percentile', value: shown((v) => nines(v)) }].concat(curves.map((c, i) => ({
        label: (c.scope === 'run' ? '' : c.scope + ' ') + c.name, stroke: color(i), width: c.scope === 'run' ? 2.5 : 1.5,
        value: shown((v) => fmtUs(v * 1000)) }))),
    }, [xs].concat(curves.map((c) => c.points.map((p) => (p[1] > 0 ? p[1] / 1000 : 0.001)))), 'no response time');
    dist.appendChild(table(['scope', 'responses', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max'], curves.map((c) => {
      const at = (x) => { const p = c.points.find((q) => Math.abs(q[0] - x) < 1e-9); return p ? fmtUs(p[1]) : '—'; };
      return [(c.scope === 'run' ? '' : c.scope + ': ') + c.name, fmtNum(c.count), at(0.3), at(1), at(2), at(3), at(4), fmtUs(c.max_us)];
    }), [false, true, true, true, true, true, true, true]));
  }
  const byName = Array.isArray(R.requests_by_name) ? R.requests_by_name : [];
  if (byName.length) {
    dist.appendChild(el('h3', { text: 'Requests by name' }));
    dist.appendChild(table(['request', 'requests', 'achieved', 'p50', 'p95', 'p99', 'errors', 'first failed check'], byName.map((q) => {
      const l = (q.latency || {}).response_time_us || {};
      return [el('span', { 'data-request-name': '1', text: q.name }), fmtNum((q.requests || {}).total), fmtRate((q.throughput || {}).achieved_rps), l.count ? fmtUs(l.p50) : '—', l.count ? fmtUs(l.p95) : '—', l.count ? fmtUs(l.p99) : '—', fmtPct(q.error_rate), (q.errors || {}).first_check_failure || ''];
    }), [false, true, true, true, true, true, true, false]));
  }

  // ---------------------------------------------------------------------------------------------
  // Tiers: utilization and saturation over time, cache, database, ranked bottlenecks
  const tiersSec = section('tiers', 'Tiers');
  // The tiers per phase, and per rate tried by a stress phase (how they grew with load).
  const phaseTiers = phases.flatMap((p) => (p.tiers || []).map((tier) => ({ label: p.name, tier })).concat(
    ((p.stress || {}).curve || []).flatMap((c) => (c.tiers || []).map((tier) => ({ label: p.name + ' @ ' + fmtRate(c.rate_rps), tier })))));
  if (!tierSeries.length && !phaseTiers.length) {
    tiersSec.appendChild(noData('no tier was watched. Watch the service\'s tiers beside a run with --watch host, --watch app=process:NAME, --watch db=postgres:CONNINFO, --watch cache=redis:HOST:PORT (docs/collect.md).'));
  }
  for (const src of tierSeries) {
    tiersSec.appendChild(el('h3', { text: src.tier + ' — ' + src.source }));
    if (src.failures) tiersSec.appendChild(el('p', { class: 'notice', text: `${src.failures} failed reads; first: ${src.error}` }));
    const roles = [['utilization', 'Utilization'], ['saturation', 'Saturation'], ['errors', 'Errors']];
    for (const [role, title] of roles) {
      const ms_ = (src.metrics || []).filter((m) => m.role === role);
      if (!ms_.length) continue;
      // Samples of one source share their times; metrics were taken together.
      const xs = ms_[0].t;
      const ratio = ms_.every((m) => /_ratio$/.test(m.name));
      chart(tiersSec, 'tier-' + src.tier + '-' + src.source + '-' + role, {
        title: title + (role === 'utilization' ? ' (share of capacity)' : ''), height: 180, cursor: { sync: { key: 'load', setSeries: false } },
        plugins: [bandsPlugin(bands, role === 'utilization' && ratio ? [{ scale: 'y', value: 1, label: '100 %', color: '#c62828' }] : [])],
        scales: { x: { time: false }, y: ratio ? { range: [0, 1.05] } : {} },
        axes: [timeAxis, { values: (u, v) => v.map((x) => (ratio ? Math.round(x * 100) + '%' : fmtNum(x, 2))) }],
        series: [{ label: 'time', value: shown((v) => fmtClock(v)) }].concat(ms_.map((m, i) => ({ label: m.name, stroke: color(i), width: 1.5, value: shown((v) => metricFmt(m.name)(v)) }))),
      }, [xs].concat(ms_.map((m) => m.v)), 'no sample of ' + title.toLowerCase());
    }
  }
  // Per-phase tier tables: cache, database, other headline figures.
  const metricOf = (source, n) => (source.metrics || {})[n] || null;
  const redisRows = [], pgRows = [], statements = [], tables = [];
  for (const { label, tier } of phaseTiers) {
    for (const s of tier.sources || []) {
      if (s.kind === 'redis') {
        const m = (n, k) => { const v = metricOf(s, n); return v ? v[k || 'mean'] : null; };
        redisRows.push([label, tier.name, fmtPct(m('hit_ratio')), fmtNum(m('evictions_per_s', 'total')), fmtBytes(m('used_memory_bytes', 'max')),
          m('maxmemory_bytes', 'last') ? fmtBytes(m('maxmemory_bytes', 'last')) : 'none', isNum(m('memory_ratio', 'max')) ? fmtPct(m('memory_ratio', 'max'), 1) : '—',
          (s.attributes || {}).maxmemory_policy || '—']);
      }
      if (s.kind === 'postgres') {
        const m = (n, k) => { const v = metricOf(s, n); return v ? v[k || 'mean'] : null; };
        pgRows.push([label, tier.name, fmtNum(m('connections', 'max')), isNum(m('connections_ratio', 'max')) ? fmtPct(m('connections_ratio', 'max'), 1) : '—',
          fmtNum(m('lock_waits', 'max')), fmtPct(m('cache_hit_ratio')), fmtNum(m('statement_mean_ms'), 2), fmtNum(m('seq_scans_per_s'), 1)]);
        for (const a of s.top || []) {
          const c = Object.fromEntries(a.counts ? Object.entries(a.counts) : []);
          if (a.group === 'statements') statements.push({ phase: label, key: a.key, c });
          if (a.group === 'tables') tables.push({ phase: label, key: a.key, c });
        }
      }
    }
  }
  if (redisRows.length) {
    tiersSec.appendChild(el('h3', { id: 'cache', text: 'Cache' }));
    tiersSec.appendChild(table(['phase', 'tier', 'hit ratio', 'evictions', 'memory (max)', 'maxmemory', 'of maxmemory', 'policy'], redisRows, [false, false, true, true, true, true, true, false]));
  }
  if (pgRows.length) {
    tiersSec.appendChild(el('h3', { id: 'database', text: 'Database' }));
    tiersSec.appendChild(table(['phase', 'tier', 'connections (max)', 'of max_connections', 'lock waits (max)', 'cache hit ratio', 'statement mean ms', 'seq scans/s'], pgRows, [false, false, true, true, true, true, true, true]));
    statements.sort((a, b) => (b.c.time_ms || 0) - (a.c.time_ms || 0));
    tiersSec.appendChild(el('h3', { text: 'Top statements by time' }));
    if (!statements.length) tiersSec.appendChild(noData('no statement statistics (pg_stat_statements) in this run'));
    else tiersSec.appendChild(table(['phase', 'statement', 'time ms', 'calls', 'rows', 'mean ms'], statements.slice(0, 20).map((s) =>
      [s.phase, el('code', { 'data-statement': '1', text: s.key }), fmtNum(s.c.time_ms, 1), fmtNum(s.c.calls), fmtNum(s.c.rows), s.c.calls ? fmtNum(s.c.time_ms / s.c.calls, 3) : '—']), [false, false, true, true, true, true]));
    const seq = tables.filter((x) => (x.c.seq_scan || 0) > 0).sort((a, b) => (b.c.seq_tup_read || 0) - (a.c.seq_tup_read || 0));
    tiersSec.appendChild(el('h3', { text: 'Tables read by sequential scans' }));
    if (!seq.length) tiersSec.appendChild(el('p', { text: 'No table was read by a sequential scan.' }));
    else tiersSec.appendChild(table(['phase', 'table', 'seq scans', 'rows read by seq scans', 'index scans'], seq.slice(0, 20).map((x) =>
      [x.phase, el('code', { text: x.key }), fmtNum(x.c.seq_scan), fmtNum(x.c.seq_tup_read), fmtNum(x.c.idx_scan)]), [false, false, true, true, true]));
  }
  if (explain) {
    tiersSec.appendChild(el('h3', { id: 'bottlenecks', text: 'Ranked bottlenecks' }));
    const at = explain.at || {};
    tiersSec.appendChild(el('p', { text: 'Measured at ' + (at.phase || '?') + ', ' + fmtRate(at.rate_rps) + (at.why ? ' — ' + at.why : '') }));
    const findings = explain.bottlenecks || [];
    if (!findings.length) tiersSec.appendChild(el('p', { text: explain.elsewhere || 'Nothing watched was saturated.' }));
    findings.forEach((f, i) => tiersSec.appendChild(el('div', { class: 'finding', 'data-finding': i + 1 },
      el('div', { class: 'title', text: (i + 1) + '. ' + f.tier + ' ' + f.resource + ': ' + f.title }),
      isNum(f.utilization) ? el('div', { class: 'hint', text: 'utilization ' + fmtPct(f.utilization, 0) + ' · ' + f.source }) : el('div', { class: 'hint', text: f.source }),
      el('ul', {}, (f.evidence || []).map((e) => el('li', { text: e }))),
      f.change ? el('div', {}, el('strong', { text: 'Change: ' }), f.change) : null)));
    if (findings.length && explain.elsewhere) tiersSec.appendChild(el('p', { text: explain.elsewhere }));
  }

  // ---------------------------------------------------------------------------------------------
  // Cost view: the plan's phases against the budget
  const cost = section('cost', 'Growth and cost');
  if (!plan || !Array.isArray(plan.phases) || !plan.phases.length) {
    cost.appendChild(noData('no capacity plan. Give one with `headroom report DIR --plan PLANDIR` (a folder written by `headroom plan PLAN.yaml --out PLANDIR`).'));
  } else {
    const cur = plan.currency || '';
    cost.appendChild(el('p', { text: 'Plan ' + (plan.name || '') + (data.plan_source ? ' (' + data.plan_source + ')' : '') + ': peak ' + fmtRate((plan.traffic || {}).peak_rps) +
      ', growth ' + fmtPct((plan.traffic || {}).growth_monthly, 0) + '/month' + (plan.budget_monthly ? ', budget ' + fmtMoney(plan.budget_monthly, cur) + '/month' : ', no budget') }));
    const ph = plan.phases;
    const budget = plan.budget_monthly > 0 ? plan.budget_monthly : null;
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.5, 60] }) : undefined;
    chart(cost, 'cost', {
      title: 'Monthly cost per phase' + (budget ? ' vs budget' : ''), height: 240,
      plugins: [bandsPlugin([], budget ? [{ scale: 'y', value: budget, label: 'budget ' + fmtMoney(budget, cur) }] : [])],
      scales: { x: { time: false, range: (u, min, max) => [min - 0.6, max + 0.6] }, y: { range: (u, min, max) => [0, Math.max(max, budget || 0) * 1.1 || 1] } },
      axes: [{ splits: () => ph.map((p, i) => i), values: (u, v) => v.map((i) => (ph[i] ? ph[i].multiplier + 'x' : '')) }, { label: cur + '/month', values: (u, v) => v.map((x) => fmtNum(x)) }],
      series: [{ label: 'phase', value: shown((i) => (ph[i] ? ph[i].multiplier + 'x' : '')) },
        { label: 'monthly cost', stroke: color(0), fill: 'rgba(47,95,208,0.35)', paths: bars, points: { show: false }, value: shown((v) => fmtMoney(v, cur)) }],
    }, [ph.map((p, i) => i), ph.map((p) => p.monthly_cost)], 'the plan has no cost');
    cost.appendChild(table(['phase', 'arrives', 'required', 'DAU', 'monthly cost', 'per 1k DAU', 'target cost', 'budget', 'changes'], ph.map((p) => [
      p.multiplier + 'x', isNum(p.month_reached) ? 'month ' + fmtNum(p.month_reached, 1) : 'never', fmtRate(p.required_rps), fmtNum(p.dau),
      fmtMoney(p.monthly_cost, cur), p.cost_per_1k_dau ? fmtMoney(p.cost_per_1k_dau, cur) : '—', p.target_cost && isNum(p.target_cost.value) ? fmtMoney(p.target_cost.value, cur) : '—',
      el('span', { class: p.within_budget === false ? 'fail-text' : 'pass-text', text: p.within_budget === false ? 'over' + (p.budget_note ? ': ' + p.budget_note : '') : 'within' }),
      el('ul', {}, (p.changes || []).map((c) => el('li', { title: c.detail || null, text: c.title })))]),
    [false, false, true, true, true, true, true, false, false]));
  }

  // ---------------------------------------------------------------------------------------------
  // Generator health
  const gen = section('generator', 'Generator health');
  const G = R.generator || {};
  const late = G.pacer_lateness_us || {};
  const lateBad = isNum(late.p99) && late.p99 > 1000;
  gen.appendChild(el('p', { class: lateBad ? 'notice' : 'hint', text: R.model === 'closed' ? 'Closed model: requests are sent as responses return, so there is no schedule to be late against.' :
    lateBad ? 'The pacer\'s p99 lateness is above 1 ms: the generator itself may have limited the test.' : 'The pacer kept to its schedule (p99 lateness under 1 ms): these figures are the service\'s.' }));
  const conn = G.connect_time_us || {};
  const T = (R.transport || {}).tls;
  const hs = (T && T.handshake_time_us) || {};
  const tlsRows = !T ? [] : [
    ['TLS', (T.version ? T.version + ' ' + T.cipher : 'no handshake completed') + ', ' + R.transport.protocol + ', certificate ' +
      (T.verify ? 'verified' : 'NOT verified (--insecure)')],
    ['TLS handshakes new / resumed', fmtNum(T.handshakes_new) + ' / ' + fmtNum(T.handshakes_resumed)],
    ['TLS handshake p50 / p99 / max', hs.count ? fmtUs(hs.p50) + ' / ' + fmtUs(hs.p99) + ' / ' + fmtUs(hs.max) : '—'],
    ...(T.first_error ? [['first TLS error', T.first_error]] : [])];
  const H = (R.transport || {}).h2;
  const h2Rows = !H ? [] : [
    ['HTTP/2', R.transport.protocol + ', up to ' + fmtNum(H.max_streams) + ' streams per connection, peak ' + fmtNum(H.peak_streams_per_connection) + ' in flight'],
    ['HTTP/2 GOAWAY / RST_STREAM received / requests retried', fmtNum(H.goaways_received) + ' / ' + fmtNum(H.rst_streams_received) + ' / ' + fmtNum(H.requests_retried)],
    ...(H.first_error ? [['first HTTP/2 error', H.first_error]] : [])];
  gen.appendChild(table(['figure', 'value'], [
    ['pacer lateness p50 / p99 / max', late.count ? fmtUs(late.p50) + ' / ' + fmtUs(late.p99) + ' / ' + fmtUs(late.max) : '—'],
    ['TCP connect time p50 / p99 / max', conn.count ? fmtUs(conn.p50) + ' / ' + fmtUs(conn.p99) + ' / ' + fmtUs(conn.max) : '—'],
    ...tlsRows,
    ...h2Rows,
    ['delayed requests (waited for a connection)', fmtNum(G.delayed_requests)],
    ['of those, waited at the connection cap', fmtNum(G.waited_at_cap_requests)],
    ['most requests waiting at once', fmtNum(G.max_queue_depth)],
    ['unfinished at the end', fmtNum(G.unfinished_requests)],
    ['connections opened / attempted', fmtNum(G.connections_opened) + ' / ' + fmtNum(G.connect_attempts)],
    ['generator CPU user / system', fmtNum(G.cpu_user_s, 2) + ' s / ' + fmtNum(G.cpu_system_s, 2) + ' s'],
    ['generator memory (RSS)', fmtBytes(G.rss_bytes)]], [false, true]));

  // ---------------------------------------------------------------------------------------------
  // Status per layer, at the top, linking to the sections
  const layers = el('ul', { class: 'layers', id: 'layers' });
  summary.appendChild(el('h3', { text: 'Status per layer' }));
  summary.appendChild(layers);
  function layer(dot, label, text, href) {
    layers.appendChild(el('li', {}, el('span', { class: 'dot ' + dot }), el('a', { href: '#' + href, text: label }), ': ' + text));
  }
  layer(req.total ? (R.verdict === 'PASS' ? 'ok' : 'bad') : 'bad', 'Load analyzed', req.total ? fmtNum(req.total) + ' requests in ' + phases.length + ' phase' + (phases.length === 1 ? '' : 's') + ', ' + fmtPct(R.error_rate) + ' errors' : 'no request ended', 'load');
  layer(byName.length ? 'ok' : '', 'APIs measured', byName.length ? byName.length + ' request name' + (byName.length === 1 ? '' : 's') : 'one URL', 'latency');
  const kinds = new Set(phaseTiers.flatMap(({ tier }) => (tier.sources || []).map((s) => s.kind)).concat(tierSeries.map((s) => s.kind)));
  layer(kinds.has('redis') ? 'ok' : '', 'Cache', kinds.has('redis') ? 'watched' : 'not watched', kinds.has('redis') ? 'cache' : 'tiers');
  layer(kinds.has('postgres') ? 'ok' : '', 'Database', kinds.has('postgres') ? 'watched' : 'not watched', kinds.has('postgres') ? 'database' : 'tiers');
  const ranked = explain ? explain.bottlenecks || [] : [];
  layer(ranked.length ? 'warn' : explain ? 'ok' : '', 'Bottlenecks', explain ? (ranked.length ? ranked.length + ' ranked, first: ' + ranked[0].tier + ' ' + ranked[0].resource : 'nothing saturated') : 'no tier watched', explain ? 'bottlenecks' : 'tiers');
  layer(stressPhases.length ? (capacity !== null ? 'ok' : 'bad') : '', 'Capacity', stressPhases.length ? (capacity !== null ? fmtRate(capacity) : 'not found') : 'no stress phase', stressPhases.length ? 'stress' : 'load');
  layer(plan ? 'ok' : '', 'Scale roadmap', plan && Array.isArray(plan.phases) ? plan.phases.map((p) => p.multiplier + 'x').join(', ') : 'no plan given', 'cost');
  layer(lateBad ? 'warn' : 'ok', 'Generator', lateBad ? 'pacer late: figures may be limited by the generator' : 'healthy', 'generator');

  state.ready = true;
  document.body.setAttribute('data-ready', '1');
})();
