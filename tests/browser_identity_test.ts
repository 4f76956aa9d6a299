/**
 * The web client remembers you: a registered user stays signed in across
 * reloads, browser restarts and server restarts with a token (never the
 * password) until /logout; a guest gets its nick, rooms, open conversation,
 * draft and unread counts back after a reload; mentions are highlighted and
 * counted apart, notified when the tab is hidden, and counted in the title.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";
import { loadAssets } from "../src/transport/http.ts";
import { testConfig, withHttpServer } from "./helpers.ts";
import { WsClient } from "./ws_client.ts";
import {
  browserTest,
  conversationButton,
  eventually,
  joinRoom,
  messageBox,
  openChat,
  outliving,
  screenshot,
  setNick,
  shownEntries,
  shownMessages,
  tcpUser,
  type,
  UI_WAIT_MS,
  waitForNick,
  waitForStatus,
  type Win,
} from "./browser_support.ts";

/** Everything the page keeps in localStorage, as one string. */
function storage(page: import("playwright-core").Page): Promise<string> {
  return page.evaluate(() => {
    const { localStorage } = globalThis as unknown as Win;
    const out: string[] = [];
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      out.push(`${key}=${localStorage.getItem(key)}`);
    }
    return out.join("\n");
  });
}

browserTest(
  "a registered user stays signed in across reloads and restarts, until /logout",
  async (browser) => {
    const store = new MemoryHistoryStore();
    const kept = outliving(store);
    const assets = await loadAssets();
    let server = startServer(
      testConfig({ http: { hostname: "127.0.0.1", port: 0 } }),
      kept,
      assets,
    );
    const httpPort = server.httpAddr!.port;
    const origin = `http://127.0.0.1:${httpPort}`;
    try {
      const first = await openChat(browser, origin);
      const { page } = first;
      await setNick(page, "alice");
      const password = "correct horse battery";
      await type(page, `/register ${password}`);
      await page.waitForFunction(() => (globalThis as unknown as Win).chatClient.signedIn);
      await page.locator("#account").filter({ hasText: "Signed in as alice" }).waitFor();
      await joinRoom(page, "dev");
      // A DM with another signed-in nick is kept by the server.
      await using bob = await tcpUser(server.tcpAddr.port, "bob");
      await bob.send("/register bobs secret");
      await bob.waitFor((l) => l.includes("nick bob is registered"));
      await bob.send("/msg alice the release notes are in the doc");
      await conversationButton(page, "bob").waitFor();
      // The browser keeps a token, never the password.
      const stored = await storage(page);
      assert.match(stored, /chat\.token=[A-Za-z0-9_-]{43}/);
      assert.ok(!stored.includes(password), "the password is not in storage");

      // A reload: still alice, signed in, in dev.
      await page.reload();
      await waitForNick(page, "alice");
      await page.waitForFunction(() => (globalThis as unknown as Win).chatClient.signedIn);
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as Win).chatClient.view),
        "dev",
      );
      await conversationButton(page, "dev").waitFor();
      await conversationButton(page, "bob").click();
      await eventually(
        "the kept DM",
        () => shownMessages(page),
        (m) => m.includes("bob: the release notes are in the doc"),
      );
      await conversationButton(page, "dev").click();

      // The browser closed and opened again (its storage kept), and the server restarted.
      const state = await page.context().storageState();
      await first[Symbol.asyncDispose]();
      await server.shutdown();
      server = startServer(
        testConfig({ http: { hostname: "127.0.0.1", port: httpPort } }),
        kept,
        assets,
      );
      const context = await browser.newContext({ storageState: state });
      try {
        const again = await context.newPage();
        again.setDefaultTimeout(UI_WAIT_MS);
        await again.goto(origin);
        await waitForNick(again, "alice");
        await again.waitForFunction(() => (globalThis as unknown as Win).chatClient.signedIn);
        await conversationButton(again, "dev").waitFor();
        const token = /chat\.token=(\S+)/.exec(await storage(again))![1];

        // /logout: the token is revoked; the next visit is a guest.
        await type(again, "/logout");
        await again.waitForFunction(
          () => /^guest-\d+$/.test((globalThis as unknown as Win).chatClient?.nick ?? ""),
          undefined,
          { timeout: UI_WAIT_MS },
        );
        await waitForStatus(again, "connected");
        assert.ok(!(await storage(again)).includes("chat.token="), "the token is forgotten");
        await using ws = await WsClient.jsonClient(httpPort);
        ws.sendJson({ type: "resume", token, ref: 1 });
        const reply = await ws.waitForEvent((e) => e.ref === 1);
        assert.equal(reply.code, "bad_token", JSON.stringify(reply));
      } finally {
        await context.close();
      }
    } finally {
      await server.shutdown();
      await store.close();
    }
  },
);

