import { IndexPermutation, type IdCodec } from './ids.js';
import { groupRef, type GroupRecord, type MemberRef, type UserProperty, type UserRecord } from './model.js';
import {
  AREA_CODES,
  COMPANY_SUFFIXES,
  DEPARTMENTS,
  GIVEN_NAMES,
  GROUP_SUFFIXES,
  GROUP_TOPICS,
  GUEST_DOMAINS,
  LANGUAGES,
  OFFICES,
  SURNAMES,
  type Department,
  type Office,
} from './names.js';
import { hash32, pickBy, unit } from './random.js';

/**
 * The deterministic tenant generator. A user is a pure function of (tenant seed, index), computed when
 * it is read; groups are generated once at start (they are few) with their member lists as typed arrays.
 */

/** Share of guests, disabled accounts and members without mail (in 1/1000). */
export const GUEST_PER_MILLE = 30;
export const DISABLED_PER_MILLE = 50;
export const NO_MAIL_PER_MILLE = 40;
/** Share of shared accounts (rooms, service accounts) with no given name or surname. */
export const SHARED_ACCOUNT_PER_MILLE = 10;

const USER_EPOCH_MS = Date.UTC(2019, 0, 7, 8, 0, 0);
const GROUP_EPOCH_MS = Date.UTC(2018, 5, 1, 9, 30, 0);

/** ASCII for user principal names: strips diacritics, apostrophes and spaces. */
export function asciiName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

const ASCII_GIVEN = GIVEN_NAMES.map(asciiName);
const ASCII_SURNAMES = SURNAMES.map(asciiName);

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const dayPrefixes = new Map<number, string>();

/**
 * An ISO 8601 UTC timestamp to the second ('2019-01-07T08:00:00Z'), as Graph writes dates. Caches the
 * date part per day: Date#toISOString for every generated user cost more than the rest of the user.
 */
export function isoSeconds(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const day = Math.floor(seconds / 86_400);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    if (dayPrefixes.size < 100_000) dayPrefixes.set(day, prefix);
  }
  const rest = seconds - day * 86_400;
  const hh = TWO_DIGITS[Math.floor(rest / 3600)] ?? '00';
  const mm = TWO_DIGITS[Math.floor((rest % 3600) / 60)] ?? '00';
  const ss = TWO_DIGITS[rest % 60] ?? '00';
  return `${prefix}${hh}:${mm}:${ss}Z`;
}

function phone(seed: number, salt: number, index: number): string {
  const h = hash32(seed, salt, index);
  const area = pickBy(AREA_CODES, h);
  // 555-0100 to 555-0199 are the numbers set aside for fiction in North America.
  return `+1 ${area} 555 01${String((h >>> 8) % 100).padStart(2, '0')}`;
}

export interface GeneratorContext {
  readonly seed: number;
  readonly domain: string;
  readonly companyName: string;
  readonly ids: IdCodec;
}

export function companyNameFor(seed: number, domain: string): string {
  const stem = domain.split('.')[0] ?? 'contoso';
  const pretty =
    stem.charAt(0).toUpperCase() + stem.slice(1).replace(/[-_]\w/g, (m) => ` ${m.charAt(1).toUpperCase()}`);
  return `${pretty} ${pickBy(COMPANY_SUFFIXES, hash32(seed, 99))}`;
}

/**
 * What every property of a generated user derives from, computed once per read. Properties are then
 * computed one by one (USER_FIELDS), so a read that selects five properties computes five.
 */
export interface UserSeed {
  readonly index: number;
  readonly givenIdx: number;
  readonly surnameIdx: number;
  /** The ASCII local part shared by the user principal name and mail: 'jana.novak1234'. */
  readonly local: string;
  readonly guest: boolean;
  /** A room or service account: no given name, surname, department or job title. */
  readonly shared: boolean;
}

export function userSeed(ctx: GeneratorContext, index: number): UserSeed {
  const { seed } = ctx;
  const givenIdx = hash32(seed, 1, index) % GIVEN_NAMES.length;
  const surnameIdx = hash32(seed, 2, index) % SURNAMES.length;
  const guest = hash32(seed, 3, index) % 1000 < GUEST_PER_MILLE;
  return {
    index,
    givenIdx,
    surnameIdx,
    local: `${ASCII_GIVEN[givenIdx] ?? 'alex'}.${ASCII_SURNAMES[surnameIdx] ?? 'doe'}${index}`,
    guest,
    shared: !guest && hash32(seed, 18, index) % 1000 < SHARED_ACCOUNT_PER_MILLE,
  };
}

