/**
 * The reconciliation vocabulary: situations a source user can be in, the actions the engine can take,
 * which actions make sense for which situation, and the defaults. The connection schema builds its
 * `policy.actions` validation from these tables, so an override that makes no sense (CREATE for a
 * deleted user) is a validation error rather than a surprise at run time.
 */

/** Situations an administrator can give an action to. */
export const CONFIGURABLE_SITUATIONS = [
  'ABSENT',
  'CONFIRMED',
  'FOUND',
  'CONFLICT',
  'AMBIGUOUS',
  'UNQUALIFIED',
  'SOURCE_SOFT_DELETED',
  'SOURCE_DELETED',
  'RESTORED',
  'NO_SEAT',
] as const;

/**
 * Two more situations close the set so that every source user falls into exactly one: nothing is
 * linked and there is nothing to do. They only allow IGNORE, so they are not configurable.
 */
export const SITUATIONS = [...CONFIGURABLE_SITUATIONS, 'SOURCE_IGNORED', 'ALL_GONE'] as const;

export type ConfigurableSituation = (typeof CONFIGURABLE_SITUATIONS)[number];
export type Situation = (typeof SITUATIONS)[number];

export const ACTIONS = [
  'CREATE',
  'UPDATE',
  'LINK',
  'UNLINK',
  'SUSPEND',
  'REACTIVATE',
  'DELETE',
  'EXCEPTION',
  'IGNORE',
] as const;

export type Action = (typeof ACTIONS)[number];

/**
 * Which actions are allowed in which situation; the first is the default. The rule behind the table:
 * an action must have something to act on (no DELETE without a linked app user), must not break
 * e-mail uniqueness (no CREATE when the e-mail is taken), and must not touch an app user that belongs
 * to someone else (no LINK in CONFLICT). EXCEPTION and IGNORE are always possible where a person may
 * want to review instead of acting.
 */
export const ALLOWED_ACTIONS = {
  ABSENT: ['CREATE', 'EXCEPTION', 'IGNORE'],
  CONFIRMED: ['UPDATE', 'IGNORE'],
  FOUND: ['LINK', 'EXCEPTION', 'IGNORE'],
  CONFLICT: ['EXCEPTION', 'IGNORE'],
  AMBIGUOUS: ['EXCEPTION', 'IGNORE'],
  UNQUALIFIED: ['SUSPEND', 'DELETE', 'UNLINK', 'EXCEPTION', 'IGNORE'],
  SOURCE_SOFT_DELETED: ['SUSPEND', 'DELETE', 'UNLINK', 'EXCEPTION', 'IGNORE'],
  SOURCE_DELETED: ['DELETE', 'SUSPEND', 'UNLINK', 'EXCEPTION', 'IGNORE'],
  RESTORED: ['REACTIVATE', 'UPDATE', 'EXCEPTION', 'IGNORE'],
  NO_SEAT: ['EXCEPTION', 'IGNORE'],
  SOURCE_IGNORED: ['IGNORE'],
  ALL_GONE: ['IGNORE'],
} as const satisfies { readonly [S in Situation]: readonly [Action, ...Action[]] };

export type AllowedAction<S extends Situation> = (typeof ALLOWED_ACTIONS)[S][number];

export type PolicyActions = { readonly [S in ConfigurableSituation]?: AllowedAction<S> };

export function defaultAction(situation: Situation): Action {
  return ALLOWED_ACTIONS[situation][0];
}

export function isActionAllowed(situation: Situation, action: Action): boolean {
  return (ALLOWED_ACTIONS[situation] as readonly Action[]).includes(action);
}

export function isConfigurableSituation(situation: Situation): situation is ConfigurableSituation {
  return (CONFIGURABLE_SITUATIONS as readonly Situation[]).includes(situation);
}

/** The action for a situation: the connection's override if it has one, else the default. */
export function resolveAction(actions: PolicyActions, situation: Situation): Action {
  const override = isConfigurableSituation(situation) ? actions[situation] : undefined;
  return override ?? defaultAction(situation);
}
