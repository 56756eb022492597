export { ACCESS_TOKEN_TYPE, accessTokenHeaderOf, HEADER_PARAMETERS, KID_PATTERN, SIGNING_ALGORITHMS, type SigningAlgorithm } from './header';
export {
  ACR_VALUES,
  accessTokenClaimsOf,
  AUTHENTICATION_CLAIMS,
  authenticationClaimsOf,
  CLOCK_SKEW_SECONDS,
  CORE_CLAIMS,
  type AccessTokenClaims,
  type AccessTokenFacts,
  type Acr,
  type AuthenticationClaims,
  type ClaimRules,
  type CoreClaims,
} from './claims';
export { bearerTokenOf, MAX_TOKEN_LENGTH, type BearerRequest } from './bearer';
export { isRole, ROLES, type Role } from './roles';
export { isCanonicalEs256, toCanonicalEs256 } from './token-signature';
