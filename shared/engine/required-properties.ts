/**
 * The Graph user properties a connection needs, for the reader's $select. Asking for exactly these
 * keeps delta pages small, and since delta only reports changes to selected properties, a property a
 * mapping reads but the reader did not select would silently never update.
 */
import type { ConnectionConfig } from '../config/connection.js';
import { referencedPaths } from './expressions.js';
import { ALWAYS_SELECTED_PROPERTIES, checkSourcePath } from './source-properties.js';

/** Top-level property names, sorted: `employeeOrgData.division` needs `employeeOrgData`. */
export function requiredSourceProperties(config: ConnectionConfig): string[] {
  const paths: string[] = [...ALWAYS_SELECTED_PROPERTIES];
  for (const source of Object.values(config.attributes)) {
    if (source.kind === 'expression') paths.push(...referencedPaths(source.expression));
  }
  for (const filter of config.scope.filters) {
    for (const clause of filter.clauses) paths.push(clause.attribute);
  }
  const properties = new Set<string>();
  for (const path of paths) {
    const check = checkSourcePath(path);
    // Validation has already rejected bad paths; should one slip through, $select must not carry it.
    if (check.ok) properties.add(check.property);
  }
  return [...properties].sort();
}
