/**
 * The key under which an e-mail address is claimed. Mailbox local parts are case-sensitive in theory,
 * but no mail system in use treats Alice@ and alice@ as two people, and Entra itself compares them
 * without case; so uniqueness is case-insensitive. NFC makes the same accented address typed two ways
 * one key.
 */
import type { MappedValue } from './types.js';

export function normaliseEmail(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const key = value.normalize('NFC').trim().toLowerCase();
  return key === '' ? null : key;
}

/** The claim key of a mapped record: its normalised `mail`, or null when it has none. */
export function emailKeyOf(attributes: Readonly<Record<string, MappedValue>>): string | null {
  const mail = attributes['mail'];
  return typeof mail === 'string' ? normaliseEmail(mail) : null;
}
