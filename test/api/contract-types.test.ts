// server/api-types.ts is generated from openapi.yaml; this fails when someone edits one
// without regenerating the other.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

test('server/api-types.ts matches what openapi-typescript generates from openapi.yaml', () => {
  const cli = path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  const generated = execFileSync(process.execPath, [cli, 'openapi.yaml'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const committed = readFileSync(path.join(root, 'server', 'api-types.ts'), 'utf8');
  expect(committed).toBe(generated);
});
