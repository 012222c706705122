// The booking operations as tools for an assistant: names and descriptions for a model deciding
// what to call, each standing for one (or, for get_reservation, two) operations of openapi.yaml
// and calling the same Queries as the REST route. No booking rule lives here.
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ApiKeyScope, Json, Queries } from '../db';
import { requireScope } from '../auth';
import { found } from '../routes/legacy';
import type { components } from '../api-types';
import type { RestRequest } from './contract';

type Schemas = components['schemas'];

export interface ToolContext {
  queries: Queries;
  scope: ApiKeyScope;
}

export interface ToolSpec {
  name: string;
  title: string;
  description: string;
  /** The contract operations whose arguments (the first) and results (all, merged) the tool has. */
  operations: [string, ...string[]];
  /**
   * The parameters run() passes on (the JSON body goes on whole). A parameter the contract adds
   * to the operation stops the server at start until the tool passes it on too.
   */
  parameters: string[];
  annotations: ToolAnnotations;
  run(context: ToolContext, request: RestRequest): Promise<Json>;
  /** One line for the conversation; the structured result carries the rest. */
  summary(result: Json, request: RestRequest): string;
}

const ACTOR = (context: ToolContext) => ({ channel: 'mcp' as const, label: context.scope.label });
const restaurant = (context: ToolContext, request: RestRequest) => requireScope(context.scope, request.params.restId as number);
const reservationId = (request: RestRequest) => request.params.id as number;
const READ = { readOnlyHint: true, openWorldHint: false } satisfies ToolAnnotations;

type Booking = { reservation: Schemas['LegacyReservation']; table: Schemas['Table'] };
const describeBooking = ({ reservation, table }: Booking) =>
  `reservation ${reservation.id}: ${reservation.guests} guests at table ${table.name} from ${reservation.date} (${reservation.status})`;

