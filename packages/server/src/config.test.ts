import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('configuration from the environment', () => {
  it('reads the sandbox rail settings, and refuses values it cannot use rather than ignoring them', () => {
    expect(loadConfig({}).sandboxRail).toEqual({ failPayees: [], failureRate: 0, delayMs: 0, crashAfterCapture: false });
    expect(
      loadConfig({
        HANGAR_SANDBOX_RAIL_FAIL_PAYEES: 'shop:closed, shop:broken',
        HANGAR_SANDBOX_RAIL_FAILURE_RATE: '0.25',
        HANGAR_SANDBOX_RAIL_DELAY_MS: '150',
        HANGAR_SANDBOX_RAIL_CRASH_AFTER_CAPTURE: '1',
      }).sandboxRail,
    ).toEqual({ failPayees: ['shop:closed', 'shop:broken'], failureRate: 0.25, delayMs: 150, crashAfterCapture: true });
    expect(() => loadConfig({ HANGAR_SANDBOX_RAIL_FAILURE_RATE: 'often' })).toThrow('HANGAR_SANDBOX_RAIL_FAILURE_RATE must be a number from 0 to 1');
    expect(() => loadConfig({ HANGAR_SANDBOX_RAIL_FAILURE_RATE: '2' })).toThrow('from 0 to 1');
    expect(() => loadConfig({ HANGAR_SANDBOX_RAIL_DELAY_MS: 'slow' })).toThrow('HANGAR_SANDBOX_RAIL_DELAY_MS must be a whole number');
    expect(() => loadConfig({ HANGAR_SANDBOX_RAIL_CRASH_AFTER_CAPTURE: 'maybe' })).toThrow('must be true or false');
  });
});
