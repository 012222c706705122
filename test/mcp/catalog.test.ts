// What a model reads to choose a tool (its name, title, description and annotations) is part of
// the product: a change to it shows in review as a change to this file's snapshot.
import { loadCatalog } from '../../server/mcp/catalog';

test('the tools a host lists, as a model reads them, change only on purpose', () => {
  const tools = loadCatalog().tools.map(({ name, title, description, annotations }) => ({ name, title, description, annotations }));
  expect(tools).toMatchSnapshot();
});
