// End-to-end journey: starts the whole local stack (python -m devstack) on free ports, drives Debian's
// Chromium through the app with playwright-core, saves screenshots, and stops the stack (also on failure).
//
//   npm run build && npm run e2e
//
// Environment: EMOTIONFY_PYTHON (default ../.venv/bin/python), EMOTIONFY_FIXTURES (default
// ../../shared/fixtures/videos), CHROMIUM_PATH (default /usr/bin/chromium), EMOTIONFY_SCREENSHOTS
// (default ../docs/screenshots), E2E_HEADED=1 to watch.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
async function shot(name) {
  await page.mouse.move(1, 1);
  const viewport = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (height > viewport.height) await page.setViewportSize({ width: viewport.width, height });
  await page.waitForTimeout(1200);
  await page.screenshot({ path: join(shots, `${name}.png`) });
  if (height > viewport.height) await page.setViewportSize(viewport);
}

before(async () => {
  assert.ok(existsSync(join(frontend, 'dist/index.html')), 'frontend/dist is missing: run `npm run build` first');
  assert.ok(existsSync(video), `fixture video not found: ${video} (set EMOTIONFY_FIXTURES)`);
  mkdirSync(shots, { recursive: true });
  await startStack();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: !process.env.E2E_HEADED,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'].filter(
      (a) => !(process.env.E2E_HEADED && a === '--headless'),
    ),
  });
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
    await browser?.close();
  } finally {
    await stopStack();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
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