browserTest(
  "a guest gets its nick, rooms, open conversation, draft and unread counts back",
  async (browser) => {
    await using server = await withHttpServer();
    await using chat = await openChat(browser, server.origin);
    const { page, errors } = chat;
    await setNick(page, "gus");
    await joinRoom(page, "dev");
    await using hal = await tcpUser(server.port, "hal", "dev");
    await hal.send("read before");
    await eventually("the line", () => shownMessages(page), (m) => m.includes("hal: read before"));
    await joinRoom(page, "ops");
    await page.getByRole("button", { name: "Leave lobby" }).click();
    await page.getByRole("button", { name: "Leave lobby" }).waitFor({ state: "detached" });
    await conversationButton(page, "ops").click();
    // A draft, never sent.
    await messageBox(page).fill("half a thought");
    // A direct message, and three lines in dev while gus reads ops.
    await hal.send("/msg gus hello", "new one", "new two", "new three");
    await hal.expect("[dev] hal: new three");
    const dev = conversationButton(page, "dev");
    await eventually("dev's unread count", () => dev.innerText(), (t) => /\b3\b/.test(t));

    await page.reload();
    await waitForNick(page, "gus");
    // Back: the rooms without the lobby, ops open, the draft in the box, the conversation with hal.
    await conversationButton(page, "ops").waitFor();
    await conversationButton(page, "hal").waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as Win).chatClient.view), "ops");
    assert.equal(await messageBox(page).inputValue(), "half a thought");
    assert.equal(await page.getByRole("button", { name: /^lobby\b/ }).count(), 0);
    // The marker this browser kept: dev counts the three lines as unread again.
    await eventually("dev's unread count", () => dev.innerText(), (t) => /\b3\b/.test(t));
    await dev.click();
    // The "new messages" line sits right above the first unread line.
    const entries = await eventually(
      "the new messages line",
      () => shownEntries(page),
      (e) => e.includes("New messages"),
    );
    assert.equal(entries[entries.indexOf("New messages") + 1], "hal: new one");
    assert.equal(entries[entries.indexOf("New messages") - 1], "hal: read before");
    assert.doesNotMatch(await dev.innerText(), /\b3\b/);
    assert.deepEqual(errors, []);
  },
);

browserTest(
  "mentions are highlighted and counted apart, notified when hidden, and counted in the title",
  async (browser) => {
    await using server = await withHttpServer();
    await using chat = await openChat(browser, server.origin, undefined, async (page) => {
      await page.context().grantPermissions(["notifications"]);
      // The page is told when it is hidden, and its notifications are recorded.
      await page.addInitScript(() => {
        const w = globalThis as unknown as Record<string, unknown>;
        w.__hidden = false;
        w.__notes = [];
        Object.defineProperty(w.document as object, "hidden", { get: () => w.__hidden });
        class Recorded {
          static permission = "granted";
          static requestPermission() {
            return Promise.resolve("granted");
          }
          constructor(title: string, options: { body?: string }) {
            (w.__notes as string[]).push(`${title}: ${options.body}`);
          }
          addEventListener() {}
          close() {}
        }
        w.Notification = Recorded;
      });
    });
    const { page, errors } = chat;
    await setNick(page, "ann");
    await joinRoom(page, "dev");
    await joinRoom(page, "ops");
    await using ben = await tcpUser(server.port, "ben", "dev");
    await ben.send("nothing for you here: banner", "ann: can you look at the deploy?");
    await ben.expect("[dev] ben: ann: can you look at the deploy?");
    const dev = conversationButton(page, "dev");
    // Two unread, one of them a mention, counted apart; the title counts the mention.
    await eventually("dev's counts", () => dev.innerText(), (t) => /@1/.test(t) && /\b2\b/.test(t));
    await eventually("the title", () => page.title(), (t) => t.startsWith("(1) "));
    await dev.click();
    const mentioned = await page.locator("li.msg.mention").allInnerTexts();
    assert.equal(mentioned.length, 1);
    assert.match(mentioned[0], /can you look at the deploy/);
    assert.equal(await page.title(), "#dev · chat");

    // Notifications: opt in, hide the tab, and a mention and a DM each notify.
    await page.getByRole("button", { name: "Notify me" }).click();
    await page.getByRole("button", { name: "Notifications on" }).waitFor();
    await page.evaluate(() => {
      (globalThis as unknown as Record<string, unknown>).__hidden = true;
    });
    await ben.send("thanks ann!", "/msg ann lunch?");
    await ben.expect("[dm] ben -> ann: lunch?");
    const notes = await eventually(
      "two notifications",
      () => page.evaluate(() => (globalThis as unknown as Record<string, string[]>).__notes),
      (n) => n.length >= 2,
    );
    assert.deepEqual(notes, [
      "ben mentioned you in #dev: thanks ann!",
      "ben (direct message): lunch?",
    ]);
    await eventually("the title", () => page.title(), (t) => t.startsWith("(2) "));
    // Nothing is notified for a line that does not name ann, or while the tab is in sight.
    await ben.send("just chatting");
    await page.evaluate(() => {
      const w = globalThis as unknown as Record<string, unknown>;
      w.__hidden = false;
      (w.document as EventTarget).dispatchEvent(new Event("visibilitychange"));
    });
    await ben.send("ann, one more");
    await ben.expect("[dev] ben: ann, one more");
    await eventually(
      "the line",
      () => shownMessages(page),
      (m) => m.includes("ben: ann, one more"),
    );
    assert.equal(
      (await page.evaluate(() => (globalThis as unknown as Record<string, string[]>).__notes))
        .length,
      2,
    );
    await screenshot(page, "web-mentions");
    assert.deepEqual(errors, []);
  },
);
