// Looks at the report website and the data catalog as a reader does, in
// Debian's Chromium through its chromedriver (never a downloaded browser),
// at a laptop width (1280 px) and a phone width (375 px):
//   - every internal link and #fragment resolves; no link leaves the site
//   - every chart point, line vertex and bar lies inside its plot frame,
//     no axis repeats a tick label, no chart text leaves its picture
//   - chart text renders at 12 px or more (and at most 24 px: no chart
//     blown up to the page's width)
//   - every chart renders non-empty (a screenshot of it has ink in its frame)
//   - axe-core (WCAG 2.0/2.1 A and AA) finds no violation at either width
// Run by tests/it/report_local.rs:
//   node scripts/site-check.mjs --chrome PATH --chromedriver PATH [--shots DIR] PAGE.html...
// Prints one JSON summary line on stdout; exits 1 on any problem (each on
// stderr), 2 on bad arguments.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Builder } from 'selenium-webdriver';
import chrome from 'selenium-webdriver/chrome.js';

const WIDTHS = [
  { name: 'laptop', width: 1280, height: 900, mobile: false },
  { name: 'phone', width: 375, height: 812, mobile: true },
];
const MIN_FONT_PX = 12;
const MAX_FONT_PX = 24;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function parseArgs(argv) {
  const args = { pages: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--chrome' || a === '--chromedriver' || a === '--shots') {
      args[a.slice(2)] = argv[++i];
    } else {
      args.pages.push(path.resolve(a));
    }
  }
  if (!args.chrome || !args.chromedriver || args.pages.length === 0) {
    console.error('usage: site-check.mjs --chrome PATH --chromedriver PATH [--shots DIR] PAGE.html...');
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);
const axeSource = fs.readFileSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'axe-core', 'axe.min.js'),
  'utf8',
);

/// The ids of a page on disk, for fragment links into pages not loaded.
const idsOnDisk = new Map();
function idsOf(file) {
  if (!idsOnDisk.has(file)) {
    const html = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    idsOnDisk.set(file, new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
  }
  return idsOnDisk.get(file);
}

// Runs in the page: geometry, tick labels, font sizes and links of every
// chart and graph. Returns plain data.
function inspect() {
  const out = { charts: [], links: [], ids: [...document.querySelectorAll('[id]')].map((e) => e.id) };
  for (const a of document.querySelectorAll('a[href]')) {
    out.links.push(a.getAttribute('href'));
  }
  for (const [index, svg] of [...document.querySelectorAll('svg.chart, svg.lineage')].entries()) {
    const chart = {
      index,
      title: svg.querySelector('title')?.textContent ?? '(untitled)',
      kind: svg.classList.contains('lineage') ? 'lineage' : 'chart',
      marks: 0,
      outside: [],
      repeated: [],
      clipped: [],
      fonts: [],
      frame: null,
    };
    const scale = svg.getScreenCTM()?.a ?? 0;
    for (const text of svg.querySelectorAll('text')) {
      const px = parseFloat(getComputedStyle(text).fontSize) * scale;
      chart.fonts.push(px);
    }
    // On screen, after any rotation: text must stay within its picture.
    const picture = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const b = text.getBoundingClientRect();
      if (b.left < picture.left - 1 || b.top < picture.top - 1 || b.right > picture.right + 1 || b.bottom > picture.bottom + 1) {
        chart.clipped.push(text.textContent);
      }
    }
    const frameEl = svg.querySelector('rect.frame');
    if (frameEl) {
      const f = { x: frameEl.x.baseVal.value, y: frameEl.y.baseVal.value, w: frameEl.width.baseVal.value, h: frameEl.height.baseVal.value };
      chart.frame = f;
      const tolerance = 0.5;
      const inside = (x, y) => x >= f.x - tolerance && x <= f.x + f.w + tolerance && y >= f.y - tolerance && y <= f.y + f.h + tolerance;
      for (const mark of svg.querySelectorAll('.mark')) {
        chart.marks++;
        const b = mark.getBBox();
        if (mark.tagName === 'rect') {
          if (b.x < f.x - tolerance || b.x + b.width > f.x + f.w + tolerance) {
            chart.outside.push(`bar ${b.x.toFixed(1)}+${b.width.toFixed(1)}`);
          }
        } else if (!inside(b.x + b.width / 2, b.y + b.height / 2)) {
          chart.outside.push(`point ${(b.x + b.width / 2).toFixed(1)},${(b.y + b.height / 2).toFixed(1)}`);
        }
      }
      for (const line of svg.querySelectorAll('polyline.series')) {
        for (const p of line.points) {
          chart.marks++;
          if (!inside(p.x, p.y)) chart.outside.push(`vertex ${p.x.toFixed(1)},${p.y.toFixed(1)}`);
        }
      }
      const r = frameEl.getBoundingClientRect();
      chart.frameRect = { x: r.x, y: r.y, w: r.width, h: r.height };
    }
    for (const axis of svg.querySelectorAll('g.ticks')) {
      const labels = [...axis.querySelectorAll('text')].map((t) => t.textContent);
      const seen = new Set();
      for (const l of labels) {
        if (seen.has(l)) chart.repeated.push(`${axis.getAttribute('class')}: ${l}`);
        seen.add(l);
      }
    }
    out.charts.push(chart);
  }
  return out;
}

