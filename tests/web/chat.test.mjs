// Browser test of the Veil chat page: a 9-node testnet of real processes, Alice and Bob made
// with `veil init`, both running `veil daemon` with the web plugin; Debian's headless chromium
// driven by playwright-core. Alice types a message in her page and it shows in Bob's; an image
// sent from Bob's page shows inline in Alice's; a FLAC file is sent only after Bob confirms that
// it goes with its metadata, and under its own name only with "Keep file name" ticked; requests without the token, or with a foreign
// Origin or Host, are refused; a stranger's group invitation is accepted in the page, a group is
// made there, and group messages go both ways between pages and the CLI. Screenshots go to
// OUT/screenshots.
//
//   node chat.test.mjs --veil BUILD/bin/veil --out DIR [--chromium PATH] [--image FILE]
//
// Exits 0 when every check passed, 1 otherwise (each failure is printed).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const veil = opt('--veil');
const out = opt('--out', path.join(os.tmpdir(), 'veil-web-test'));
const chromiumPath = opt('--chromium', '/usr/bin/chromium');
const image = opt('--image', path.join(here, '..', 'data', 'images', 'png', 'rgb-full.png'));
if (!veil) {
  console.error('usage: node chat.test.mjs --veil PATH_TO_VEIL --out DIR');
  process.exit(2);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.error(`playwright-core is missing: run 'npm ci' in ${here} (scripts/setup.sh does)`);
  process.exit(1);
}

const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-web-'));
const shots = path.join(out, 'screenshots');
fs.mkdirSync(shots, { recursive: true });
const children = [];
let browser = null;
const deadline = setTimeout(() => {
  console.error('FAIL the whole test took longer than 240 s');
  cleanup().then(() => process.exit(1));
}, 240_000);

