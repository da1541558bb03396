// Server-sent events (text/event-stream) read from a fetch body: `id:`, `event:`, `data:` lines,
// a blank line ends an event, `:` lines are comments (the hub's keep-alives). Every chunk counts as
// a sign of life, so a reader can tell a quiet stream from a dead connection.

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A `:` line: the hub's keep-alive, sent when it has no event left to send. */
export interface SseComment {
  comment: string;
}

/** Yields each complete event, and each comment; calls `alive` on every chunk. */
export async function* readSse(body: ReadableStream<Uint8Array>, alive: () => void = () => undefined): AsyncGenerator<SseEvent | SseComment> {
  const decoder = new TextDecoder();
  let buffer = "";
  let id: string | undefined;
  let event = "message";
  let data: string[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    alive();
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
      if (line === "") {
        if (data.length) yield { ...(id !== undefined ? { id } : {}), event, data: data.join("\n") };
        event = "message";
        data = [];
        continue;
      }
      if (line.startsWith(":")) {
        yield { comment: line.slice(1).trim() };
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
  }
}
