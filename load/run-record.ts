// The record a load run leaves for `npm run load:verify`: where its database is, what it
// prepared, and what the clients were told.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatabaseLocation } from './database';
import type { LedgerData } from './ledger';
import type { Target } from './scenario-types';
import { loadDataDir } from './database';

export const runRecordFile = path.join(loadDataDir, 'last-run.json');

export interface RunRecord {
  finishedAt: string;
  database: DatabaseLocation;
  target: Target;
  /** Storm slots with the 201s the clients received for each (absent when the storm did not run). */
  stormSlots?: Array<{ startsAt: string; requests: number; acknowledged: number }>;
  ledger: LedgerData;
}

export async function writeRunRecord(record: RunRecord, file = runRecordFile): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export async function readRunRecord(file = runRecordFile): Promise<RunRecord> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as RunRecord;
}
