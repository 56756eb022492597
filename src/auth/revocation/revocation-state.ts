/**
 * The revocation window (RevocationState: apply, verdict, prune) lives in the workspace
 * package @nest-auth-backend/revocation-window, so that this server and the client module
 * of other services (@nest-auth-backend/client) hold the same implementation.
 */
export { RevocationState, type RevocationEvent, type TokenFacts, type Verdict } from '@nest-auth-backend/revocation-window';
