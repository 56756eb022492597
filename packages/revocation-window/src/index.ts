export { RevocationState, type RevocationEvent, type Role, type TokenFacts, type Verdict } from './revocation-state';
export { FEED_EVENT_KINDS, fromFeedEvent, type FeedEventName } from './feed-events';
export { isCanonicalEs256, toCanonicalEs256 } from './token-signature';
