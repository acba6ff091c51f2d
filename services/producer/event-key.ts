// The raw topic's message key (see config.ts for why `session` is the default). A fallback keeps
// rows that lack the preferred id spread over partitions instead of piling onto one.
import type { EcommerceEvent } from '../core/event';
import type { KeyStrategy } from './config';

export function eventKey(event: EcommerceEvent, strategy: KeyStrategy): string | null {
  switch (strategy) {
    case 'session':
      return event.sessionId ?? event.userId ?? event.productId;
    case 'user':
      return event.userId ?? event.sessionId ?? event.productId;
    case 'product':
      return event.productId;
    case 'none':
      return null;
  }
}
