import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../../api/errors.js';
import type { EntraGroup } from '../../api/types.js';
import { useApi } from '../../app/services.js';
import { ErrorAlert, Notice } from '../../components/error-alert.js';
import { CellInput } from '../../components/cell-input.js';
import { CheckboxField, TextField } from '../../components/fields.js';
import { IssueSummary } from '../../components/issue-summary.js';
import { countOf } from '../../lib/format.js';
import { useAsync, useDebounced } from '../../lib/use-async.js';
import { errorAt, fieldErrors, type FieldErrors } from '../../lib/validation.js';
import { useDocumentSave } from '../../lib/use-document-save.js';
import type { TabProps } from './connection-screen.js';
import { FilterEditor } from './filter-editor.js';
import {
  applyGroupsForm,
  groupsFormFrom,
  newKey,
  sameGroup,
  type GroupRef,
  type GroupsForm,
  type MappingRow,
} from './groups-form.js';

const SEARCH_TOP = 100;

/**
 * Which Entra groups matter: each mapped group gives its members an app group, a licence and roles;
 * scope groups and filters say who is imported at all. Saved as one PUT of the connection document.
 */
export function GroupsTab({ connection, onSaved }: TabProps) {
  const [form, setForm] = useState<GroupsForm>(() => groupsFormFrom(connection.document));
  const { summary, saving, saved, saveError, issuesOf, edited, discarded, save } = useDocumentSave(
    connection.id,
    onSaved,
  );
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());

  useEffect(() => {
    setForm(groupsFormFrom(connection.document));
  }, [connection.document]);

  const document = applyGroupsForm(connection.document, form);
  const dirty = useMemo(
    () =>
      JSON.stringify(document) !==
      JSON.stringify(applyGroupsForm(connection.document, groupsFormFrom(connection.document))),
    [document, connection.document],
  );
  const issues = issuesOf(document);
  const errors = fieldErrors(issues);

  const change = (update: (current: GroupsForm) => GroupsForm): void => {
    setForm(update);
    edited();
  };

  const nameOf = (group: GroupRef): string =>
    'displayName' in group ? group.displayName : (names.get(group.id) ?? group.id);

  const rememberNames = (groups: readonly EntraGroup[]): void => {
    setNames((current) => {
      const next = new Map(current);
      for (const group of groups) if (group.displayName !== null) next.set(group.id, group.displayName);
      return next;
    });
  };

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void save(document);
      }}
    >
      <div ref={summary} tabIndex={-1}>
        <IssueSummary issues={issues} />
      </div>
      <GroupSearch
        connectionId={connection.id}
        form={form}
        onFound={rememberNames}
        onMap={(group) => {
          change((current) => ({
            ...current,
            mappings: [...current.mappings, { key: newKey(), group, appGroup: '', license: '', roles: '' }],
          }));
        }}
        onScope={(group) => {
          change((current) => ({ ...current, scopeGroups: [...current.scopeGroups, group] }));
        }}
      />
      <Mappings form={form} errors={errors} nameOf={nameOf} onChange={change} />
      <LicensePools form={form} errors={errors} onChange={change} />
      <section class="card" aria-labelledby="scope-heading">
        <h2 id="scope-heading">Scope: who is imported</h2>
        <h3>Scope groups</h3>
        {form.scopeGroups.length === 0 ? (
          <p class="muted">
            No scope groups: every user of the tenant is in scope (subject to the options and filters below).
          </p>
        ) : (
          <ul class="plain chips">
            {form.scopeGroups.map((group, index) => (
              <li key={`${nameOf(group)}-${index}`} class="chip-static">
                {nameOf(group)}
                <button
                  type="button"
                  class="button button-small button-quiet"
                  aria-label={`Remove ${nameOf(group)} from scope`}
                  onClick={() => {
                    change((current) => ({
                      ...current,
                      scopeGroups: current.scopeGroups.filter((_, at) => at !== index),
                    }));
                  }}
                >
                  Remove
                </button>
                {errorAt(errors, `scope.groups.${index}`) !== undefined && (
                  <span class="field-error">{errorAt(errors, `scope.groups.${index}`)}</span>
                )}
              </li>
            ))}
          </ul>
        )}
        <p class="field-hint">
          Add scope groups from the Entra groups above. Users must be in at least one of them.
        </p>
        <h3>Options</h3>
        <CheckboxField
          label="Count nested group membership"
          hint="Members of groups inside a scope or mapped group count too. Off by default, as in Entra's own app assignment."
          checked={form.nestedGroups}
          onChecked={(nestedGroups) => {
            change((current) => ({ ...current, nestedGroups }));
          }}
        />
        <CheckboxField
          label="Include guests"
          hint="Import users whose type is Guest."
          checked={form.includeGuests}
          onChecked={(includeGuests) => {
            change((current) => ({ ...current, includeGuests }));
          }}
        />
        <CheckboxField
          label="Include disabled accounts"
          hint="Off: a disabled account is not imported, and a linked one is suspended until it is enabled again."
          checked={form.includeDisabled}
          onChecked={(includeDisabled) => {
            change((current) => ({ ...current, includeDisabled }));
          }}
        />
        <FilterEditor
          filters={form.filters}
          errors={errors}
          onChange={(filters) => {
            change((current) => ({ ...current, filters }));
          }}
        />
      </section>
      <div class="save-bar">
        <button type="submit" class="button button-primary" disabled={saving || !dirty}>
          {saving ? 'Saving…' : 'Save groups and scope'}
        </button>
        <button
          type="button"
          class="button"
          disabled={saving || !dirty}
          onClick={() => {
            setForm(groupsFormFrom(connection.document));
            discarded();
          }}
        >
          Discard changes
        </button>
        <span role="status" class="save-state">
          {saved ? 'Saved.' : dirty ? 'Unsaved changes.' : ''}
        </span>
      </div>
      {saveError !== null && <ErrorAlert error={saveError} title="The groups were not saved." />}
    </form>
  );
}

