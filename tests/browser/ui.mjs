// SPDX-License-Identifier: BSD-2-Clause
// ui.mjs: the operator's path through the page in headless Chromium.
// node ui.mjs URL USER PASSWORD SCREENSHOT.png
// Prints "RESULT key value" lines for tests/system/web-browser.sh to check;
// exits non-zero only when the browser itself cannot be driven.
import { chromium } from 'playwright-core';

const [url, user, pass, shot] = process.argv.slice(2);
const say = (k, v) => console.log(`RESULT ${k} ${String(v).replace(/\s+/g, ' ')}`);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(8000);
  await page.goto(url);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#login input[name=user]', user);
  await page.fill('#login input[name=password]', 'not the password');
  await page.click('#login button');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  say('login_error', await page.textContent('#login-error'));
  await page.fill('#login input[name=password]', pass);
  await page.click('#login button');
  await page.waitForSelector('#app:not([hidden])');
  say('login', 'ok');
  await page.waitForSelector('table.members td');
  say('member_row', await page.textContent('table.members tr:nth-child(2) td:first-child'));

  const form = (n) => `form.vpn[data-vpn="${n}"]`;
  await page.waitForSelector(form('site-b'));
  say('vpn_form', await page.locator(form('site-b') + ' h3').textContent());
  say('rekey_disabled_without_monitor', await page.isDisabled(form('site-c') + ' input[name=rekey]'));

  // VPN Monitor on, then Rekey, apply.
  await page.check(form('site-c') + ' input[name=monitor]');
  say('rekey_enabled_with_monitor', !(await page.isDisabled(form('site-c') + ' input[name=rekey]')));
  await page.check(form('site-c') + ' input[name=rekey]');
  await page.click(form('site-c') + ' button');
  await page.waitForFunction((sel) => document.querySelector(sel + ' .result').textContent.includes('saved'), form('site-c'));
  say('saved', 'ok');

  // Reload: the settings were kept.
  await page.reload();
  await page.waitForSelector(form('site-c'));
  say('kept_monitor', await page.isChecked(form('site-c') + ' input[name=monitor]'));
  say('kept_rekey', await page.isChecked(form('site-c') + ' input[name=rekey]'));

  // Rekey alone (the page disables it; force it): the server refuses.
  await page.evaluate((sel) => { const r = document.querySelector(sel + ' input[name=rekey]'); r.disabled = false; r.checked = true; },
                      form('site-d'));
  await page.click(form('site-d') + ' button');
  await page.waitForFunction((sel) => document.querySelector(sel + ' .err[data-field=rekey]').textContent.length > 0,
                             form('site-d'));
  say('rekey_alone_error', await page.textContent(form('site-d') + ' .err[data-field=rekey]'));

  // A lifetime counting down: the same key (by SPI) read twice, so that a
  // rekey in between (a new key with a fresh lifetime) cannot confuse it.
  await page.waitForSelector('td.remaining');
  const lifetimes = () => page.evaluate(() => {
    const m = {};
    for (const td of document.querySelectorAll('td.remaining')) {
      const spi = td.parentElement.children[1].textContent;
      m[spi] = Number(td.dataset.remaining);
    }
    return m;
  });
  let countdown = 'none';
  for (let tries = 0; tries < 4 && countdown === 'none'; tries++) {
    const first = await lifetimes();
    await page.waitForTimeout(2500);
    const second = await lifetimes();
    const spi = Object.keys(first).find((k) => k in second);
    if (spi !== undefined)
      countdown = `${first[spi]} ${second[spi]} ${spi}`;
  }
  say('countdown', countdown);

  await page.screenshot({ path: shot, fullPage: true });
  say('screenshot', 'ok');
} finally {
  await browser.close();
}
