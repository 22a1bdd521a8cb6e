/** One server-sent event: its `event:` name (if any), its joined `data:` lines, and its text as received. */
export interface SseEvent {
  event: string | undefined;
  data: string;
  raw: string;
}

/**
 * An incremental server-sent-events parser: feed it text as it arrives; it returns the events that
 * are complete. Handles \n, \r\n and \r line ends and events split across network chunks.
 */
export function createSseParser() {
  let buffer = '';
  return {
    feed(text: string): SseEvent[] {
      buffer += text;
      const events: SseEvent[] = [];
      for (;;) {
        const match = /\r\n\r\n|\n\n|\r\r/.exec(buffer);
        if (!match) break;
        const block = buffer.slice(0, match.index);
        const raw = buffer.slice(0, match.index + match[0].length);
        buffer = buffer.slice(match.index + match[0].length);
        let event: string | undefined;
        const data: string[] = [];
        for (const line of block.split(/\r\n|\n|\r/)) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (event !== undefined || data.length) events.push({ event, data: data.join('\n'), raw });
      }
      return events;
    },
    /** Whatever is left when the stream ends without a final blank line. */
    rest(): string {
      return buffer;
    },
  };
}

/** One SSE event as text. */
export function sseText(data: unknown, event?: string): string {
  const body = typeof data === 'string' ? data : JSON.stringify(data);
  return (event ? `event: ${event}\n` : '') + `data: ${body}\n\n`;
}
