import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface FeedMessage {
  event: string;
  id?: string;
  data: any;
}

/** One open revocation feed, read as a service would: every message kept in order. */
export interface Feed {
  status: number;
  headers: Headers;
  messages: FeedMessage[];
  /** Resolves with the first message (from `from` on) that `match` accepts; rejects if the stream ends first. */
  next(match: (message: FeedMessage) => boolean, from?: number): Promise<FeedMessage>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** GET /auth/revocations with these credentials; the body is read in the background. */
export async function openFeed(baseUrl: string, authorization: string, headers: Record<string, string> = {}): Promise<Feed> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/auth/revocations`, {
    headers: { authorization, accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const messages: FeedMessage[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  const notify = () => waiters.forEach((w) => w());
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      let data: unknown = message.data;
      try {
        data = JSON.parse(message.data);
      } catch {
        // keep the text
      }
      messages.push({ event: message.event ?? 'message', id: message.id, data });
      notify();
    },
  });
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted or reset
    } finally {
      done = true;
      notify();
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    messages,
    ended,
    close: () => abort.abort(),
    next: (match, from = 0) =>
      new Promise<FeedMessage>((resolve, reject) => {
        const check = () => {
          const found = messages.slice(from).find(match);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`feed ended without the message; got ${messages.map((m) => m.event).join(', ')}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}
