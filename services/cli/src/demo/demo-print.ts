// The demo's output: checkpoints and the fleet table.

export interface FleetRow {
  name: string;
  environment: string;
  desired: { revision: string; generation: number } | null;
  observedRevision: string | null;
  syncState: string;
  health: string;
  lastHeartbeat: string | null;
  openDriftCount: number;
}

export const say = (line: string): void => void process.stdout.write(`${line}\n`);

export function step(n: number, text: string): void {
  say(`[${n}] ${text}`);
}

export function printFleet(rows: FleetRow[], revisions: Record<string, string>): void {
  const label = (rev: string | null | undefined) => {
    if (!rev) return "-";
    const name = Object.entries(revisions).find(([, r]) => r === rev)?.[0];
    return `${rev.slice(0, 7)}${name ? ` (${name})` : ""}`;
  };
  const table = [
    ["CLUSTER", "ENV", "DESIRED", "GEN", "OBSERVED", "SYNC", "HEALTH", "OPEN DRIFT", "LAST HEARTBEAT"],
    ...rows.map((r) => [
      r.name,
      r.environment,
      label(r.desired?.revision),
      String(r.desired?.generation ?? "-"),
      label(r.observedRevision),
      r.syncState,
      r.health,
      String(r.openDriftCount),
      r.lastHeartbeat ?? "-",
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) say(`     ${row.map((c, i) => c.padEnd(widths[i]!)).join("  ")}`.trimEnd());
}
