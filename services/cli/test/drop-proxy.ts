// A TCP proxy in front of a real hub that cuts the first promotion event stream(s) right after
// an event went through — the dropped connection `--wait` must survive.
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface DropProxy {
  url: string;
  /** Event streams cut so far. */
  drops: number;
  close(): Promise<void>;
}

export async function startDropProxy(target: string, { cut = 1 }: { cut?: number } = {}): Promise<DropProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const state = { drops: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let events = false;
    client.on("data", (b) => {
      if (b.toString("latin1").includes("GET /v1/promotion-events")) events = true;
      upstream.write(b);
    });
    upstream.on("data", (b) => {
      client.write(b);
      if (events && state.drops < cut && b.toString("utf8").includes("\nevent: ")) {
        state.drops++;
        client.destroy();
        upstream.destroy();
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get drops() {
      return state.drops;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
