/** How the client's method groups send a request: JSON body, query string, extra headers; JSON answer. */
export type Query = Record<string, string | number | undefined>;
export type Call = <T>(method: string, path: string, body?: unknown, query?: Query, headers?: Record<string, string>) => Promise<T>;
export const enc = encodeURIComponent;
