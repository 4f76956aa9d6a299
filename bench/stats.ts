/**
 * Latency statistics for the benchmark.
 *
 * Samples go into a fixed-size log-linear histogram (in the spirit of HdrHistogram), so recording
 * millions of samples costs O(1) time and a constant ~190 KiB of memory, and percentiles are exact
 * below 2048 and within 0.1 % above. Values are whole units (the benchmark uses microseconds) from 0
 * to 2^31 - 1 (about 35 minutes in µs); larger values are clamped.
 *
 * @module
 */

/** log2 of the number of sub-buckets per power of two above the exact range. */
const SUB_BITS = 10;
/** Sub-buckets per power of two: relative resolution is 1 / SUB_COUNT. */
const SUB_COUNT = 1 << SUB_BITS;
/** Values below this are stored exactly, one bucket each. */
const EXACT_LIMIT = SUB_COUNT * 2;
/** Largest value that can be recorded; larger values are clamped to it. */
const MAX_VALUE = 2 ** 31 - 1;
/** Total bucket count: the exact range plus one block of SUB_COUNT per higher power of two. */
const BUCKET_COUNT = EXACT_LIMIT + (31 - (SUB_BITS + 1)) * SUB_COUNT;

/** Bucket index of a whole value in [0, MAX_VALUE]. */
function bucketOf(value: number): number {
  if (value < EXACT_LIMIT) return value;
  const exponent = 31 - Math.clz32(value); // position of the top bit, >= SUB_BITS + 1
  const shift = exponent - SUB_BITS;
  return EXACT_LIMIT + (exponent - SUB_BITS - 1) * SUB_COUNT + ((value >>> shift) - SUB_COUNT);
}

/** Middle of the value range covered by a bucket. */
function bucketMiddle(index: number): number {
  if (index < EXACT_LIMIT) return index;
  const offset = index - EXACT_LIMIT;
  const shift = Math.floor(offset / SUB_COUNT) + 1;
  const mantissa = (offset % SUB_COUNT) + SUB_COUNT;
  return mantissa * 2 ** shift + (2 ** shift - 1) / 2;
}

/** Summary of a latency distribution; every figure is in the unit that was recorded. */
export interface LatencySummary {
  /** Number of samples. */
  count: number;
  /** Smallest sample, or null without samples. */
  min: number | null;
  /** Arithmetic mean, or null without samples. */
  mean: number | null;
  /** Median, or null without samples. */
  p50: number | null;
  /** 90th percentile, or null without samples. */
  p90: number | null;
  /** 99th percentile, or null without samples. */
  p99: number | null;
  /** 99.9th percentile, or null without samples. */
  p999: number | null;
  /** Largest sample, or null without samples. */
  max: number | null;
}

/** A histogram of non-negative values with bounded memory and ~0.1 % relative precision. */
export class Histogram {
  #counts = new Float64Array(BUCKET_COUNT);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Number of recorded samples. */
  get count(): number {
    return this.#count;
  }

  /** Records one sample; it is rounded to a whole number and clamped to [0, 2^31 - 1]. */
  record(value: number): void {
    let v = Math.round(value);
    if (!(v >= 0)) v = 0; // also catches NaN
    else if (v > MAX_VALUE) v = MAX_VALUE;
    this.#counts[bucketOf(v)]++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: Histogram): void {
    const theirs = other.#counts;
    for (let i = 0; i < BUCKET_COUNT; i++) this.#counts[i] += theirs[i];
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /**
   * Value at percentile `p` (0..100): the smallest recorded value such that at least p % of the
   * samples are less than or equal to it (to the histogram's precision). Null without samples.
   */
  percentile(p: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        // The bucket middle can lie outside the recorded extremes; keep it within them.
        return Math.min(Math.max(Math.round(bucketMiddle(i)), this.#min), this.#max);
      }
    }
    return this.#max;
  }

  /** Count, extremes, mean and the usual percentiles in one object. */
  summary(): LatencySummary {
    const has = this.#count > 0;
    return {
      count: this.#count,
      min: has ? this.#min : null,
      mean: has ? Math.round((this.#sum / this.#count) * 10) / 10 : null,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: has ? this.#max : null,
    };
  }
}
