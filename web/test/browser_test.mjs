// The HTML report in a real browser: Debian's headless Chromium driven by puppeteer-core.
// Makes real runs with the headroom binary against its embedded target on 127.0.0.1 (a plain run,
// a stress run with watched tiers and a plan, an interrupted run, a closed-model run, a run with no
// success and one with 100 % errors), writes their reports, and checks each page: no console error
// and no network request, every chart drawn (non-blank canvas), the SLO tiles showing results.json's
// values, a hover value, "no data" states where there is nothing to draw, and hostile names shown
// as text. Screenshots go to OUT/screenshots.
//
//   node web/test/browser_test.mjs --headroom build/headroom --out build/report-browser-test
//
// Exit 0: passed; 1: failed; 77: skipped (no Chromium, outside CI only: under CI=true a missing
// browser fails).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = resolve(here, '..', '..');
const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const headroom = resolve(arg('--headroom') || join(sourceDir, 'build', 'headroom'));
const out = resolve(arg('--out') || join(sourceDir, 'build', 'report-browser-test'));
const only = arg('--only');
const inCi = ['1', 'true', 'yes'].includes(String(process.env.CI || '').toLowerCase());

function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  return null;
}
const browserPath = chromiumPath();
if (!browserPath) {
  console.error(`browser_test: no Chromium (apt-get install chromium, or scripts/setup.sh)${inCi ? '' : ': skipped'}`);
  process.exit(inCi ? 1 : 77);
}
let puppeteer;
try {
  puppeteer = (await import('puppeteer-core')).default;
} catch (e) {
  console.error(`browser_test: puppeteer-core is missing (npm ci in web/, or scripts/setup.sh): ${e.message}${inCi ? '' : ': skipped'}`);
  process.exit(inCi ? 1 : 77);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'screenshots'), { recursive: true });

let failures = 0;
function check(ok, what) {
  if (ok) return true;
  failures++;
  console.error('  FAIL: ' + what);
  return false;
}

