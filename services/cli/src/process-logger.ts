// The logger of the CLI's long-running processes (`flotilla hub`, `flotilla agent`, the demo's
// hub and agents): pino, one JSON line per event on stderr — stdout stays for what a person
// reads (tables, the demo's narration). The engine, agent and hub code log through their own
// small logger ports (AgentLogger, ResolverLogger, …), which a pino logger satisfies, so the
// libraries never import pino.
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from "pino";
import { activeTraceLogFields } from "@flotilla/wire";
import { UsageError } from "./args.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_LEVEL_ENV = "FLOTILLA_LOG_LEVEL";

export interface ProcessLoggerOptions {
  /** What the process is: "hub", "agent". On every line. */
  component: string;
  /** The agent's cluster; on every line when set. */
  cluster?: string;
  /** Default "info". */
  level?: LogLevel;
  /** Default: stderr, written synchronously (a line is not lost when the process exits). */
  destination?: DestinationStream;
}

export function createProcessLogger(options: ProcessLoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { pid: process.pid, component: options.component, ...(options.cluster ? { cluster: options.cluster } : {}) },
      // Level names and ISO times: read by people and log shippers alike without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: stdTimeFunctions.isoTime,
      // Evaluated per line: the span active where the line is written (reconcile, resolve,
      // ingest report), so the line joins the trace the pointer and the reports carry.
      mixin: () => ({ ...activeTraceLogFields() }),
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** `--log-level` / FLOTILLA_LOG_LEVEL → a level; anything else is a usage error naming both. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  if (value === undefined || value.trim() === "") return fallback;
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new UsageError(`--log-level ${value} (or ${LOG_LEVEL_ENV}): expected one of ${LOG_LEVELS.join(", ")}`);
}

export type ProcessLogger = Logger;
