import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AdminApi } from '../api/admin-api.js';

/** What every screen may use: the admin API and who is signed in. */
export interface ConsoleServices {
  readonly api: AdminApi;
  readonly userName: string;
  readonly signOut: () => void;
}

export const ServicesContext = createContext<ConsoleServices | null>(null);

export function useServices(): ConsoleServices {
  const services = useContext(ServicesContext);
  if (services === null) throw new Error('useServices outside ServicesContext');
  return services;
}

export function useApi(): AdminApi {
  return useServices().api;
}