// Runs headroom, returns {code, stdout, stderr}.
function hr(args, opts = {}) {
  const r = spawnSync(headroom, args, { encoding: 'utf8', timeout: 180000, ...opts });
  return { code: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

function startTarget() {
  return new Promise((res, rej) => {
    const p = spawn(headroom, ['target', '--port', '0', '--threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(buf);
      if (m) res({ proc: p, url: m[1] });
    });
    p.on('exit', (c) => rej(new Error('target exited ' + c)));
  });
}

const hostile = '<script>window.__pwned=1</script> "quoted" \'single\' <img src=x onerror="window.__pwned=2"> ünïcødé ✓';

// ---------------------------------------------------------------------------------------------
// The runs
const target = await startTarget();
const runs = {};
function run(name, args, expectCodes) {
  const dir = join(out, name);
  const r = hr(['run', ...args, '--out', dir, '--quiet']);
  check(expectCodes.includes(r.code), `${name}: headroom run exited ${r.code}: ${r.stderr.trim()}`);
  runs[name] = dir;
  return dir;
}
try {
  run('basic', [target.url + '/', '--rate', '200/s', '-d', '3s', '--slo', 'p95 < 300ms', '--slo', 'error_rate < 0.5%'], [0]);
  // A stress run with watched tiers, a hostile scenario name and a plan.
  const scenario = join(out, 'stress.yaml');
  writeFileSync(scenario, [
    `name: ${JSON.stringify(hostile)}`,
    `target: ${target.url}`,
    'requests:',
    '  - { name: cpu, weight: 80, path: /cpu/300 }',
    '  - { name: home, weight: 20, path: / }',
    'slos: [ "p99 < 30ms", "error_rate < 1%" ]',
    'phases:',
    '  - { name: warm-up, baseline: { rate: 200/s, duration: 2s } }',
    '  - name: find-capacity',
    '    stress: { from: 400/s, ceiling: 12800/s, step_duration: 1s, search: exponential, resolution: 25% }',
    '',
  ].join('\n'));
  const stress = run('stress', [scenario, '--watch', 'host', '--watch', 'app=process:headroom'], [0, 1]);
  const plan = hr(['plan', join(sourceDir, 'examples', 'plans', 'order-management.yaml'), '--out', join(out, 'plan')]);
  check(plan.code === 0, 'headroom plan exited ' + plan.code + ': ' + plan.stderr);
  const rep = hr(['report', stress, '--plan', join(out, 'plan')]);
  check(rep.code === 0 && rep.stdout.trim() === join(stress, 'report.html'), 'headroom report --plan: ' + rep.code + ' ' + rep.stdout + rep.stderr);

  // Interrupted: SIGINT after 1.5 s of a 30 s run.
  const intDir = join(out, 'interrupted');
  await new Promise((res) => {
    const p = spawn(headroom, ['run', target.url + '/', '--rate', '100/s', '-d', '30s', '--out', intDir, '--quiet'], { stdio: 'ignore' });
    setTimeout(() => p.kill('SIGINT'), 1500);
    p.on('exit', (code) => { check(code === 3, 'interrupted run exited ' + code); res(); });
  });
  runs.interrupted = intDir;
  run('closed', [target.url + '/', '-c', '4', '-d', '2s', '--slo', 'p99 < 1s'], [0]);
  run('all-errors', [target.url + '/status/500', '--rate', '100/s', '-d', '2s'], [1]);
  // Nothing listens on port 1: every connection is refused, no response at all.
  run('no-success', ['http://127.0.0.1:1/', '--rate', '50/s', '-d', '2s'], [1]);
} finally {
  target.proc.kill('SIGTERM');
}

// Database and cache: results files with PostgreSQL and Redis tiers (the explain tests' data), one
// with hostile statement text and request name.
function fromTestdata(name, file, edit) {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  const doc = JSON.parse(readFileSync(join(sourceDir, 'src', 'explain', 'testdata', file), 'utf8'));
  if (edit) edit(doc);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(doc));
  const r = hr(['report', dir]);
  check(r.code === 0, `${name}: headroom report exited ${r.code}: ${r.stderr}`);
  runs[name] = dir;
}
fromTestdata('database', 'missing_index.json', (doc) => {
  for (const p of doc.phases || []) {
    for (const step of (p.stress || {}).curve || []) {
      for (const t of (p.tiers || []).concat(step.tiers || [])) for (const s of t.sources || []) for (const a of s.top || []) if (a.group === 'statements') a.key = hostile + ' ' + a.key;
    }
  }
  doc.requests_by_name = [{ name: hostile, requests: { total: 1, ok: 1, errors: 0 }, error_rate: 0, throughput: { achieved_rps: 1 }, latency: {}, errors: {} }];
});
fromTestdata('cache', 'redis_evicting.json');

// Bad input: one line, exit 2.
{
  const r = hr(['report', join(out, 'no-such-folder')]);
  check(r.code === 2 && r.stderr.trim().split('\n').length === 1, 'report of a missing folder: exit ' + r.code + ', ' + JSON.stringify(r.stderr));
  const p = hr(['report', runs.basic, '--plan', runs.closed]);
  check(p.code === 2 && /plan/.test(p.stderr), '--plan without a plan.json: exit ' + p.code + ', ' + JSON.stringify(p.stderr));
}

// ---------------------------------------------------------------------------------------------
// The pages
const browser = await puppeteer.launch({
  executablePath: browserPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--allow-file-access-from-files'],
});

async function open(name) {
  const file = join(runs[name], 'report.html');
  const url = pathToFileURL(file).href;
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('request', (r) => { if (r.url() !== url) problems.push('network request: ' + r.url()); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.headroomReport && window.headroomReport.ready, { timeout: 10000 }).catch(() => problems.push('the page never became ready'));
  return { page, problems, results: JSON.parse(readFileSync(join(runs[name], 'results.json'), 'utf8')) };
}

// Non-transparent, non-white pixels of a chart's canvas: a drawn chart has its lines and axes.
const inked = (page, id) => page.evaluate((id) => {
  const canvas = document.querySelector(`[data-chart="${CSS.escape(id)}"] canvas`);
  if (!canvas) return -1;
  const ctx = canvas.getContext('2d');
  const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240)) n++;
  return n;
}, id);