function GroupSearch({
  connectionId,
  form,
  onFound,
  onMap,
  onScope,
}: {
  connectionId: string;
  form: GroupsForm;
  onFound: (groups: readonly EntraGroup[]) => void;
  onMap: (group: GroupRef) => void;
  onScope: (group: GroupRef) => void;
}) {
  const api = useApi();
  const [search, setSearch] = useState('');
  const settled = useDebounced(search);
  const result = useAsync(
    async () => await api.listGroups(connectionId, settled, SEARCH_TOP),
    [connectionId, settled],
  );
  // Names of groups found are remembered, so mappings by id can show them; onFound is left out of the
  // dependencies on purpose, since only a new result has names to remember.
  useEffect(() => {
    if (result.status === 'ready') onFound(result.data);
  }, [result.status, result.data]);
  const groups = result.data ?? [];
  return (
    <section class="card" aria-labelledby="entra-groups-heading">
      <h2 id="entra-groups-heading">Entra groups</h2>
      <TextField
        label="Search groups"
        type="search"
        hint="Groups whose name starts with this text, live from the tenant."
        value={search}
        onValue={setSearch}
        class="field-search"
      />
      {result.status === 'error' && (
        <ErrorAlert error={result.error} title="The tenant's groups could not be read.">
          {result.error instanceof ApiError && result.error.code === 'consent_missing' && (
            <p>Grant admin consent on the Overview tab first.</p>
          )}
        </ErrorAlert>
      )}
      <p role="status" class="visually-hidden">
        {result.status === 'loading' ? 'Searching groups…' : `${countOf(groups.length, 'group')} found.`}
      </p>
      {groups.length > 0 && (
        <div class="table-wrap table-scroll" tabIndex={0} role="region" aria-label="Entra groups found">
          <table class="table table-compact" aria-busy={result.status === 'loading'}>
            <caption class="visually-hidden">
              Entra groups{settled.trim() === '' ? '' : ` starting with ${settled.trim()}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Description</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.map((group) => {
                const name = group.displayName ?? group.id;
                const reference: GroupRef = { id: group.id };
                const mapped = form.mappings.some(
                  (row) =>
                    sameGroup(row.group, reference) ||
                    ('displayName' in row.group && row.group.displayName === group.displayName),
                );
                const scoped = form.scopeGroups.some(
                  (candidate) =>
                    sameGroup(candidate, reference) ||
                    ('displayName' in candidate && candidate.displayName === group.displayName),
                );
                return (
                  <tr key={group.id}>
                    <th scope="row">
                      {name}
                      <div class="muted small mono">{group.id}</div>
                    </th>
                    <td>{group.description ?? <span class="muted">—</span>}</td>
                    <td class="row-actions">
                      <button
                        type="button"
                        class="button button-small"
                        disabled={mapped}
                        aria-label={mapped ? `Mapped: ${name}` : `Map ${name}`}
                        onClick={() => {
                          onMap(reference);
                        }}
                      >
                        {mapped ? 'Mapped' : 'Map'}
                      </button>
                      <button
                        type="button"
                        class="button button-small"
                        disabled={scoped}
                        aria-label={scoped ? `In scope: ${name}` : `Add to scope: ${name}`}
                        onClick={() => {
                          onScope(reference);
                        }}
                      >
                        {scoped ? 'In scope' : 'Add to scope'}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {result.status === 'ready' && groups.length === 0 && (
        <p class="muted">No groups start with “{settled.trim()}”.</p>
      )}
      {groups.length >= SEARCH_TOP && (
        <p class="muted small">Showing the first {SEARCH_TOP}; type more of the name to narrow the list.</p>
      )}
    </section>
  );
}

function Mappings({
  form,
  errors,
  nameOf,
  onChange,
}: {
  form: GroupsForm;
  errors: FieldErrors;
  nameOf: (group: GroupRef) => string;
  onChange: (update: (current: GroupsForm) => GroupsForm) => void;
}) {
  const update = (index: number, change: Partial<MappingRow>): void => {
    onChange((current) => ({
      ...current,
      mappings: current.mappings.map((row, at) => (at === index ? { ...row, ...change } : row)),
    }));
  };
  const move = (index: number, by: number): void => {
    onChange((current) => {
      const mappings = [...current.mappings];
      const [row] = mappings.splice(index, 1);
      if (row) mappings.splice(index + by, 0, row);
      return { ...current, mappings };
    });
  };
  const licenses = form.seats.map((row) => row.name.trim()).filter((name) => name !== '');
  return (
    <section class="card" aria-labelledby="mappings-heading">
      <h2 id="mappings-heading">Group mappings</h2>
      <p class="field-hint">
        Members of a mapped group get its app group and roles. A user gets the licence of the <em>first</em>{' '}
        mapping in this list that gives one, so order the list by priority.
      </p>
      {form.mappings.length === 0 ? (
        <Notice>No groups mapped yet. Use Map next to a group above.</Notice>
      ) : (
        <div class="table-wrap">
          <table class="table table-form">
            <caption class="visually-hidden">Group mappings, highest priority first</caption>
            <thead>
              <tr>
                <th scope="col">Priority</th>
                <th scope="col">Entra group</th>
                <th scope="col">App group</th>
                <th scope="col">Licence</th>
                <th scope="col">Roles (comma-separated)</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {form.mappings.map((row, index) => {
                const name = nameOf(row.group);
                const base = `groupMappings.${index}`;
                const rowError = errors.get(base) ?? errorAt(errors, `${base}.group`);
                return (
                  <tr key={row.key}>
                    <td class="num">{index + 1}</td>
                    <th scope="row">
                      {name}
                      {rowError !== undefined && <p class="field-error">{rowError}</p>}
                    </th>
                    <td>
                      <CellInput
                        label={`App group for ${name}`}
                        value={row.appGroup}
                        error={errorAt(errors, `${base}.appGroup`)}
                        onValue={(appGroup) => {
                          update(index, { appGroup });
                        }}
                      />
                    </td>
                    <td>
                      <select
                        aria-label={`Licence for ${name}`}
                        value={row.license}
                        aria-invalid={errorAt(errors, `${base}.license`) === undefined ? undefined : true}
                        onChange={(event) => {
                          update(index, { license: event.currentTarget.value });
                        }}
                      >
                        <option value="">No licence</option>
                        {[...new Set([...licenses, ...(row.license === '' ? [] : [row.license])])].map(
                          (license) => (
                            <option key={license} value={license}>
                              {license}
                            </option>
                          ),
                        )}
                      </select>
                      {errorAt(errors, `${base}.license`) !== undefined && (
                        <p class="field-error">{errorAt(errors, `${base}.license`)}</p>
                      )}
                    </td>
                    <td>
                      <CellInput
                        label={`Roles for ${name}`}
                        value={row.roles}
                        error={errorAt(errors, `${base}.roles`)}
                        onValue={(roles) => {
                          update(index, { roles });
                        }}
                      />
                    </td>
                    <td class="row-actions">
                      <button
                        type="button"
                        class="button button-small"
                        aria-label={`Move ${name} up`}
                        disabled={index === 0}
                        onClick={() => {
                          move(index, -1);
                        }}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        class="button button-small"
                        aria-label={`Move ${name} down`}
                        disabled={index === form.mappings.length - 1}
                        onClick={() => {
                          move(index, 1);
                        }}
                      >
                        ↓
                      </button>
                      <button
                        type="button"
                        class="button button-small"
                        aria-label={`Remove the mapping of ${name}`}
                        onClick={() => {
                          onChange((current) => ({
                            ...current,
                            mappings: current.mappings.filter((_, at) => at !== index),
                          }));
                        }}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {licenses.length === 0 && form.mappings.length > 0 && (
        <p class="field-hint">To give licences, add licence pools below first.</p>
      )}
    </section>
  );
}

function LicensePools({
  form,
  errors,
  onChange,
}: {
  form: GroupsForm;
  errors: FieldErrors;
  onChange: (update: (current: GroupsForm) => GroupsForm) => void;
}) {
  const names = form.seats.map((row) => row.name.trim()).filter((name) => name !== '');
  return (
    <section class="card" aria-labelledby="licences-heading">
      <h2 id="licences-heading">Licences</h2>
      <p class="field-hint">
        Each licence is a pool of seats. A user who needs a seat when none is free is not imported (No seat).
      </p>
      {form.seats.length > 0 && (
        <div class="table-wrap">
          <table class="table table-form table-narrow">
            <caption class="visually-hidden">Licence pools</caption>
            <thead>
              <tr>
                <th scope="col">Licence</th>
                <th scope="col">Seats</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {form.seats.map((row, index) => {
                const label = row.name.trim() === '' ? `licence ${index + 1}` : row.name.trim();
                return (
                  <tr key={row.key}>
                    <td>
                      <CellInput
                        label={`Name of ${label}`}
                        value={row.name}
                        error={
                          row.name.trim() === ''
                            ? undefined
                            : errorAt(errors, `licenses.seats.${row.name.trim()}`)
                        }
                        onValue={(name) => {
                          onChange((current) => ({
                            ...current,
                            seats: current.seats.map((seat, at) => (at === index ? { ...seat, name } : seat)),
                          }));
                        }}
                      />
                    </td>
                    <td>
                      <CellInput
                        label={`Seats of ${label}`}
                        value={row.seats}
                        inputMode="numeric"
                        onValue={(seats) => {
                          onChange((current) => ({
                            ...current,
                            seats: current.seats.map((seat, at) =>
                              at === index ? { ...seat, seats } : seat,
                            ),
                          }));
                        }}
                      />
                    </td>
                    <td class="row-actions">
                      <button
                        type="button"
                        class="button button-small"
                        aria-label={`Remove ${label}`}
                        onClick={() => {
                          onChange((current) => ({
                            ...current,
                            seats: current.seats.filter((_, at) => at !== index),
                          }));
                        }}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        <button
          type="button"
          class="button"
          onClick={() => {
            onChange((current) => ({
              ...current,
              seats: [...current.seats, { key: newKey(), name: '', seats: '' }],
            }));
          }}
        >
          Add licence
        </button>
      </div>
      <div class="field">
        <label for="default-licence">Default licence</label>
        <select
          id="default-licence"
          value={form.defaultLicense}
          aria-describedby="default-licence-hint"
          onChange={(event) => {
            const defaultLicense = event.currentTarget.value;
            onChange((current) => ({ ...current, defaultLicense }));
          }}
        >
          <option value="">None</option>
          {[...new Set([...names, ...(form.defaultLicense === '' ? [] : [form.defaultLicense])])].map(
            (name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ),
          )}
        </select>
        <p class="field-hint" id="default-licence-hint">
          For users in scope whose groups give no licence.
        </p>
        {errorAt(errors, 'licenses.default', 'licenses') !== undefined && (
          <p class="field-error">{errorAt(errors, 'licenses.default', 'licenses')}</p>
        )}
      </div>
    </section>
  );
}
