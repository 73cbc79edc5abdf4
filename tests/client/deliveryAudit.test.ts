import { auditDelivery } from '../../client';

describe('auditDelivery', () => {
  it('tells lost, duplicated, filled-by-history and out-of-order deliveries apart', () => {
    expect(auditDelivery([1, 2, 3, 4, 5], [2, 1, 2, 2, 5], new Set([3]))).toEqual({
      lost: [4],
      duplicated: [2],
      extraCopies: 2,
      filledByHistory: [3],
      arrivedOutOfOrder: 1,
    });
  });

  it('finds nothing wrong with a complete, ordered delivery', () => {
    expect(auditDelivery([7, 8], [7, 8])).toEqual({
      lost: [],
      duplicated: [],
      extraCopies: 0,
      filledByHistory: [],
      arrivedOutOfOrder: 0,
    });
  });
});
