// End-to-end journey: starts the whole local stack (python -m devstack) on free ports, drives Debian's
// Chromium through the app with playwright-core, saves screenshots, and stops the stack (also on failure).
//
//   npm run build && npm run e2e
//
// Environment: EMOTIONFY_PYTHON (default ../.venv/bin/python), EMOTIONFY_FIXTURES (default
// ../../shared/fixtures/videos), CHROMIUM_PATH (default /usr/bin/chromium), EMOTIONFY_SCREENSHOTS
// (default ../docs/screenshots), E2E_HEADED=1 to watch.
//
// The audience-study steps add a second Chromium for an invited viewer, with no account, whose camera is a
// fixture face video (make_fake_camera.py writes it as a .y4m into a temporary folder).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, '..');
const repo = resolve(frontend, '..');
const python = process.env.EMOTIONFY_PYTHON || join(repo, '.venv/bin/python');
const fixtures = process.env.EMOTIONFY_FIXTURES || resolve(frontend, '../../shared/fixtures/videos');
const video = join(fixtures, 'openmpf_face_video_01.mp4');
// The study's content (11.8 s) and two viewer recordings added through the API, each with its offset in the
// content: 0-8 s and 4-11.8 s overlap the invited viewer's recording (the whole content) from 4 s to 8 s.
const content = join(fixtures, 'liveportrait_driving_d3.mp4');
const apiViewers = [
  { file: join(fixtures, 'sadtalker_WDA_KatieHill_000.mp4'), offset: 0, label: 'Panel A' },
  { file: join(fixtures, 'liveportrait_driving_d3.mp4'), offset: 4, label: 'Panel B' },
];
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'].filter(
  (a) => !(process.env.E2E_HEADED && a === '--headless'),
);
const shots = process.env.EMOTIONFY_SCREENSHOTS || join(repo, 'docs/screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let stack = null;
let stackLog = '';
let dataDir = null;
let browser = null;
let page = null;
let site = '';
let cameraDir = null;
let camera = '';
let viewerBrowser = null;
const consoleErrors = [];
const expectedErrors = [];

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function startStack() {
  const ports = [];
  while (ports.length < 5) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const [api, siteP, moto, redis, mongo] = ports;
  dataDir = mkdtempSync(join(tmpdir(), 'emotionfy-e2e-'));
  const args = ['-m', 'devstack', '--data-dir', dataDir, '--api-port', api, '--site-port', siteP,
    '--moto-port', moto, '--redis-port', redis, '--mongo-port', mongo].map(String);
  stack = spawn(python, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  site = `http://127.0.0.1:${siteP}`;
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the stack did not start in 180 s:\n${stackLog}`)), 180_000);
    const onData = (chunk) => {
      stackLog += chunk;
      if (stackLog.includes('Emotionfy is running.')) {
        clearTimeout(timer);
        ok();
      }
    };
    stack.stdout.on('data', onData);
    stack.stderr.on('data', onData);
    stack.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the stack exited (${code}) before it was ready:\n${stackLog}`));
    });
    stack.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
  });
  stack.removeAllListeners('exit');
  if (stackLog.includes('not built')) throw new Error('frontend/dist is missing: run `npm run build` first');
}

async function stopStack() {
  if (!stack || stack.exitCode !== null) return;
  const exited = new Promise((ok) => stack.once('exit', ok));
  stack.kill('SIGTERM');
  const timer = setTimeout(() => stack.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stack && stack.exitCode === null) stack.kill('SIGTERM');
    process.exit(130);
  });
}
process.on('exit', () => {
  if (stack && stack.exitCode === null) stack.kill('SIGTERM');
});

// A whole-page screenshot: the viewport grows to the page's height first (a fullPage capture resizes the
// page while shooting, which replays the charts' animations mid-capture), then waits for the animations.
// `on`: the page to shoot (the creator's unless given: the invited viewer's has its own browser).
async function shot(name, on = page) {
  await on.mouse.move(1, 1);
  const viewport = on.viewportSize();
  const height = await on.evaluate(() => document.documentElement.scrollHeight);
  if (height > viewport.height) await on.setViewportSize({ width: viewport.width, height });
  await on.waitForTimeout(1200);
  await on.screenshot({ path: join(shots, `${name}.png`) });
  if (height > viewport.height) await on.setViewportSize(viewport);
}

// The API, as a script calls it (the creator's token comes from signing in through the API with fetch).
let apiUrl = '';
let creatorToken = '';

