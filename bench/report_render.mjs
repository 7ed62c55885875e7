// How long a 24-hour soak's HTML report takes to open and draw, and how big it is.
//
// Makes a real 2-second run against the embedded target (for real histograms and a real
// results.json), stretches it to 86,400 one-second rows (a daily wave with noise and a few stalls)
// with a host tier sampled every second into tiers.jsonl, writes report.html with `headroom report`,
// then opens it ROUNDS times in Debian's headless Chromium and prints the time from navigation start
// to the last chart drawn (the page's own ready flag), and the peer: the same page for the 2-second
// run. Not a test: nothing is asserted.
//
//   node bench/report_render.mjs [--headroom build/headroom] [--seconds 86400] [--rounds 5]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, statSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = resolve(here, '..');
const puppeteer = createRequire(join(sourceDir, 'web', 'package.json'))('puppeteer-core');
const arg = (name, d) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : d; };
const headroom = resolve(arg('--headroom', join(sourceDir, 'build', 'headroom')));
const seconds = Number(arg('--seconds', 86400));
const rounds = Number(arg('--rounds', 5));
const work = mkdtempSync(join(tmpdir(), 'headroom-report-bench-'));

// A real short run.
const target = spawn(headroom, ['target', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res) => {
  let buf = '';
  target.stdout.on('data', (d) => { buf += d; const m = /listening on (http:\/\/\S+)/.exec(buf); if (m) res(m[1]); });
});
const shortDir = join(work, 'short');
const r = spawnSync(headroom, ['run', url + '/', '--rate', '200/s', '-d', '2s', '--slo', 'p95 < 300ms', '--out', shortDir, '--quiet']);
target.kill('SIGTERM');
if (r.status !== 0) { console.error('the short run failed: ' + r.stderr); process.exit(1); }

// Stretched to `seconds` rows.
const doc = JSON.parse(readFileSync(join(shortDir, 'results.json'), 'utf8'));
const row0 = doc.series[0];
const rows = [];
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let s = 0; s < seconds; s++) {
  const wave = 0.6 + 0.4 * Math.sin((2 * Math.PI * s) / 86400);
  const rate = Math.round(500 * wave + 20 * rnd());
  const stall = s % 7200 === 3600 ? 40 : 1;
  rows.push({ second: s, span_s: 1, intended: rate, completed: rate, ok: rate - (rnd() < 0.01 ? 1 : 0), errors: rnd() < 0.01 ? 1 : 0, rps: rate,
    p50_us: Math.round(900 * stall + 100 * rnd()), p90_us: Math.round(1500 * stall), p95_us: Math.round(2000 * stall + 500 * rnd()),
    p99_us: Math.round(4000 * stall + 1000 * rnd()), max_us: Math.round(9000 * stall), mean_us: 1000, histogram: row0.histogram });
}
doc.series = rows;
const phase = doc.phases[0];
phase.kind = 'soak';
phase.name = 'soak-24h';
phase.duration_s = phase.elapsed_s = doc.duration_s = doc.elapsed_s = seconds;
phase.series = [];
doc.tiers_series = 'tiers.jsonl';
const longDir = join(work, 'long');
spawnSync('mkdir', ['-p', longDir]);
writeFileSync(join(longDir, 'results.json'), JSON.stringify(doc));
const tiers = createWriteStream(join(longDir, 'tiers.jsonl'));
for (let s = 0; s < seconds; s++) {
  tiers.write(JSON.stringify({ t: s + 0.001, tier: 'host', source: 'host', metrics: { cpu_ratio: 0.3 + 0.2 * rnd(), run_queue: Math.round(3 * rnd()), load1: 1.5 } }) + '\n');
}
await new Promise((res) => tiers.end(res));
for (const dir of [shortDir, longDir]) {
  const t0 = Date.now();
  const w = spawnSync(headroom, ['report', dir]);
  if (w.status !== 0) { console.error('headroom report failed: ' + w.stderr); process.exit(1); }
  console.log(`headroom report ${dir === longDir ? seconds + ' s' : '2 s'} run: ${Date.now() - t0} ms to write, ` +
    `results.json ${(statSync(join(dir, 'results.json')).size / 1e6).toFixed(1)} MB, report.html ${(statSync(join(dir, 'report.html')).size / 1e6).toFixed(2)} MB`);
}

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
async function timeOpen(dir) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  await page.waitForFunction(() => window.headroomReport && window.headroomReport.ready, { timeout: 60000 });
  // Drawn: uPlot paints on the next animation frame after the page's script has run.
  const ms = await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => res(performance.now()))));
  await page.close();
  return ms;
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const long = [], short = [];
for (let i = 0; i < rounds; i++) { short.push(await timeOpen(shortDir)); long.push(await timeOpen(longDir)); }
await browser.close();
console.log(`open and draw (navigation start to charts drawn), median of ${rounds}: ${seconds} s run ${median(long).toFixed(0)} ms, ` +
  `2 s run ${median(short).toFixed(0)} ms, ratio ${(median(long) / median(short)).toFixed(2)}`);
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
else console.log('kept ' + work);
