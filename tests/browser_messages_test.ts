/**
 * Messages in the web client: edits, deletes, reactions and replies shared
 * with another browser and an nc user (with a reload in the middle);
 * scrollback to the first message with day dividers, grouping and links;
 * typing, search that opens a message in context, and the box's keys (Tab,
 * Ctrl+Up, Shift+Enter).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { NewMessage } from "../src/core/history.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";
import { withHttpServer } from "./helpers.ts";
import {
  browserTest,
  eventually,
  expectMessages,
  joinRoom,
  messageBox,
  openChat,
  range,
  screenshot,
  shownEntries,
  shownIds,
  shownMessages,
  threeInDev,
  type,
  waitForNick,
  type Win,
} from "./browser_support.ts";

const DAY_MS = 86_400_000;

/** The message of the view on screen whose text is `text`. */
function messageWith(page: Page, text: string) {
  return page.locator("#logs [role=log]:not([hidden]) li.msg").filter({
    has: page.locator(".body > .text", { hasText: text }),
  });
}

/** A store holding `count` messages of `room` said by `says(i)` at `at(i)`. */
async function seeded(
  room: string,
  count: number,
  says: (i: number) => { nick: string; text: string },
  at: (i: number) => number,
): Promise<MemoryHistoryStore> {
  const store = new MemoryHistoryStore();
  for (let i = 1; i <= count; i++) {
    const message: NewMessage = { room, ...says(i), ts: at(i), kind: "say" };
    await store.append(message);
  }
  return store;
}

browserTest(
  "two browsers and an nc user share edits, reactions and replies, across a reload",
  async (browser) => {
    await using server = await withHttpServer();
    await using three = await threeInDev(browser, server);
    const { alice, bob, carol } = three;
    await carol.send("can someone review #12?");
    await carol.expect("[dev] carol: can someone review #12?");

    // alice reacts with the picker; bob sees the count, carol (nc) the sum of reactions.
    const asked = messageWith(alice.page, "can someone review");
    await asked.hover();
    await asked.getByRole("button", { name: "react" }).click();
    await alice.page.getByRole("button", { name: "react with 👍" }).click();
    const thumbs = messageWith(bob.page, "can someone review").getByRole("button", {
      name: /^👍 1: alice$/,
    });
    await thumbs.waitFor();
    await carol.waitFor(
      (l) => l.startsWith("* reactions to #1 in dev") && l.endsWith("👍 1"),
      9000,
    );

    // bob answers carol's line: carol sees what it answers, alice sees the quote.
    const forBob = messageWith(bob.page, "can someone review");
    await forBob.hover();
    await forBob.getByRole("button", { name: "reply" }).click();
    await bob.page.locator("#composer-context").filter({ hasText: "Replying to carol" }).waitFor();
    await type(bob.page, "on it");
    await carol.expect("[dev] bob: (re #1) on it");
    await messageWith(alice.page, "on it").locator(".quote", {
      hasText: "carol: can someone review #12?",
    }).waitFor();
    assert.equal(await bob.page.locator("#composer-context").isHidden(), true);

    // alice says something, then Up on the empty box edits it.
    await type(alice.page, "lgtm with one nit");
    await carol.expect("[dev] alice: lgtm with one nit");
    const box = messageBox(alice.page);
    await eventually("the box emptied", () => box.inputValue(), (v) => v === "");
    await box.press("ArrowUp");
    assert.equal(await box.inputValue(), "lgtm with one nit");
    await alice.page.locator("#composer-context").filter({ hasText: "Editing your message" })
      .waitFor();
    await box.fill("lgtm");
    await box.press("Enter");
    await carol.expect("* alice edited #3 in dev: lgtm");
    await messageWith(bob.page, "lgtm").locator(".edited").waitFor();

    // bob reloads: the history brings the reaction, the reply's quote and the edit back.
    await bob.page.reload();
    await waitForNick(bob.page, "bob");
    await expectMessages(bob.page, [
      "carol: can someone review #12?",
      "bob: on it",
      "alice: lgtm",
    ]);
    await thumbs.waitFor();
    await messageWith(bob.page, "on it").locator(".quote", { hasText: "carol: can someone" })
      .waitFor();
    await messageWith(bob.page, "lgtm").locator(".edited").waitFor();

    // carol edits from nc; bob adds his thumb, and takes it back.
    await carol.send("/edit #1 can someone review #13?");
    await messageWith(bob.page, "can someone review #13?").waitFor();
    await messageWith(alice.page, "can someone review #13?").waitFor();
    await thumbs.click();
    const two = messageWith(alice.page, "review #13").getByRole("button", { name: /^👍 2/ });
    await two.waitFor();
    assert.equal(
      await messageWith(bob.page, "review #13").locator(".reaction").getAttribute("aria-pressed"),
      "true",
    );
    await screenshot(bob.page, "web-messages");
    await messageWith(bob.page, "review #13").getByRole("button", { name: /^👍 2/ }).click();
    await messageWith(alice.page, "review #13").getByRole("button", { name: /^👍 1/ }).waitFor();

    // The quote takes bob to the message it answers.
    await messageWith(bob.page, "on it").locator(".quote").click();
    await eventually(
      "the answered message in focus",
      () =>
        bob.page.evaluate(() => (globalThis as unknown as Win).document.activeElement?.dataset.id),
      (id) => id === "1",
    );

    // alice deletes her line (after saying yes): gone for everyone.
    const mine = messageWith(alice.page, "lgtm");
    await mine.hover();
    await mine.getByRole("button", { name: "delete" }).click();
    await mine.getByRole("button", { name: "Delete", exact: true }).click();
    await carol.expect("* alice deleted #3 in dev");
    await expectMessages(bob.page, ["carol: can someone review #13?", "bob: on it"]);
    await expectMessages(alice.page, ["carol: can someone review #13?", "bob: on it"]);
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
  },
);

