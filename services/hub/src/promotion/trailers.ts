// Git trailers of promotion commits (`Key: value` lines in the last paragraph of the message), so
// the controller can find a wave commit it already pushed after a crash, and people can read in
// `git log` which promotion, release and wave a commit belongs to.
import { PromotionTrailer } from "@flotilla/model";

export type Trailers = Partial<Record<keyof typeof PromotionTrailer, string>>;

export function commitMessage(subject: string, body: string, trailers: Trailers): string {
  const lines = (Object.keys(PromotionTrailer) as (keyof typeof PromotionTrailer)[])
    .filter((k) => trailers[k] !== undefined)
    .map((k) => `${PromotionTrailer[k]}: ${trailers[k]}`);
  return `${subject}\n\n${body ? `${body}\n\n` : ""}${lines.join("\n")}\n`;
}

/** The trailers of a commit message (unknown keys ignored). */
export function parseTrailers(message: string): Trailers {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const last = paragraphs[paragraphs.length - 1] ?? "";
  const out: Trailers = {};
  const byTrailer = new Map(Object.entries(PromotionTrailer).map(([k, v]) => [v.toLowerCase(), k as keyof typeof PromotionTrailer]));
  for (const line of last.split("\n")) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
    const key = m && byTrailer.get(m[1]!.toLowerCase());
    if (key) out[key] = m[2]!;
  }
  return out;
}