export const TOOLS: ToolSpec[] = [
  {
    name: 'find_availability',
    title: 'Find free times for a party',
    description:
      'Lists every bookable start time of one local day at the restaurant with how many more parties of that size can be booked then. ' +
      'Call it before booking whenever the guest names a day, and offer only the times in availableSlots. ' +
      'Give time (HH:MM) to learn how many tables are free at the time the guest asked for, and area (e.g. terrace) when the guest wants one part of the restaurant. ' +
      'An empty availableSlots means nothing is bookable that day: suggest another day.',
    operations: ['getAvailability'],
    parameters: ['restId', 'date', 'guests', 'time', 'area'],
    annotations: { title: 'Find free times for a party', ...READ },
    run: async (context, request) => {
      const { date, guests, time, area } = request.params as { date: string; guests: number; time?: string; area?: string };
      return found(await context.queries.availability(restaurant(context, request), date, guests, time ?? null, area ?? null), 'restaurant');
    },
    summary: (result, request) => {
      const slots = (result as Schemas['Availability']).availableSlots;
      const party = `${String(request.params.guests)} on ${String(request.params.date)}`;
      return slots.length ? `Free start times for ${party}: ${slots.join(', ')}.` : `No free time for ${party}.`;
    },
  },
  {
    name: 'book_table',
    title: 'Book a table',
    description:
      'Books the smallest free table that fits the party at date (an instant with its offset, e.g. 2026-12-12T20:00:00+01:00). ' +
      'Name the guest with client (name, email, phone: created or updated by e-mail together with the booking) or with client_id. ' +
      'Always send a fresh idempotency_key per booking attempt and reuse it when retrying, so a retry never books twice. ' +
      'When the slot is taken the error lists details.alternatives, the nearest free times that day: offer them to the guest.',
    operations: ['createReservation'],
    parameters: ['restId', 'Idempotency-Key'],
    annotations: { title: 'Book a table', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: async (context, request) => {
      const { client, ...booking } = request.body as Schemas['LegacyBookRequest'];
      const key = (request.params['Idempotency-Key'] as string | undefined) ?? null;
      return context.queries.bookLegacy(ACTOR(context), restaurant(context, request), booking, client, key);
    },
    summary: (result) => `Booked ${describeBooking(result as Booking)}.`,
  },
  {
    name: 'find_or_create_client',
    title: 'Find or create a guest by e-mail',
    description:
      "Returns the restaurant's guest with this e-mail (case-insensitive), creating the guest when there is none; " +
      'a name or phone given replaces the stored one, and left out they stay as they are. Safe to retry. ' +
      'Use the returned id as client_id when booking.',
    operations: ['rpcUpsertClient'],
    parameters: [],
    annotations: { title: 'Find or create a guest by e-mail', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: async (context, request) => {
      const args = request.body as Schemas['RpcUpsertClient'];
      requireScope(context.scope, args.restaurant_id);
      return context.queries.rpcUpsertClient(ACTOR(context), args);
    },
    summary: (result) => {
      const client = result as Schemas['Client'];
      return `Guest ${client.id}: ${client.name ?? '(no name)'} <${client.email}>.`;
    },
  },
  {
    name: 'list_reservations',
    title: "List a day's reservations",
    description:
      "Lists the restaurant's reservations starting on one local day, earliest first; optionally only one status or one guest (client_id). " +
      "Use it to find a guest's booking before moving or cancelling it.",
    operations: ['listReservations'],
    parameters: ['restId', 'date', 'status', 'client_id'],
    annotations: { title: "List a day's reservations", ...READ },
    run: async (context, request) => {
      const { date, status, client_id } = request.params as { date: string; status?: string; client_id?: number };
      return found(await context.queries.reservationsOfDay(restaurant(context, request), date, status ?? null, client_id ?? null), 'restaurant');
    },
    summary: (result, request) => {
      const count = (result as { reservations: unknown[] }).reservations.length;
      return `${count} reservation${count === 1 ? '' : 's'} on ${String(request.params.date)}.`;
    },
  },
  {
    name: 'get_reservation',
    title: 'Get a reservation and its history',
    description:
      'Reads one reservation with its table and its history (created, moved, cancelled, seated…, with the channel and API key label of each change). ' +
      'Use list_reservations first when you do not know the id.',
    operations: ['getReservation', 'getReservationHistory'],
    parameters: ['restId', 'id'],
    annotations: { title: 'Get a reservation and its history', ...READ },
    run: async (context, request) => {
      const restaurantId = restaurant(context, request);
      const booking = found(await context.queries.reservation(restaurantId, reservationId(request)), 'reservation');
      const history = found(await context.queries.history(restaurantId, reservationId(request)), 'reservation');
      return { ...booking, ...history };
    },
    summary: (result) => `Read ${describeBooking(result as Booking)}; ${(result as { events: unknown[] }).events.length} events in its history.`,
  },
  {
    name: 'reschedule_reservation',
    title: 'Move a reservation',
    description:
      'Moves a confirmed reservation to another date (instant with offset), party size (guests) or table; give only what changes. ' +
      'It keeps its table when that one is still free. When refused, the reservation stays as it was; ' +
      'a taken slot lists details.alternatives to offer.',
    operations: ['rescheduleReservation'],
    parameters: ['restId', 'id'],
    annotations: { title: 'Move a reservation', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: async (context, request) =>
      context.queries.rescheduleLegacy(ACTOR(context), restaurant(context, request), reservationId(request), request.body as Schemas['LegacyRescheduleRequest']),
    summary: (result) => `Moved ${describeBooking(result as Booking)}.`,
  },
  {
    name: 'cancel_reservation',
    title: 'Cancel a reservation',
    description:
      'Cancels a confirmed reservation and frees its table. Cancelling it again changes nothing. ' +
      'Confirm with the guest first: a cancelled reservation cannot be restored, only booked anew.',
    operations: ['cancelReservation'],
    parameters: ['restId', 'id'],
    annotations: { title: 'Cancel a reservation', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    run: async (context, request) => context.queries.cancelLegacy(ACTOR(context), restaurant(context, request), reservationId(request)),
    summary: (result) => `Cancelled ${describeBooking(result as Booking)}.`,
  },
  {
    name: 'set_reservation_status',
    title: 'Record what happened at the door',
    description:
      'Sets a reservation to seated, completed, no_show or cancelled. Allowed: confirmed to seated, no_show or cancelled; seated to completed. ' +
      'Setting the current status again changes nothing.',
    operations: ['setReservationStatus'],
    parameters: ['restId', 'id'],
    annotations: { title: 'Record what happened at the door', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    run: async (context, request) =>
      context.queries.setStatusLegacy(ACTOR(context), restaurant(context, request), reservationId(request), (request.body as Schemas['StatusChange']).status),
    summary: (result) => `Recorded ${describeBooking(result as Booking)}.`,
  },
];
