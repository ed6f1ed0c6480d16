// One patient's journey in a real browser (Debian's Chromium through playwright-core):
// book a consultation, sign in as the practitioner and mark it fulfilled, find the invoice
// in the patient's space. Driven by tests/tests/browser_journey.rs, which passes the plan
// as JSON in JOURNEY (edge URL, clinic, locale, names of the things to press as the pages'
// Fluent messages say them, credentials) and checks what this script saved.
//
// With `keyboard: true` nothing is clicked: every link, button and field is reached with
// Tab (so the focus order must reach it) and used with Enter, Space or typing.
//
// Output: one JSON line per step on stdout ({step, url, status, bytes, html, png}); the
// HTML and a full-page screenshot of each step under `shots`.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const plan = JSON.parse(process.env.JOURNEY);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({
  locale: plan.accept_language.split(",")[0],
  extraHTTPHeaders: { "accept-language": plan.accept_language },
  viewport: { width: 1000, height: 800 },
});
const page = await context.newPage();
fs.mkdirSync(plan.shots, { recursive: true });
let last = null;
page.on("response", (r) => {
  if (r.request().resourceType() === "document") last = r;
});

function fail(message) {
  throw new Error(`${plan.name}: ${message} (at ${page.url()})`);
}

/** Saves the page as it is now: its HTML and a screenshot, and reports the step. */
async function step(name) {
  await page.waitForLoadState("load");
  const html = await page.content();
  const base = path.join(plan.shots, `${plan.name}-${String(stepNo++).padStart(2, "0")}-${name}`);
  fs.writeFileSync(`${base}.html`, html);
  await page.screenshot({ path: `${base}.png`, fullPage: true });
  const body = last ? await last.body().catch(() => Buffer.from(html)) : Buffer.from(html);
  console.log(JSON.stringify({
    step: name, url: page.url(), status: last ? last.status() : 0,
    bytes: body.length, html: `${base}.html`, png: `${base}.png`,
  }));
}
let stepNo = 1;

/** Moves the focus with Tab until `locator` has it; fails if it never comes. */
async function tabTo(locator) {
  const target = await locator.elementHandle({ timeout: 5000 });
  if (!target) fail(`nothing to reach: ${locator}`);
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  fail(`Tab never reaches ${locator}`);
}

/** Follows a link or presses a button: Enter on the focused element, or a click. */
async function activate(locator) {
  if (plan.keyboard) {
    await tabTo(locator);
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  } else {
    await Promise.all([page.waitForNavigation(), locator.click()]);
  }
}

/** Types into a field. */
async function fill(locator, text) {
  if (plan.keyboard) {
    await tabTo(locator);
    await page.keyboard.type(text);
  } else {
    await locator.fill(text);
  }
}

/** Ticks a checkbox (Space when keyboard-only). */
async function check(locator) {
  if (plan.keyboard) {
    await tabTo(locator);
    await page.keyboard.press("Space");
  } else {
    await locator.check();
  }
  if (!(await locator.isChecked())) fail(`${locator} is not checked`);
}

/** Picks an option of a select by its value (arrow keys when keyboard-only: typing its
 * label selects it in Chromium). */
async function select(locator, value, label) {
  if (plan.keyboard) {
    await tabTo(locator);
    await page.keyboard.type(label);
  } else {
    await locator.selectOption(value);
  }
  if ((await locator.inputValue()) !== value) fail(`${locator} holds ${await locator.inputValue()}`);
}

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Fills every field of the form by its label (which may go on, "(optional)"). */
async function fillFields(fields) {
  for (const f of fields) {
    const input = page.getByLabel(new RegExp(`^\\s*${escapeRegExp(f.label)}`));
    if (f.kind === "checkbox") await check(input);
    else if (f.kind === "select") await select(input, f.value, f.option_label);
    else if (f.kind === "date" && plan.keyboard) {
      await tabTo(input);
      await page.keyboard.type(f.typed);
    } else await fill(input, f.value);
    if (f.kind === "date" && (await input.inputValue()) !== f.value) {
      fail(`the date field holds ${await input.inputValue()}, not ${f.value}`);
    }
  }
}

async function signIn(email, password) {
  await page.goto(`${plan.base}/sign-in`);
  await fillFields([
    { label: plan.labels.email, value: email },
    { label: plan.labels.password, value: password },
  ]);
  await activate(page.getByRole("button", { name: plan.labels.sign_in, exact: true }));
}

async function signOut() {
  await activate(page.getByRole("button", { name: plan.labels.sign_out, exact: true }));
}

try {
  // 1. The clinic's home page, in the plan's language.
  await page.goto(`${plan.base}/`);
  await step("home");
  const dir = await page.evaluate(() => document.documentElement.dir);
  if (dir !== plan.dir) fail(`<html dir> is ${dir}, not ${plan.dir}`);

  // 2. The practitioner's page, then the first free slot.
  await activate(page.getByRole("link", { name: plan.practitioner_name }).first());
  await step("practitioner");
  await activate(page.locator(plan.slot_selector).first());
  await step("booking-form");

  // 3. The patient's details, consents and account; then the confirmation.
  await fillFields(plan.patient_fields);
  await activate(page.getByRole("button", { name: plan.labels.book, exact: true }));
  await step("confirmation");
  if (!page.url().includes("/patient/appointments/")) fail("no confirmation page");
  const ics = await page.getByRole("link", { name: plan.labels.calendar, exact: true }).getAttribute("href");
  // Fetched outside the page (no script may run in it): Node does not resolve *.localhost
  // as browsers do, so the request goes to the loopback address with the clinic as Host
  // and the browser's cookies for it.
  const icsUrl = new URL(ics, page.url());
  const cookie = (await context.cookies(icsUrl.toString())).map((c) => `${c.name}=${c.value}`).join("; ");
  const calendar = await page.request.get(`http://127.0.0.1:${icsUrl.port}${icsUrl.pathname}`, {
    headers: { host: icsUrl.host, cookie },
  });
  const text = await calendar.text();
  if (!calendar.ok() || !text.startsWith("BEGIN:VCALENDAR\r\n")) fail(`the .ics file: ${calendar.status()} ${text.slice(0, 80)}`);
  fs.writeFileSync(path.join(plan.shots, `${plan.name}-appointment.ics`), text);
  await signOut();

  // 4. The practitioner signs in, finds the appointment today, marks it arrived, fulfilled.
  await signIn(plan.practitioner_email, plan.practitioner_password);
  await step("practitioner-space");
  for (const status of [plan.labels.arrived, plan.labels.fulfilled]) {
    await activate(page.getByRole("button", { name: status, exact: true }).first());
    await step(`marked-${status.replace(/[^\p{L}\p{N}]+/gu, "-")}`);
  }
  await signOut();

  // 5. The patient signs in again and finds the invoice.
  await signIn(plan.patient_email, plan.patient_password);
  await step("patient-space");
  const shown = await page.locator("main").innerText();
  if (!shown.includes(plan.invoice_amount)) fail(`no invoice of ${plan.invoice_amount} in: ${shown}`);
} catch (e) {
  await step("failure").catch(() => {});
  console.error(e.stack || String(e));
  await browser.close();
  process.exit(1);
}
await browser.close();
