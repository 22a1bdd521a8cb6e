import type { Provider, PutProviderRequest, PutRouteRequest, Route } from '@hangar/protocol';
import { enc, type Call, type Send } from './call.js';

/** The model gateway's configuration: providers (with their keys) and routes (model aliases with fallbacks). */
export function gatewayMethods(call: Call, send: Send) {
  const remove = (path: string) => send('DELETE', path, undefined).then(() => undefined);
  return {
    gateway: {
      providers: {
        /** Never with their keys: `hasApiKey` says whether one is stored. */
        list: () => call<{ providers: Provider[] }>('GET', '/v1/gateway/providers'),
        /**
         * Admin: creates or replaces a provider. `apiKey` is stored encrypted (the server needs
         * HANGAR_SECRET); leave it out to keep the stored key, `null` to remove it.
         * @example await hangar.gateway.providers.put('openai', { type: 'openai', apiKey: process.env.OPENAI_API_KEY })
         */
        put: (name: string, request: PutProviderRequest) => call<Provider>('PUT', `/v1/gateway/providers/${enc(name)}`, request),
        /** Admin: removes a provider and its key. */
        remove: (name: string) => remove(`/v1/gateway/providers/${enc(name)}`),
      },
      routes: {
        list: () => call<{ routes: Route[] }>('GET', '/v1/gateway/routes'),
        /**
         * Admin: creates or replaces a route; clients call it by sending its name as the model.
         * @example await hangar.gateway.routes.put('fast', { targets: ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5'] })
         */
        put: (name: string, request: PutRouteRequest) => call<Route>('PUT', `/v1/gateway/routes/${enc(name)}`, request),
        remove: (name: string) => remove(`/v1/gateway/routes/${enc(name)}`),
      },
    },
  };
}
