// Plants one defect of test/mutation/defects.ts in a database (the test template, through
// NORA_TEST_DEFECT in the global setup).
import pg from 'pg';
import { defects } from './defects';

export async function plantDefect(url: string, name: string): Promise<void> {
  const defect = defects.find((d) => d.name === name);
  if (!defect) throw new Error(`unknown defect "${name}"; known: ${defects.map((d) => d.name).join('; ')}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const step of defect.steps) {
      if (typeof step === 'string') {
        await client.query(step);
        continue;
      }
      const { rows } = await client.query<{ def: string }>('select pg_get_functiondef($1::regprocedure) as def', [step.fn]);
      const definition = rows[0]!.def;
      const found = definition.split(step.from).length - 1;
      if (found !== 1) throw new Error(`defect "${name}": ${step.fn} holds ${JSON.stringify(step.from)} ${found} times, not once`);
      await client.query(definition.replace(step.from, () => step.to));
    }
  } finally {
    await client.end();
  }
}
