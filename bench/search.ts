/**
 * Search in the SQLite store at scale: a temporary file is filled through the store's own
 * batched `append` with 1,000,000 messages of varied chat text (English-like, one in eight
 * Japanese) in 8 rooms, then each query shape is timed over all rooms with a limit of 20, as
 * `search` does by default. One record per shape: the median and p90 of the runs, and how many
 * messages the query matches in all.
 *
 * ```sh
 * deno task bench search
 * deno run -A bench/search.ts --messages 200000 --runs 20
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { SqliteHistoryStore } from "../src/store/sqlite.ts";
import type { ChatMessage } from "../src/core/types.ts";
import type { ScenarioRecord } from "./report.ts";

/** Everyday chat words, most frequent first; made-up words follow them in the Zipf ranking. */
const COMMON = (
  "the to and a of i you it is that in for on we this be with have are not just but so can do " +
  "at my if what will was me all about there your like get they one now out up think know from " +
  "no yes ok thanks good time work need should see build test deploy server release meeting " +
  "today tomorrow issue fix code review branch merge config error log update check team " +
  "question could would why how when which more some still also new then because here let make " +
  "sure look going after before again really lunch coffee weekend docs bug patch version user " +
  "client database query index cache memory latency"
).split(" ");

const JA_NOUNS = (
  "東京 大阪 会議 明日 今日 資料 確認 予定 開発 環境 本番 障害 対応 共有 修正 設定 担当 連絡 時間 " +
  "場所 京都 名古屋 福岡 サーバー デプロイ リリース テスト レビュー 会議室 来週 午後 午前 お客様 仕様"
).split(" ");
const JA_PARTICLES = ["は", "が", "を", "に", "で", "の", "と", "も"];
const JA_ENDINGS = ["です", "ます", "しました", "お願いします", "ですか", "ですね", "でした"];
/** Planted in one message of every 200,000: a rare word of two characters. */
const RARE_SHORT = "札幌";

