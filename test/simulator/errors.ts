/** A mistake in a call to the simulator's change API (not a Graph error: those are graph-errors.ts). */
export class SimulatorError extends Error {
  readonly status: 400 | 404 | 409;

  constructor(status: 400 | 404 | 409, message: string) {
    super(message);
    this.name = 'SimulatorError';
    this.status = status;
  }
}

export function notFound(what: string): SimulatorError {
  return new SimulatorError(404, `${what} does not exist in the simulated tenant`);
}
