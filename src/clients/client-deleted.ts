/**
 * The clients' notice on the revocation channel: "this client was deleted", so that its
 * revocation feeds close on every instance. No row: a feed missed by a disconnected
 * instance is refused anyway at its next authentication.
 */
declare module '../events/channel' {
  interface ChannelNotices {
    CLIENT_DELETED: { clientId: string };
  }
}

export const CLIENT_DELETED = 'CLIENT_DELETED';