function givenName(s: UserSeed): string {
  return GIVEN_NAMES[s.givenIdx] ?? 'Alex';
}

function surname(s: UserSeed): string {
  return SURNAMES[s.surnameIdx] ?? 'Doe';
}

function guestDomain(ctx: GeneratorContext, s: UserSeed): string {
  return pickBy(GUEST_DOMAINS, hash32(ctx.seed, 15, s.index));
}

function guestMail(ctx: GeneratorContext, s: UserSeed): string {
  return `${s.local}@${guestDomain(ctx, s)}`;
}

function userPrincipalName(ctx: GeneratorContext, s: UserSeed): string {
  return s.guest ? `${s.local}_${guestDomain(ctx, s)}#EXT#@${ctx.domain}` : `${s.local}@${ctx.domain}`;
}

function office(ctx: GeneratorContext, s: UserSeed): Office | null {
  return s.guest ? null : pickBy(OFFICES, hash32(ctx.seed, 8, s.index));
}

function department(ctx: GeneratorContext, s: UserSeed): Department | null {
  return s.guest || s.shared ? null : pickBy(DEPARTMENTS, hash32(ctx.seed, 6, s.index));
}

function language(ctx: GeneratorContext, s: UserSeed): string | null {
  if (s.shared || hash32(ctx.seed, 9, s.index) % 10 === 0) return null;
  return pickBy(LANGUAGES, hash32(ctx.seed, 10, s.index));
}

type UserFields = { readonly [K in UserProperty]: (ctx: GeneratorContext, s: UserSeed) => UserRecord[K] };

/** Each property of a generated user as a function of the tenant and the user's seed. */
export const USER_FIELDS: UserFields = {
  id: (ctx, s) => ctx.ids.encode('user', s.index),
  accountEnabled: (ctx, s) => hash32(ctx.seed, 4, s.index) % 1000 >= DISABLED_PER_MILLE,
  businessPhones: (ctx, s) =>
    s.guest || s.shared || hash32(ctx.seed, 13, s.index) % 100 >= 70 ? [] : [phone(ctx.seed, 14, s.index)],
  city: (ctx, s) => office(ctx, s)?.city ?? null,
  companyName: (ctx, s) => {
    if (!s.guest) return ctx.companyName;
    if (hash32(ctx.seed, 16, s.index) % 2 === 0) return null;
    const stem = guestDomain(ctx, s).split('.')[0] ?? 'partner';
    return stem.charAt(0).toUpperCase() + stem.slice(1);
  },
  country: (ctx, s) => office(ctx, s)?.country ?? null,
  createdDateTime: (_ctx, s) => isoSeconds(USER_EPOCH_MS + s.index * 137_000),
  department: (ctx, s) => department(ctx, s)?.name ?? null,
  displayName: (_ctx, s) => (s.shared ? `Conf Room ${surname(s)}` : `${givenName(s)} ${surname(s)}`),
  employeeId: (_ctx, s) => (s.guest || s.shared ? null : `E${String(s.index + 1).padStart(7, '0')}`),
  externalUserState: (ctx, s) => {
    if (!s.guest) return null;
    return hash32(ctx.seed, 17, s.index) % 10 === 0 ? 'PendingAcceptance' : 'Accepted';
  },
  givenName: (_ctx, s) => (s.shared ? null : givenName(s)),
  identities: (ctx, s) =>
    s.guest
      ? [{ signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: guestMail(ctx, s) }]
      : [
          {
            signInType: 'userPrincipalName',
            issuer: ctx.domain,
            issuerAssignedId: userPrincipalName(ctx, s),
          },
        ],
  jobTitle: (ctx, s) => {
    const dept = department(ctx, s);
    if (!dept || hash32(ctx.seed, 19, s.index) % 50 === 0) return null;
    return pickBy(dept.titles, hash32(ctx.seed, 7, s.index));
  },
  mail: (ctx, s) => {
    if (s.guest) return guestMail(ctx, s);
    const hasMail = s.shared || hash32(ctx.seed, 5, s.index) % 1000 >= NO_MAIL_PER_MILLE;
    return hasMail ? `${s.local}@${ctx.domain}` : null;
  },
  mailNickname: (ctx, s) => (s.guest ? `${s.local}_${guestDomain(ctx, s)}#EXT#` : s.local),
  mobilePhone: (ctx, s) =>
    s.guest || s.shared || hash32(ctx.seed, 11, s.index) % 100 >= 85 ? null : phone(ctx.seed, 12, s.index),
  officeLocation: (ctx, s) => {
    const o = office(ctx, s);
    if (!o) return null;
    return `${o.city} ${1 + (hash32(ctx.seed, 20, s.index) % 12)}/${100 + (hash32(ctx.seed, 21, s.index) % 900)}`;
  },
  otherMails: (ctx, s) => (s.guest ? [guestMail(ctx, s)] : []),
  preferredLanguage: (ctx, s) => language(ctx, s),
  surname: (_ctx, s) => (s.shared ? null : surname(s)),
  usageLocation: (ctx, s) => office(ctx, s)?.usageLocation ?? null,
  userPrincipalName: (ctx, s) => userPrincipalName(ctx, s),
  userType: (_ctx, s) => (s.guest ? 'Guest' : 'Member'),
};

