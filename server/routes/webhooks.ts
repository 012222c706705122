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
      // The contract has already refused what is not an http(s) URL (400): what is left is a
      // well-formed address that is not allowed or does not resolve.
      throw refusal(422, 'PT422', error.message, error.reason, 'Give an address on the public internet that your own server answers.');
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
