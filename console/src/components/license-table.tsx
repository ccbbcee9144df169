import type { LicenseTally } from '../api/types.js';
import { formatNumber } from '../lib/format.js';

/** Licence demand against free seats: enough, or short by how many. */
export function LicenseTable({
  licenses,
  demandLabel = 'Needed by this run',
}: {
  licenses: Readonly<Record<string, LicenseTally>>;
  demandLabel?: string;
}) {
  const rows = Object.entries(licenses);
  if (rows.length === 0) return <p class="muted">This connection assigns no licences.</p>;
  return (
    <div class="table-wrap">
      <table class="table table-compact">
        <caption class="visually-hidden">Licence seats</caption>
        <thead>
          <tr>
            <th scope="col">Licence</th>
            <th scope="col" class="num">
              Seats
            </th>
            <th scope="col" class="num">
              In use
            </th>
            <th scope="col" class="num">
              Free
            </th>
            <th scope="col" class="num">
              {demandLabel}
            </th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([license, tally]) => {
            const free = Math.max(0, tally.seats - tally.used);
            const short = tally.demand - free;
            const fraction = free === 0 ? (tally.demand > 0 ? 1 : 0) : Math.min(1, tally.demand / free);
            return (
              <tr key={license}>
                <th scope="row">{license}</th>
                <td class="num">{formatNumber(tally.seats)}</td>
                <td class="num">{formatNumber(tally.used)}</td>
                <td class="num">{formatNumber(free)}</td>
                <td class="num">{formatNumber(tally.demand)}</td>
                <td>
                  <div class="seat-meter" aria-hidden="true">
                    <div
                      class={`seat-meter-fill${short > 0 ? ' is-short' : ''}`}
                      style={{ width: `${Math.round(fraction * 100)}%` }}
                    />
                  </div>
                  {short > 0 ? (
                    <span class="text-bad">Short by {formatNumber(short)}</span>
                  ) : (
                    <span class="text-good">Enough ({formatNumber(free - tally.demand)} left)</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