/** The generated (never changed) state of user `index`. */
export function generateUser(ctx: GeneratorContext, index: number): UserRecord {
  const s = userSeed(ctx, index);
  const f = USER_FIELDS;
  return {
    id: f.id(ctx, s),
    accountEnabled: f.accountEnabled(ctx, s),
    businessPhones: f.businessPhones(ctx, s),
    city: f.city(ctx, s),
    companyName: f.companyName(ctx, s),
    country: f.country(ctx, s),
    createdDateTime: f.createdDateTime(ctx, s),
    department: f.department(ctx, s),
    displayName: f.displayName(ctx, s),
    employeeId: f.employeeId(ctx, s),
    externalUserState: f.externalUserState(ctx, s),
    givenName: f.givenName(ctx, s),
    identities: f.identities(ctx, s),
    jobTitle: f.jobTitle(ctx, s),
    mail: f.mail(ctx, s),
    mailNickname: f.mailNickname(ctx, s),
    mobilePhone: f.mobilePhone(ctx, s),
    officeLocation: f.officeLocation(ctx, s),
    otherMails: f.otherMails(ctx, s),
    preferredLanguage: f.preferredLanguage(ctx, s),
    surname: f.surname(ctx, s),
    usageLocation: f.usageLocation(ctx, s),
    userPrincipalName: f.userPrincipalName(ctx, s),
    userType: f.userType(ctx, s),
  };
}

/**
 * The index a generated user principal name encodes (its trailing digits before the domain or the guest
 * suffix), or undefined. The caller checks that the user at that index still has this name.
 */
export function indexFromUserPrincipalName(upn: string): number | undefined {
  const lower = upn.toLowerCase();
  const at = lower.lastIndexOf('@');
  if (at <= 0) return undefined;
  let local = lower.slice(0, at);
  if (local.endsWith('#ext#')) {
    const underscore = local.lastIndexOf('_');
    if (underscore <= 0) return undefined;
    local = local.slice(0, underscore);
  }
  const match = /(\d+)$/.exec(local);
  if (!match?.[1]) return undefined;
  const index = Number(match[1]);
  return Number.isSafeInteger(index) ? index : undefined;
}

export interface GeneratedGroup {
  readonly record: GroupRecord;
  /** Sorted member references (users as their index, nested groups as negative numbers). */
  readonly members: Int32Array;
}

export interface GroupGenerationOptions {
  readonly userCount: number;
  readonly groupCount: number;
  /** The largest generated group. Default: min(userCount, 5000). */
  readonly maxGroupSize?: number;
}

function slug(text: string): string {
  return asciiName(text.replace(/\s+/g, '-').replace(/[^\w-]/g, '')) || 'group';
}

function securityIdentifier(seed: number, index: number): string {
  return `S-1-12-1-${hash32(seed, 70, index)}-${hash32(seed, 71, index)}-${hash32(seed, 72, index)}-${hash32(seed, 73, index)}`;
}

/**
 * The size of generated group g: log-uniform between 1 and the maximum, so most groups are small and a
 * few hold thousands (mean about (max - 1) / ln(max)). Group 0 is always the largest and group 1 has
 * exactly one member, so every tenant has both extremes.
 */
