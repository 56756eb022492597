/**
 * URLs an outbound delivery (a webhook, a back-channel logout) cannot be sent to, or would be
 * sent somewhere else than written: what `new URL()` refuses (an IPv6 zone id, no host, a
 * space in the host), another scheme, and what it would silently rewrite (a leading space,
 * a newline, a backslash). Each must be refused with a 400 when it is given.
 */
export const UNDELIVERABLE_URLS = [
  'http://[fe80::1%25lo]:1/x',
  'http://',
  'ftp://x',
  'http://exa mple.com',
  'http:example.com',
  ' https://example.com/x',
  'https://example.com/a\nb',
  'https://example.com\\hook',
];
