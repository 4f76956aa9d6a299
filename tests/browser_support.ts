/**
 * What the browser tests of the web client share: a fresh headless Chromium
 * per test (Debian's, driven by playwright-core), pages of the chat, and
 * reading what a page shows. Without `/usr/bin/chromium` the tests are
 * ignored, except under `CI=true`, where they fail and say why.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Browser, Locator, Page } from "playwright-core";
import type { HistoryStore } from "../src/core/history.ts";
import { delay, LineClient, type withHttpServer } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Each browser test must finish within this. */
export const TEST_TIMEOUT_MS = 30_000;
/** How long to wait for something to show up in the page. */
export const UI_WAIT_MS = 10_000;
export const OUT_DIR = new URL("./out/", import.meta.url);

export function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/**
 * Registers a test that gets a fresh headless Chromium, closed afterwards
 * whatever happens, and fails if it runs longer than {@link TEST_TIMEOUT_MS}.
 */
export function browserTest(name: string, fn: (browser: Browser) => Promise<void>): void {
  const title = `web client: ${name}`;
  if (!chromiumInstalled()) {
    if (Deno.env.get("CI") === "true") {
      Deno.test(title, () => {
        throw new Error(
          `${CHROMIUM} not found: the browser tests need Debian's chromium package ` +
            "(apt-get install chromium)",
        );
      });
    } else {
      Deno.test({ name: `${title} (ignored: ${CHROMIUM} not installed)`, ignore: true, fn() {} });
    }
    return;
  }
  Deno.test({
    name: title,
    async fn() {
      // Loaded here, not at the top: without Chromium the module is never needed.
      const { chromium } = await import("playwright-core");
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`test took longer than ${TEST_TIMEOUT_MS} ms`)),
          TEST_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([fn(browser), timeout]);
      } finally {
        clearTimeout(timer);
        await browser.close();
      }
    },
  });
}

// --- the page ----------------------------------------------------------------------------------

/** What the client exposes on `globalThis` for tests (see web/app.js). */
export interface ChatHook {
  readonly nick: string;
  readonly connected: boolean;
  readonly view: string;
  readonly signedIn: boolean;
  lastIds(): Record<string, number>;
  dropConnection(stayOffline?: boolean): void;
  reconnect(): void;
}

/** The little of the DOM the functions run inside the page use (the test has no DOM types). */
export interface PageElement {
  readonly id: string;
  readonly tagName: string;
  readonly textContent: string | null;
  readonly outerHTML: string;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: { contains(name: string): boolean };
  readonly labels?: ArrayLike<unknown> | null;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getBoundingClientRect(): { top: number; bottom: number; width: number };
  blur(): void;
}

export interface PageDocument {
  readonly activeElement: PageElement | null;
  readonly documentElement: { scrollWidth: number };
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}

/** The page's globals, for functions that run in the page: `globalThis as unknown as Win`. */
export interface Win {
  document: PageDocument;
  innerWidth: number;
  innerHeight: number;
  chatClient: ChatHook;
  __pwned?: unknown;
  localStorage: {
    getItem(key: string): string | null;
    length: number;
    key(i: number): string | null;
  };
}

/**
 * A page of the chat in its own browser context, with the errors its console
 * reported. Disposing closes the context (declared after the server, the page
 * goes first).
 */
export interface ChatPage extends AsyncDisposable {
  page: Page;
  errors: string[];
}

export async function openChat(
  browser: Browser,
  origin: string,
  viewport = { width: 1280, height: 800 },
  prepare?: (page: Page) => Promise<void>,
): Promise<ChatPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await prepare?.(page);
  page.setDefaultTimeout(UI_WAIT_MS);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(origin);
  await waitForStatus(page, "connected");
  return { page, errors, [Symbol.asyncDispose]: () => context.close() };
}

/** Waits until the connection status reads `text`. */
export async function waitForStatus(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const { document } = globalThis as unknown as Win;
      return document.getElementById("status")?.textContent?.trim() === want;
    },
    text,
    { timeout: UI_WAIT_MS },
  );
}

export async function setNick(page: Page, nick: string): Promise<void> {
  const input = page.getByLabel("Nick");
  await input.fill(nick);
  await input.press("Enter");
  await page.waitForFunction(
    (want) => (globalThis as unknown as Win).chatClient.nick === want,
    nick,
    { timeout: UI_WAIT_MS },
  );
}

export async function joinRoom(page: Page, room: string): Promise<void> {
  const input = page.getByLabel("Room", { exact: true });
  await input.fill(room);
  await input.press("Enter");
  await page.waitForFunction(
    (want) => (globalThis as unknown as Win).chatClient.view === want,
    room,
    { timeout: UI_WAIT_MS },
  );
}

/** The message box, by its label ("Message to dev", "Message to bob"). */
export function messageBox(page: Page): Locator {
  return page.getByRole("textbox", { name: /^Message\b/ });
}

/** Types a line in the message box and presses Enter. */
export async function type(page: Page, line: string): Promise<void> {
  const box = messageBox(page);
  await box.fill(line);
  await box.press("Enter");
}

/**
 * The room messages of the view on screen, without their time:
 * `nick: text` or `* nick text` (text as shown, links included).
 */
export function shownMessages(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as Win;
    const log = document.querySelector("#logs [role=log]:not([hidden])");
    return [...(log?.querySelectorAll("li.msg") ?? [])].map((li) => {
      const text = li.querySelector(".body > .text")?.textContent ?? "";
      return li.classList.contains("action")
        ? `* ${li.dataset.nick} ${text}`
        : `${li.dataset.nick}: ${text}`;
    });
  });
}

