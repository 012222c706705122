import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf } from '../auth';
import { found, idOf, queryInteger, queryString, restaurantOf, send } from './legacy';

type ClientCreate = components['schemas']['ClientCreate'];
type ClientUpdate = components['schemas']['ClientUpdate'];

const DEFAULT_PAGE = 20;

export function clientRoutes(queries: Queries): Router {
  const router = Router({ mergeParams: true });

  router.get('/clients', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    // The cursor is a string of digits in the contract (an id may outgrow a JSON number); the
    // limit an integer.
    const cursor = queryString(req, 'cursor');
    const data = await queries.clientsPage(
      restaurantId,
      queryString(req, 'q'),
      queryInteger(req, 'limit') ?? DEFAULT_PAGE,
      cursor === null ? null : Number(cursor),
    );
    send(res, found(data, 'restaurant'));
  });

  router.post('/clients', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.createClient(actorOf(res, 'api'), restaurantId, req.body as ClientCreate), 201);
  });

  router.get('/clients/:id', async (req, res) => {
    send(res, found(await queries.client(restaurantOf(req, res), idOf(req)), 'client'));
  });

  router.put('/clients/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.updateClient(actorOf(res, 'api'), restaurantId, idOf(req), req.body as ClientUpdate));
  });

  router.delete('/clients/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const outcome = await queries.deleteClient(actorOf(res, 'api'), restaurantId, idOf(req));
    send(res, { id: idOf(req), outcome });
  });

  router.get('/clients/:id/reservations', async (req, res) => {
    send(res, found(await queries.clientReservations(restaurantOf(req, res), idOf(req)), 'client'));
  });

  return router;
}
