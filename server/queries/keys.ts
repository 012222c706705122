// API keys: the scope a presented key resolves to.
import type { Database, ApiKeyScope } from '../db';

export function keyQueries(db: Database) {
  return {
    async resolveApiKey(key: string): Promise<ApiKeyScope | null> {
      const rows = await db.read<{ key_id: string; restaurant_id: string | null; label: string }>(
        'select key_id, restaurant_id, label from booking.resolve_api_key($1)',
        [key],
      );
      const row = rows[0];
      return row ? { keyId: Number(row.key_id), restaurantId: row.restaurant_id === null ? null : Number(row.restaurant_id), label: row.label } : null;
    },
  };
}
