import { emailOf, ipOf, throttleBucket } from '../throttling/auth-throttling';

/** Recovery's own limits: RATE_LIMIT_MAIL mail requests (forgot, resend) a minute… */
export const MAIL_THROTTLE = {
  /** …per client IP… */
  perIp: throttleBucket({ name: 'mail-ip', limit: (config) => config.get('recovery.rateLimit', { infer: true }), tracker: ipOf }),
  /** …and per email address, whoever asks: nobody can flood one mailbox. */
  perEmail: throttleBucket({ name: 'mail-email', limit: (config) => config.get('recovery.rateLimit', { infer: true }), tracker: emailOf }),
};
