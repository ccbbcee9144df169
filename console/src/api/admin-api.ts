import type { ApiClient } from './client.js';
import type {
  AppUsersPage,
  ConnectionConfigDocument,
  ConnectionView,
  ConsentStart,
  EntraGroup,
  HeldRemovals,
  JobProgress,
  JobStarted,
  RunReport,
  UserLinesPage,
  UserLinesQuery,
} from './types.js';

/** Every admin API call the console makes, one function each (docs/http-api.md). */
export function adminApi(client: ApiClient) {
  const connection = (id: string): string => `connections/${encodeURIComponent(id)}`;
  const lines = (query: UserLinesQuery) => ({
    status: query.status,
    search: query.search?.trim(),
    top: query.top,
    skip: query.skip,
  });
  return {
    listConnections: async () =>
      (await client.get<{ connections: ConnectionView[] }>('connections')).connections,
    getConnection: async (id: string) => await client.get<ConnectionView>(connection(id)),
    putConnection: async (id: string, document: ConnectionConfigDocument) =>
      await client.request<ConnectionView>('PUT', connection(id), { body: document }),
    setEnabled: async (id: string, enabled: boolean) =>
      await client.request<ConnectionView>('PATCH', connection(id), { body: { enabled } }),
    startConsent: async (id: string) => await client.get<ConsentStart>(`${connection(id)}/consent`),
    listGroups: async (id: string, search: string, top = 100) =>
      (await client.get<{ groups: EntraGroup[] }>(`${connection(id)}/groups`, { search: search.trim(), top }))
        .groups,
    startPreview: async (id: string, users?: readonly string[]) =>
      await client.request<JobStarted>('POST', `${connection(id)}/previews`, {
        body: users ? { users } : {},
      }),
    startImport: async (id: string, users?: readonly string[]) =>
      await client.request<JobStarted>('POST', `${connection(id)}/import`, { body: users ? { users } : {} }),
    getJob: async (jobId: string) => await client.get<JobProgress>(`jobs/${encodeURIComponent(jobId)}`),
    jobUsers: async (jobId: string, query: UserLinesQuery) =>
      await client.get<UserLinesPage>(`jobs/${encodeURIComponent(jobId)}/users`, lines(query)),
    listRuns: async (id: string, top = 50) =>
      (await client.get<{ runs: RunReport[] }>(`${connection(id)}/runs`, { top })).runs,
    getRun: async (runId: string) => await client.get<RunReport>(`runs/${encodeURIComponent(runId)}`),
    runUsers: async (runId: string, query: UserLinesQuery) =>
      await client.get<UserLinesPage>(`runs/${encodeURIComponent(runId)}/users`, lines(query)),
    heldRemovals: async (runId: string) =>
      await client.get<HeldRemovals>(`runs/${encodeURIComponent(runId)}/held`),
    approveRun: async (runId: string) =>
      await client.request<RunReport>('POST', `runs/${encodeURIComponent(runId)}/approve`),
    listAppUsers: async (id: string, top: number, skip: number) =>
      await client.get<AppUsersPage>(`${connection(id)}/users`, { top, skip }),
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
