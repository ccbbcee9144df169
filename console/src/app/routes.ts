import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes: the Function app serves one index.html, and a hash survives the sign-in redirect
 * (MSAL returns to the page it left from).
 */
export const CONNECTION_TABS = [
  'overview',
  'groups',
  'preview',
  'import',
  'users',
  'runs',
  'settings',
] as const;
export type ConnectionTab = (typeof CONNECTION_TABS)[number];

export type Route =
  | { readonly screen: 'connections' }
  | { readonly screen: 'new-connection' }
  | { readonly screen: 'connection'; readonly id: string; readonly tab: ConnectionTab }
  | { readonly screen: 'run'; readonly id: string; readonly runId: string }
  | { readonly screen: 'not-found'; readonly path: string };

function isTab(value: string): value is ConnectionTab {
  return (CONNECTION_TABS as readonly string[]).includes(value);
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const parts = path
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  const [first, id, tab, runId, ...rest] = parts;
  if (first === undefined) return { screen: 'connections' };
  if (first === 'new' && id === undefined) return { screen: 'new-connection' };
  if (first === 'connections' && id !== undefined && rest.length === 0) {
    if (tab === undefined) return { screen: 'connection', id, tab: 'overview' };
    if (tab === 'runs' && runId !== undefined) return { screen: 'run', id, runId };
    if (isTab(tab) && runId === undefined) return { screen: 'connection', id, tab };
  }
  return { screen: 'not-found', path };
}

export function href(route: Route): string {
  switch (route.screen) {
    case 'connections':
      return '#/';
    case 'new-connection':
      return '#/new';
    case 'connection':
      return `#/connections/${encodeURIComponent(route.id)}${route.tab === 'overview' ? '' : `/${route.tab}`}`;
    case 'run':
      return `#/connections/${encodeURIComponent(route.id)}/runs/${encodeURIComponent(route.runId)}`;
    case 'not-found':
      return `#${route.path}`;
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = (): void => {
      setRoute(parseRoute(location.hash));
    };
    addEventListener('hashchange', onChange);
    return () => {
      removeEventListener('hashchange', onChange);
    };
  }, []);
  return route;
}
