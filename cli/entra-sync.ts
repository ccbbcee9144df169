#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isEntraSyncError } from '../shared/errors.js';
import { ConsentMissingError, ThrottledError } from '../shared/graph/errors.js';
import { EnvironmentSecretStore } from '../shared/secrets/secret-store.js';
import { createStorageClients } from '../shared/storage/clients.js';
import type { RunLogEntry, RunReport } from '../shared/storage/runs.js';
import type { RunProgress } from '../shared/sync/run.js';
import { SyncService } from '../shared/sync/service.js';
import { formatConnections, formatPreviewEntry, formatReport, formatUser, userRecord } from './format.js';
import { loadCliSettings } from './settings.js';

/**
 * `entra-sync`: the engine for scripts and terminals. A thin adapter: it parses arguments, builds the
 * service from the same settings the Function app reads, calls it, and prints. With --json, stdout
 * carries exactly one JSON document and everything else goes to stderr.
 */

const USAGE = `Usage: entra-sync <command> [options]

Commands:
  connections apply --file F         create or replace a connection from a JSON document
  connections list                   list connections
  connections enable|disable --connection ID
  preview --connection ID [--users id-or-upn,...] [--details]
                                     what an import would do, writing nothing
  import --connection ID [--users id-or-upn,...]
  sync --connection ID               apply what changed in Entra since the last run
  users --connection ID              the app users of a connection
  runs --connection ID [--limit N]   recent runs, newest first
  approve --run ID                   apply the suspensions and deletions a run held

Options:
  --json     print exactly one JSON document on stdout (the report or the list)
  --help     this text

Exit codes: 0 done, 1 failed (the message says what to do), 2 bad usage, 3 deletions held for approval.`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal, for progress lines. */
  readonly interactive: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** A CA to trust for login and Graph: only for a local simulated tenant (npm start). */
  readonly trustedCa?: string;
}

class UsageError extends Error {}

function progressPrinter(io: CliIo): ((progress: RunProgress) => void) | undefined {
  if (!io.interactive) return undefined;
  let last = 0;
  return (progress) => {
    const now = Date.now();
    if (progress.phase !== 'done' && now - last < 100) return;
    last = now;
    const actions = Object.entries(progress.actions)
      .map(([name, count]) => `${name.toLowerCase()} ${count}`)
      .join(', ');
    const line = `${progress.mode} ${progress.connectionId}: ${progress.phase}, ${progress.usersRead} users in ${progress.pages} pages${actions ? `; ${actions}` : ''}`;
    io.stderr(`\r\u001b[2K${line}${progress.phase === 'done' ? '\n' : ''}`);
  };
}

function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function exitCodeOf(report: RunReport): number {
  if (report.status === 'deletions_held') return 3;
  return report.status === 'failed' ? 1 : 0;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        connection: { type: 'string' },
        file: { type: 'string' },
        users: { type: 'string' },
        run: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
        details: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : 'bad arguments'}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, subcommand] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.stdout : io.stderr)(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }

  const print = (human: string, json: unknown): void => {
    io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);
  };

  try {
    const { settings, env } = loadCliSettings(io.env ?? process.env, io.cwd ?? process.cwd());
    const service = new SyncService({
      storage: createStorageClients(settings.storage),
      tablePrefix: settings.TABLE_PREFIX,
      secrets: new EnvironmentSecretStore(env),
      graph: {
        retryBudgetSeconds: settings.GRAPH_RETRY_BUDGET_SECONDS,
        ...(io.trustedCa ? { trustedCa: io.trustedCa } : {}),
      },
    });
    await service.initialize();
    const onProgress = progressPrinter(io);
    const users = values.users
      ?.split(',')
      .map((user) => user.trim())
      .filter((user) => user !== '');

    switch (command) {
      case 'connections': {
        if (subcommand === 'apply') {
          const file = requireOption(values.file, 'file');
          const document: unknown = JSON.parse(await readFile(file, 'utf8'));
          const stored = await service.applyConnection(document);
          print(`Connection ${stored.id} applied (${stored.enabled ? 'enabled' : 'disabled'}).`, stored);
          return 0;
        }
        if (subcommand === 'list') {
          const connections = await service.listConnections();
          print(formatConnections(connections), connections);
          return 0;
        }
        if (subcommand === 'enable' || subcommand === 'disable') {
          const stored = await service.setEnabled(
            requireOption(values.connection, 'connection'),
            subcommand === 'enable',
          );
          print(`Connection ${stored.id} ${subcommand}d.`, stored);
          return 0;
        }
        throw new UsageError(`unknown connections command: ${subcommand ?? '(none)'}`);
      }
      case 'preview': {
        const entries: RunLogEntry[] = [];
        const report = await service.preview(requireOption(values.connection, 'connection'), {
          ...(users ? { users } : {}),
          ...(onProgress ? { onProgress } : {}),
          previewLog: {
            write: async (written) => {
              if (values.json || values.details) entries.push(...written);
              await Promise.resolve();
            },
          },
        });
        const detail = values.details ? `${entries.map(formatPreviewEntry).join('\n')}\n\n` : '';
        print(
          `${detail}${formatReport(report)}\nNothing was written (preview).`,
          values.details ? { ...report, users: entries } : report,
        );
        return exitCodeOf(report) === 3 ? 0 : exitCodeOf(report);
      }
      case 'import':
      case 'sync': {
        const connectionId = requireOption(values.connection, 'connection');
        const options = { ...(users ? { users } : {}), ...(onProgress ? { onProgress } : {}) };
        const report =
          command === 'import'
            ? await service.import(connectionId, options)
            : await service.sync(connectionId, options);
        print(formatReport(report), report);
        return exitCodeOf(report);
      }
      case 'users': {
        const list = [];
        for await (const user of service.users(requireOption(values.connection, 'connection')))
          list.push(user);
        print(list.map(formatUser).join('\n') || 'No app users yet.', list.map(userRecord));
        return 0;
      }
      case 'runs': {
        const limit = values.limit === undefined ? 20 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError('--limit must be a positive whole number');
        const reports = await service.runs(requireOption(values.connection, 'connection'), limit);
        print(reports.map(formatReport).join('\n\n') || 'No runs yet.', reports);
        return 0;
      }
      case 'approve': {
        const report = await service.approve(requireOption(values.run, 'run'));
        print(formatReport(report), report);
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`${describeFailure(error)}\n`);
    return 1;
  }
}

/** A failure as a person needs it: what happened, and what to do next. Never a secret. */
export function describeFailure(error: unknown): string {
  if (!isEntraSyncError(error)) {
    const message = error instanceof Error ? error.message : 'unknown error';
    return `Error: ${message}\nThis is unexpected; run again, and if it persists, report it with the output above.`;
  }
  const lines = [`Error (${error.code}): ${error.message}`];
  if (error.nextStep) lines.push(`What to do: ${error.nextStep}`);
  if (error instanceof ConsentMissingError && error.adminConsentUrl) {
    lines.push(`Admin consent URL (open as an administrator of the tenant): ${error.adminConsentUrl}`);
  }
  if (error instanceof ThrottledError)
    lines.push(`Retry at: ${error.retryAt.toISOString()} (in ${Math.ceil(error.retryAfterSeconds)} s).`);
  if (error.details !== undefined && error.code === 'bad_request')
    lines.push(JSON.stringify(error.details, null, 2));
  return lines.join('\n');
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY,
  });
  process.exitCode = code;
}
