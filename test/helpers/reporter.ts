import type { ProgressEvent, Reporter } from '../../src/core/events.js';

/** A reporter that records every event, with small queries for assertions. */
export class FakeReporter implements Reporter {
  readonly events: ProgressEvent[] = [];
  emit(event: ProgressEvent): void {
    this.events.push(event);
  }
  /** Events of one type. */
  ofType<T extends ProgressEvent['type']>(type: T): Extract<ProgressEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ProgressEvent, { type: T }> => e.type === type);
  }
  /** Warning messages, in order. */
  get warnings(): string[] {
    return this.ofType('warning').map((e) => e.message);
  }
  /** Items that ended with ok: false. */
  get failures(): Extract<ProgressEvent, { type: 'item-end' }>[] {
    return this.ofType('item-end').filter((e) => !e.ok);
  }
}
