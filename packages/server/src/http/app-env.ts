import type { ApiKey, Project, Role } from '@hangar/protocol';
import type { Logger } from 'pino';

/** Who is calling: set by the authentication middleware on every /v1 request. */
export interface AuthContext {
  key: ApiKey;
  project: Project;
  role: Role;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    auth: AuthContext;
  };
}