/** The ids (`data-id`) of the room messages on screen, in page order. */
export function shownIds(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as Win;
    const log = document.querySelector("#logs [role=log]:not([hidden])");
    return [...(log?.querySelectorAll("li.msg") ?? [])].map((li) => Number(li.dataset.id));
  });
}

/** Every entry of the view on screen (messages as in shownMessages, and notices). */
export function shownEntries(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as Win;
    const log = document.querySelector("#logs [role=log]:not([hidden])");
    return [...(log?.querySelectorAll(":scope > li") ?? [])].map((li) => {
      if (!li.classList.contains("msg")) {
        return (li.querySelector(".notice-text") ?? li).textContent ?? "";
      }
      const text = li.querySelector(".body > .text")?.textContent ?? "";
      return li.classList.contains("action")
        ? `* ${li.dataset.nick} ${text}`
        : `${li.dataset.nick}: ${text}`;
    });
  });
}

export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (globalThis as unknown as Win).document.activeElement?.id);
}

export function shownMembers(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as Win;
    return [...document.querySelectorAll("#member-list .nick")].map((n) => n.textContent ?? "");
  });
}

/** Polls `read` until `ok` holds; on timeout asserts with the last value. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = UI_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    }
    await delay(50);
  }
}

/** Waits until the view on screen shows exactly these room messages. */
export async function expectMessages(page: Page, expected: string[]): Promise<void> {
  // Exactly: a view that still shows a line being deleted has not caught up yet.
  const seen = await eventually(
    `messages ${JSON.stringify(expected)}`,
    () => shownMessages(page),
    (got) => JSON.stringify(got) === JSON.stringify(expected),
  );
  assert.deepEqual(seen, expected);
}

/** Waits until the member list holds exactly these nicks. */
export async function expectMembers(page: Page, nicks: string[]): Promise<void> {
  const want = [...nicks].sort();
  await eventually(
    `members ${want.join(", ")}`,
    async () => (await shownMembers(page)).sort(),
    (got) => JSON.stringify(got) === JSON.stringify(want),
  );
}

/** Waits for a line at a TCP client that ends with `suffix`. */
export function tcpLineEnding(client: LineClient, suffix: string): Promise<string> {
  return client.waitFor((l) => l.endsWith(suffix));
}

/** A TCP user with a chosen nick, in `room` (and still in the lobby). */
export async function tcpUser(port: number, nick: string, room?: string): Promise<LineClient> {
  const client = await LineClient.chat(port);
  await client.send(`/nick ${nick}`);
  await tcpLineEnding(client, `is now known as ${nick}`);
  if (room !== undefined) {
    await client.send(`/join ${room}`);
    await client.expect(`* ${nick} joined ${room}`);
  }
  return client;
}

/** The entry for a conversation in the list beside the chat (rooms and DMs). */
export function conversationButton(page: Page, name: string) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return page.getByRole("navigation").getByRole("button", { name: new RegExp(`^${escaped}\\b`) });
}

/** What names the recipient while typing: the view's title and the box's label and placeholder. */
export async function recipientShown(
  page: Page,
): Promise<{ title: string; label: string; hint: string }> {
  const box = messageBox(page);
  return {
    title: (await page.locator("#view-title").innerText()).trim(),
    label: (await page.locator("label[for=message]").textContent() ?? "").replace(/\s+/g, " ")
      .trim(),
    hint: await box.getAttribute("placeholder") ?? "",
  };
}

/** Asserts the message box still holds `text` (without printing all of a long one). */
export async function expectKept(box: Locator, text: string): Promise<void> {
  const value = await box.inputValue();
  assert.ok(
    value === text,
    `the box holds ${JSON.stringify(value.slice(0, 40))} (${value.length} characters), ` +
      `not the ${text.length} typed`,
  );
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Saves a screenshot of the page under tests/out/ (looked at, and shown in docs/web.md). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(OUT_DIR, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, OUT_DIR).pathname });
}

/** Waits until the page is connected again as `nick` (after a reload). */
export async function waitForNick(page: Page, nick: string): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const client = (globalThis as unknown as Win).chatClient;
      return client?.connected === true && client.nick === want;
    },
    nick,
    { timeout: UI_WAIT_MS },
  );
}

/**
 * The store seen through a proxy whose `close` does nothing: a server's
 * shutdown closes its store, and this one must outlive the first server of a
 * restart.
 */
export function outliving(store: HistoryStore): HistoryStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === "close") return () => Promise.resolve();
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Two browser users, alice and bob, and an nc user, carol, all in room `dev`. */
export async function threeInDev(
  browser: Browser,
  server: Awaited<ReturnType<typeof withHttpServer>>,
): Promise<{ alice: ChatPage; bob: ChatPage; carol: LineClient } & AsyncDisposable> {
  const alice = await openChat(browser, server.origin);
  const bob = await openChat(browser, server.origin);
  await setNick(alice.page, "alice");
  await setNick(bob.page, "bob");
  await joinRoom(alice.page, "dev");
  await joinRoom(bob.page, "dev");
  const carol = await tcpUser(server.port, "carol", "dev");
  return {
    alice,
    bob,
    carol,
    async [Symbol.asyncDispose]() {
      await carol[Symbol.asyncDispose]();
      await bob[Symbol.asyncDispose]();
      await alice[Symbol.asyncDispose]();
    },
  };
}
