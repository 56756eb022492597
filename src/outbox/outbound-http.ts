import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { DeliveryError } from './delivery-handler';

/** API.md: a receiver has 10 s to answer, whatever it does meanwhile. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** What is read of an answer (and thrown away): a receiver cannot make us buffer its body. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface OutboundPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * POSTs of webhooks and back-channel logout: to the address the name resolves to when the
 * connection is made, and only if that address is public (request-filtering-agent checks
 * each resolved address in the socket's own lookup, so the address checked is the address
 * connected to: no DNS rebinding between a check and the connection). Loopback, private,
 * link-local (the cloud metadata address), unspecified, carrier-grade NAT and IPv4-mapped
 * private addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS. Redirects are not
 * followed (a 3xx is a failed attempt); the whole exchange has DELIVERY_TIMEOUT_MS.
 *
 * Resolves with the status of a 2xx answer; throws DeliveryError otherwise, permanent for
 * a refused address (retrying will not change where a name points; an admin can retry
 * once the endpoint is fixed).
 */
export class OutboundHttp {
  private readonly http: Agent;
  private readonly https: Agent;

  constructor(allowPrivateNetworks: boolean) {
    // The unspecified address (0.0.0.0, ::) stays refused even then: it means "this host".
    // Keep-alive: a receiver that gets many deliveries gets them on one connection (checked once, when it was made).
    const options = {
      allowPrivateIPAddress: allowPrivateNetworks,
      allowMetaIPAddress: false,
      keepAlive: true,
      keepAliveMsecs: 1_000,
      maxFreeSockets: 16,
      timeout: 30_000,
    };
    this.http = new RequestFilteringHttpAgent(options);
    this.https = new RequestFilteringHttpsAgent(options);
  }

  post({ url, headers, body }: OutboundPost): Promise<number> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(new DeliveryError(`Not an http(s) URL: ${target.protocol}`, { permanent: true }));
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const req = send(
        target,
        {
          method: 'POST',
          agent: secure ? this.https : this.http,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'nest-auth-backend' },
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) res.destroy();
          });
          res.on('error', () => undefined);
          res.on('close', () =>
            finish(() => {
              if (status >= 200 && status < 300) resolve(status);
              else reject(new DeliveryError(describeStatus(status), { statusCode: status }));
            }),
          );
        },
      );
      const timer = setTimeout(() => {
        finish(() => reject(new DeliveryError(`No answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)));
        req.destroy();
      }, DELIVERY_TIMEOUT_MS);
      req.on('error', (error: NodeJS.ErrnoException) => finish(() => reject(describeError(error, target))));
      req.end(body);
    });
  }

  onApplicationShutdown(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `Answered ${status} (a redirect: not followed)`;
  return `Answered ${status}`;
}

function describeError(error: NodeJS.ErrnoException, target: URL): DeliveryError {
  // request-filtering-agent: "DNS lookup 10.0.0.1(family:4, host:example.com) is not allowed. Because, It is private IP address."
  const refused = /^DNS lookup (\S+?)\(.*is not allowed/.exec(error.message);
  if (refused) {
    const literal = refused[1] === target.hostname.replace(/^\[|\]$/g, '');
    return new DeliveryError(
      `Refused: ${target.hostname} ${literal ? 'is' : `resolved to ${refused[1]},`} a loopback, private, link-local or unspecified address ` +
        '(WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows private ones)',
      { permanent: true },
    );
  }
  return new DeliveryError(`Could not deliver to ${target.host}: ${error.code ?? error.message.split('\n')[0]}`);
}