export function groupSize(seed: number, index: number, userCount: number, maxSize: number): number {
  if (userCount === 0) return 0;
  const max = Math.max(1, Math.min(userCount, maxSize));
  if (index === 0) return max;
  if (index === 1) return 1;
  return Math.max(1, Math.min(max, Math.floor(Math.exp(unit(seed, 40, index) * Math.log(max + 1)))));
}

export function generateGroups(ctx: GeneratorContext, options: GroupGenerationOptions): GeneratedGroup[] {
  const { seed, domain } = ctx;
  const { userCount, groupCount } = options;
  const maxSize = options.maxGroupSize ?? Math.min(userCount, 5000);
  const names: string[] = [];
  const usedNames = new Set<string>();
  const usedNicknames = new Set<string>();
  const groups: GeneratedGroup[] = [];

  for (let g = 0; g < groupCount; g++) {
    let name = `${pickBy(GROUP_TOPICS, hash32(seed, 30, g))} ${pickBy(GROUP_SUFFIXES, hash32(seed, 31, g))}`;
    for (let n = 2; usedNames.has(name); n++) name = `${name.replace(/ \d+$/, '')} ${n}`;
    usedNames.add(name);
    names.push(name);
  }
  // Display names are not unique in Entra; make sure every tenant has a pair that the engine must tell
  // apart by id.
  if (groupCount >= 3) names[groupCount - 1] = names[1] ?? 'Duplicate';
  else if (groupCount === 2) names[1] = names[0] ?? 'Duplicate';

  for (let g = 0; g < groupCount; g++) {
    const displayName = names[g] ?? `Group ${g}`;
    const unified = hash32(seed, 32, g) % 10 < 4;
    let mailNickname = slug(displayName);
    for (let n = 2; usedNicknames.has(mailNickname); n++) mailNickname = `${slug(displayName)}${n}`;
    usedNicknames.add(mailNickname);
    const created = isoSeconds(GROUP_EPOCH_MS + g * 3 * 86_400_000 + (hash32(seed, 33, g) % 86_400) * 1000);
    const mail = unified ? `${mailNickname}@${domain}` : null;
    const record: GroupRecord = {
      id: ctx.ids.encode('group', g),
      classification: null,
      createdDateTime: created,
      deletedDateTime: null,
      description:
        hash32(seed, 34, g) % 5 === 0
          ? null
          : `${displayName}: ${unified ? 'collaboration space' : 'access group'}`,
      displayName,
      expirationDateTime: null,
      groupTypes: unified ? ['Unified'] : [],
      isAssignableToRole: null,
      mail,
      mailEnabled: unified,
      mailNickname,
      membershipRule: null,
      membershipRuleProcessingState: null,
      onPremisesLastSyncDateTime: null,
      onPremisesSecurityIdentifier: null,
      onPremisesSyncEnabled: null,
      preferredDataLocation: null,
      preferredLanguage: null,
      proxyAddresses: mail ? [`SMTP:${mail}`] : [],
      renewedDateTime: created,
      resourceBehaviorOptions: [],
      resourceProvisioningOptions: unified && hash32(seed, 35, g) % 3 === 0 ? ['Team'] : [],
      securityEnabled: !unified || hash32(seed, 36, g) % 2 === 0,
      securityIdentifier: securityIdentifier(seed, g),
      theme: null,
      visibility: unified ? (hash32(seed, 37, g) % 4 === 0 ? 'Private' : 'Public') : null,
      onPremisesProvisioningErrors: [],
    };

    const size = groupSize(seed, g, userCount, maxSize);
    const permutation = new IndexPermutation(userCount, hash32(seed, 50, g));
    const refs: MemberRef[] = [];
    for (let k = 0; k < size; k++) refs.push(permutation.at(k));
    // Roughly one group in eight nests one or two later groups (never an earlier one, so generated
    // nesting has no cycles; the change API may still make one, and transitive reads guard against it).
    if (g > 1 && g < groupCount - 1 && hash32(seed, 60, g) % 8 === 0) {
      const children = 1 + (hash32(seed, 61, g) % 2);
      for (let c = 0; c < children; c++) {
        const child = g + 1 + (hash32(seed, 62, g, c) % (groupCount - g - 1));
        const ref = groupRef(child);
        if (!refs.includes(ref)) refs.push(ref);
      }
    }
    const members = Int32Array.from(refs).sort();
    groups.push({ record, members });
  }
  return groups;
}
