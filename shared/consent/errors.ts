import { BadRequestError, type EntraSyncErrorOptions } from '../errors.js';

/** Why a consent callback's state was not accepted. */
export type ConsentStateProblem = 'missing' | 'malformed' | 'signature' | 'expired' | 'replayed';

/** The state of a consent callback is missing, not ours, too old or already used: nothing happens. */
export class ConsentStateError extends BadRequestError {
  readonly problem: ConsentStateProblem;

  constructor(message: string, options: EntraSyncErrorOptions & { problem: ConsentStateProblem }) {
    super(message, options);
    this.problem = options.problem;
  }
}
