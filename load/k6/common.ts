// Shared by the k6 scripts: the scenario file, the prepared target, and request helpers.
// k6 runs TypeScript itself (v0.57+); `npm test` type-checks these files against @types/k6.
import http from 'k6/http';
import type { Scenarios, Target } from '../scenario-types.ts';

export const scenarios: Scenarios = JSON.parse(open('../scenarios.json'));
export const target: Target = JSON.parse(open(__ENV.TARGET_FILE || '../../.data/load/target.json'));
export const baseUrl = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '');

export function headers(apiKey: string, idempotencyKey?: string): Record<string, string> {
  const result: Record<string, string> = { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' };
  if (idempotencyKey) result['Idempotency-Key'] = idempotencyKey;
  return result;
}

/** A key unique across VUs and iterations. */
export function uniqueKey(prefix: string, vu: number, iteration: number): string {
  return `${prefix}-${vu}-${iteration}-${Math.random().toString(36).slice(2, 10)}`;
}

export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function randomItem<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** 409 (no table) is an answer, not a failure: only the statuses a scenario lists count as expected. */
export function expectOnly(statuses: number[]): void {
  http.setResponseCallback(http.expectedStatuses(...statuses));
}