function run(argv, timeoutMs = 60_000) {
  return execFileSync(veil, argv, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

// `veil init` writes the client config; the web plugin joins its plugin list.
function makePerson(name) {
  const home = path.join(work, name);
  const initOut = run(['init', '--home', home, '--network', path.join(work, 'net', 'network.toml')]);
  const id = /Your Veil ID: (05[0-9a-f]{64})/.exec(initOut)[1];
  const config = path.join(home, 'veil.toml');
  let text = fs.readFileSync(config, 'utf8');
  text = text.replace(/plugins = \[([^\]]*)\]/, (all, list) => {
    const have = list.split(',').map((s) => s.trim().replace(/'/g, ''));
    const add = ['web', 'attachments', 'exif-strip'].filter((p) => !have.includes(p) &&
      fs.existsSync(path.join(path.dirname(veil), '..', 'lib', 'veil', 'plugins', `veil-plugin-${p}.so`)));
    return add.length ? `plugins = [${list}, ${add.map((p) => `'${p}'`).join(', ')} ]` : all;
  });
  fs.writeFileSync(config, text);
  return { name, home, id };
}

// Starts `veil daemon` and resolves with the login URL it prints (also in HOME/web/url).
function startDaemon(person) {
  return new Promise((resolve, reject) => {
    const child = spawn(veil, ['--home', person.home, 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    person.daemon = child;
    let stdout = '';
    const log = fs.createWriteStream(path.join(out, `${person.name}-daemon.log`), { flags: 'a' });
    child.stderr.pipe(log);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /veil web: open (http:\/\/127\.0\.0\.1:\d+\/login\?token=[0-9a-f]{64})\n/.exec(stdout);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`${person.name}'s daemon exited with ${code}: ${stdout}`)));
  });
}

function rawRequest(port, { method = 'GET', path: p = '/', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  try { run(['testnet', 'down', '--dir', path.join(work, 'net')]); } catch { /* already down */ }
  fs.rmSync(work, { recursive: true, force: true });
}

// Polls `fn` in the page until it returns true (page.evaluate is not subject to the page's
// CSP, unlike waitForFunction's string predicates).
async function waitInPage(page, fn, timeoutMs, arg) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await page.evaluate(fn, arg).catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function openPage(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => check(false, `no script error in the page (${e.message})`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) {
      check(false, `the page keeps to its own CSP (${m.text().slice(0, 160)})`);
    }
  });
  await page.goto(url);
  await page.waitForSelector('#status.online', { timeout: 15_000 });
  return page;
}

async function main() {
  // `testnet up` picks a fresh port itself when another program takes one (said in its output),
  // so a failure here is a real one: no retry.
  run(['testnet', 'up', '--nodes', '9', '--swarm-size', '3', '--dir', path.join(work, 'net')]);
  const alice = makePerson('alice');
  const bob = makePerson('bob');
  const [aliceUrl, bobUrl] = await Promise.all([startDaemon(alice), startDaemon(bob)]);
  const alicePort = Number(new URL(aliceUrl).port);
  check(fs.readFileSync(path.join(alice.home, 'web', 'url'), 'utf8').trim() === aliceUrl,
    'the login URL is also in HOME/web/url');
  check((fs.statSync(path.join(alice.home, 'web', 'url')).mode & 0o777) === 0o600, 'HOME/web/url is 0600');

  // Refused: no token, a wrong token, a foreign Origin, a foreign Host (DNS rebinding).
  check(await rawRequest(alicePort, { path: '/' }) === 401, 'a request without the token is refused (401)');
  check(await rawRequest(alicePort, { path: `/login?token=${'0'.repeat(64)}` }) === 401, 'a wrong token is refused (401)');
  const token = new URL(aliceUrl).searchParams.get('token');
  check(await rawRequest(alicePort, { path: `/login?token=${token}`, headers: { Origin: 'http://evil.example' } }) === 403,
    'a request with a foreign Origin is refused (403)');
  check(await rawRequest(alicePort, { path: `/login?token=${token}`, headers: { Host: `evil.example:${alicePort}` } }) === 403,
    'a request with a foreign Host is refused (403)');

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const aliceContext = await browser.newContext({ viewport: { width: 1180, height: 760 }, colorScheme: 'light' });
  const bobContext = await browser.newContext({ viewport: { width: 1180, height: 760 }, colorScheme: 'dark' });
  const alicePage = await openPage(aliceContext, aliceUrl);
  const bobPage = await openPage(bobContext, bobUrl);
  check(!alicePage.url().includes('token='), 'the token leaves the address bar after login');

  // In the browser too: a page of another origin, even in Alice's browser (which holds her
  // cookie), cannot read her page (SameSite=Strict, the Origin check, and CORS).
  const blank = await aliceContext.newPage();
  const foreign = await blank.evaluate(async (port) => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { credentials: 'include' });
      return `status ${r.status}`;
    } catch (e) { return 'blocked'; }
  }, alicePort);
  await blank.close();
  check(foreign !== 'status 200', `another origin cannot fetch Alice's page (${foreign})`);

  // Alice writes to Bob from her page.
  const text = `Hello Bob, typed in a browser (${Date.now() % 100000})`;
  await alicePage.fill('#new-chat-id', bob.id);
  await alicePage.click('#new-chat button');
  await alicePage.fill('#composer-text', text);
  await alicePage.press('#composer-text', 'Enter');
  await alicePage.waitForSelector(`.message.outgoing:has-text("${text}")`, { timeout: 10_000 });
  const sent = await alicePage.waitForSelector('.message.outgoing[data-delivery="sent"]', { timeout: 60_000 })
    .then(() => true, () => false);
  check(sent, 'Alice sees her message go from queued to sent');

  // It shows in Bob's page, as a message request from someone unknown.
  // The list is re-rendered on every event: always look rows up again (no stale handles).
  const rowSel = `#conversations li[data-peer="${alice.id}"]`;
  const row = await bobPage.waitForSelector(rowSel, { timeout: 60_000 }).then(() => true, () => false);
  check(row, "Alice's conversation appears in Bob's list");
  if (row) {
    check(await bobPage.waitForSelector(`${rowSel} .tag.request`, { timeout: 5_000 }).then(() => true, () => false),
      'it is marked as a message request');
    check(await waitInPage(bobPage, (sel) => document.querySelector(sel)?.textContent === '1', 5_000, `${rowSel} .unread`),
      'with one unread message');
    await bobPage.screenshot({ path: path.join(shots, 'request-dark.png') });
    await bobPage.click(rowSel);
    const shown = await bobPage.waitForSelector(`.message.incoming:has-text("${text}")`, { timeout: 10_000 })
      .then(() => true, () => false);
    check(shown, "Alice's message shows in Bob's conversation view");
    await bobPage.click('#accept');
    await bobPage.waitForSelector('#request-banner', { state: 'hidden', timeout: 10_000 }).catch(() => {});
    check(await bobPage.isHidden('#request-banner'), 'Bob accepts the request');

    // Bob replies with an image; it shows inline in Alice's page.
    await bobPage.fill('#composer-text', 'and a picture');
    await bobPage.setInputFiles('#file-input', image);
    const bobImage = await bobPage.waitForSelector('.message.outgoing .file, .message.outgoing img.media', { timeout: 60_000 })
      .then(() => true, () => false);
    const toastText = await bobPage.textContent('#toast').catch(() => '');
    check(bobImage, `the image is sent from Bob's page${bobImage ? '' : ` (page said: ${toastText})`}`);
    const inline = await waitInPage(alicePage, () => {
      const img = document.querySelector('.message.incoming img.media');
      return Boolean(img && img.complete && img.naturalWidth > 0);
    }, 90_000);
    check(inline, "Bob's image shows inline in Alice's page");
    await bobPage.screenshot({ path: path.join(shots, 'chat-dark.png') });

    // No silent leaks: audio whose metadata cannot be removed is refused; the page asks, and
    // sends it as it is only when the person says yes.
    const song = path.join(work, 'song.flac');
    fs.writeFileSync(song, Buffer.concat([Buffer.from([0x66, 0x4c, 0x61, 0x43, 0, 0, 0, 0x22]), Buffer.from('ARTIST=Bob')]));
    const askedFor = (answer) => new Promise((resolve) => {
      bobPage.once('dialog', async (d) => {
        const said = d.message();
        await (answer ? d.accept() : d.dismiss());
        resolve(said);
      });
    });
    let asked = askedFor(false);
    await bobPage.setInputFiles('#file-input', song);
    const firstQuestion = await Promise.race([asked, new Promise((r) => setTimeout(() => r(''), 60_000))]);
    check(/FLAC audio/.test(firstQuestion) && /WITH its metadata/.test(firstQuestion),
      `the page asks before sending audio with its metadata (asked: ${firstQuestion.slice(0, 120)})`);
    const noted = await waitInPage(bobPage, () => /song\.flac was not sent/.test(document.getElementById('toast')?.textContent || ''), 10_000);
    check(noted && await bobPage.$('.message.outgoing:has-text("audio.flac")') === null, 'declined: the file is not sent');
    asked = askedFor(true);
    await bobPage.setInputFiles('#file-input', song);
    await Promise.race([asked, new Promise((r) => setTimeout(r, 60_000))]);
    // It leaves under a neutral name from its type (the sender's file name stays with the sender).
    const songSent = await bobPage.waitForSelector('.message.outgoing:has-text("audio.flac")', { timeout: 60_000 })
      .then(() => true, () => false);
    check(songSent, 'accepted: the file is sent as it is');
    // "Keep file name", next to the file button: the file goes under its own name.
    await bobPage.check('#keep-name');
    asked = askedFor(true);
    await bobPage.setInputFiles('#file-input', song);
    await Promise.race([asked, new Promise((r) => setTimeout(r, 60_000))]);
    const namedSent = await bobPage.waitForSelector('.message.outgoing:has-text("song.flac")', { timeout: 60_000 })
      .then(() => true, () => false);
    check(namedSent, 'with "Keep file name" ticked, the file is sent under its own name');
    // Second review of issue 22 (LOW): the tick stuck, so every later file left under its name.
    check(!(await bobPage.isChecked('#keep-name')), '"Keep file name" is cleared after the send (asked per file)');
  }
  await alicePage.screenshot({ path: path.join(shots, 'chat-light.png') });

  // Contacts and settings through the page, each a contract request answered by the daemon.
  await alicePage.click('#rename');
  await alicePage.fill('#prompt-input', 'Bob');
  await alicePage.click('#prompt-form button[value="ok"]');
  const named = await alicePage.waitForSelector(`#conversations li[data-peer="${bob.id}"] .conv-name:text-is("Bob")`,
    { timeout: 10_000 }).then(() => true, () => false);
  check(named, 'Alice adds Bob as a contact named "Bob"');
  await alicePage.selectOption('#disappear', '3600');
  const timer = await waitInPage(alicePage, () => document.getElementById('disappear').value === '3600' &&
    document.querySelector('#conversations li.active') !== null, 5_000);
  await new Promise((r) => setTimeout(r, 500));
  await alicePage.reload();
  await alicePage.waitForSelector('#status.online', { timeout: 15_000 });
  await alicePage.click(`#conversations li[data-peer="${bob.id}"]`);
  const kept = await waitInPage(alicePage, () => document.getElementById('disappear').value === '3600', 10_000);
  check(timer && kept, 'the disappearing-messages timer is set and kept by the daemon');
  await alicePage.click('#open-contacts');
  const listed = await alicePage.waitForSelector(`#contacts li:has-text("${bob.id}")`, { timeout: 10_000 })
    .then(() => true, () => false);
  check(listed, "Bob is in Alice's contacts");
  await alicePage.keyboard.press('Escape');
  await alicePage.click('#open-devices');
  const device = await alicePage.waitForSelector('#devices li:has-text("(this device)")', { timeout: 10_000 })
    .then(() => true, () => false);
  check(device, 'the devices dialog lists this device');
  await alicePage.keyboard.press('Escape');

  // Alice's ID with its QR code.
  await alicePage.click('#open-profile');
  const qr = await waitInPage(alicePage, () => {
    const img = document.getElementById('qr');
    return img.complete && img.naturalWidth > 0;
  }, 10_000);
  check(qr, 'the QR code of the ID loads');
  check((await alicePage.textContent('#my-id')) === alice.id, 'the page shows Alice her own ID');
  await alicePage.screenshot({ path: path.join(shots, 'profile-light.png') });
  await alicePage.keyboard.press('Escape');

  // The theme toggle switches Alice's light page to dark.
  await alicePage.click('#theme-toggle');
  check(await alicePage.evaluate(() => document.documentElement.dataset.theme) === 'dark', 'the theme toggle switches to dark');

  // Closed groups in the page (issue 17). Carol (CLI only) is a stranger to Alice: her invitation
  // is a group request that Alice accepts in the page; Alice reads Carol's message, with its
  // sender, and answers it. Then Alice makes a group with Bob in her page; Bob opens it in his.
  const carol = makePerson('carol');
  const made = run(['--home', carol.home, 'group', 'create', 'book club', alice.id], 120_000);
  const clubId = made.trim().split('\n')[0];
  check(/^03[0-9a-f]{64}$/.test(clubId), `Carol's CLI makes a group (${clubId.slice(0, 12)}…)`);
  const clubRow = `#conversations li[data-peer="${clubId}"]`;
  check(await alicePage.waitForSelector(`${clubRow} .tag.request`, { timeout: 90_000 }).then(() => true, () => false),
    "Carol's invitation shows in Alice's list as a group request");
  await alicePage.click(clubRow);
  check(await waitInPage(alicePage, () => !document.getElementById('request-banner').hidden &&
    /invitation to a group/.test(document.getElementById('request-text').textContent) &&
    document.getElementById('block').hidden && !document.getElementById('members').hidden, 10_000),
  'the open group shows its invitation banner and members instead of contact settings');
  await alicePage.click('#accept');
  check(await alicePage.waitForSelector('#request-banner', { state: 'hidden', timeout: 10_000 }).then(() => true, () => false),
    'Alice accepts the group invitation in the page');
  run(['--home', carol.home, 'send', clubId, 'welcome to the club'], 120_000);
  const clubMessage = `.message.incoming:has-text("welcome to the club")`;
  check(await alicePage.waitForSelector(`${clubMessage} .sender`, { timeout: 90_000 }).then(() => true, () => false),
    "Carol's group message shows in Alice's page with its sender");
  await alicePage.fill('#composer-text', 'thanks Carol');
  await alicePage.press('#composer-text', 'Enter');
  check(await alicePage.waitForSelector('.message.outgoing[data-delivery="sent"]:has-text("thanks Carol")', { timeout: 60_000 })
    .then(() => true, () => false), "Alice's answer to the group is sent");
  let carolGot = false;
  for (let round = 0; round < 6 && !carolGot; ++round) {
    const lines = run(['--home', carol.home, 'receive', '--json', '--wait', '10'], 60_000).split('\n').filter(Boolean);
    carolGot = lines.map((l) => JSON.parse(l)).some((m) => m.group === clubId && m.text === 'thanks Carol' && m.from === alice.id);
  }
  check(carolGot, "Carol's CLI receives Alice's answer from the page, in the group");
  await alicePage.screenshot({ path: path.join(shots, 'group-dark.png') });

  await alicePage.click('#open-new-group');
  await alicePage.fill('#new-group-name', 'family');
  await alicePage.fill('#new-group-members', bob.id);
  await alicePage.click('#new-group button[type="submit"]');
  const familyOpen = await waitInPage(alicePage, () => {
    const active = document.querySelector('#conversations li.active');
    return Boolean(active && /^03/.test(active.dataset.peer) && active.textContent.includes('family'));
  }, 20_000);
  check(familyOpen, 'Alice makes a group in her page and it opens');
  const familyId = await alicePage.evaluate(() => document.querySelector('#conversations li.active')?.dataset.peer || '');
  await alicePage.click('#members');
  check(await waitInPage(alicePage, (bobId) => {
    const items = [...document.querySelectorAll('#members-list li')];
    return items.length === 2 && items.some((li) => li.textContent.includes(bobId)) &&
      items.some((li) => li.textContent.includes('(you)') && li.textContent.includes('Admin'));
  }, 10_000, bob.id), 'the members dialog lists Bob and Alice as admin');
  await alicePage.keyboard.press('Escape');
  await alicePage.fill('#composer-text', 'hello family');
  await alicePage.press('#composer-text', 'Enter');
  const familyRow = `#conversations li[data-peer="${familyId}"]`;
  check(await bobPage.waitForSelector(familyRow, { timeout: 90_000 }).then(() => true, () => false),
    "the group shows in Bob's list (Alice is his contact: no request)");
  await bobPage.click(familyRow);
  check(await bobPage.waitForSelector('.message.incoming:has-text("hello family") .sender', { timeout: 90_000 })
    .then(() => true, () => false), "Bob reads Alice's group message in his page");
  await bobPage.fill('#composer-text', 'hi all');
  await bobPage.press('#composer-text', 'Enter');
  check(await alicePage.waitForSelector('.message.incoming:has-text("hi all")', { timeout: 90_000 })
    .then(() => true, () => false), "Bob's answer from his page shows in Alice's group");

  // A restart: the daemon stops cleanly, the open page learns its session ended, and the new
  // URL logs it in again with the conversation still there.
  const exited = new Promise((r) => alice.daemon.once('exit', (code) => r(code)));
  alice.daemon.kill('SIGTERM');
  check(await exited === 0, "Alice's daemon stops cleanly on SIGTERM (exit 0)");
  const newUrl = await startDaemon(alice);
  check(newUrl !== aliceUrl, 'the restarted daemon prints a new token');
  check(await waitInPage(alicePage, () => document.getElementById('status').textContent === 'signed out', 30_000),
    'the open page says it was signed out');
  await alicePage.goto(newUrl);
  await alicePage.waitForSelector('#status.online', { timeout: 15_000 });
  check(await alicePage.waitForSelector(`#conversations li[data-peer="${bob.id}"]`, { timeout: 10_000 })
    .then(() => true, () => false), 'after logging in again the conversation is still there');
}

let status = 0;
try {
  await main();
} catch (e) {
  console.error(`FAIL ${e.stack || e}`);
  status = 1;
}
clearTimeout(deadline);
await cleanup();
if (failures.length) status = 1;
console.log(status === 0 ? 'all browser checks passed'
  : `${failures.length} check(s) failed${failures.length === 0 ? ' before the test stopped on an error' : ''}`);
process.exit(status);
