import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { OUTCOME_STATUSES } from '../../../shared/engine/outcome-status.js';
import type { OutcomeStatus, UserLine, UserLinesPage, UserLinesQuery } from '../api/types.js';
import { countOf, formatNumber, formatValue } from '../lib/format.js';
import { useAsync, useDebounced } from '../lib/use-async.js';
import { OUTCOME_HINTS, OUTCOME_LABELS, OutcomeBadge } from './badges.js';
import { Breakable } from './breakable.js';
import { ErrorAlert } from './error-alert.js';
import { TextField } from './fields.js';
import { Pager } from './pager.js';

const PAGE_SIZE = 50;

export interface UserSelection {
  /** Entra object id to the name shown. */
  readonly selected: Readonly<Record<string, string>>;
  readonly limit: number;
  readonly onChange: (selected: Record<string, string>) => void;
}

/**
 * The per-user lines of a preview or run: filtered by status and searched on the server, one page at a
 * time, so that 100,000 users cost the browser 50 rows. Lines may be ticked for a selected import.
 */
export function UserLines({
  label,
  sourceKey,
  load,
  selection,
}: {
  /** Names the table and its pager, e.g. "Preview users". */
  label: string;
  /** The preview or run the lines come from; a new one starts at the first page, unfiltered. */
  sourceKey: string;
  load: (query: UserLinesQuery) => Promise<UserLinesPage>;
  selection?: UserSelection;
}) {
  const [status, setStatus] = useState<OutcomeStatus | 'all'>('all');
  const [search, setSearch] = useState('');
  const [skip, setSkip] = useState(0);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const settledSearch = useDebounced(search);

  useEffect(() => {
    setStatus('all');
    setSearch('');
  }, [sourceKey]);
  useEffect(() => {
    setSkip(0);
  }, [sourceKey, status, settledSearch]);

  const page = useAsync(
    async () =>
      await load({
        status: status === 'all' ? undefined : status,
        search: settledSearch,
        top: PAGE_SIZE,
        skip,
      }),
    [sourceKey, status, settledSearch, skip],
  );
  const data = page.data;
  const counts = data?.counts ?? {};
  const everyone = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const shown = OUTCOME_STATUSES.filter((candidate) => (counts[candidate] ?? 0) > 0 || candidate === status);

  const selectedCount = selection ? Object.keys(selection.selected).length : 0;
  const full = selection !== undefined && selectedCount >= selection.limit;
  const items = data?.items ?? [];
  const pageIds = items.map((line) => line.sourceId);
  const allOnPage =
    selection !== undefined && items.length > 0 && pageIds.every((id) => id in selection.selected);

  const toggle = (line: UserLine, on: boolean): void => {
    if (!selection) return;
    const next = without(selection.selected, [line.sourceId]);
    if (on) next[line.sourceId] = line.userName ?? line.sourceId;
    selection.onChange(next);
  };

  const togglePage = (on: boolean): void => {
    if (!selection) return;
    if (!on) {
      selection.onChange(without(selection.selected, pageIds));
      return;
    }
    const next = { ...selection.selected };
    for (const line of items) {
      if (Object.keys(next).length < selection.limit) next[line.sourceId] = line.userName ?? line.sourceId;
    }
    selection.onChange(next);
  };

  return (
    <div class="user-lines">
      <div role="group" aria-label="Filter by status" class="filters">
        <button
          type="button"
          class="chip"
          aria-pressed={status === 'all'}
          onClick={() => {
            setStatus('all');
          }}
        >
          All <span class="chip-count">{formatNumber(everyone)}</span>
        </button>
        {shown.map((candidate) => (
          <button
            key={candidate}
            type="button"
            class={`chip chip-${candidate}`}
            data-status={candidate}
            aria-pressed={status === candidate}
            title={OUTCOME_HINTS[candidate]}
            onClick={() => {
              setStatus(candidate);
            }}
          >
            {OUTCOME_LABELS[candidate]} <span class="chip-count">{formatNumber(counts[candidate] ?? 0)}</span>
          </button>
        ))}
      </div>
      <TextField
        label="Search users"
        type="search"
        hint="Part of the user name, e-mail or Entra object id."
        value={search}
        onValue={setSearch}
        class="field-search"
      />
      {page.status === 'error' && <ErrorAlert error={page.error} title="The users could not be loaded." />}
      {selection && (
        <p class="selection-note" aria-live="polite">
          {selectedCount === 0
            ? `Tick users to import just them (at most ${formatNumber(selection.limit)}).`
            : `${countOf(selectedCount, 'user')} ticked for import${full ? `: the most one selected import takes` : ''}.`}
        </p>
      )}
      <div class="table-wrap">
        <table class="table" aria-busy={page.status === 'loading'}>
          <caption class="visually-hidden">
            {label}
            {status === 'all' ? '' : `, ${OUTCOME_LABELS[status]}`}
          </caption>
          <thead>
            <tr>
              {selection && (
                <th scope="col" class="check">
                  <input
                    type="checkbox"
                    aria-label="Tick every user on this page"
                    checked={allOnPage}
                    disabled={items.length === 0}
                    onChange={(event) => {
                      togglePage(event.currentTarget.checked);
                    }}
                  />
                </th>
              )}
              <th scope="col">User</th>
              <th scope="col">Status</th>
              <th scope="col">Why</th>
              <th scope="col">App groups</th>
              <th scope="col">Licence</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {items.map((line) => {
              const name = line.userName ?? line.sourceId;
              const isOpen = expanded.has(line.sourceId);
              const detailsId = `changes-${line.sourceId}`;
              const ticked = selection !== undefined && line.sourceId in selection.selected;
              return (
                <Fragment key={line.sourceId}>
                  <tr class={ticked ? 'is-selected' : undefined}>
                    {selection && (
                      <td class="check">
                        <input
                          type="checkbox"
                          aria-label={`Tick ${name}`}
                          checked={ticked}
                          disabled={!ticked && full}
                          onChange={(event) => {
                            toggle(line, event.currentTarget.checked);
                          }}
                        />
                      </td>
                    )}
                    <th scope="row" class="break user-cell">
                      <Breakable text={name} />
                      {line.userName !== null && <div class="muted small mono">{line.sourceId}</div>}
                    </th>
                    <td>
                      <OutcomeBadge status={line.status} />
                    </td>
                    <td class="reason">{line.reason}</td>
                    <td>
                      {line.appGroups && line.appGroups.length > 0 ? (
                        line.appGroups.join(', ')
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td>{line.license ?? <span class="muted">—</span>}</td>
                    <td>
                      {line.changes.length === 0 ? (
                        <span class="muted">None</span>
                      ) : (
                        <button
                          type="button"
                          class="button button-small"
                          aria-expanded={isOpen}
                          aria-controls={detailsId}
                          aria-label={`${isOpen ? 'Hide' : 'Show'} ${countOf(line.changes.length, 'change')} for ${name}`}
                          onClick={() => {
                            const next = new Set(expanded);
                            if (isOpen) next.delete(line.sourceId);
                            else next.add(line.sourceId);
                            setExpanded(next);
                          }}
                        >
                          {isOpen ? 'Hide' : 'Show'} {countOf(line.changes.length, 'change')}
                        </button>
                      )}
                    </td>
                  </tr>
                  {isOpen && (
                    <tr class="details-row" id={detailsId}>
                      <td colSpan={selection ? 7 : 6}>
                        <table class="table table-compact changes">
                          <caption>Changes for {name}</caption>
                          <thead>
                            <tr>
                              <th scope="col">Attribute</th>
                              <th scope="col">Now</th>
                              <th scope="col">After import</th>
                            </tr>
                          </thead>
                          <tbody>
                            {line.changes.map((change) => (
                              <tr key={change.attribute}>
                                <th scope="row">{change.attribute}</th>
                                <td class={formatValue(change.before) === '—' ? 'muted' : 'before'}>
                                  {formatValue(change.before)}
                                </td>
                                <td class="after">{formatValue(change.after)}</td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
        {data !== undefined && items.length === 0 && (
          <p class="empty-row">
            {settledSearch.trim() !== ''
              ? `No users match “${settledSearch.trim()}”.`
              : status === 'all'
                ? 'No per-user lines.'
                : `No users are ${OUTCOME_LABELS[status].toLowerCase()}.`}
          </p>
        )}
      </div>
      <p role="status" class="visually-hidden">
        {page.status === 'loading' ? 'Loading users…' : data ? `${countOf(data.total, 'user')} match.` : ''}
      </p>
      {data !== undefined && (
        <Pager label={label} total={data.total} top={PAGE_SIZE} skip={skip} onSkip={setSkip} />
      )}
    </div>
  );
}

function without(selected: Readonly<Record<string, string>>, ids: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(selected).filter(([id]) => !ids.includes(id)));
}