browserTest(
  "scrolling up reaches the first message, with day dividers, grouping and links",
  async (browser) => {
    const now = Date.now();
    const link = "https://example.com/a_(b)";
    // 120 messages over three days, in runs of three lines per sender.
    const store = await seeded(
      "history",
      120,
      (i) => ({
        nick: ["ada", "bo", "cy"][Math.floor((i - 1) / 3) % 3],
        text: i === 7 ? `see ${link}, then <b>not bold</b>` : `line ${i}`,
      }),
      (i) => now - (i <= 40 ? 2 * DAY_MS : i <= 80 ? DAY_MS : 0) - (120 - i) * 1000,
    );
    await using server = await withHttpServer({}, store);
    await using chat = await openChat(browser, server.origin);
    const { page, errors } = chat;
    await joinRoom(page, "history");
    await eventually("the replay", () => shownIds(page), (ids) => ids.at(-1) === 120);
    // Scroll to the top until the start of the room shows.
    for (let i = 0; i < 30; i++) {
      const entries = await shownEntries(page);
      if (entries.includes("This is the beginning of history.")) break;
      await page.evaluate(() => {
        const { document } = globalThis as unknown as Win;
        const log = document.querySelector("#logs [role=log]:not([hidden])") as unknown as {
          scrollTop: number;
        };
        log.scrollTop = 0;
      });
      await page.waitForTimeout(150);
    }
    assert.deepEqual(await shownIds(page), Array.from({ length: 120 }, (_, i) => i + 1));
    assert.equal((await shownEntries(page))[0], "This is the beginning of history.");

    // One divider per day, the oldest with its date.
    const days = await page.locator("#logs [role=log]:not([hidden]) .day").allInnerTexts();
    assert.equal(days.length, 3, JSON.stringify(days));
    assert.match(days[0], /\d{4}/);
    assert.deepEqual(days.slice(1), ["Yesterday", "Today"]);
    // A sender's run of lines is one group: its first line shows the name, the others do not.
    const grouped = await page.evaluate(() => {
      const { document } = globalThis as unknown as Win;
      return [...document.querySelectorAll("#logs li.msg")].slice(0, 6).map((li) =>
        li.classList.contains("grouped")
      );
    });
    assert.deepEqual(grouped, [false, true, true, false, true, true]);

    // A link is a link (opening a new tab without the page), and markup stays text.
    const a = page.locator(`#logs a[href="${link}"]`);
    assert.equal(await a.textContent(), link);
    assert.equal(await a.getAttribute("rel"), "noopener noreferrer");
    assert.equal(await a.getAttribute("target"), "_blank");
    assert.equal(await page.locator("#logs b").count(), 0);
    assert.equal(
      await messageWith(page, "then <b>not bold</b>").count(),
      1,
      "the markup shows as text",
    );
    await page.locator(`#logs li.msg[data-id="7"]`).scrollIntoViewIfNeeded();
    await screenshot(page, "web-scrollback");
    assert.deepEqual(errors, []);
  },
);

