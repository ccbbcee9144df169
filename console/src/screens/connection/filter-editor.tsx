import { CellInput } from '../../components/cell-input.js';
import { TextField } from '../../components/fields.js';
import { errorAt, type FieldErrors } from '../../lib/validation.js';
import {
  FILTER_OPERATORS,
  newKey,
  valueKind,
  type ClauseRow,
  type FilterOperator,
  type FilterRow,
} from './groups-form.js';

/** Suggestions only: the schema accepts any Graph user property and names a typo. */
const COMMON_ATTRIBUTES = [
  'department',
  'jobTitle',
  'companyName',
  'country',
  'city',
  'officeLocation',
  'employeeType',
  'employeeId',
  'userPrincipalName',
  'mail',
  'usageLocation',
  'employeeOrgData.division',
  'employeeOrgData.costCenter',
  'onPremisesExtensionAttributes.extensionAttribute1',
];

const OPERATOR_LABELS: Readonly<Record<FilterOperator, string>> = {
  EQUALS: 'equals',
  NOT_EQUALS: 'does not equal',
  IS_NULL: 'is empty',
  IS_NOT_NULL: 'is not empty',
  STARTS_WITH: 'starts with',
  ENDS_WITH: 'ends with',
  INCLUDES: 'contains',
  REGEX_MATCH: 'matches the pattern',
  NOT_REGEX_MATCH: 'does not match the pattern',
  IN: 'is one of (comma-separated)',
  IS_TRUE: 'is true',
  IS_FALSE: 'is false',
  GREATER_THAN: 'is greater than',
  GREATER_THAN_OR_EQUALS: 'is at least',
};

/**
 * Scoping filters as in Entra provisioning: the clauses of a filter must all hold, and a user must pass
 * at least one filter. Every operator but "is empty" is false on an empty value.
 */
export function FilterEditor({
  filters,
  errors,
  onChange,
}: {
  filters: readonly FilterRow[];
  errors: FieldErrors;
  onChange: (filters: FilterRow[]) => void;
}) {
  const setFilter = (index: number, change: Partial<FilterRow>): void => {
    onChange(filters.map((filter, at) => (at === index ? { ...filter, ...change } : filter)));
  };
  const setClause = (filterIndex: number, clauseIndex: number, change: Partial<ClauseRow>): void => {
    const filter = filters[filterIndex];
    if (!filter) return;
    setFilter(filterIndex, {
      clauses: filter.clauses.map((clause, at) => (at === clauseIndex ? { ...clause, ...change } : clause)),
    });
  };
  const newClause = (): ClauseRow => ({ key: newKey(), attribute: '', operator: 'EQUALS', value: '' });
  return (
    <>
      <h3>Attribute filters</h3>
      <p class="field-hint">
        {filters.length === 0
          ? 'No filters: no attribute condition applies.'
          : 'A user must pass at least one filter; all the conditions of a filter must hold.'}
      </p>
      <datalist id="user-attributes">
        {COMMON_ATTRIBUTES.map((attribute) => (
          <option key={attribute} value={attribute} />
        ))}
      </datalist>
      {filters.map((filter, filterIndex) => {
        const title = filter.name.trim() === '' ? `Filter ${filterIndex + 1}` : filter.name.trim();
        const base = `scope.filters.${filterIndex}`;
        return (
          <fieldset class="filter" key={filter.key}>
            <legend>{title}</legend>
            <TextField
              label="Filter name"
              hint="Optional; shown in reports."
              value={filter.name}
              error={errorAt(errors, `${base}.name`)}
              spellcheck
              onValue={(name) => {
                setFilter(filterIndex, { name });
              }}
            />
            <table class="table table-form">
              <caption class="visually-hidden">Conditions of {title}</caption>
              <thead>
                <tr>
                  <th scope="col">Attribute</th>
                  <th scope="col">Condition</th>
                  <th scope="col">Value</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {filter.clauses.map((clause, clauseIndex) => {
                  const where = `${base}.clauses.${clauseIndex}`;
                  const kind = valueKind(clause.operator);
                  const label = `condition ${clauseIndex + 1} of ${title}`;
                  return (
                    <tr key={clause.key}>
                      <td>
                        <CellInput
                          label={`Attribute of ${label}`}
                          value={clause.attribute}
                          list="user-attributes"
                          error={errorAt(errors, `${where}.attribute`)}
                          onValue={(attribute) => {
                            setClause(filterIndex, clauseIndex, { attribute });
                          }}
                        />
                      </td>
                      <td>
                        <select
                          aria-label={`Operator of ${label}`}
                          value={clause.operator}
                          onChange={(event) => {
                            const operator = FILTER_OPERATORS.find(
                              (candidate) => candidate === event.currentTarget.value,
                            );
                            if (operator) setClause(filterIndex, clauseIndex, { operator });
                          }}
                        >
                          {FILTER_OPERATORS.map((operator) => (
                            <option key={operator} value={operator}>
                              {OPERATOR_LABELS[operator]}
                            </option>
                          ))}
                        </select>
                        {errorAt(errors, `${where}.operator`, where) !== undefined &&
                          errorAt(errors, `${where}.attribute`, `${where}.value`) === undefined && (
                            <p class="field-error">{errorAt(errors, `${where}.operator`, where)}</p>
                          )}
                      </td>
                      <td>
                        {kind === 'none' ? (
                          <span class="muted">No value</span>
                        ) : (
                          <CellInput
                            label={`Value of ${label}`}
                            value={clause.value}
                            inputMode={kind === 'integer' ? 'numeric' : 'text'}
                            error={errorAt(errors, `${where}.value`)}
                            onValue={(value) => {
                              setClause(filterIndex, clauseIndex, { value });
                            }}
                          />
                        )}
                      </td>
                      <td class="row-actions">
                        <button
                          type="button"
                          class="button button-small"
                          aria-label={`Remove ${label}`}
                          onClick={() => {
                            setFilter(filterIndex, {
                              clauses: filter.clauses.filter((_, at) => at !== clauseIndex),
                            });
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
            {errors.get(`${base}.clauses`) !== undefined && (
              <p class="field-error">{errors.get(`${base}.clauses`)}</p>
            )}
            <div class="actions">
              <button
                type="button"
                class="button"
                onClick={() => {
                  setFilter(filterIndex, { clauses: [...filter.clauses, newClause()] });
                }}
              >
                Add condition to {title}
              </button>
              <button
                type="button"
                class="button"
                onClick={() => {
                  onChange(filters.filter((_, at) => at !== filterIndex));
                }}
              >
                Remove {title}
              </button>
            </div>
          </fieldset>
        );
      })}
      <div class="actions">
        <button
          type="button"
          class="button"
          onClick={() => {
            onChange([...filters, { key: newKey(), name: '', clauses: [newClause()] }]);
          }}
        >
          Add filter
        </button>
      </div>
    </>
  );
}
