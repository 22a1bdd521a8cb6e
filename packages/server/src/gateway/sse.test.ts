import { expect, it } from 'vitest';
import { createSseParser } from './sse.js';

it('parses events split anywhere, with any line ending, skipping comments', () => {
  const text =
    'event: a\ndata: {"x":1}\n\n: keep-alive\n\ndata: line1\r\ndata: line2\r\n\r\ndata: [DONE]\n\n';
  for (let cut = 1; cut < text.length; cut++) {
    const parser = createSseParser();
    const events = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut))];
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['a', '{"x":1}'],
      [undefined, 'line1\nline2'],
      [undefined, '[DONE]'],
    ]);
    expect(events.map((e) => e.raw).join('')).toBe(text.replace(': keep-alive\n\n', ''));
  }
});
