// A restaurant's webhook endpoints: register (the secret is in that answer only), list, remove.
import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf } from '../auth';
import { refusal } from '../errors';
import { assertDeliverable, WebhookAddressError } from '../webhooks/address';
import { found, idOf, restaurantOf, send } from './legacy';

type WebhookCreate = components['schemas']['WebhookCreate'];

export function webhookRoutes(queries: Queries, options: { allowPrivate: boolean }): Router {
  const router = Router({ mergeParams: true });

  router.post('/webhooks', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const { url, events } = req.body as WebhookCreate;
    try {
      await assertDeliverable(url, options.allowPrivate);
    } catch (error) {
      if (!(error instanceof WebhookAddressError)) throw error;
      const status = error.reason === 'invalid_webhook_url' ? 400 : 422;
      throw refusal(status, status === 400 ? 'invalid_request' : 'PT422', error.message, error.reason,
        'Give an address on the public internet that your own server answers.');
    }
    send(res, await queries.addWebhookEndpoint(actorOf(res, 'api'), restaurantId, url, events ?? null), 201);
  });

  router.get('/webhooks', async (req, res) => {
    send(res, found(await queries.webhookEndpoints(restaurantOf(req, res)), 'restaurant'));
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.removeWebhookEndpoint(actorOf(res, 'api'), restaurantId, idOf(req)));
  });

  return router;
}