// Runs in the page: how many pixels of a PNG (base64), inside the given
// rectangle (CSS px relative to the PNG's top-left), are ink (dark or
// saturated, not the background or a light grid line).
async function inkIn(png, rect) {
  const img = new Image();
  img.src = `data:image/png;base64,${png}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const x = Math.max(0, Math.floor(rect.x + 3));
  const y = Math.max(0, Math.floor(rect.y + 3));
  const w = Math.min(img.width - x, Math.floor(rect.w - 6));
  const h = Math.min(img.height - y, Math.floor(rect.h - 6));
  if (w <= 0 || h <= 0) return 0;
  const data = ctx.getImageData(x, y, w, h).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    const darkness = 765 - r - g - b;
    const saturation = Math.max(r, g, b) - Math.min(r, g, b);
    if (darkness > 200 || saturation > 60) ink++;
  }
  return ink;
}

const options = new chrome.Options()
  .setChromeBinaryPath(args.chrome)
  .addArguments(
    'headless', 'no-sandbox', 'disable-gpu', 'disable-dev-shm-usage', 'no-first-run',
    'disable-background-networking', 'disable-component-update', 'disable-sync', 'hide-scrollbars',
  );
const driver = await new Builder()
  .forBrowser('chrome')
  .setChromeOptions(options)
  .setChromeService(new chrome.ServiceBuilder(args.chromedriver))
  .build();

const summary = { pages: args.pages.length, widths: [], problems: 0 };
try {
  await driver.manage().setTimeouts({ script: 60_000 });
  for (const view of WIDTHS) {
    await driver.sendDevToolsCommand('Emulation.setDeviceMetricsOverride', {
      width: view.width, height: view.height, deviceScaleFactor: 1, mobile: view.mobile,
    });
    const seen = { name: view.name, width: view.width, charts: 0, marks: 0, links: 0, minFontPx: Infinity, maxFontPx: 0, axeViolations: 0 };
    for (const page of args.pages) {
      const where = `${path.basename(page)} at ${view.width} px`;
      await driver.get(pathToFileURL(page).href);
      const width = await driver.executeScript('return document.documentElement.clientWidth');
      if (width !== view.width) problem(where, `the page is ${width} px wide, not ${view.width}`);
      const overflow = await driver.executeScript('return document.documentElement.scrollWidth - document.documentElement.clientWidth');
      if (overflow > 0) problem(where, `the page scrolls sideways by ${overflow} px`);
      const found = await driver.executeScript(`return (${inspect.toString()})()`);
      for (const href of found.links) {
        seen.links++;
        const url = new URL(href, pathToFileURL(page));
        if (url.protocol !== 'file:') {
          problem(where, `link leaves the site: ${href}`);
          continue;
        }
        const target = fileURLToPath(url);
        if (!fs.existsSync(target)) {
          problem(where, `broken link ${href}: no ${target}`);
          continue;
        }
        const fragment = decodeURIComponent(url.hash.slice(1));
        if (fragment) {
          const ids = target === page ? new Set(found.ids) : idsOf(target);
          if (!ids.has(fragment)) problem(where, `broken link ${href}: no id "${fragment}" in ${path.basename(target)}`);
        }
      }
      const elements = await driver.findElements({ css: 'svg.chart, svg.lineage' });
      for (const chart of found.charts) {
        seen.charts++;
        seen.marks += chart.marks;
        const name = `${where}, "${chart.title}"`;
        for (const o of chart.outside) problem(name, `${o} outside the plot frame`);
        for (const r of chart.repeated) problem(name, `repeated tick label ${r}`);
        for (const c of chart.clipped) problem(name, `text "${c}" leaves the picture`);
        const smallest = Math.min(...chart.fonts);
        seen.minFontPx = Math.min(seen.minFontPx, smallest);
        if (smallest < MIN_FONT_PX - 0.01) problem(name, `text renders at ${smallest.toFixed(1)} px (< ${MIN_FONT_PX})`);
        const largest = Math.max(...chart.fonts);
        seen.maxFontPx = Math.max(seen.maxFontPx, largest);
        if (largest > MAX_FONT_PX) problem(name, `text renders at ${largest.toFixed(1)} px (> ${MAX_FONT_PX})`);
        if (chart.kind === 'chart' && chart.frame) {
          // What a reader sees: a screenshot of the chart, ink inside its frame.
          const element = elements[chart.index];
          await driver.executeScript('arguments[0].scrollIntoView()', element);
          const box = await driver.executeScript('const r = arguments[0].getBoundingClientRect(); return {x: r.x, y: r.y}', element);
          const frame = await driver.executeScript(`const r = arguments[0].querySelector('rect.frame').getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}`, element);
          const png = await element.takeScreenshot();
          const ink = await driver.executeAsyncScript(
            `const done = arguments[arguments.length - 1]; (${inkIn.toString()})(arguments[0], arguments[1]).then(done, (e) => done(-1))`,
            png,
            { x: frame.x - box.x, y: frame.y - box.y, w: frame.w, h: frame.h },
          );
          if (chart.marks > 0 && ink < 30) problem(name, `renders empty: ${ink} px of ink in its frame for ${chart.marks} marks`);
        }
      }
      await driver.executeScript(axeSource);
      const axe = await driver.executeAsyncScript(
        `const done = arguments[arguments.length - 1];
         axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} } })
           .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }))), (e) => done([{ id: 'axe failed', impact: String(e), nodes: [] }]));`,
      );
      for (const v of axe) {
        seen.axeViolations++;
        problem(where, `axe ${v.id} (${v.impact}): ${v.nodes.slice(0, 5).join(', ')}`);
      }
      if (args.shots) {
        fs.mkdirSync(args.shots, { recursive: true });
        const shot = await driver.sendAndGetDevToolsCommand('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
        fs.writeFileSync(path.join(args.shots, `${path.basename(page, '.html')}-${view.width}.png`), Buffer.from(shot.data, 'base64'));
      }
    }
    summary.widths.push(seen);
  }
} finally {
  await driver.quit();
}
summary.problems = problems.length;
for (const p of problems) console.error(p);
console.log(JSON.stringify(summary));
process.exit(problems.length ? 1 : 0);
