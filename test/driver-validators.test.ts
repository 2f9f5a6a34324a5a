import { describe, expect, it } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import type { EngineName } from '../src/core/types.js';
import { CAPABILITIES } from '../src/drivers/capabilities.js';
import { availableEngines, driverFor } from '../src/drivers/registry.js';
import { CONFIG_VALIDATORS, validatorsFor } from '../src/drivers/validators.js';

/** What an unknown engine throws, as data (kind, message, hint). */
function failure(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RespaldoError);
    const e = err as RespaldoError;
    return { kind: e.kind, message: e.message, hint: e.hint };
  }
  throw new Error('did not throw');
}

describe('the config validators stay in step with the registry', () => {
  it('names the same engines, in the same order', () => {
    expect(Object.keys(CONFIG_VALIDATORS)).toEqual(availableEngines());
  });

  it.each(availableEngines())('%s: the very validateConfig and validateDrillServer of its driver', (engine) => {
    const driver = driverFor(engine);
    const light = validatorsFor(engine);
    expect(light.validateConfig).toBe(driver.validateConfig);
    expect(light.validateDrillServer).toBe(driver.validateDrillServer);
  });

  it.each(availableEngines())('%s: capability serverLeftovers exactly when the driver finds leftovers', (engine) => {
    const driver = driverFor(engine);
    expect(CAPABILITIES[engine].serverLeftovers).toBe(typeof driver.findLeftovers === 'function');
  });

  it('an unknown engine fails as driverFor fails', () => {
    const engine = 'oracle' as EngineName;
    expect(failure(() => validatorsFor(engine))).toEqual(failure(() => driverFor(engine)));
  });
});