async function charts(page) { return page.evaluate(() => window.headroomReport.charts); }

async function checkSloTiles(name, page, results) {
  const tiles = await page.$$eval('[data-tile="slo"]', (ts) => ts.map((t) => ({ expr: t.dataset.expr, phase: t.dataset.phase, value: t.querySelector('.value').textContent })));
  const expected = [];
  if (Array.isArray(results.slo) && results.slo.length) for (const s of results.slo) expected.push({ expr: s.expr, phase: '', value: s.observed_text });
  else for (const p of results.phases) for (const s of p.slo || []) expected.push({ expr: s.expr, phase: p.name, value: s.observed_text });
  check(JSON.stringify(tiles) === JSON.stringify(expected), `${name}: SLO tiles ${JSON.stringify(tiles)} != results.json ${JSON.stringify(expected)}`);
  const verdict = await page.$eval('#verdict', (e) => e.textContent);
  check(verdict === results.verdict, `${name}: verdict ${verdict} != ${results.verdict}`);
}

async function expectDrawn(name, page, ids) {
  const drawn = await charts(page);
  for (const id of ids) {
    const c = drawn.find((x) => x.id === id);
    if (!check(c && c.drawn && c.points > 0, `${name}: chart ${id} not drawn (${JSON.stringify(c)})`)) continue;
    check((await inked(page, id)) > 200, `${name}: chart ${id}'s canvas is blank`);
  }
}

async function hoverShowsValue(name, page, id) {
  const over = await page.$(`[data-chart="${id}"] .u-over`);
  if (!check(over, `${name}: chart ${id} has no plot area`)) return;
  await over.hover();  // scrolls it into view
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5);
  const after = await page.$$eval(`[data-chart="${id}"] .u-legend .u-value`, (v) => v.map((x) => x.textContent));
  check(after.slice(1).some((v) => /\d/.test(v)),
    `${name}: hovering ${id} shows no value (${JSON.stringify(after)})`);
}

async function finish(name, ctx) {
  await ctx.page.screenshot({ path: join(out, 'screenshots', name + '.png'), fullPage: true });
  check(ctx.problems.length === 0, `${name}: ${ctx.problems.join('; ')}`);
  const pwned = await ctx.page.evaluate(() => window.__pwned);
  check(pwned === undefined, `${name}: hostile text ran as script (${pwned})`);
  const scripts = await ctx.page.$$eval('script', (s) => s.length);
  check(scripts === 3, `${name}: ${scripts} script elements (expected the page's 3)`);
  await ctx.page.close();
}

