// The raw contract and the interactive docs page (swagger-ui-express bundles its assets).
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { specPath } from '../openapi';

export function docsRoutes(): Router {
  const router = Router();
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').sendFile(specPath);
  });
  router.use('/docs', swaggerUi.serve);
  router.get('/docs', swaggerUi.setup(undefined, { customSiteTitle: 'nora-reservations API', swaggerOptions: { url: '/openapi.yaml' } }));
  return router;
}
