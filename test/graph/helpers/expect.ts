import { expect } from 'vitest';

/** Asserts that value is an instance of the class and returns it typed as such. */
export function expectInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): T {
  expect(value).toBeInstanceOf(type);
  if (!(value instanceof type)) throw new Error('unreachable');
  return value;
}