const pages = {
  async basic(ctx) {
    await checkSloTiles('basic', ctx.page, ctx.results);
    await expectDrawn('basic', ctx.page, ['rate', 'latency', 'percentiles']);
    await hoverShowsValue('basic', ctx.page, 'latency');
    const req = await ctx.page.$eval('[data-tile="requests"] .value', (e) => e.textContent);
    check(req === ctx.results.requests.total.toLocaleString('en-US'), `basic: requests tile ${req} != ${ctx.results.requests.total}`);
    check(await ctx.page.$('[data-nodata]') !== null, 'basic: no "no data" note for the unwatched tiers or the missing plan');
  },
  async stress(ctx) {
    await checkSloTiles('stress', ctx.page, ctx.results);
    const stressPhase = ctx.results.phases.find((p) => p.stress);
    await expectDrawn('stress', ctx.page, ['rate', 'latency', 'percentiles', 'stress-' + stressPhase.name, 'cost']);
    const all = await charts(ctx.page);
    check(all.some((c) => c.id.startsWith('tier-') && c.id.endsWith('-utilization') && c.drawn), 'stress: no tier utilization chart');
    check(all.some((c) => c.id.startsWith('tier-') && c.id.endsWith('-saturation') && c.drawn), 'stress: no tier saturation chart');
    await hoverShowsValue('stress', ctx.page, 'rate');
    const title = await ctx.page.$eval('#title', (e) => e.textContent);
    check(title === hostile, `stress: the hostile scenario name is not shown as text: ${JSON.stringify(title)}`);
    if (stressPhase.stress.capacity_rps) {
      const cap = await ctx.page.$eval('[data-tile="capacity"] .value', (e) => e.textContent);
      check(cap.replace(/,/g, '').startsWith(String(Math.round(stressPhase.stress.capacity_rps))), `stress: capacity tile ${cap} != ${stressPhase.stress.capacity_rps}`);
    }
    check(await ctx.page.$('[data-tile="growth"]') !== null, 'stress: no growth tile with the plan');
  },
  async interrupted(ctx) {
    const v = await ctx.page.$eval('#verdict', (e) => e.textContent);
    check(v === 'INTERRUPTED', 'interrupted: verdict ' + v);
    const text = await ctx.page.$eval('#summary', (e) => e.innerText);
    check(/interrupted/i.test(text), 'interrupted: the summary does not say the run was interrupted');
    await expectDrawn('interrupted', ctx.page, ['rate', 'latency']);
  },
  async closed(ctx) {
    await checkSloTiles('closed', ctx.page, ctx.results);
    await expectDrawn('closed', ctx.page, ['rate', 'latency', 'percentiles']);
    const sub = await ctx.page.$eval('#subtitle', (e) => e.textContent);
    check(/closed model/.test(sub), 'closed: the model is not shown: ' + sub);
  },
  async 'all-errors'(ctx) {
    const rate = await ctx.page.$eval('[data-tile="error_rate"] .value', (e) => e.textContent);
    check(rate === '100.00%', 'all-errors: error rate tile ' + rate);
    const errs = await ctx.page.$eval('#load', (e) => e.innerText);
    check(/http_5xx/.test(errs), 'all-errors: errors by class do not show http_5xx');
    await expectDrawn('all-errors', ctx.page, ['rate']);
  },
  async 'no-success'(ctx) {
    const drawn = await charts(ctx.page);
    const lat = drawn.find((c) => c.id === 'latency');
    check(lat && !lat.drawn, 'no-success: a latency chart was drawn without responses');
    const notes = await ctx.page.$$eval('[data-chart="latency"] [data-nodata], [data-chart="percentiles"] [data-nodata], #latency [data-nodata]', (n) => n.length);
    check(notes >= 1, 'no-success: no "no data" note for the latency charts');
    const p95 = await ctx.page.$eval('[data-tile="p95"] .value', (e) => e.textContent);
    check(p95 === 'no data', 'no-success: p95 tile ' + p95);
  },
  async database(ctx) {
    const statements = await ctx.page.$$eval('[data-statement]', (s) => s.map((x) => x.textContent));
    check(statements.some((s) => s.startsWith(hostile)), 'database: the hostile statement is not shown as text');
    const names = await ctx.page.$$eval('[data-request-name]', (s) => s.map((x) => x.textContent));
    check(names.includes(hostile), 'database: the hostile request name is not shown as text');
    check(await ctx.page.$('#database') !== null, 'database: no database section');
    check(await ctx.page.$('[data-finding="1"]') !== null, 'database: no ranked bottleneck');
  },
  async cache(ctx) {
    check(await ctx.page.$('#cache') !== null, 'cache: no cache section');
    const text = await ctx.page.$eval('#tiers', (e) => e.innerText);
    check(/maxmemory|evict/i.test(text), 'cache: no memory or eviction figures');
  },
};

for (const [name, fn] of Object.entries(pages)) {
  if (only && only !== name) continue;
  console.log('page: ' + name);
  const ctx = await open(name);
  try {
    await fn(ctx);
  } catch (e) {
    check(false, `${name}: ${e.stack || e}`);
  }
  await finish(name, ctx);
}
await browser.close();
console.log(failures ? `browser_test: ${failures} failure(s); screenshots in ${join(out, 'screenshots')}` : `browser_test: passed; screenshots in ${join(out, 'screenshots')}`);
process.exit(failures ? 1 : 0);
