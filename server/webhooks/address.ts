// Where a webhook may be delivered: http(s) only, and in production only to public unicast
// addresses (not loopback, private, link-local, unique-local, carrier-grade NAT, reserved…) unless
// WEBHOOK_ALLOW_PRIVATE=true, so a webhook cannot become a way into the operator's network. The
// check runs when an endpoint is registered over HTTP and again on every delivery, on the very
// addresses the connection then uses (a name that resolves differently later is caught too).
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export class WebhookAddressError extends Error {
  constructor(
    message: string,
    readonly reason: 'invalid_webhook_url' | 'webhook_address_not_allowed' | 'webhook_address_unresolvable',
  ) {
    super(message);
  }
}

/** True for a public unicast address (an IPv4-mapped IPv6 address counts as its IPv4 one). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

function refuseAddress(host: string, address: string): WebhookAddressError {
  const what = host === address ? address : `${host} resolves to ${address}, which`;
  return new WebhookAddressError(`${what} is not a public address.`, 'webhook_address_not_allowed');
}

/** The URL, when it is http(s); its host without IPv6 brackets. */
export function parseWebhookUrl(url: string): { url: URL; host: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookAddressError('The webhook URL is not a valid URL.', 'invalid_webhook_url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookAddressError('Webhooks are delivered over http or https only.', 'invalid_webhook_url');
  }
  return { url: parsed, host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') };
}

/** Refuses (throws WebhookAddressError) a URL that may not receive webhooks. */
export async function assertDeliverable(url: string, allowPrivate: boolean): Promise<void> {
  const { host } = parseWebhookUrl(url);
  if (allowPrivate) return;
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new WebhookAddressError(`${host} does not resolve.`, 'webhook_address_unresolvable');
    }
  }
  const refused = addresses.find((address) => !isPublicAddress(address));
  if (refused !== undefined) throw refuseAddress(host, refused);
}

/**
 * A `lookup` for http.request that resolves as usual and fails the connection when any address
 * of the name is not public. (An IP literal skips lookup: assertDeliverable checks those.)
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const list = addresses as unknown as dns.LookupAddress[];
      const refused = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (refused) return callback(refuseAddress(hostname, refused.address) as NodeJS.ErrnoException, '', 4);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
