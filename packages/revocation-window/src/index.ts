export { RevocationState, type RevocationEvent, type TokenFacts, type Verdict } from './revocation-state';
export { FEED_EVENT_KINDS, fromFeedEvent, type FeedEventName } from './feed-events';