browserTest(
  "typing, search opening a message in context, and Tab, Ctrl+Up and Shift+Enter",
  async (browser) => {
    const now = Date.now();
    const store = await seeded(
      "dev",
      400,
      (i) => ({ nick: "ops", text: i === 5 ? "the deploy key rotates on friday" : `status ${i}` }),
      (i) => now - (400 - i) * 60_000,
    );
    await using server = await withHttpServer({}, store);
    await using three = await threeInDev(browser, server);
    const { alice, bob, carol } = three;

    // bob types: alice sees it under the messages, until his line arrives.
    const typing = alice.page.locator("#typing");
    await messageBox(bob.page).pressSequentially("hello th");
    await eventually("bob typing", () => typing.innerText(), (t) => t === "bob is typing…");
    await messageBox(bob.page).pressSequentially("ere");
    await messageBox(bob.page).press("Enter");
    await carol.expect("[dev] bob: hello there");
    await eventually("no one typing", () => typing.innerText(), (t) => t === "");

    // Tab completes a nick (with ": " at the start of a line) and a command; again: the next one.
    const box = messageBox(alice.page);
    await box.fill("ca");
    await box.press("Tab");
    assert.equal(await box.inputValue(), "carol: ");
    await box.fill("/jo");
    await box.press("Tab");
    assert.equal(await box.inputValue(), "/join ");
    // Nothing to complete: Tab moves on, as it does everywhere.
    await box.fill("");
    await box.press("Tab");
    assert.notEqual(
      await alice.page.evaluate(() => (globalThis as unknown as Win).document.activeElement?.id),
      "message",
    );

    // Shift+Enter: two lines, sent as two messages.
    await box.fill("line one");
    await box.press("Shift+Enter");
    await box.pressSequentially("line two");
    await box.press("Enter");
    await carol.expect("[dev] alice: line one");
    await carol.expect("[dev] alice: line two");
    await eventually("the box emptied", () => box.inputValue(), (v) => v === "");
    // Ctrl+Up brings back what was sent; Ctrl+Down goes back to what was being typed.
    await box.fill("draft");
    await box.press("Control+ArrowUp");
    assert.equal(await box.inputValue(), "line one\nline two");
    await box.press("Control+ArrowDown");
    assert.equal(await box.inputValue(), "draft");
    await box.fill("");

    // Keyboard only: back from the box to the last line's "react", Enter, an arrow, Enter.
    await box.focus();
    for (let i = 0;; i++) {
      assert.ok(i < 10, "Shift+Tab never reached a react button");
      await alice.page.keyboard.press("Shift+Tab");
      const focused = await alice.page.evaluate(() =>
        (globalThis as unknown as Win).document.activeElement?.textContent ?? ""
      );
      if (focused.endsWith("react")) break;
    }
    await alice.page.keyboard.press("Enter");
    await alice.page.keyboard.press("ArrowRight");
    await alice.page.keyboard.press("Enter");
    await messageWith(bob.page, "line two").getByRole("button", { name: /^❤️ 1: alice$/ })
      .waitFor();

    // Search finds a message far above the replay; choosing it opens it in its room.
    await alice.page.getByRole("searchbox", { name: "Search" }).fill("deploy key");
    await alice.page.getByRole("searchbox", { name: "Search" }).press("Enter");
    await alice.page.locator("#search-heading").filter({ hasText: "1 message for “deploy key”" })
      .waitFor();
    assert.equal(await alice.page.locator("#logs").isHidden(), true);
    await screenshot(alice.page, "web-search");
    await alice.page.getByRole("button", { name: /^#dev .*ops.*the deploy key rotates/ }).click();
    await eventually(
      "the found message in focus",
      () =>
        alice.page.evaluate(() =>
          (globalThis as unknown as Win).document.activeElement?.dataset.id
        ),
      (id) => id === "5",
    );
    const ids = await shownIds(alice.page);
    // Read back page by page: one unbroken run from above it down to the newest line.
    assert.ok(ids[0] <= 5 && ids.at(-1) === 403, `ids ${ids[0]}..${ids.at(-1)}`);
    assert.deepEqual(ids, range(ids[0], 403));
    assert.ok((await shownMessages(alice.page)).includes("ops: the deploy key rotates on friday"));
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
  },
);
