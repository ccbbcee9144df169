/**
 * The simulated Entra tenant: the public surface for tests and tools. See docs/dev/simulator.md and the
 * contract in docs/dev/simulator-contract.md.
 */
import { Simulator, type SimulatorOptions } from './simulator.js';

export { Simulator, DEFAULT_DELTA_PAGE_SIZE, DEFAULT_MEMBER_BUDGET } from './simulator.js';
export type {
  AdminConsentUrlOptions,
  IssueTokenOptions,
  SimulatorInfo,
  SimulatorOptions,
  SpaSignInInfo,
} from './simulator.js';
export { SimulatedTenant } from './tenant-model.js';
export type { ConsentDecision, TenantOptions, TenantStats, UserState } from './tenant-model.js';
export { SimulatedApp, ADMIN_APP_ROLE, DEFAULT_API_SCOPES } from './apps.js';
export type { AccessTokenVersion, AppOptions } from './apps.js';
export { SignInUser, DEFAULT_SIGN_IN_USERS } from './sign-in-users.js';
export type { SignInUserOptions } from './sign-in-users.js';
export type { AppliedChange } from './random-changes.js';
export type { ActiveFault, FaultRule, FaultStatus, FaultInjector } from './faults.js';
export type { RequestCounter, RequestCountSnapshot } from './request-stats.js';
export type { Quirks } from './paging.js';
export type { GroupRecord, UserRecord } from './model.js';
export { DEFAULT_APP_ROLES } from './model.js';
export type { UserPatch, GroupPatch } from './schemas.js';
export { SimulatorError } from './errors.js';
export { createClientCertificate, type ClientCertificate } from './certificate.js';

/** Starts a simulator on 127.0.0.1 with a fresh certificate; close it in afterAll. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return await Simulator.start(options);
}
