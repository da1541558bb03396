// `--wait`: follow GET /v1/promotion-events?promotion=ID (server-sent events) and print one line
// per event on stderr until the promotion ends. Succeeded / SucceededWithExceptions exit 0; Halted,
// Errored (a person must act) and Aborted, Rejected, Cancelled, Superseded exit 5; --timeout
// passing first exits 6. A dropped stream is reopened with Last-Event-ID (the hub resumes after
// it), and the promotion is read again at each (re)connect, so no state change is missed.
import { ApiError, ConnectionError, Exit, type HubClient } from "../client/http.js";
import { readSse } from "../client/sse.js";
import { eventText, progressLine } from "./promote-progress.js";
import type { PromotionDetail, PromotionEvent } from "./promote-types.js";

const SUCCEEDED = ["Succeeded", "SucceededWithExceptions"];
const ENDED_BADLY = ["Halted", "Errored", "Aborted", "Rejected", "Cancelled", "Superseded"];

/** The exit code of a state --wait stops at, or undefined while it goes on (Pending, Running, Verifying, Paused). */
export function waitVerdict(state: string): number | undefined {
  if (SUCCEEDED.includes(state)) return Exit.Ok;
  if (ENDED_BADLY.includes(state)) return Exit.WaitFailed;
  return undefined;
}

export interface WaitOptions {
  /** Events before this (hub) time are history: not printed. */
  since: string;
  timeoutMs?: number;
  /** No byte for this long (the hub sends a keep-alive every 500 ms): the connection is dead. */
  idleMs?: number;
  log?: (line: string) => void;
}

class Timeout extends Error {}

export async function waitForPromotion(client: HubClient, id: string, opts: WaitOptions): Promise<number> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const idleMs = opts.idleMs ?? 10_000;
  const stop = new AbortController();
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (opts.timeoutMs === undefined) return;
    timer = setTimeout(() => {
      stop.abort();
      reject(new Timeout());
    }, opts.timeoutMs);
  });
  deadline.catch(() => undefined);
  const bounded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, deadline]);

  let lastEventId: string | undefined;
  let state = "unknown";
  let failures = 0;
  let lastGates: string | undefined;
  // Ended before the first read (a fast resume): its events since `since` still print, from the
  // replay, before the verdict; the hub's first keep-alive says the replay is drained.
  let endedBeforeStream: PromotionDetail | undefined;
  const finish = (p: { state: string; reason: string | null }, code: number): number => {
    log(`promotion ${id} ended ${p.state}${p.reason ? `: ${p.reason}` : ""}${code === Exit.Ok ? "" : ` — see flotilla promote show ${id}`}`);
    return code;
  };
  try {
    log(`waiting for promotion ${id} (events on stderr${opts.timeoutMs !== undefined ? `, at most ${Math.round(opts.timeoutMs / 1000)}s` : ""})`);
    for (;;) {
      const idle = new AbortController();
      let idleTimer: NodeJS.Timeout | undefined;
      const alive = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => idle.abort(), idleMs);
      };
      try {
        const { promotion: p } = await bounded(client.get<{ promotion: PromotionDetail }>(`/v1/promotions/${encodeURIComponent(id)}`));
        state = p.state;
        const now = waitVerdict(p.state);
        if (now !== undefined) {
          if (lastEventId !== undefined || endedBeforeStream) return finish(p, now);
          endedBeforeStream = p;
        }
        alive();
        const body = await bounded(client.stream("/v1/promotion-events", { promotion: id }, lastEventId ? { "last-event-id": lastEventId } : {}, AbortSignal.any([stop.signal, idle.signal])));
        failures = 0;
        for await (const sse of readSse(body, alive)) {
          if ("comment" in sse) {
            if (endedBeforeStream && sse.comment === "keep-alive") return finish(endedBeforeStream, now!);
            continue;
          }
          if (sse.id !== undefined) lastEventId = sse.id;
          const e = JSON.parse(sse.data) as PromotionEvent;
          if (e.at >= opts.since) {
            // A gate re-evaluated to the same verdicts says nothing new: one line per change.
            const text = eventText(e);
            if (e.type !== "gate-changed" || text !== lastGates) log(progressLine(e));
            if (e.type === "gate-changed") lastGates = text;
          }
          if (e.type === "state-changed") {
            // A replayed old change (Halted, then resumed) is history: it ends nothing, or the wait
            // would stop before printing the newer events the replay still holds after it.
            if (waitVerdict(String(e.data.to)) !== undefined && e.at >= opts.since) {
              const { promotion: end } = await bounded(client.get<{ promotion: PromotionDetail }>(`/v1/promotions/${encodeURIComponent(id)}`));
              state = end.state;
              const code = waitVerdict(end.state);
              if (code !== undefined) return finish(end, code);
            } else if (e.at >= opts.since) state = String(e.data.to);
          }
        }
        client.log.info({ promotion: id, lastEventId }, "the hub closed the event stream; reconnecting");
        log(`(the hub closed the event stream; reconnecting${lastEventId ? ` after event ${lastEventId}` : ""})`);
      } catch (err) {
        if (err instanceof Timeout || stop.signal.aborted) throw new Timeout();
        if (err instanceof ApiError) throw err;
        failures++;
        const why = idle.signal.aborted ? `no data for ${Math.round(idleMs / 1000)}s` : err instanceof ConnectionError ? err.message : (err as Error).message;
        client.log.info({ promotion: id, lastEventId, failures, err: why }, "event stream lost; reconnecting");
        log(`(event stream lost: ${why}; reconnecting${lastEventId ? ` after event ${lastEventId}` : ""})`);
        await bounded(new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(failures, 5)))));
      } finally {
        clearTimeout(idleTimer);
      }
    }
  } catch (err) {
    if (err instanceof Timeout) {
      log(`timed out after ${Math.round((Date.now() - started) / 1000)}s: promotion ${id} is still ${state} (the wait ended, the promotion goes on)`);
      return Exit.WaitTimeout;
    }
    throw err;
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}
