/**
 * The web client (`web/`) in a real browser, next to TCP users: chatting,
 * DMs, reconnects and restarts, labels and keyboard use, and the message
 * box's limits and errors. The newer features have their own files
 * (browser_*_test.ts); the harness is in browser_support.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";
import { loadAssets } from "../src/transport/http.ts";
import { delay, testConfig, withHttpServer } from "./helpers.ts";
import {
  browserTest,
  conversationButton,
  eventually,
  expectKept,
  expectMembers,
  expectMessages,
  focusedId,
  joinRoom,
  messageBox,
  openChat,
  OUT_DIR,
  outliving,
  range,
  recipientShown,
  setNick,
  shownEntries,
  shownIds,
  tcpUser,
  type,
  waitForStatus,
  type Win,
} from "./browser_support.ts";

// --- tests -------------------------------------------------------------------------------------

browserTest("two browser users and a TCP user chat in one room", async (browser) => {
  await using server = await withHttpServer();
  await using alice = await openChat(browser, server.origin);
  await using bob = await openChat(browser, server.origin);
  await using carol = await tcpUser(server.port, "carol");

  await setNick(alice.page, "alice");
  // Nicks are unique ignoring case: the form says so.
  const bobNick = bob.page.getByLabel("Nick");
  await bobNick.fill("Alice");
  await bobNick.press("Enter");
  await bob.page.getByRole("alert").filter({ hasText: "nick taken: Alice" }).waitFor();
  assert.equal(await bobNick.getAttribute("aria-invalid"), "true");
  await setNick(bob.page, "bob");
  assert.equal(await bobNick.getAttribute("aria-invalid"), null);
  await joinRoom(alice.page, "dev");
  await joinRoom(bob.page, "dev");
  await carol.send("/join dev");
  await carol.expect("* carol joined dev");
  await expectMembers(alice.page, ["alice", "bob", "carol"]);
  await expectMembers(bob.page, ["alice", "bob", "carol"]);

  // Each line waits for the TCP user's copy, so every side sees one order.
  await type(alice.page, "hello from alice");
  await carol.expect("[dev] alice: hello from alice");
  await type(bob.page, "hi from bob");
  await carol.expect("[dev] bob: hi from bob");
  await carol.send("hey from carol");
  await carol.expect("[dev] carol: hey from carol");
  await carol.send("/me waves");
  await carol.expect("[dev] * carol waves");
  await type(alice.page, "/me waves back");
  await carol.expect("[dev] * alice waves back");
  await type(bob.page, "//slash is not a command");
  await carol.expect("[dev] bob: /slash is not a command");

  const all = [
    "alice: hello from alice",
    "bob: hi from bob",
    "carol: hey from carol",
    "* carol waves",
    "* alice waves back",
    "bob: /slash is not a command",
  ];
  await expectMessages(alice.page, all);
  await expectMessages(bob.page, all);

  // A direct message from a browser user reaches the TCP user, and opens the conversation
  // with them.
  await type(alice.page, "/msg carol psst, carol");
  await carol.expect("[dm] alice -> carol: psst, carol");
  await expectMessages(alice.page, ["alice: psst, carol"]);

  // A DM to a browser user in another view: an unread badge on the conversation with the
  // sender, then the DM itself.
  await carol.send("/msg bob just for you");
  await carol.expect("[dm] carol -> bob: just for you");
  const withCarol = conversationButton(bob.page, "carol");
  await eventually("bob's DM unread badge", () => withCarol.innerText(), (t) => /\b1\b/.test(t));
  await withCarol.click();
  await expectMessages(bob.page, ["carol: just for you"]);
  // Plain text in that conversation goes to carol.
  await type(bob.page, "got it");
  await carol.expect("[dm] bob -> carol: got it");

  // Leaving shows at the others; the room list drops the room.
  await alice.page.getByRole("button", { name: "Leave dev" }).click();
  await carol.expect("* alice left dev");
  await bob.page.getByRole("button", { name: /^dev/ }).click();
  await expectMembers(bob.page, ["bob", "carol"]);
  await alice.page.getByRole("button", { name: "Leave dev" }).waitFor({ state: "detached" });

  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});

browserTest("text from others is never markup", async (browser) => {
  await using server = await withHttpServer();
  await using chat = await openChat(browser, server.origin);
  const { page, errors } = chat;
  await setNick(page, "victim");
  await using mallory = await tcpUser(server.port, "mallory");
  await using eve = await tcpUser(server.port, "eve");

  const img = `<img src=x onerror="window.__pwned=1">`;
  const bold = "<b>bold</b>";
  const script = "<script>window.__pwned=2</script>";
  await mallory.send(img, bold, script);
  await mallory.expect(`[lobby] mallory: ${script}`);
  await expectMessages(page, [`mallory: ${img}`, `mallory: ${bold}`, `mallory: ${script}`]);

  // A quit reason and a DM are user text too.
  await eve.send(`/quit ${img}`);
  await eve.waitClosed();
  await eventually(
    "eve's quit notice",
    () => shownEntries(page),
    (entries) => entries.includes(`eve left lobby (quit: ${img})`),
  );
  await mallory.send(`/msg victim ${img}`);
  await mallory.expect(`[dm] mallory -> victim: ${img}`);
  await conversationButton(page, "mallory").click();
  await eventually(
    "the DM",
    () => shownEntries(page),
    (entries) => entries.includes(`mallory: ${img}`),
  );

  await delay(300); // time for an image error handler to run, were there an image
  const found = await page.evaluate(() => {
    const { document, __pwned } = globalThis as unknown as Win;
    return {
      pwned: __pwned,
      markup: document.querySelectorAll("#logs img, #logs b, #logs script").length,
      images: document.querySelectorAll("img").length,
    };
  });
  assert.deepEqual(found, { pwned: undefined, markup: 0, images: 0 });
  assert.deepEqual(errors, []);
});

browserTest("a dropped connection comes back and fills the gap", async (browser) => {
  await using server = await withHttpServer();
  await using chat = await openChat(browser, server.origin);
  const { page, errors } = chat;
  await setNick(page, "dana");
  await joinRoom(page, "ops");
  await using frank = await tcpUser(server.port, "frank", "ops");
  await frank.send("before");
  await expectMessages(page, ["frank: before"]);

  await page.evaluate(() => (globalThis as unknown as Win).chatClient.dropConnection(true));
  await frank.expect("* dana left ops (quit)");
  await waitForStatus(page, "offline");
  // More than the replay on join (20): only the history request can bring them all.
  const gap = range(1, 30).map((i) => `gap ${i}`);
  await frank.send(...gap);
  await frank.expect("[ops] frank: gap 30");

  await page.evaluate(() => (globalThis as unknown as Win).chatClient.reconnect());
  await waitForStatus(page, "connected");
  await frank.expect("* dana joined ops");
  await frank.send("after");
  await expectMessages(page, [
    "frank: before",
    ...gap.map((t) => `frank: ${t}`),
    "frank: after",
  ]);
  assert.deepEqual(await shownIds(page), range(1, 32));
  // The nick is claimed again and the room list still shows the room.
  assert.equal(await page.evaluate(() => (globalThis as unknown as Win).chatClient.nick), "dana");
  await page.getByRole("button", { name: "Leave ops" }).waitFor();

  // A connection the network cuts (no stay-offline): the client retries by itself.
  await page.evaluate(() => (globalThis as unknown as Win).chatClient.dropConnection());
  await frank.expect("* dana left ops (quit)");
  await frank.send("while away");
  await frank.expect("* dana joined ops");
  await expectMessages(page, [
    "frank: before",
    ...gap.map((t) => `frank: ${t}`),
    "frank: after",
    "frank: while away",
  ]);
  assert.deepEqual(errors, []);
});

browserTest("a server restart loses nothing the store kept", async (browser) => {
  const store = new MemoryHistoryStore();
  const kept = outliving(store);
  const assets = await loadAssets();
  const first = startServer(testConfig({ http: { hostname: "127.0.0.1", port: 0 } }), kept, assets);
  const httpPort = first.httpAddr!.port;
  let second: ReturnType<typeof startServer> | null = null;
  try {
    await using chat = await openChat(browser, `http://127.0.0.1:${httpPort}`);
    const { page, errors } = chat;
    await setNick(page, "erin");
    await joinRoom(page, "ops");
    {
      await using grace = await tcpUser(first.tcpAddr.port, "grace", "ops");
      await grace.send("one", "two");
      await expectMessages(page, ["grace: one", "grace: two"]);
      await first.shutdown();
    }
    // The page notices and retries with backoff against a closed port for a while.
    await waitForStatus(page, "reconnecting…");
    await eventually(
      "a refused reconnect",
      () => Promise.resolve(errors.filter((e) => e.includes("ERR_CONNECTION_REFUSED")).length),
      (n) => n >= 1,
    );
    // Keep it away until the new server has new lines, so there is a gap to fill.
    await page.evaluate(() => (globalThis as unknown as Win).chatClient.dropConnection(true));
    second = startServer(
      testConfig({ http: { hostname: "127.0.0.1", port: httpPort } }),
      kept,
      assets,
    );
    await using grace = await tcpUser(second.tcpAddr.port, "grace", "ops");
    await grace.send("three", "four", "five");
    await grace.expect("[ops] grace: five");
    await page.evaluate(() => (globalThis as unknown as Win).chatClient.reconnect());
    await waitForStatus(page, "connected");
    await grace.expect("* erin joined ops");
    await grace.send("six");
    await expectMessages(page, [
      "grace: one",
      "grace: two",
      "grace: three",
      "grace: four",
      "grace: five",
      "grace: six",
    ]);
    assert.deepEqual(await shownIds(page), range(1, 6));
    const notices = (await shownEntries(page)).filter((e) =>
      /server shutting down|reconnected/.test(e)
    );
    assert.deepEqual(notices, ["server shutting down", "reconnected"]);
    assert.deepEqual(errors.filter((e) => !e.includes("WebSocket connection")), []);
  } finally {
    await first.shutdown();
    await second?.shutdown();
    await store.close();
  }
});

browserTest("labels, keyboard use, and phone and desktop layouts", async (browser) => {
  await using server = await withHttpServer();
  await using chat = await openChat(browser, server.origin);
  const { page, errors } = chat;

  // The controls are found by their labels; the messages are a polite live log.
  await page.getByLabel("Nick").waitFor();
  await page.getByLabel("Room", { exact: true }).waitFor();
  const box = messageBox(page);
  // A text area: Shift+Enter starts another line.
  assert.equal(await box.evaluate((n) => n.tagName), "TEXTAREA");
  const log = page.getByRole("log");
  assert.equal(await log.count(), 1);
  assert.equal(await log.getAttribute("aria-live"), "polite");
  assert.equal(await page.getByRole("status").textContent().then((t) => t?.trim()), "connected");

  // Keyboard only: Tab reaches the nick field (past the search box and the theme toggle),
  // then on to the message box; Enter sends.
  let tabs = 0;
  while ((await focusedId(page)) !== "nick") {
    assert.ok(++tabs < 8, "Tab never reached the nick field");
    await page.keyboard.press("Tab");
  }
  await page.keyboard.type("alice");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => (globalThis as unknown as Win).chatClient.nick === "alice");
  tabs = 0;
  while ((await focusedId(page)) !== "message") {
    assert.ok(++tabs < 20, "Tab never reached the message box");
    await page.keyboard.press("Tab");
  }
  await page.keyboard.type("typed with the keyboard");
  await page.keyboard.press("Enter");
  await expectMessages(page, ["alice: typed with the keyboard"]);
  assert.equal(await box.inputValue(), "");

  // A refused room name is explained next to the form, and stays there to be fixed.
  const room = page.getByLabel("Room", { exact: true });
  await room.fill("Bad Room!");
  await room.press("Enter");
  await page.getByRole("alert").filter({ hasText: "invalid room name" }).waitFor();
  assert.equal(await room.inputValue(), "Bad Room!");
  await room.fill("");

  // Every control has a name; every button is a real button.
  const unnamed = await page.evaluate(() => {
    const { document } = globalThis as unknown as Win;
    return [...document.querySelectorAll("input, button, textarea, select")]
      .filter((n) => {
        const labelled = (n.labels?.length ?? 0) > 0 || n.hasAttribute("aria-label") ||
          n.hasAttribute("aria-labelledby");
        return !labelled && (n.tagName !== "BUTTON" || (n.textContent ?? "").trim() === "");
      })
      .map((n) => n.outerHTML);
  });
  assert.deepEqual(unnamed, []);
  assert.equal(await page.locator("[onclick], div[tabindex], span[tabindex]").count(), 0);

  // Some company and traffic for the screenshots.
  await using bob = await tcpUser(server.port, "bob");
  await using carol = await tcpUser(server.port, "carol");
  await joinRoom(page, "design");
  await bob.send("/join random", "anyone up for lunch?", "/join design");
  await bob.expect("* bob joined design");
  await carol.send("/join design");
  await bob.expect("* carol joined design");
  const long = "looks good on my phone; the room chips scroll sideways and the message box " +
    "stays at the bottom";
  await bob.send("morning! the new layout is up on staging");
  await bob.expect("[design] bob: morning! the new layout is up on staging");
  await carol.send("/me pours coffee");
  await bob.expect("[design] * carol pours coffee");
  await carol.send(long);
  await bob.expect(`[design] carol: ${long}`);
  await type(page, "thanks, I'll check the contrast next");
  await bob.expect("[design] alice: thanks, I'll check the contrast next");
  await bob.send("/msg alice ping me when you're free");
  await bob.expect("[dm] bob -> alice: ping me when you're free");
  await expectMessages(page, [
    "bob: morning! the new layout is up on staging",
    "* carol pours coffee",
    `carol: ${long}`,
    "alice: thanks, I'll check the contrast next",
  ]);
  await expectMembers(page, ["alice", "bob", "carol"]);
  await conversationButton(page, "bob").filter({ hasText: "1" }).waitFor();
  await page.getByRole("button", { name: /^Join random/ }).waitFor();
  await page.evaluate(() => (globalThis as unknown as Win).document.activeElement?.blur());

  await Deno.mkdir(OUT_DIR, { recursive: true });
  await page.screenshot({ path: new URL("browser-desktop.png", OUT_DIR).pathname });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: new URL("browser-phone.png", OUT_DIR).pathname });
  const fits = await page.evaluate(() => {
    const { document, innerWidth, innerHeight } = globalThis as unknown as Win;
    const box = document.getElementById("message")!.getBoundingClientRect();
    return {
      noSideScroll: document.documentElement.scrollWidth <= innerWidth,
      boxOnScreen: box.bottom <= innerHeight && box.top >= 0 && box.width > 200,
    };
  });
  assert.deepEqual(fits, { noSideScroll: true, boxOnScreen: true });
  assert.deepEqual(errors, []);
});

browserTest(
  "a DM goes to the conversation open, not to whoever wrote last",
  async (browser) => {
    await using server = await withHttpServer();
    await using chat = await openChat(browser, server.origin);
    const { page, errors } = chat;
    await setNick(page, "gail");
    await using bob = await tcpUser(server.port, "bob");
    await using carol = await tcpUser(server.port, "carol");

    // bob writes first: a conversation named after him, with its own unread badge.
    await bob.send("/msg gail are you coming tonight?");
    await bob.expect("[dm] bob -> gail: are you coming tonight?");
    const withBob = conversationButton(page, "bob");
    await eventually("bob's unread badge", () => withBob.innerText(), (t) => /\b1\b/.test(t));
    await withBob.click();
    await expectMessages(page, ["bob: are you coming tonight?"]);
    assert.equal(await withBob.getAttribute("aria-current"), "true");

    // gail starts an answer for bob; the page names bob as the one it goes to.
    const box = messageBox(page);
    const answer = "yes, see you at eight";
    await box.fill(answer);
    const forBob = await recipientShown(page);
    assert.match(forBob.title, /\bbob\b/);
    assert.match(forBob.label, /\bbob\b/);
    assert.match(forBob.hint, /\bbob\b/);

    // carol writes meanwhile: her own conversation and badge; nothing changes where the box sends.
    await carol.send("/msg gail lend me your notes?");
    await carol.expect("[dm] carol -> gail: lend me your notes?");
    const withCarol = conversationButton(page, "carol");
    await eventually("carol's unread badge", () => withCarol.innerText(), (t) => /\b1\b/.test(t));
    assert.deepEqual(await recipientShown(page), forBob);
    assert.equal(await box.inputValue(), answer);
    assert.doesNotMatch(await withBob.innerText(), /\d/);

    // Enter: bob gets it, and it shows in bob's conversation only.
    await box.press("Enter");
    await bob.expect(`[dm] gail -> bob: ${answer}`);
    await expectMessages(page, ["bob: are you coming tonight?", `gail: ${answer}`]);
    await eventually("the box cleared once sent", () => box.inputValue(), (v) => v === "");

    // carol's conversation holds her line only; a reply there goes to her, and is the first
    // line she ever gets from gail.
    await withCarol.click();
    await expectMessages(page, ["carol: lend me your notes?"]);
    assert.doesNotMatch(await withCarol.innerText(), /\d/);
    const forCarol = await recipientShown(page);
    assert.match(forCarol.title, /\bcarol\b/);
    assert.match(forCarol.label, /\bcarol\b/);
    assert.match(forCarol.hint, /\bcarol\b/);
    await type(page, "sure, tomorrow");
    const first = await carol.waitFor((l) => l.startsWith("[dm] gail -> "));
    assert.equal(first, "[dm] gail -> carol: sure, tomorrow");
    await expectMessages(page, ["carol: lend me your notes?", "gail: sure, tomorrow"]);
    await withBob.click();
    await expectMessages(page, ["bob: are you coming tonight?", `gail: ${answer}`]);

    // A new correspondent: /msg opens a conversation with them.
    await using dave = await tcpUser(server.port, "dave");
    await type(page, "/msg dave welcome aboard");
    await dave.expect("[dm] gail -> dave: welcome aboard");
    await eventually(
      "dave's conversation open",
      () => recipientShown(page),
      (shown) => /\bdave\b/.test(shown.title) && /\bdave\b/.test(shown.hint),
    );
    await expectMessages(page, ["gail: welcome aboard"]);
    assert.equal(await conversationButton(page, "dave").getAttribute("aria-current"), "true");

    // Or a nick in a room's member list: the conversation opens, the box goes to them.
    await conversationButton(page, "lobby").click();
    await expectMembers(page, ["bob", "carol", "dave", "gail"]);
    await page.getByRole("complementary").getByRole("button", { name: /^carol\b/ }).click();
    assert.match((await recipientShown(page)).title, /\bcarol\b/);
    assert.equal(await focusedId(page), "message");
    await page.keyboard.type("one more thing");
    await page.keyboard.press("Enter");
    await carol.expect("[dm] gail -> carol: one more thing");

    // Nothing gail wrote went to anyone else.
    assert.deepEqual(bob.lines.filter((l) => l.startsWith("[dm] gail ")), [
      `[dm] gail -> bob: ${answer}`,
    ]);
    assert.deepEqual(errors, []);
  },
);

browserTest("a message too long for the server stays in the box", async (browser) => {
  await using server = await withHttpServer();
  await using chat = await openChat(browser, server.origin);
  const { page, errors } = chat;
  await setNick(page, "hana");
  await joinRoom(page, "dev");
  await using ivan = await tcpUser(server.port, "ivan", "dev");
  const box = messageBox(page);

  // 5000 characters is more than a line may hold (4096 bytes): refused here, and kept.
  const long = "x".repeat(5000);
  await box.fill(long);
  await box.press("Enter");
  await expectKept(box, long);
  await page.locator("#composer-error").filter({ hasText: /too long/ }).waitFor();
  assert.equal(await box.getAttribute("aria-invalid"), "true");
  // The count says by how much, in bytes of UTF-8.
  const count = page.locator("#composer-count");
  const over = Number(/(\d+) bytes? too many/.exec(await count.innerText())?.[1]);
  assert.ok(over > 0 && over < 1000, `over by ${over}`);

  // Cut to exactly what fits, the line goes (so the server agrees on the limit).
  const fits = long.slice(0, long.length - over);
  await box.fill(fits);
  await eventually("the count at zero", () => count.innerText(), (t) => /\b0 bytes left/.test(t));
  assert.equal(await box.getAttribute("aria-invalid"), null);
  await box.press("Enter");
  await ivan.expect(`[dev] hana: ${fits}`);
  await eventually("the box cleared once sent", () => box.inputValue(), (v) => v === "");

  // Bytes, not characters: 2100 × "é" is 4200 bytes.
  const accents = "é".repeat(2100);
  await box.fill(accents);
  await eventually("the count over", () => count.innerText(), (t) => /too many/.test(t));
  await box.press("Enter");
  await expectKept(box, accents);
  await page.locator("#composer-error").filter({ hasText: /too long/ }).waitFor();

  // Far from the limit, no count is shown.
  await box.fill("short");
  await eventually("the count hidden", () => count.isVisible(), (v) => !v);

  // Nothing of the refused lines reached the room.
  await type(page, "done");
  await ivan.expect("[dev] hana: done");
  assert.deepEqual(ivan.lines.filter((l) => l.startsWith("[dev] hana: ")), [
    `[dev] hana: ${fits}`,
    "[dev] hana: done",
  ]);
  assert.deepEqual(errors, []);
});

browserTest("the box's limit is the one the server announces", async (browser) => {
  await using server = await withHttpServer({ maxLineBytes: 512 });
  await using chat = await openChat(browser, server.origin);
  const { page, errors } = chat;
  await joinRoom(page, "dev");
  await using ivan = await tcpUser(server.port, "ivan", "dev");
  const box = messageBox(page);
  const count = page.locator("#composer-count");

  await box.fill("z".repeat(600));
  const over = Number(
    /(\d+) bytes? too many/.exec(
      await eventually("the count over", () => count.innerText(), (t) => /too many/.test(t)),
    )?.[1],
  );
  assert.ok(over > 88 && over < 200, `over by ${over}`);
  const fits = "z".repeat(600 - over);
  await box.fill(fits);
  await box.press("Enter");
  await ivan.expect(
    `[dev] ${await page.evaluate(() => (globalThis as unknown as Win).chatClient.nick)}: ${fits}`,
  );
  assert.deepEqual(errors, []);
});

browserTest("an error from the server keeps the text in the box and says why", async (browser) => {
  // The page is kept from learning this server's limit (the welcome's field is taken out on
  // the way), so it believes the default and sends a frame the server refuses.
  await using server = await withHttpServer({ maxLineBytes: 1024 });
  await using chat = await openChat(
    browser,
    server.origin,
    undefined,
    (page) =>
      page.routeWebSocket(/\/ws/, (ws) => {
        const upstream = ws.connectToServer();
        upstream.onMessage((frame) => {
          ws.send(
            String(frame).split("\n").map((item) => {
              const event = JSON.parse(item);
              delete event.maxLineBytes;
              return JSON.stringify(event);
            }).join("\n"),
          );
        });
      }),
  );
  const { page, errors } = chat;
  await setNick(page, "jo");
  await joinRoom(page, "dev");
  await using kim = await tcpUser(server.port, "kim", "dev");
  const box = messageBox(page);
  const error = page.locator("#composer-error");

  // A DM to nobody: the error carries the request's ref; the text stays to be fixed.
  const toNobody = "/msg nobody are you there?";
  await box.fill(toNobody);
  await box.press("Enter");
  await expectKept(box, toNobody);
  await error.filter({ hasText: "no such nick: nobody" }).waitFor();
  await expectKept(box, toNobody);
  assert.equal(await box.getAttribute("aria-invalid"), "true");
  // Typing again takes the error away.
  await box.press("End");
  await page.keyboard.press("Backspace");
  await eventually("the error gone", () => error.innerText(), (t) => t.trim() === "");
  assert.equal(await box.getAttribute("aria-invalid"), null);

  // A frame the server refuses unread (no ref in the error): the text stays as well.
  const long = "w".repeat(2000);
  await box.fill(long);
  await box.press("Enter");
  await expectKept(box, long);
  await error.filter({ hasText: "frame too long (max 1024 bytes)" }).waitFor();
  await expectKept(box, long);

  // What the server takes clears the box once it has answered.
  await type(page, "done");
  await kim.expect("[dev] jo: done");
  await eventually("the box cleared once sent", () => box.inputValue(), (v) => v === "");
  assert.deepEqual(kim.lines.filter((l) => l.startsWith("[dev] jo")), ["[dev] jo: done"]);
  assert.deepEqual(errors, []);
});
