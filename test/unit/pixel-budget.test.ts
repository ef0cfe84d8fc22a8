// Admission of stills by pixels: what fits runs, the rest waits in a short FIFO queue, beyond it
// BusyError (503 busy + Retry-After at the HTTP layer); releases admit the waiting in order.
import { describe, expect, it } from 'vitest';
import { BusyError, PixelBudget } from '../../src/engine/services/pixel-budget.js';

describe('PixelBudget', () => {
  it('admits what fits, queues the rest in order, refuses beyond the queue, and frees on release', async () => {
    const budget = new PixelBudget(100, 2);
    const a = await budget.acquire(60);
    const b = await budget.acquire(40);
    expect(budget.inUse).toBe(100);
    const order: string[] = [];
    const c = budget.acquire(50).then((r) => (order.push('c'), r));
    const d = budget.acquire(10).then((r) => (order.push('d'), r)); // fits after c only: FIFO, no overtaking
    await expect(budget.acquire(1)).rejects.toBeInstanceOf(BusyError);
    a();
    const releaseC = await c;
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    expect(budget.inUse).toBe(100);
    a(); // a second release changes nothing
    expect(budget.inUse).toBe(100);
    b();
    releaseC();
    releaseD();
    expect(budget.inUse).toBe(0);
    // Larger than the whole budget: runs alone rather than never.
    const huge = await budget.acquire(1000);
    expect(budget.inUse).toBe(100);
    huge();
  });
});
