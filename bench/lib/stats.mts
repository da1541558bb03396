// Percentiles and the one-line figure format every bench prints.

/** Nearest-rank percentile (p in 0..100) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  // A loop, not Math.max(...samples): spreading ~120k+ samples (a fast ingest run) overflows the stack.
  let max = Number.NaN;
  for (const v of samples) if (!(v <= max)) max = v;
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max };
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : "n/a");

export function formatSummary(s: Summary): string {
  return `p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (n=${s.n})`;
}

/** One figure per line, label padded, so the runner's output reads as a table. */
export function figure(label: string, value: string): void {
  console.log(`${label.padEnd(58)} ${value}`);
}

export function heading(text: string): void {
  console.log(`\n== ${text}`);
}