/** mulberry32: a small seeded generator, so every run writes the same text. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with weight 1/(rank+1) (Zipf), by bisection of the cumulative weights. */
function zipf(n: number, rand: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cumulative[i] = total += 1 / (i + 1);
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Varied chat lines, the same for the same seed; counts how many lines hold each word. */
export class ChatText {
  readonly #rand: () => number;
  readonly #vocabulary: string[];
  readonly #rank: () => number;
  readonly #japanese: () => number;
  #made = 0;
  /** Lines made so far that hold each vocabulary word (as a word; substrings not counted). */
  readonly lines = new Map<string, number>();

  constructor(seed = 42, vocabulary = 50_000) {
    this.#rand = random(seed);
    const words = new Set(COMMON);
    const consonants = "bcdfghjklmnprstvz";
    const vowels = "aeiou";
    while (words.size < vocabulary) {
      let w = "";
      for (let s = 2 + Math.floor(this.#rand() * 3); s > 0; s--) {
        w += consonants[Math.floor(this.#rand() * consonants.length)];
        w += vowels[Math.floor(this.#rand() * vowels.length)];
      }
      words.add(w);
    }
    this.#vocabulary = [...words];
    this.#rank = zipf(this.#vocabulary.length, this.#rand);
    this.#japanese = zipf(JA_NOUNS.length, this.#rand);
  }

  /** The next line: 4 to 20 words, or a Japanese sentence one time in eight. */
  next(): string {
    this.#made++;
    const seen = new Set<string>();
    let line: string;
    if (this.#rand() < 0.125) {
      const parts: string[] = [];
      for (let n = 1 + Math.floor(this.#rand() * 3); n > 0; n--) {
        const noun = JA_NOUNS[this.#japanese()];
        seen.add(noun);
        parts.push(noun, JA_PARTICLES[Math.floor(this.#rand() * JA_PARTICLES.length)]);
      }
      parts.push(JA_NOUNS[this.#japanese()], JA_ENDINGS[Math.floor(this.#rand() * 7)]);
      line = parts.join("") + (this.#rand() < 0.3 ? "。" : "");
    } else {
      const words: string[] = [];
      for (let n = 4 + Math.floor(this.#rand() * 17); n > 0; n--) {
        const word = this.#vocabulary[this.#rank()];
        seen.add(word);
        words.push(word);
      }
      if (this.#rand() < 0.4) words[0] = words[0][0].toUpperCase() + words[0].slice(1);
      line = words.join(" ") + [".", "?", "!", "", "", ""][Math.floor(this.#rand() * 6)];
    }
    if (this.#made % 200_000 === 100_000) {
      line += ` ${RARE_SHORT}`;
      seen.add(RARE_SHORT);
    }
    for (const w of seen) this.lines.set(w, (this.lines.get(w) ?? 0) + 1);
    return line;
  }

  /** A made-up word of 6+ letters held by about `lines` lines (what a query shape needs). */
  wordNear(lines: number): string {
    let best = "";
    for (const [w, n] of this.lines) {
      if (w.length < 6 || COMMON.includes(w)) continue;
      if (best === "" || Math.abs(n - lines) < Math.abs(this.lines.get(best)! - lines)) best = w;
    }
    return best;
  }
}

/** Fills the store at `path` through `append`, `turn` messages per turn of the event loop. */
async function fill(
  store: SqliteHistoryStore,
  text: ChatText,
  messages: number,
  rooms: string[],
  progress: (message: string) => void,
): Promise<number> {
  const turn = 20_000;
  const t0 = performance.now();
  const ts = Date.now() - messages;
  for (let done = 0; done < messages;) {
    const pending: Promise<ChatMessage>[] = [];
    for (let i = 0; i < turn && done < messages; i++, done++) {
      pending.push(store.append({
        room: rooms[(done * 7 + (done >> 5)) % rooms.length],
        nick: `user${done % 97}`,
        text: text.next(),
        ts: ts + done,
        kind: "say",
      }));
    }
    await Promise.all(pending);
    if (done % 200_000 === 0) progress(`search: ${done} messages written`);
  }
  return (performance.now() - t0) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Fills a temporary SQLite file and times each query shape; one record per shape. */
export async function searchBench(
  progress: (message: string) => void,
  messages = 1_000_000,
  runs = 30,
): Promise<ScenarioRecord[]> {
  const dir = await Deno.makeTempDir({ prefix: "chat-bench-search-" });
  const path = `${dir}/search.db`;
  const rooms = Array.from({ length: 8 }, (_, i) => `room-${i}`);
  const records: ScenarioRecord[] = [];
  try {
    const text = new ChatText();
    // Large enough that retention keeps every message.
    let store = new SqliteHistoryStore(path, messages);
    progress(`search: writing ${messages} messages to a temporary file`);
    const seconds = await fill(store, text, messages, rooms, progress);
    await store.close();
    const t0 = performance.now();
    store = new SqliteHistoryStore(path, messages);
    const openMs = performance.now() - t0;
    const bytes = (await Deno.stat(path)).size;
    records.push({
      name: "search-fill",
      description: `${messages} messages in ${rooms.length} rooms through append, then reopened`,
      loadgenArgs: [],
      summary: `${Math.round(messages / seconds)} appends/s (${seconds.toFixed(1)} s), ` +
        `file ${(bytes / 1048576).toFixed(0)} MB, reopened in ${openMs.toFixed(0)} ms`,
    });
    const common = text.wordNear(300);
    const shapes: [name: string, description: string, query: string][] = [
      ["search-word", "one 3+-char word held by a few hundred messages", common],
      ["search-2words", "a very common word and that one", `the ${common}`],
      ["search-rare", "one rare 3+-char word", text.wordNear(5)],
      ["search-apart", "two common words never in one message", "the 会議室"],
      ["search-ja", "a Japanese word of 3 characters", "会議室"],
      ["search-short", "a common 2-char word (no trigram: LIKE on the rows)", "東京"],
      ["search-short-rare", "a rare 2-char word: every kept row is read", RARE_SHORT],
      ["search-mixed", "a 3+-char word and a 2-char word", `${common} ok`],
    ];
    try {
      for (const [name, description, query] of shapes) {
        const all = await store.search(rooms, query, messages);
        const times: number[] = [];
        for (let i = 0; i < runs + 3; i++) {
          const t = performance.now();
          await store.search(rooms, query, 20);
          if (i >= 3) times.push(performance.now() - t); // the first ones warm the cache
        }
        times.sort((a, b) => a - b);
        const summary = `median ${percentile(times, 0.5).toFixed(2)} ms, ` +
          `p90 ${percentile(times, 0.9).toFixed(2)} ms; ${all.length} matches`;
        progress(`${name} "${query}": ${summary}`);
        records.push({
          name,
          description: `${description}: "${query}", limit 20, ${rooms.length} rooms`,
          loadgenArgs: [],
          summary,
        });
      }
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return records;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { messages: { type: "string" }, runs: { type: "string" } },
  });
  const records = await searchBench(
    (message) => console.error(message),
    Number(values.messages ?? 1_000_000),
    Number(values.runs ?? 30),
  );
  for (const r of records) console.log(`${r.name.padEnd(18)} ${r.summary}  (${r.description})`);
}