async function api(path, { method = 'GET', body, token = creatorToken } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(apiUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A file sent with a presigned POST, as the browser sends it: the policy's fields, then the file. */
async function presignedPost(upload, file, contentType) {
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append('file', new Blob([readFileSync(file)], { type: contentType }), basename(file));
  const res = await fetch(upload.url, { method: upload.method || 'POST', body: form });
  assert.ok(res.ok, `upload of ${basename(file)}: ${res.status} ${await res.text()}`);
}

/** Polls the study's viewers until every one is analysed (fails on a failed analysis). */
async function viewersDone(studyId, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let items = [];
  while (Date.now() < deadline) {
    ({ items } = await api(`/studies/${studyId}/viewers`));
    const failed = items.find((v) => v.status === 'failed');
    assert.ok(!failed, `the analysis of ${failed?.label} failed: ${failed?.error}`);
    if (items.length === count && items.every((v) => v.status === 'done')) return items;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  assert.fail(`viewers not analysed in ${timeoutMs / 1000} s: ${items.map((v) => `${v.label} ${v.status}`).join(', ')}`);
}

/**
 * The audience's n at each grid time, counted from each viewer's own analysis as the contract defines it (a
 * viewer counts at t when a sample with a face has recording time r with t - step/2 <= r + offset < t + step/2),
 * independently of the API's curve code. Times are compared in whole microseconds, as the API does.
 */
async function expectedN(curve, viewers) {
  const us = (x) => Math.round(x * 1e6);
  const n = curve.t.map(() => 0);
  for (const v of viewers) {
    const { timeline } = await api(`/videos/${v.id}/results`);
    const seen = curve.t.map((t) => {
      const lo = us(t - curve.step / 2);
      const hi = us(t + curve.step / 2);
      return timeline.some((s) => s.faces > 0 && us(s.t + v.offset) >= lo && us(s.t + v.offset) < hi);
    });
    seen.forEach((yes, k) => { if (yes) n[k] += 1; });
  }
  return n;
}

/** The grid time in the middle of the longest run of points where n equals `value` (a steady place to hover). */
function middleOfRun(curve, value) {
  let best = null;
  let start = null;
  curve.n.forEach((n, k) => {
    if (n === value && start === null) start = k;
    const last = k === curve.n.length - 1;
    if (start !== null && (n !== value || last)) {
      const end = n === value ? k : k - 1;
      if (!best || end - start > best[1] - best[0]) best = [start, end];
      start = null;
    }
  });
  assert.ok(best, `no point with n = ${value}: ${curve.n.join(',')}`);
  return curve.t[Math.floor((best[0] + best[1]) / 2)];
}

/** Hovers the audience chart at content time `t`; returns the n each series of the readout shows. */
async function audienceReadoutAt(t, end) {
  await page.mouse.move(1, 1);
  const box = await page.getByTestId('audience-chart').locator('.recharts-cartesian-grid').boundingBox();
  assert.ok(box, 'the audience chart is drawn');
  await page.mouse.move(box.x + (box.width * t) / end, box.y + box.height / 2);
  await page.getByTestId('audience-tooltip').waitFor();
  return page.getByTestId('audience-tooltip').getByTestId('tooltip-n').allTextContents();
}

before(async () => {
  assert.ok(existsSync(join(frontend, 'dist/index.html')), 'frontend/dist is missing: run `npm run build` first');
  assert.ok(existsSync(video), `fixture video not found: ${video} (set EMOTIONFY_FIXTURES)`);
  for (const f of [content, ...apiViewers.map((v) => v.file)]) assert.ok(existsSync(f), `fixture video not found: ${f}`);
  mkdirSync(shots, { recursive: true });
  // The invited viewer's camera: a face fixture as a .y4m (~7 MB a second; Chromium loops it), outside git.
  cameraDir = mkdtempSync(join(tmpdir(), 'emotionfy-e2e-camera-'));
  camera = join(cameraDir, 'camera.y4m');
  execFileSync(python, [join(here, 'make_fake_camera.py'), camera, '--seconds', '14'], { cwd: repo, stdio: 'ignore' });
  await startStack();
  browser = await chromium.launch({ executablePath: chromiumPath, headless: !process.env.E2E_HEADED, args: CHROMIUM_FLAGS });
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The wrong-password step's 401 from /auth/login is part of the journey, not a fault.
    const expected = m.text().includes('status of 401') && (m.location().url || '').endsWith('/auth/login');
    (expected ? expectedErrors : consoleErrors).push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  try {
    await viewerBrowser?.close();
    await browser?.close();
  } finally {
    await stopStack();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (cameraDir) rmSync(cameraDir, { recursive: true, force: true });
    if (expectedErrors.length) {
      console.log(`expected browser console errors (the wrong-password sign-in): ${expectedErrors.length}`);
    }
    if (consoleErrors.length) console.log(`browser console errors:\n  ${consoleErrors.join('\n  ')}`);
  }
});

const email = `e2e-${Date.now()}@example.com`;
const password = 'calm faces 2024';

test('the journey of a content creator', async (t) => {
  await t.test('an unknown visitor lands on sign-in', async () => {
    await page.goto(site + '/');
    await page.waitForURL(/\/signin$/);
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await shot('sign-in');
  });

  await t.test('create an account, with inline validation first', async () => {
    await page.getByRole('link', { name: 'Create account' }).click();
    await page.waitForURL(/\/register$/);
    await page.getByLabel('Email', { exact: true }).fill('not-an-email');
    await page.getByLabel('Password', { exact: true }).fill('aaaaaaaaaaaa');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter an email address like ana@example.com.').waitFor();
    await page.getByText('The password needs at least 4 different characters.').waitFor();
    assert.equal(await page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid'), 'true');
    await shot('register');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Name (optional)').fill('Ana');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    // Signed in straight away: no second typing of the password.
    await page.waitForURL(site + '/');
    await page.getByRole('heading', { name: 'Analyse a new video' }).waitFor();
  });

  await t.test('a wrong password is answered in words, then sign in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin$/);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('wrong password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email or the password is wrong.').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(site + '/');
    await page.getByRole('heading', { name: 'Analyse a new video' }).waitFor();
    await page.getByText('No videos yet.').waitFor();
  });

  await t.test('upload a video and watch the analysis until done', async () => {
    // The size limit shown comes from the site's /config.json (the servers write it from the settings).
    const config = await page.evaluate(() => fetch('/config.json').then((r) => r.json()));
    assert.ok(config.limits.maxUploadBytes > 0, `an upload limit in /config.json: ${JSON.stringify(config)}`);
    await page.getByText(/^Up to \d/).waitFor();
    await page.getByLabel('Video file').setInputFiles(video);
    await page.getByLabel('Title').fill('Viewer 1 — trailer');
    // No upload without the consent of the people filmed: the statement is shown, the box must be ticked.
    const upload = page.getByRole('button', { name: 'Upload and analyse' });
    await page.getByText('Consent of the people filmed').waitFor();
    assert.ok(await upload.isDisabled(), 'upload disabled until the consent box is ticked');
    await page.getByLabel('The people in this video agreed to be filmed and analysed.').check();
    await upload.click();
    const seen = new Set();
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const bars = await page.locator('.progress-text').allTextContents();
      bars.forEach((b) => seen.add(b));
      if (await page.locator('.progress-text', { hasText: 'Analysis complete.' }).isVisible()) break;
      const failed = page.getByText('The analysis failed');
      if (await failed.isVisible()) assert.fail(await failed.textContent());
      await page.waitForTimeout(100);
    }
    await page.locator('.progress-text', { hasText: 'Analysis complete.' }).waitFor({ timeout: 1000 });
    console.log(`  progress texts seen: ${[...seen].join(' | ')}`);
    assert.ok([...seen].some((s) => /Uploading|Queued|Analysing|Preparing/.test(s)), 'some progress was shown');
    const item = page.getByRole('link', { name: /^Viewer 1 — trailer/ });
    await item.waitFor();
    await item.getByText('Done').waitFor();
    // the duration (the date beside it can hold '0:0' too, e.g. at 10:05)
    await item.locator('.history-meta > span', { hasText: /Duration\s*0:0\d/ }).waitFor();
    await shot('home-analysed');
    await page.getByRole('button', { name: 'Upload another video' }).click();
    await page.getByLabel('Video file').waitFor();
    await shot('home');
    await item.click();
  });

  await t.test('open the results: video beside the animated timeline', async () => {
    await page.waitForURL(/\/videos\/[0-9a-f]{32}$/);
    await page.waitForFunction(() => document.title === 'Viewer 1 — trailer · Emotionfy');
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1'); // focus moved to the new page
    const figure = page.getByRole('figure', { name: /timeline/i });
    await figure.waitFor();
    await figure.locator('.recharts-line-curve').first().waitFor();
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 1, null, { timeout: 30_000 });
    await page.getByRole('heading', { name: 'Key moments' }).waitFor();
    await page.getByText('Dominant emotion').first().waitFor();
    await shot('results');
  });

  await t.test('hover the chart: the tooltip shows every emotion and the face count', async () => {
    const surface = page.getByRole('figure', { name: /timeline/i }).locator('.chart-timeline .recharts-cartesian-grid');
    const box = await surface.boundingBox();
    assert.ok(box, 'the chart grid is visible');
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    const tip = page.getByTestId('timeline-tooltip');
    await tip.waitFor();
    const text = await tip.textContent();
    assert.match(text, /\d+(\.\d)?\s?%/, `a percentage in the tooltip: ${text}`);
    assert.match(await page.getByTestId('tooltip-faces').textContent(), /^\d+$/);
    for (const label of ['Happy', 'Neutral', 'Angry']) assert.ok(text.includes(label), `${label} in tooltip`);
    assert.match(await page.getByTestId('tooltip-valence').textContent(), /^Valence[+\-−]?\d\.\d\d$/);
  });

  await t.test('click the chart: the video seeks there and the cursor follows', async () => {
    const before = await page.evaluate(() => document.querySelector('video').currentTime);
    const box = await page.getByRole('figure', { name: /timeline/i }).locator('.chart-timeline .recharts-cartesian-grid').boundingBox();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
    await page.waitForFunction((b) => Math.abs(document.querySelector('video').currentTime - b) > 0.5, before);
    const after = await page.evaluate(() => document.querySelector('video').currentTime);
    assert.ok(after > 1.5 && after < 3.1, `seeked to ${after}`);
    assert.ok(await page.locator('.timeline-cursor').count(), 'a playback cursor is drawn (an overlay, not a chart child)');
    // keyboard: focus the chart, move with the arrow keys, Enter seeks to the highlighted sample
    await page.evaluate(() => { document.querySelector('video').currentTime = 0; });
    await page.getByRole('figure', { name: /timeline/i }).locator('svg.recharts-surface[tabindex]').focus();
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
    await page.getByTestId('timeline-tooltip').waitFor();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('video').currentTime > 0.3);
    // a key moment seeks too (to its own time, which may be 0:00)
    const moment = page.locator('.moment').last();
    if (await moment.count()) {
      const at = Number(await moment.getAttribute('data-t'));
      await page.evaluate((t) => { document.querySelector('video').currentTime = t + 1; }, at);
      await moment.click();
      await page.waitForFunction((t) => Math.abs(document.querySelector('video').currentTime - t) < 0.25, at);
    }
  });

  await t.test('choose one tracked face instead of the mean', async () => {
    const select = page.getByLabel('Faces');
    const options = await select.locator('option').allTextContents();
    assert.ok(options[0].includes('Mean over faces'));
    if (options.length > 1) {
      await select.selectOption({ index: 1 });
      await page.getByRole('figure', { name: /timeline/i }).locator('.recharts-line-curve').first().waitFor();
      await select.selectOption('mean');
    }
  });

  await t.test('chart views: stacked, dominant-emotion ribbon, every sample; hover and seek in each', async () => {
    const figure = page.getByRole('figure', { name: /timeline/i });
    const panel = page.locator('.chart-panel');
    assert.match(await figure.locator('figcaption').textContent(), /smoothed with a 1 s moving average/);
    await page.getByTestId('valence-strip').locator('.recharts-line-curve').waitFor(); // the valence line
    await page.mouse.move(1, 1);
    await page.waitForTimeout(900); // the CSS wipe
    await panel.screenshot({ path: join(shots, 'timeline-lines.png') });
    for (const [name, view, shotName] of [['Stacked', 'stacked', 'timeline-stacked'], ['Dominant emotion', 'ribbon', 'timeline-ribbon']]) {
      await page.getByRole('button', { name, exact: true }).click();
      await page.locator(`figure[data-view="${view}"] .chart-timeline .recharts-area-area`).first().waitFor();
      const box = await figure.locator('.chart-timeline .recharts-cartesian-grid').boundingBox();
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.getByTestId('timeline-tooltip').waitFor();
      await page.evaluate(() => { document.querySelector('video').currentTime = 0; });
      await page.mouse.click(box.x + box.width * 0.6, box.y + box.height / 2);
      await page.waitForFunction(() => document.querySelector('video').currentTime > 1);
      assert.ok(await figure.locator('.timeline-cursor').count() >= 1, `a playback cursor in the ${view} view`);
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.waitForTimeout(900);
      await panel.screenshot({ path: join(shots, `${shotName}.png`) });
    }
    // the valence strip seeks too
    await page.evaluate(() => { document.querySelector('video').currentTime = 0; });
    const strip = await page.getByTestId('valence-strip').locator('.recharts-surface').first().boundingBox();
    await page.mouse.click(strip.x + strip.width * 0.6, strip.y + strip.height / 2);
    await page.waitForFunction(() => document.querySelector('video').currentTime > 1);
    // every sample, unsmoothed, on demand
    await page.getByRole('button', { name: 'Lines', exact: true }).click();
    await page.getByLabel('Every sample (unsmoothed)').check();
    await page.locator('figure[data-raw="true"] .recharts-line-curve').first().waitFor();
    assert.match(await figure.locator('figcaption').textContent(), /Every sample as analysed/);
    await page.getByLabel('Every sample (unsmoothed)').uncheck();
    // the model in words, the technical names on demand
    assert.match(await page.getByTestId('model-sentence').textContent(), /^Analysed by /);
    await page.getByText('Technical details').click();
    await page.locator('.tech-details dd').first().waitFor();
    await page.getByText('Technical details').click();
  });

  await t.test('switch the timeline to reactions and attention, and back', async () => {
    const reactions = page.getByRole('button', { name: 'Reactions' });
    await reactions.click();
    assert.equal(await reactions.getAttribute('aria-pressed'), 'true');
    const figure = page.getByRole('figure', { name: /timeline/i });
    await figure.locator('.recharts-line-curve').first().waitFor();
    const legend = await figure.locator('.recharts-legend-item-text').allTextContents();
    assert.deepEqual(legend, ['Interest', 'Boredom', 'Confusion', 'Smile', 'Attention']);
    assert.ok(await page.getByText('Attention', { exact: true }).count(), 'an attention card among the summary');
    await page.getByRole('button', { name: 'Emotions' }).click();
    await figure.locator('.recharts-line-curve').first().waitFor();
  });

  await t.test('results read well on a phone', async () => {
    await page.setViewportSize(PHONE);
    await shot('results-phone');
    await page.setViewportSize(DESKTOP);
  });

  // Audience studies: the creator shows a content video to viewers, one invited by a link (a second browser,
  // no account, a fake camera), two added through the API, and reads the audience curve and its n.
  const studyTitle = 'Trailer, cut 2';
  let resultsUrl = '';
  let studyId = '';
  let inviteUrl = '';
  let invitedViewerId = '';
  let viewer = null;

  await t.test('studies: create one with its content video, uploaded with progress', async () => {
    resultsUrl = page.url();
    const config = await page.evaluate(() => fetch('/config.json').then((r) => r.json()));
    apiUrl = new URL(config.apiUrl, site).href.replace(/\/$/, '');
    creatorToken = (await api('/auth/login', { method: 'POST', body: { email, password }, token: '' })).access_token;
    await page.getByRole('link', { name: 'Studies', exact: true }).click();
    await page.waitForURL(/\/studies$/);
    await page.getByRole('heading', { name: 'Studies', level: 1 }).waitFor();
    await page.getByText('No studies yet. Create one above.').waitFor();
    await page.getByLabel('Study title').fill(studyTitle);
    await page.getByLabel('Content video').setInputFiles(content);
    // its length is read in the browser before anything is sent
    await page.getByTestId('content-duration').filter({ hasText: basename(content) }).waitFor();
    // every progress text shown, however briefly (a small file on loopback uploads in a moment)
    await page.evaluate(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        document.querySelectorAll('.progress-text').forEach((e) => window.progressSeen.push(e.textContent));
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Create study and upload' }).click();
    await page.waitForURL(/\/studies\/[0-9a-f]{32}$/, { timeout: 60_000 });
    const seen = await page.evaluate(() => window.progressSeen);
    assert.ok(seen.some((s) => /^Uploading… \d+/.test(s)), `upload progress shown: ${seen.join(' | ')}`);
    studyId = page.url().split('/').pop();
    await page.getByRole('heading', { name: studyTitle, level: 1 }).waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid="content-video"]')?.readyState ?? 0) >= 1, null, { timeout: 30_000 });
    await page.getByText('No analysed viewer yet.', { exact: false }).waitFor();
    await page.getByText('No viewers yet.').waitFor();
    const study = await api(`/studies/${studyId}`);
    assert.equal(study.title, studyTitle);
    assert.equal(study.content.uploaded, true);
    assert.ok(Math.abs(study.content.duration - 11.8) < 0.2, `the content's duration as read in the browser: ${study.content.duration}`);
  });

  await t.test('studies: an invite link, read from the page and copied', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site });
    await page.getByRole('button', { name: 'Create link' }).click();
    const link = page.getByTestId('invite-link');
    await link.waitFor();
    inviteUrl = await link.getByLabel('Invite link').inputValue();
    const escaped = site.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(inviteUrl, new RegExp(`^${escaped}/watch/[A-Za-z0-9_-]{32,}$`));
    await link.getByRole('button', { name: 'Copy' }).click();
    await link.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), inviteUrl);
    const row = page.locator('.invites-table tbody tr');
    assert.equal(await row.count(), 1);
    await row.getByText('Active', { exact: true }).waitFor();
    await row.getByText('0 of 50', { exact: true }).waitFor();
  });

  await t.test('an invited viewer (no account, a phone) agrees, watches while the camera records, and the WebM is sent', async () => {
    viewerBrowser = await chromium.launch({
      executablePath: chromiumPath,
      headless: !process.env.E2E_HEADED,
      args: [...CHROMIUM_FLAGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`],
    });
    viewer = await (await viewerBrowser.newContext({ viewport: PHONE, locale: 'en-US' })).newPage();
    viewer.setDefaultTimeout(20_000);
    viewer.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`viewer: ${m.text()}`);
    });
    viewer.on('pageerror', (e) => consoleErrors.push(`viewer: ${e}`));
    const posts = [];
    viewer.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r);
    });
    const statement = (await api('/consent', { token: '' })).viewer;
    await viewer.goto(inviteUrl);
    await viewer.getByText('You are invited to a study').waitFor();
    await viewer.getByRole('heading', { name: studyTitle, level: 1 }).waitFor();
    assert.equal(await viewer.getByTestId('viewer-statement').textContent(), statement.statements.en);
    await viewer.getByText(`Version ${statement.version}`, { exact: false }).waitFor();
    assert.equal(await viewer.getByTestId('camera-preview').count(), 0, 'no camera before the answer');
    await shot('viewer-consent', viewer);
    await viewer.getByRole('button', { name: 'Yes, I agree' }).click();
    await viewer.getByRole('heading', { name: 'Ready when you are' }).waitFor();
    // the fake camera's picture in the preview
    await viewer.waitForFunction(() => (document.querySelector('[data-testid="camera-preview"]')?.videoWidth ?? 0) > 0);
    await viewer.evaluate(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        document.querySelectorAll('.progress-text').forEach((e) => window.progressSeen.push(e.textContent));
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await viewer.getByRole('button', { name: 'Start' }).click();
    await viewer.getByRole('heading', { name: 'Watching' }).waitFor();
    await viewer.getByText('Recording: the camera is on until the video ends.').waitFor();
    await viewer.waitForFunction(() => {
      const v = document.querySelector('[data-testid="watch-content"]');
      return v && !v.paused && v.currentTime > 3;
    }, null, { timeout: 30_000 });
    await shot('viewer-recording', viewer);
    // the recording stops with the content (11.8 s) and is sent
    await viewer.getByRole('heading', { name: 'Thank you!' }).waitFor({ timeout: 60_000 });
    const seen = await viewer.evaluate(() => window.progressSeen);
    assert.ok(seen.some((s) => /^Uploading… \d+/.test(s)), `upload progress shown: ${seen.join(' | ')}`);
    await viewer.getByTestId('watch-status').waitFor();
    await viewer.getByRole('button', { name: 'Withdraw and delete my recording' }).waitFor();
    await shot('viewer-thanks', viewer);

    // What was sent: the joined viewer, its upload asked for as WebM and POSTed to storage, where the object is
    // a WebM file (an EBML header with the webm doctype) of the size announced.
    const joined = posts.find((r) => r.url().endsWith('/invite/viewers'));
    assert.ok(joined, 'POST /invite/viewers made');
    invitedViewerId = (await (await joined.response()).json()).viewer.id;
    const asked = posts.find((r) => r.url().endsWith(`/invite/viewers/${invitedViewerId}/upload`));
    assert.ok(asked, 'an upload asked for');
    const request = asked.postDataJSON();
    assert.equal(request.content_type, 'video/webm');
    assert.equal(request.filename, 'recording.webm');
    const { upload } = await (await asked.response()).json();
    const sent = posts.find((r) => r.url() === upload.url);
    assert.ok(sent, `the recording POSTed to ${upload.url}`);
    assert.ok((await sent.response())?.ok(), 'storage accepted the recording');
    assert.ok(request.size > 50_000, `a recording of some size: ${request.size} bytes`);
    const record = await api(`/videos/${invitedViewerId}`);
    assert.equal(record.content_type, 'video/webm');
    assert.equal(record.size, request.size);
    const media = await api(`/videos/${invitedViewerId}/media`);
    const stored = Buffer.from(await (await fetch(media.url)).arrayBuffer());
    assert.equal(stored.length, request.size);
    assert.deepEqual([...stored.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'an EBML header');
    assert.ok(stored.subarray(0, 64).includes(Buffer.from('webm')), 'the webm doctype');
  });

  await t.test('the study page follows the analysis and shows the curve with n = 1', async () => {
    // the page polls while a viewer is analysed: opened now, it follows the invited viewer to Done
    await page.reload();
    const row = page.locator(`tr[data-viewer="${invitedViewerId}"]`);
    await row.getByText('Invite link').waitFor();
    await row.getByRole('rowheader', { name: 'Viewer 1', exact: true }).waitFor();
    const started = Date.now();
    await row.getByText('Done', { exact: true }).waitFor({ timeout: 240_000 });
    console.log(`  the invited viewer's recording analysed ${((Date.now() - started) / 1000).toFixed(0)} s after the page opened`);
    await page.getByTestId('viewers-included').filter({ hasText: 'Mean of 1 analysed viewers' }).waitFor();
    await page.getByTestId('study-meta').filter({ hasText: '1 of 1 analysed' }).waitFor();
    const curve = await api(`/studies/${studyId}/audience?step=0.5`);
    assert.equal(curve.viewers_included, 1);
    assert.equal(Math.max(...curve.n), 1, `n: ${curve.n.join(',')}`);
    assert.deepEqual(curve.n, await expectedN(curve, [{ id: invitedViewerId, offset: 0 }]));
    assert.ok(curve.n.filter((n) => n === 1).length >= curve.n.length / 2, `a face in most of the recording: ${curve.n.join(',')}`);
    const at = middleOfRun(curve, 1);
    const ns = await audienceReadoutAt(at, Math.max(curve.duration, curve.t.at(-1)));
    assert.ok(ns.length >= 7 && ns.every((x) => x === 'n = 1'), `readout at ${at} s: ${ns.join(', ')}`);
    await page.getByTestId('audience-tooltip').getByText('no band (n < 2)').first().waitFor();
    const stripTicks = await page.getByTestId('audience-strip').locator('.recharts-cartesian-axis-tick-value').allTextContents();
    assert.deepEqual(stripTicks, ['0', '1']);
    // the viewer's thank-you page follows its analysis too
    await viewer.getByTestId('watch-status').getByText('Done', { exact: true }).waitFor({ timeout: 30_000 });
    await viewerBrowser.close();
    viewerBrowser = null;
  });

  await t.test('two more viewers added through the API with their consent: n rises where they overlap', async () => {
    const statement = (await api('/consent', { token: '' })).viewer;
    for (const v of apiViewers) {
      const created = await api(`/studies/${studyId}/viewers`, {
        method: 'POST',
        body: {
          filename: basename(v.file),
          content_type: 'video/mp4',
          size: statSync(v.file).size,
          offset: v.offset,
          label: v.label,
          consent: { given: true, text_version: statement.version, language: 'en' },
        },
      });
      assert.equal(created.viewer.offset, v.offset);
      await presignedPost(created.upload, v.file, 'video/mp4');
    }
    const started = Date.now();
    const items = await viewersDone(studyId, 3, 240_000);
    console.log(`  two API viewers analysed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const curve = await api(`/studies/${studyId}/audience?step=0.5`);
    assert.equal(curve.viewers_included, 3);
    // n at every moment is the number of viewers whose recording covers it with a face
    assert.deepEqual(curve.n, await expectedN(curve, items.map((v) => ({ id: v.id, offset: v.offset }))));
    const maxN = Math.max(...curve.n);
    assert.ok(maxN >= 2, `n: ${curve.n.join(',')}`);
    // where all three recordings overlap (content 4-8 s), more than one viewer stands behind the curve
    const overlap = curve.t.map((t, k) => [t, curve.n[k]]).filter(([t]) => t >= 4.5 && t <= 7.5);
    assert.ok(overlap.some(([, n]) => n >= 2), `n from 4.5 to 7.5 s: ${overlap.map(([, n]) => n).join(',')}`);
    // the page shows the higher n after a reload: the readout, the strip's scale and the count of viewers
    await page.reload();
    await page.getByTestId('viewers-included').filter({ hasText: 'Mean of 3 analysed viewers' }).waitFor();
    const at = middleOfRun(curve, maxN);
    const ns = await audienceReadoutAt(at, Math.max(curve.duration, curve.t.at(-1)));
    assert.ok(ns.length >= 7 && ns.every((x) => x === `n = ${maxN}`), `readout at ${at} s: ${ns.join(', ')}`);
    await page.getByTestId('audience-tooltip').getByText(/^95%: /).first().waitFor(); // a band from n = 2 on
    const stripTicks = await page.getByTestId('audience-strip').locator('.recharts-cartesian-axis-tick-value').allTextContents();
    assert.deepEqual(stripTicks, ['0', String(maxN)]);
    for (const label of ['Viewer 1', ...apiViewers.map((v) => v.label)]) {
      await page.locator('.viewers-table tbody tr', { hasText: label }).getByText('Done', { exact: true }).waitFor();
    }
    await shot('study-page');
  });

  await t.test('studies list and compare: a second study, made through the API, beside the first', async () => {
    // a shorter content (8 s) with one viewer: its audience differs from the trailer's
    const second = await api('/studies', {
      method: 'POST',
      body: { title: 'Talking head', content: { filename: basename(apiViewers[0].file), content_type: 'video/mp4', size: statSync(apiViewers[0].file).size, duration: 8 } },
    });
    await presignedPost(second.upload, apiViewers[0].file, 'video/mp4');
    const statement = (await api('/consent', { token: '' })).viewer;
    const added = await api(`/studies/${second.study.id}/viewers`, {
      method: 'POST',
      body: {
        filename: basename(content),
        content_type: 'video/mp4',
        size: statSync(content).size,
        offset: 0,
        consent: { given: true, text_version: statement.version, language: 'en' },
      },
    });
    await presignedPost(added.upload, content, 'video/mp4');
    await viewersDone(second.study.id, 1, 240_000);

    await page.getByRole('link', { name: 'Back to studies' }).click();
    await page.waitForURL(/\/studies$/);
    const item = page.getByRole('link', { name: new RegExp(`^${studyTitle}`) });
    await item.getByTestId('study-viewers').filter({ hasText: '3 of 3 analysed' }).waitFor();
    await page.getByRole('link', { name: /^Talking head/ }).getByTestId('study-viewers').filter({ hasText: '1 of 1 analysed' }).waitFor();
    const titles = await page.locator('.history .history-title').allTextContents();
    assert.deepEqual(titles, ['Talking head', studyTitle], 'newest first');
    await shot('studies');

    await page.getByRole('link', { name: 'Compare studies' }).click();
    await page.waitForURL(/\/studies\/compare/);
    await page.getByRole('heading', { name: 'Compare two studies', level: 1 }).waitFor();
    await page.getByLabel('Study A').selectOption({ label: studyTitle });
    await page.getByLabel('Study B').selectOption({ label: 'Talking head' });
    await page.getByLabel('Series').selectOption('neutral');
    await page.getByRole('heading', { name: 'Neutral: A and B' }).waitFor();
    await page.getByTestId('audience-chart').locator('.recharts-line-curve').first().waitFor();
    assert.equal(await page.getByTestId('audience-strip').getAttribute('data-kind'), 'signed');
    await page.getByTestId('compare-diffs').locator('li').first().waitFor();
    // the difference is A's mean minus B's wherever both have viewers, and nothing beyond B's 8 s
    const cmp = await api(`/compare?a=${studyId}&b=${second.study.id}&step=0.5`);
    cmp.t.forEach((t, k) => {
      const a = cmp.a.mean.neutral[k];
      const b = cmp.b.mean.neutral[k];
      const d = cmp.difference.neutral[k];
      if (a == null || b == null) assert.equal(d, null, `no difference at ${t} s`);
      else assert.ok(Math.abs(d - (a - b)) < 1e-3, `difference at ${t} s: ${d} vs ${a} - ${b}`);
    });
    assert.ok(cmp.t.some((t, k) => t > 8.5 && cmp.difference.neutral[k] === null), 'B has nobody after its 8 s');
    assert.ok(cmp.difference.neutral.some((d) => d !== null), 'A and B overlap');
    await shot('compare');
    // the new pages wrote nothing to the console (CSP violations, React warnings, failed requests)
    assert.deepEqual(consoleErrors, []);
    await page.goto(resultsUrl);
    await page.getByRole('figure', { name: /timeline/i }).locator('.recharts-line-curve').first().waitFor();
  });

  await t.test('switch to Spanish; it is remembered across a reload', async () => {
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('figure', { name: /línea de tiempo/i }).waitFor();
    await page.getByRole('heading', { name: 'Momentos clave' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'es');
    await page.reload();
    await page.getByRole('figure', { name: 'Línea de tiempo de emociones' }).waitFor(); // still signed in, still Spanish
    await page.getByLabel('Idioma').waitFor();
  });

  await t.test('statistics', async () => {
    await page.getByRole('link', { name: 'Estadísticas' }).click();
    await page.waitForURL(/\/stats$/);
    await page.getByRole('heading', { name: 'Estadísticas', level: 1 }).waitFor();
    await page.getByRole('figure', { name: 'Distribución de emociones en los vídeos' }).waitFor();
    await page.getByRole('figure', { name: 'Tendencia semanal de vídeos, valencia y expresividad' }).waitFor();
    await page.getByRole('cell', { name: 'Viewer 1 — trailer' }).waitFor();
    await shot('statistics');
    await page.locator('.multiples').screenshot({ path: join(shots, 'statistics-weekly.png') });
  });

  await t.test('delete a video from its results page (after a confirm)', async () => {
    await page.getByRole('link', { name: 'Viewer 1 — trailer' }).click();
    await page.waitForURL(/\/videos\/[0-9a-f]{32}$/);
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Eliminar vídeo' }).click();
    await page.waitForURL(site + '/');
    await page.getByText('Aún no hay vídeos.').waitFor();
    assert.equal(await page.evaluate(() => document.title), 'Vídeos · Emotionfy');
  });

  await t.test('account settings: retention, export', async () => {
    await page.getByRole('link', { name: 'Cuenta' }).click();
    await page.waitForURL(/\/account$/);
    await page.getByRole('heading', { name: 'Ajustes de la cuenta', level: 1 }).waitFor();
    assert.equal(await page.getByLabel('Días después del análisis', { exact: true }).inputValue(), '30'); // the default
    await page.getByLabel('Guardar el vídeo hasta que yo lo borre').check();
    await page.getByRole('button', { name: 'Guardar', exact: true }).click();
    await page.getByText(/^Guardado\./).waitFor();
    const download = page.waitForEvent('download', { timeout: 30_000 });
    await page.getByRole('button', { name: 'Exportar todo' }).click();
    await page.getByText(/^Tu archivo está listo/).waitFor({ timeout: 30_000 });
    assert.match((await download).suggestedFilename(), /\.zip$/);
    await shot('account');
  });

  await t.test('sign out returns to sign-in and protects the app', async () => {
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await page.waitForURL(/\/signin$/);
    await page.getByLabel('Correo electrónico').waitFor();
    await page.getByLabel('Contraseña').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('emotionfy.refresh')), null);
    await page.goto(site + '/stats');
    await page.waitForURL(/\/signin$/);
  });

  await t.test('erase the account: password again, signed out, and it cannot sign in any more', async () => {
    await page.getByLabel('Correo electrónico').fill(email);
    await page.getByLabel('Contraseña').fill(password);
    await page.getByRole('button', { name: 'Iniciar sesión' }).click();
    await page.waitForURL(/\/stats$/); // signed in, on the page asked for before
    await page.getByRole('link', { name: 'Cuenta' }).click();
    await page.waitForURL(/\/account$/);
    await page.getByRole('button', { name: 'Borrar mi cuenta…' }).click();
    await page.getByLabel('Contraseña').fill(password);
    await page.getByRole('button', { name: 'Borrar todo para siempre' }).click();
    await page.waitForURL(/\/signin$/);
    await page.getByText('Tu cuenta y todos sus datos se han borrado.').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('emotionfy.refresh')), null);
    await page.getByLabel('Correo electrónico').fill(email);
    await page.getByLabel('Contraseña').fill(password);
    await page.getByRole('button', { name: 'Iniciar sesión' }).click();
    await page.getByText('El correo o la contraseña no son correctos.').waitFor();
  });
});
