// A small structured logger for the CLI's processes: one JSON line per event on stderr.
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function jsonLogger(component: string, level: "info" | "warn" | "error" = "info"): Logger {
  const order = { info: 0, warn: 1, error: 2 };
  const line = (l: keyof typeof order) => (obj: object, msg: string) => {
    if (order[l] < order[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: l, component, msg, ...obj })}\n`);
  };
  return { info: line("info"), warn: line("warn"), error: line("error") };
}
