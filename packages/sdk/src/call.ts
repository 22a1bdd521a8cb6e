/** How the client's method groups send a request: JSON body, query string, extra headers; JSON answer. */
export type Query = Record<string, string | number | undefined>;
export type Call = <T>(method: string, path: string, body?: unknown, query?: Query, headers?: Record<string, string>) => Promise<T>;
/** The raw request: a JSON or text body; the Response (for answers that are not JSON, or empty). */
export type Send = (method: string, path: string, body: { json: unknown } | { text: string; contentType: string } | undefined, query?: Query) => Promise<Response>;
export const enc = encodeURIComponent;
