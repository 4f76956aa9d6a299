/**
 * The web client on a phone and in both themes: the messages take the screen
 * (at least 75% of a 390x844 one, 50% with the keyboard open at 390x470), the
 * conversations and members slide in as panels, dark and light follow the
 * system until the toggle picks one (kept across reloads), and the page runs
 * under a strict CSP with no inline script or style.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { withHttpServer } from "./helpers.ts";
import {
  browserTest,
  conversationButton,
  eventually,
  expectMembers,
  joinRoom,
  openChat,
  screenshot,
  setNick,
  tcpUser,
  type,
  waitForNick,
  type Win,
} from "./browser_support.ts";

/** The share of the window's height the open conversation's messages get. */
function logShare(page: Page): Promise<number> {
  return page.evaluate(() => {
    const { document, innerHeight } = globalThis as unknown as Win;
    const log = document.querySelector("#logs [role=log]:not([hidden])")!;
    const box = log.getBoundingClientRect();
    return (box.bottom - box.top) / innerHeight;
  });
}

function background(page: Page): Promise<string> {
  return page.locator("body").evaluate((body) => {
    const win = globalThis as unknown as {
      getComputedStyle(node: unknown): { backgroundColor: string };
    };
    return win.getComputedStyle(body).backgroundColor;
  });
}

browserTest("on a phone the messages take the screen; panels slide in", async (browser) => {
  await using server = await withHttpServer();
  await using chat = await openChat(browser, server.origin, { width: 390, height: 844 });
  const { page, errors } = chat;
  await using bob = await tcpUser(server.port, "bob", "dev");
  await using carol = await tcpUser(server.port, "carol", "dev");
  const rooms = page.getByRole("navigation", { name: "Conversations" });
  const toggle = page.getByRole("button", { name: "Conversations" });

  // The panels are out of the way until asked for; the nick is set from the panel.
  assert.equal(await rooms.isVisible(), false);
  await toggle.click();
  assert.equal(await toggle.getAttribute("aria-expanded"), "true");
  await rooms.waitFor({ state: "visible" });
  await setNick(page, "pia");
  await joinRoom(page, "dev");
  // Joining (or choosing a conversation) closes the panel and shows the messages.
  await rooms.waitFor({ state: "hidden" });
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");

  await bob.send("anyone tried the new layout on a phone?");
  await carol.send("/me looks at her phone");
  await carol.send("the messages get the whole screen now, and the rooms slide in from the left");
  await type(page, "looks right here: 390 pixels wide");
  await bob.expect("[dev] pia: looks right here: 390 pixels wide");
  await eventually("the lines", () => page.locator("#logs li.msg").count(), (n) => n >= 4);

  const tall = await logShare(page);
  assert.ok(tall >= 0.75, `the messages get ${(tall * 100).toFixed(0)}% of 390x844`);
  const noSideScroll = await page.evaluate(() => {
    const { document, innerWidth } = globalThis as unknown as Win;
    return document.documentElement.scrollWidth <= innerWidth;
  });
  assert.ok(noSideScroll, "nothing scrolls sideways");
  await screenshot(page, "web-phone");

  // The members slide in from the right; Escape closes them and gives focus back.
  const membersToggle = page.getByRole("button", { name: "Members" });
  await membersToggle.click();
  await expectMembers(page, ["bob", "carol", "pia"]);
  await page.locator("#members-panel").waitFor({ state: "visible" });
  await page.keyboard.press("Escape");
  await page.locator("#members-panel").waitFor({ state: "hidden" });
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as Win).document.activeElement?.id),
    "open-members",
  );
  // The conversations: lobby is there, and choosing it shows it.
  await toggle.click();
  await screenshot(page, "web-phone-rooms");
  await conversationButton(page, "lobby").click();
  await rooms.waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => (globalThis as unknown as Win).chatClient.view), "lobby");
  await toggle.click();
  await conversationButton(page, "dev").click();
  await rooms.waitFor({ state: "hidden" });

  // The keyboard open: 390x470 left for the page.
  await page.setViewportSize({ width: 390, height: 470 });
  await page.locator("#message").focus();
  const short = await logShare(page);
  assert.ok(short >= 0.5, `the messages get ${(short * 100).toFixed(0)}% of 390x470`);
  await screenshot(page, "web-phone-keyboard");
  assert.deepEqual(errors, []);
});

browserTest(
  "dark and light follow the system, and the toggle's choice is kept",
  async (browser) => {
    await using server = await withHttpServer();
    await using chat = await openChat(
      browser,
      server.origin,
      undefined,
      (page) => page.emulateMedia({ colorScheme: "dark" }),
    );
    const { page, errors } = chat;
    const DARK = "rgb(13, 17, 23)";
    const LIGHT = "rgb(238, 241, 245)";
    assert.equal(await background(page), DARK);
    const toggle = page.getByRole("button", { name: "Dark theme" });
    assert.equal(await toggle.getAttribute("aria-pressed"), "true");

    await setNick(page, "quinn");
    await using rex = await tcpUser(server.port, "rex");
    await rex.send("evening, everyone", "/me dims the lights");
    await type(page, "quinn: dark theme checks out");
    await rex.expect("[lobby] quinn: quinn: dark theme checks out");
    await eventually("the lines", () => page.locator("#logs li.msg").count(), (n) => n >= 3);
    await screenshot(page, "web-dark");

    // The toggle picks light over the system's dark, and the choice outlives a reload.
    await toggle.click();
    assert.equal(await background(page), LIGHT);
    assert.equal(await toggle.getAttribute("aria-pressed"), "false");
    await page.reload();
    await waitForNick(page, "quinn");
    assert.equal(await background(page), LIGHT);
    await toggle.click();
    assert.equal(await background(page), DARK);

    // A strict CSP, and nothing inline it would have to allow.
    const response = await page.request.get(server.origin);
    assert.match(response.headers()["content-security-policy"], /default-src 'self'/);
    assert.doesNotMatch(response.headers()["content-security-policy"], /unsafe-inline/);
    const inline = await page.evaluate(() => {
      const { document } = globalThis as unknown as Win;
      return document.querySelectorAll("script:not([src]), [style], [onclick]").length;
    });
    assert.equal(inline, 0);
    assert.deepEqual(errors, []);
  },
);
